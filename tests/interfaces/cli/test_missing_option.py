"""``--missing error|drop|ignore`` on ``kmeanskit fit`` and ``predict``."""

import json

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KMeans, load

from .running import assert_one_line_error, run

GAPS = {"a": [1, 5, 9], "c": [5, 20]}  # row 5 misses two values: 4 rows with gaps


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 0.0], [0.0, 10.0, 10.0]])
    X = centers[rng.permutation(np.repeat([0, 1, 2], 100))] + rng.normal(size=(300, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    for column, rows in GAPS.items():
        frame.loc[rows, column] = np.nan
    train, new = tmp_path / "gaps.csv", tmp_path / "new.csv"
    frame.to_csv(train, index=False)
    frame.head(12).to_csv(new, index=False)
    return tmp_path, train, new, frame


def test_default_error_names_the_option(capsys, files):
    _, train, _, _ = files
    code, _, err = run(capsys, "fit", str(train), "-k", "3")
    assert code == 2
    assert_one_line_error(err, "'a' (3 missing)", "'c' (2 missing)", "--missing drop", "--missing ignore")


def test_drop_leaves_rows_out_and_says_so(capsys, files):
    tmp, train, _, frame = files
    labels = tmp / "labels.csv"
    code, out, err = run(capsys, "fit", str(train), "-k", "3", "--seed", "0", "--missing", "drop", "--labels", str(labels))
    assert code == 0, err
    assert "missing values: 4 rows left out (--missing drop)" in out
    assert "296 rows" in out
    written = pd.read_csv(labels)["cluster"]
    assert len(written) == len(frame)
    gaps = frame.isna().any(axis=1).to_numpy()
    assert written[gaps].isna().all() and written[~gaps].notna().all()
    expected = KMeans(3, random_state=0).fit((lambda f: (f - f.mean()) / f.std(ddof=0))(frame[~gaps]))
    assert pd.crosstab(written[~gaps].to_numpy(), expected.labels_).gt(0).sum().eq(1).all()


def test_ignore_clusters_every_row_and_saves_the_policy(capsys, files):
    tmp, train, new, frame = files
    model = tmp / "m.kmk"
    code, out, err = run(capsys, "fit", str(train), "-k", "3", "--seed", "0", "--missing", "ignore", "-o", str(model), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["n_samples"] == 300 and payload["missing"] == "ignore" and payload["n_incomplete"] == 4
    assert payload["silhouette"] is None and "missing values" in payload["silhouette_note"]
    loaded = load(model)
    assert loaded[-1].missing == "ignore"
    # predict takes the model's policy: rows with gaps are assigned.
    out_path = tmp / "assigned.csv"
    code, _, err = run(capsys, "predict", str(model), str(new), "-o", str(out_path))
    assert code == 0, err
    assigned = pd.read_csv(out_path)
    np.testing.assert_array_equal(assigned["cluster"], loaded.predict(frame.head(12)))
    assert assigned["cluster"].notna().all()


def test_predict_drop_and_ignore_on_a_default_model(capsys, files):
    tmp, train, new, frame = files
    model = tmp / "d.kmk"
    code, _, err = run(capsys, "fit", str(train), "-k", "3", "--seed", "0", "--missing", "drop", "-o", str(model))
    assert code == 0, err
    code, _, err = run(capsys, "predict", str(model), str(new))
    assert code == 2
    assert_one_line_error(err, "new.csv' has missing values in 2 of 3 columns", "--missing drop", "--missing ignore")
    out_path = tmp / "dropped.csv"
    code, _, err = run(capsys, "predict", str(model), str(new), "--missing", "drop", "-o", str(out_path))
    assert code == 0
    assert "3 rows with missing values left without a cluster (--missing drop)" in err
    dropped = pd.read_csv(out_path)
    gaps = frame.head(12).isna().any(axis=1).to_numpy()
    assert dropped["cluster"][gaps].isna().all() and dropped["distance"][gaps].isna().all()
    loaded = load(model)
    np.testing.assert_array_equal(dropped["cluster"][~gaps], loaded.predict(frame.head(12)[~gaps]))
    code, out, err = run(capsys, "predict", str(model), str(new), "--missing", "ignore", "--json")
    assert code == 0, err
    assert sum(json.loads(out)["cluster_sizes"]) == 12


def test_missing_is_refused_with_out_of_core(capsys, files):
    _, train, _, _ = files
    code, _, err = run(capsys, "fit", str(train), "-k", "3", "--out-of-core", "--missing", "ignore")
    assert code == 2
    assert_one_line_error(err, "--missing ignore is not available with --out-of-core")
