"""``kmeanskit predict``: a saved model assigns the rows of a table to clusters."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

import kmeanskit
from kmeanskit import KMeans
from kmeanskit._analysis.workflow import predict_table, prediction_summary

from .running import assert_one_line_error, run

TRUE_CENTERS = np.array([[0.0, 1000.0], [10.0, 2000.0], [20.0, 3000.0]])


@pytest.fixture
def table():
    """Two features on different scales, plus a text column between them."""
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat([0, 1, 2], 60))
    X = TRUE_CENTERS[y] + rng.normal(size=(180, 2)) * np.array([0.5, 20.0])
    return pd.DataFrame({"age": X[:, 0], "name": [f"c{i}" for i in range(180)], "income": X[:, 1]})


@pytest.fixture
def data_csv(tmp_path, table):
    path = tmp_path / "customers.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture
def fitted(capsys, tmp_path, data_csv):
    """(model path, labels from fit --labels) of a standard-scaled fit on data_csv."""
    model_path = tmp_path / "model.kmk"
    labels_path = tmp_path / "labels.csv"
    code, _, err = run(
        capsys, "fit", data_csv, "-k", 3, "--columns", "age,income", "--seed", 0,
        "-o", model_path, "--labels", labels_path,
    )
    assert code == 0, err
    return model_path, pd.read_csv(labels_path)["cluster"].to_numpy()


def expected_distances(model_path, table):
    model = kmeanskit.load(model_path)
    scaled = model[:-1].transform(table[["age", "income"]])
    return model[-1].transform(scaled).min(axis=1)


# --- results ----------------------------------------------------------------


def test_predict_gives_the_clusters_of_fit(capsys, tmp_path, data_csv, fitted, table):
    model_path, labels = fitted
    out_path = tmp_path / "out.csv"
    code, out, err = run(capsys, "predict", model_path, data_csv, "-o", out_path)
    assert code == 0 and err == ""
    assert out.strip() == f"180 rows with 'cluster' and 'distance' written to {out_path}"
    result = pd.read_csv(out_path)
    np.testing.assert_array_equal(result["cluster"].to_numpy(), labels)


def test_stdout_keeps_every_input_column_and_row_in_order(capsys, data_csv, fitted, table):
    model_path, labels = fitted
    code, out, err = run(capsys, "predict", model_path, data_csv)
    assert code == 0 and err == ""
    from io import StringIO

    result = pd.read_csv(StringIO(out))
    assert list(result.columns) == ["age", "name", "income", "cluster", "distance"]
    pd.testing.assert_frame_equal(result[list(table.columns)], table)  # exact round trip
    assert result["cluster"].dtype.kind == "i"
    np.testing.assert_array_equal(result["cluster"].to_numpy(), labels)
    distance = result["distance"].to_numpy()
    assert np.all(distance >= 0)
    np.testing.assert_allclose(distance, expected_distances(model_path, table), rtol=1e-12)


def test_cells_read_as_missing_are_written_back_as_they_were(capsys, tmp_path, fitted, table):
    # Names that are missing-value markers (NA, n/a, None, NULL): read as missing, kept in the output.
    model_path, labels = fitted
    marked = table.copy()
    marked.loc[[0, 5, 17, 60], "name"] = ["NA", "n/a", "None", "NULL"]
    data = tmp_path / "marked.csv"
    marked.to_csv(data, index=False)
    code, out, err = run(capsys, "predict", model_path, data)
    assert code == 0 and err == ""
    from io import StringIO

    result = pd.read_csv(StringIO(out), keep_default_na=False, na_values=[""])
    assert list(result.columns) == ["age", "name", "income", "cluster", "distance"]
    pd.testing.assert_frame_equal(result[list(marked.columns)], marked)  # exact round trip, the markers too
    np.testing.assert_array_equal(result["cluster"].to_numpy(), labels)


def test_parquet_output(capsys, tmp_path, data_csv, fitted, table):
    model_path, labels = fitted
    out_path = tmp_path / "out.parquet"
    code, _, err = run(capsys, "predict", model_path, data_csv, "-o", out_path)
    assert code == 0 and err == ""
    result = pd.read_parquet(out_path)
    assert list(result.columns) == ["age", "name", "income", "cluster", "distance"]
    np.testing.assert_array_equal(result["age"].to_numpy(), table["age"].to_numpy())
    assert list(result["name"]) == list(table["name"])
    np.testing.assert_array_equal(result["cluster"].to_numpy(), labels)
    np.testing.assert_allclose(
        result["distance"].to_numpy(), expected_distances(model_path, table), rtol=1e-12
    )


def test_parquet_input_with_columns_in_another_order(capsys, tmp_path, fitted, table):
    model_path, labels = fitted
    data = tmp_path / "shuffled.parquet"
    table[["income", "name", "age"]].to_parquet(data)
    code, out, err = run(capsys, "predict", model_path, data)
    assert code == 0 and err == ""
    from io import StringIO

    result = pd.read_csv(StringIO(out))
    assert list(result.columns) == ["income", "name", "age", "cluster", "distance"]
    np.testing.assert_array_equal(result["cluster"].to_numpy(), labels)


def test_json_summary(capsys, tmp_path, data_csv, fitted, table):
    model_path, labels = fitted
    out_path = tmp_path / "out.csv"
    code, out, err = run(capsys, "predict", model_path, data_csv, "-o", out_path, "--json")
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["n_rows"] == 180
    assert payload["cluster_sizes"] == np.bincount(labels, minlength=3).tolist()
    assert payload["mean_distance"] == pytest.approx(
        expected_distances(model_path, table).mean(), rel=1e-12
    )
    assert payload["output_path"] == str(out_path)
    assert payload["model"] == str(model_path) and payload["data"] == str(data_csv)
    assert len(pd.read_csv(out_path)) == 180


def test_json_without_output_prints_no_rows(capsys, data_csv, fitted):
    model_path, _ = fitted
    code, out, _ = run(capsys, "predict", model_path, data_csv, "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["output_path"] is None and payload["n_rows"] == 180


def test_model_without_feature_names_takes_all_columns(capsys, tmp_path, table):
    X = table[["age", "income"]].to_numpy()
    model_path = tmp_path / "plain.kmk"
    kmeans = KMeans(3, random_state=0).fit(X)
    kmeanskit.save(kmeans, model_path)
    data = tmp_path / "numbers.csv"
    pd.DataFrame(X, columns=["a", "b"]).to_csv(data, index=False)
    code, out, err = run(capsys, "predict", model_path, data)
    assert code == 0 and err == ""
    from io import StringIO

    result = pd.read_csv(StringIO(out))
    np.testing.assert_array_equal(result["cluster"].to_numpy(), kmeans.labels_)
    np.testing.assert_allclose(result["distance"], kmeans.transform(X).min(axis=1), rtol=1e-12)

    three = tmp_path / "three.csv"
    pd.DataFrame(np.c_[X, X[:, :1]], columns=["a", "b", "c"]).to_csv(three, index=False)
    code, out, err = run(capsys, "predict", model_path, three)
    assert code == 2 and out == ""
    assert_one_line_error(err, "has 3 columns", "exactly 2 numeric columns")


def test_predict_table_library_function(table):
    features = table[["age", "income"]]
    model = Pipeline([("kmeans", KMeans(3, random_state=0))]).fit(features)
    before = table.copy()
    result = predict_table(model, table)
    pd.testing.assert_frame_equal(table, before)  # the input is not modified
    assert list(result.columns) == [*table.columns, "cluster", "distance"]
    assert result["cluster"].dtype == np.int64 and result["distance"].dtype == np.float64
    summary = prediction_summary(model, result)
    assert summary["n_rows"] == 180 and sum(summary["cluster_sizes"]) == 180


# --- errors: one line on stderr, exit code 2, nothing written ------------------


def test_missing_model_file(capsys, tmp_path, data_csv):
    code, out, err = run(capsys, "predict", tmp_path / "nope.kmk", data_csv)
    assert code == 2 and out == ""
    assert_one_line_error(err, "nope.kmk")


def test_corrupted_model_file(capsys, tmp_path, data_csv):
    bad = tmp_path / "bad.kmk"
    bad.write_bytes(np.random.default_rng(0).bytes(2000))
    out_path = tmp_path / "out.csv"
    code, out, err = run(capsys, "predict", bad, data_csv, "-o", out_path)
    assert code == 2 and out == ""
    assert_one_line_error(err, "bad.kmk", "not a valid .kmk model file")
    assert not out_path.exists()


def test_data_missing_a_feature_column(capsys, tmp_path, fitted, table):
    model_path, _ = fitted
    data = tmp_path / "partial.csv"
    table[["age", "name"]].to_csv(data, index=False)
    code, out, err = run(capsys, "predict", model_path, data)
    assert code == 2 and out == ""
    assert_one_line_error(err, "'income'", "partial.csv")


def test_data_with_a_cluster_column_is_not_overwritten(capsys, tmp_path, fitted, table):
    model_path, _ = fitted
    data = tmp_path / "clustered.csv"
    table.assign(cluster=7).to_csv(data, index=False)
    out_path = tmp_path / "out.csv"
    code, out, err = run(capsys, "predict", model_path, data, "-o", out_path)
    assert code == 2 and out == ""
    assert_one_line_error(err, "'cluster'", "already has")
    assert not out_path.exists()


def test_output_equal_to_the_input_is_refused(capsys, data_csv, fitted):
    model_path, _ = fitted
    before = data_csv.read_bytes()
    code, out, err = run(capsys, "predict", model_path, data_csv, "-o", data_csv)
    assert code == 2 and out == ""
    assert_one_line_error(err, "would overwrite the input")
    assert data_csv.read_bytes() == before


def test_output_equal_to_the_model_is_refused(capsys, data_csv, fitted):
    model_path, _ = fitted
    before = model_path.read_bytes()
    code, _, err = run(capsys, "predict", model_path, data_csv, "-o", model_path)
    assert code == 2
    assert_one_line_error(err, "would overwrite the input")
    assert model_path.read_bytes() == before


def test_non_numeric_feature_column(capsys, tmp_path, fitted, table):
    model_path, _ = fitted
    data = tmp_path / "text.csv"
    table.assign(income="high").to_csv(data, index=False)
    code, _, err = run(capsys, "predict", model_path, data)
    assert code == 2
    assert_one_line_error(err, "'income'", "holds text where the model has numbers: 'high' in row 1 (line 2)")


def test_help_has_examples(capsys):
    code, out, _ = run(capsys, "predict", "--help")
    assert code == 0
    assert "examples:" in out and "kmeanskit predict customers.kmk" in out
    code, out, _ = run(capsys, "--help")
    assert "predict" in out
