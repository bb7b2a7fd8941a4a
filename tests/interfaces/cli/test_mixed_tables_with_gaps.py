"""The whole path for a table with categorical columns and gaps: ``fit --missing ignore`` (KPrototypes
and KModes with missing='ignore'), the model file, ``predict``, ``drift``, ``report`` and ``evaluate``."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from kmeanskit import KPrototypes, UnseenCategoryWarning
from kmeanskit._io.persistence import ModelFileError, load, read_manifest
from tests.io.persistence.test_mixed_models import _edited

from .running import assert_one_line_error, run

N = 240


def _customers(n=N, seed=0):
    """Customers: an id, region and plan (text), a sign-up date, an amount ("$1,234.50"), age with gaps,
    a constant column; 10% of the regions missing."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    region = np.asarray(["north", "south", "east"], dtype=object)[(group + (rng.random(n) < 0.15)) % 3]
    region[rng.random(n) < 0.1] = None
    age = np.array([25.0, 45.0, 65.0])[group] + rng.normal(0, 4, n).round()
    age[rng.random(n) < 0.15] = np.nan
    amount = np.array([300.0, 1500.0, 4000.0])[group] + rng.normal(0, 100, n)
    return pd.DataFrame({
        "id": [f"C{i:04d}" for i in range(n)],
        "region": region,
        "plan": np.asarray(["basic", "pro", "team"], dtype=object)[group],
        "signup": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "amount": [f"${a:,.2f}" for a in amount],
        "age": age,
        "const": 1,
    })


@pytest.fixture
def fitted(tmp_path, capsys):
    """(model path, data path, table): ``fit --missing ignore`` on the customers."""
    table = _customers()
    data, model = tmp_path / "customers.csv", tmp_path / "customers.kmk"
    table.to_csv(data, index=False)
    code, out, err = run(capsys, "fit", data, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column", "id",
                         "--missing", "ignore", "-o", model, "--json")
    assert code == 0, err
    return model, data, table, json.loads(out)


def _features(table):
    """The clustered columns of the customers as the model takes them (amounts parsed)."""
    amount = table["amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    return pd.DataFrame({"region": table["region"], "plan": table["plan"], "amount": amount, "age": table["age"]})


def test_fit_missing_ignore_clusters_a_mixed_table_and_the_model_file_stores_the_policy(fitted):
    path, _, table, payload = fitted
    assert payload["estimator"] == "KPrototypes" and payload["missing"] == "ignore"
    assert payload["features"] == ["region", "plan", "amount", "age"]
    model = load(path)
    assert model[-1].missing == "ignore"
    assert read_manifest(path)["estimator"]["params"]["missing"] == "ignore"
    # The fit is KPrototypes(missing="ignore") on the standardized numeric columns, by hand.
    X = _features(table)
    numeric = X[["amount", "age"]]
    X[["amount", "age"]] = (numeric - numeric.mean()) / numeric.std(ddof=0)
    by_hand = KPrototypes(3, categorical=("region", "plan"), missing="ignore", n_init=10, random_state=0).fit(X)
    assert payload["inertia"] == pytest.approx(by_hand.inertia_, rel=1e-12)
    assert np.array_equal(model[-1].labels_, by_hand.labels_)


@pytest.mark.parametrize("value, match", [
    ("sometimes", r"The 'missing' parameter of KPrototypes must be a str among \{.*\}\. Got 'sometimes'"),
    (["ignore"], "parameter 'missing' has an unsupported list value"),
])
def test_a_hostile_missing_policy_in_the_model_file_is_refused(fitted, tmp_path, value, match):
    path = fitted[0]
    bad = _edited(path, tmp_path / "bad.kmk", lambda m: m["estimator"]["params"].update(missing=value))
    with pytest.raises(ModelFileError, match=match):
        load(bad)


def test_mode_shares_count_the_rows_where_the_column_is_observed(fitted):
    _, _, table, payload = fitted
    labels = load(fitted[0])[-1].labels_
    region = table["region"].to_numpy(dtype=object)
    for cluster, entry in enumerate(payload["clusters"]):
        observed = region[(labels == cluster) & pd.notna(region)]
        assert entry["mode_shares"]["region"] == pytest.approx(np.mean(observed == entry["center"]["region"]))


def test_predict_assigns_rows_with_gaps_in_numeric_and_categorical_columns(fitted, tmp_path, capsys):
    path, _, _, _ = fitted
    new = _customers(60, seed=5)
    new.loc[3, ["region", "age"]] = [None, np.nan]
    new.loc[4, "amount"] = ""
    data = tmp_path / "new.csv"
    new.to_csv(data, index=False)
    code, out, err = run(capsys, "predict", path, data, "-o", tmp_path / "out.csv")
    assert code == 0, err
    got = pd.read_csv(tmp_path / "out.csv")
    X = _features(new.assign(amount=new["amount"].replace("", np.nan)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnseenCategoryWarning)
        expected = load(path).predict(X)
    assert got["cluster"].tolist() == expected.tolist()
    assert got["id"].tolist() == new["id"].tolist()


def test_a_row_with_nothing_observed_is_refused_naming_its_line(fitted, tmp_path, capsys):
    path = fitted[0]
    new = _customers(5, seed=6)
    new.loc[2, ["region", "plan", "amount", "age"]] = [None, None, "", np.nan]
    data = tmp_path / "new.csv"
    new.to_csv(data, index=False)
    code, _, err = run(capsys, "predict", path, data)
    assert code == 2
    assert_one_line_error(err, f"'{data}' has 1 row with every feature missing, the first in row 3 (line 4)",
                          "--missing drop")
    code, out, err = run(capsys, "predict", path, data, "--missing", "drop", "--json")
    assert code == 0, err
    gaps = _features(new.assign(amount=new["amount"].replace("", np.nan))).isna().any(axis=1)
    assert json.loads(out)["n_without_cluster"] == int(gaps.sum()) >= 1


def test_missing_ignore_assigns_gaps_with_a_model_fitted_without_them(tmp_path, capsys):
    table = _customers().dropna()
    data, model = tmp_path / "complete.csv", tmp_path / "complete.kmk"
    table.to_csv(data, index=False)
    code, _, err = run(capsys, "fit", data, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column", "id",
                       "-o", model)
    assert code == 0, err
    new = _customers(40, seed=7)
    new.to_csv(tmp_path / "gaps.csv", index=False)
    code, _, err = run(capsys, "predict", model, tmp_path / "gaps.csv")
    assert code == 2
    assert "missing" in err
    code, _, err = run(capsys, "predict", model, tmp_path / "gaps.csv", "--missing", "ignore", "-o",
                       tmp_path / "out.csv")
    assert code == 0, err
    fitted_model = load(model)
    fitted_model[-1].missing = "ignore"  # the same centers, costs over the observed entries
    expected = fitted_model.predict(_features(new))
    assert pd.read_csv(tmp_path / "out.csv")["cluster"].tolist() == expected.tolist()


def test_drift_reads_the_table_with_the_stored_roles_and_prints_categories_and_missing_shares(
        fitted, tmp_path, capsys):
    path, data, _, _ = fitted
    code, out, err = run(capsys, "drift", path, data)
    assert code == 0, err
    assert "categories: none of 2 moved" in out
    assert "train missing" in out and "new missing" in out
    shifted = _customers(200, seed=8)
    shifted.loc[:79, "region"] = None
    shifted.loc[80:119, "region"] = "central"
    shifted.loc[:99, "age"] = np.nan
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    code, out, err = run(capsys, "drift", path, tmp_path / "shifted.csv")
    assert code == 3, err
    assert err == ""  # unseen categories are counted in the table, not warned about
    first = out.splitlines()[0]
    assert first.startswith("DRIFT:") and "category moved: region" in first and "missing share moved: age" in first
    categories = out[out.index("categories:"):].splitlines()
    assert "1 of 2 moved: region" in categories[0]
    region = next(line for line in categories if line.split()[:1] == ["region"])
    assert "40 (central)" in region and region.rstrip().endswith("yes")
    code, out, _ = run(capsys, "drift", path, tmp_path / "shifted.csv", "--json")
    categories = {c["feature"]: c for c in json.loads(out)["categories"]}
    assert categories["region"]["n_unseen"] == 40 and categories["region"]["missing_moved"]


def test_model_file_summarises_integer_coded_categories_as_categorical(tmp_path, capsys):
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"amount": rng.normal(0, 1, 150), "store": rng.integers(1, 4, 150)})
    table.to_csv(tmp_path / "shop.csv", index=False)
    code, _, err = run(capsys, "fit", tmp_path / "shop.csv", "-k", 2, "--seed", 0, "--categorical", "store",
                       "-o", tmp_path / "shop.kmk")
    assert code == 0, err
    features = read_manifest(tmp_path / "shop.kmk")["summary"]["features"]
    assert features["names"] == ["amount"]
    assert features["categorical"]["names"] == ["store"]
    stored = dict(zip(features["categorical"]["levels"][0], features["categorical"]["counts"][0], strict=True))
    assert stored == {str(level): int(n) for level, n in table["store"].value_counts().items()}


def test_report_clusters_a_table_with_text_columns_and_gaps(fitted, tmp_path, capsys):
    _, data, _, _ = fitted
    out_path = tmp_path / "r.html"
    code, out, err = run(capsys, "report", data, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column", "id",
                         "--missing", "ignore", "-o", out_path)
    assert code == 0, err
    assert "region  categorical  3 levels: clustered" in out and "clustered by KPrototypes" in out
    page = out_path.read_text()
    assert "level shares of each categorical column per cluster" in page
    # The known classes: a column of DATA, compared with the clusters and never clustered.
    code, out, err = run(capsys, "report", data, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column", "id",
                         "--missing", "ignore", "--labels-column", "plan", "--no-select-k", "-o", out_path)
    assert code == 0, err
    assert "plan    excluded" in out
    page = out_path.read_text()
    assert 'id="classes"' in page and "adjusted Rand index (ARI)" in page
    assert "The silhouette is not computed: rows with missing values have no full dissimilarities." in page


def test_evaluate_compares_a_mixed_model_with_known_classes(fitted, tmp_path, capsys):
    path, _, table, payload = fitted
    labelled = table.assign(segment=np.where(table["plan"] == "pro", "A", "B"))
    labelled.to_csv(tmp_path / "labelled.csv", index=False)
    code, out, err = run(capsys, "evaluate", path, tmp_path / "labelled.csv", "--labels-column", "segment", "--json")
    assert code == 0, err
    found = json.loads(out)
    labels = load(path)[-1].labels_
    assert found["adjusted_rand"] == pytest.approx(adjusted_rand_score(labelled["segment"], labels))
    assert found["inertia"] == pytest.approx(payload["inertia"], rel=1e-9)  # the training rows' cost
    assert found["silhouette"] is None
    assert found["silhouette_note"] == "not computed: rows with missing values have no full dissimilarities"
    code, out, err = run(capsys, "evaluate", path, tmp_path / "labelled.csv")
    assert code == 0, err
    assert "silhouette:                        n/a (not computed: rows with missing values have no full " in out


@pytest.mark.parametrize("command", ["fit", "report"])
def test_fit_and_report_refuse_a_row_with_nothing_observed_naming_its_line(tmp_path, capsys, command):
    table = _customers(30, seed=9)
    table.loc[4, ["region", "plan", "amount", "age"]] = [None, None, "", np.nan]
    table.to_csv(tmp_path / "gap.csv", index=False)
    extra = ["-o", tmp_path / "r.html"] if command == "report" else []
    code, out, err = run(capsys, command, tmp_path / "gap.csv", "-k", 2, "--thousands", ",", "--id-column", "id",
                         "--missing", "ignore", *extra)
    assert code == 2 and out == ""
    assert_one_line_error(err, f"'{tmp_path / 'gap.csv'}' has 1 row with every feature missing, the first in row 5 "
                               "(line 6)", "--missing drop")


@pytest.fixture
def kmodes_fitted(tmp_path, capsys):
    table = _customers()
    table.to_csv(tmp_path / "customers.csv", index=False)
    model = tmp_path / "kmodes.kmk"
    code, out, err = run(capsys, "fit", tmp_path / "customers.csv", "-k", 3, "--seed", 0, "--id-column", "id",
                         "--exclude", "amount,age", "--missing", "ignore", "-o", model)
    assert code == 0 and "clustered by KModes" in out, err
    return model, tmp_path / "customers.csv"


def test_drift_of_a_kmodes_model_shows_the_categories_table_alone(kmodes_fitted, capsys):
    code, out, err = run(capsys, "drift", *kmodes_fitted)
    assert "features:" not in out  # no numeric column: no empty table
    assert "categories: none of 2 moved" in out


def test_drift_of_a_kmodes_model_on_its_training_rows_is_no_drift(kmodes_fitted, capsys):
    code, out, _ = run(capsys, "drift", *kmodes_fitted)
    assert code == 0, out.splitlines()[0]
