"""``kmeanskit evaluate``: the metrics of a saved model's clusters on a table."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
    silhouette_score,
)
from sklearn.metrics.cluster import contingency_matrix

from kmeanskit import load

from .running import assert_one_line_error, run

TRUE_CENTERS = np.array([[0.0, 1000.0], [4.0, 1600.0], [8.0, 1000.0]])
SEGMENTS = np.array(["bronze", "gold", "silver"])


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat([0, 1, 2], 40))
    X = TRUE_CENTERS[y] + rng.normal(size=(120, 2)) * np.array([1.3, 150.0])  # overlapping a little
    return pd.DataFrame({"age": X[:, 0], "segment": SEGMENTS[y], "income": X[:, 1]})


@pytest.fixture
def fitted(capsys, tmp_path, table):
    data = tmp_path / "customers.csv"
    table.to_csv(data, index=False)
    model = tmp_path / "model.kmk"
    code, _, err = run(capsys, "fit", data, "-k", 3, "--columns", "age,income", "--seed", 0, "-o", model)
    assert code == 0, err
    return model, data


def test_evaluate_reports_the_metrics_of_scikit_learn(capsys, fitted, table):
    model_path, data = fitted
    code, out, err = run(capsys, "evaluate", model_path, data, "--labels-column", "segment", "--json")
    assert code == 0, err
    found = json.loads(out)
    model = load(model_path)
    X = table[["age", "income"]]
    Xt = model[:-1].transform(X)
    labels = model.predict(X)
    truth = table["segment"].to_numpy()
    assert found["n_samples"] == 120 and found["n_clusters"] == 3
    assert found["cluster_sizes"] == np.bincount(labels, minlength=3).tolist()
    np.testing.assert_allclose(found["inertia"], ((Xt - model[-1].cluster_centers_[labels]) ** 2).sum(), rtol=1e-9)
    np.testing.assert_allclose(found["silhouette"], silhouette_score(Xt, labels), rtol=1e-9)
    np.testing.assert_allclose(found["calinski_harabasz"], calinski_harabasz_score(Xt, labels), rtol=1e-9)
    np.testing.assert_allclose(found["davies_bouldin"], davies_bouldin_score(Xt, labels), rtol=1e-9)
    np.testing.assert_allclose(found["adjusted_rand"], adjusted_rand_score(truth, labels), rtol=1e-9)
    np.testing.assert_allclose(found["normalized_mutual_info"], normalized_mutual_info_score(truth, labels),
                               rtol=1e-9)
    counts = contingency_matrix(truth, labels)
    np.testing.assert_allclose(found["purity"], counts.max(axis=0).sum() / counts.sum(), rtol=1e-12)
    assert found["contingency"] == {"classes": ["bronze", "gold", "silver"], "clusters": [0, 1, 2],
                                    "counts": counts.tolist()}
    assert 0.5 < found["adjusted_rand"] < 1.0


def test_evaluate_text_output_with_and_without_labels(capsys, fitted):
    model_path, data = fitted
    code, out, err = run(capsys, "evaluate", model_path, data)
    assert code == 0, err
    assert out.startswith(f"{data}: 120 rows, k=3")
    for key in ("inertia:", "silhouette:", "Calinski-Harabasz:", "Davies-Bouldin:", "cluster sizes:"):
        assert any(line.startswith(key) for line in out.splitlines()), key
    assert "adjusted Rand" not in out
    code, out, err = run(capsys, "evaluate", model_path, data, "--labels-column", "segment")
    assert code == 0, err
    lines = out.splitlines()
    assert any(line.startswith("adjusted Rand index:") for line in lines)
    assert any(line.startswith("purity:") for line in lines)
    (header,) = [line for line in lines if line.split()[:2] == ["class", "cluster"]]
    assert header.split() == ["class", "cluster", "0", "cluster", "1", "cluster", "2"]
    assert [line.split()[0] for line in lines[lines.index(header) + 1:]] == ["bronze", "gold", "silver"]


def test_evaluate_without_labels_has_no_external_metrics_in_json(capsys, fitted):
    model_path, data = fitted
    code, out, _ = run(capsys, "evaluate", model_path, data, "--json")
    assert code == 0
    found = json.loads(out)
    assert "adjusted_rand" not in found and found["silhouette"] is not None


@pytest.mark.parametrize(
    "edit, args, fragments",
    [
        (None, ["--labels-column", "tier"], ["--labels-column 'tier' is not a column", "'segment'"]),
        (None, ["--labels-column", "age"], ["'age' is one of the model's features"]),
        ("missing-label", ["--labels-column", "segment"], ["has 1 missing values"]),
        ("drop-income", [], ["lacks the feature column 'income'"]),
    ],
)
def test_evaluate_refuses_bad_input_in_one_line(capsys, tmp_path, fitted, table, edit, args, fragments):
    model_path, data = fitted
    if edit is not None:
        changed = table.copy()
        if edit == "missing-label":
            changed.loc[5, "segment"] = None
        else:
            changed = changed.drop(columns="income")
        data = tmp_path / "changed.csv"
        changed.to_csv(data, index=False)
    code, out, err = run(capsys, "evaluate", model_path, data, *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, *fragments)


def test_evaluate_refuses_a_damaged_model_file(capsys, tmp_path, fitted):
    _, data = fitted
    bad = tmp_path / "bad.kmk"
    bad.write_bytes(b"not a zip file")
    code, _, err = run(capsys, "evaluate", bad, data)
    assert code == 2
    assert_one_line_error(err, "not a valid .kmk model file")


@pytest.mark.parametrize("name, metric", [("SphericalKMeans", "cosine"), ("KMedians", "L1")])
def test_evaluate_refuses_a_model_of_another_geometry(capsys, tmp_path, table, name, metric):
    import kmeanskit
    from kmeanskit import save

    data = tmp_path / "customers.csv"
    table.to_csv(data, index=False)
    model = getattr(kmeanskit, name)(3, random_state=0).fit(table[["age", "income"]])
    path = tmp_path / "other.kmk"
    save(model, path)
    code, out, err = run(capsys, "evaluate", path, data)
    assert code == 2 and out == ""
    assert_one_line_error(err, name, metric, "Euclidean")
