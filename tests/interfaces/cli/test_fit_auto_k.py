"""``kmeanskit fit -k auto``: select_k's best_k, said with its reason, and its model kept (no refit)."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans
from kmeanskit._analysis import workflow
from kmeanskit._analysis.selection import select_k
from kmeanskit._analysis.workflow import fit_clusters

from .running import assert_one_line_error, run

CENTERS = np.array([[0.0, 1000.0], [10.0, 2000.0], [20.0, 3000.0], [0.0, 3000.0]])


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(1)
    y = rng.permutation(np.repeat(np.arange(4), 60))
    X = CENTERS[y] + rng.normal(size=(240, 2)) * np.array([0.5, 20.0])
    return pd.DataFrame({"age": X[:, 0], "income": X[:, 1]})


@pytest.fixture
def data_csv(tmp_path, frame):
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    return path


def test_auto_uses_best_k_and_keeps_its_model(frame, monkeypatch):
    expected = select_k(StandardScaler().fit_transform(frame), range(2, 11), random_state=0, progress=False)
    assert expected.best_k == 4
    fits = []
    original = KMeans.fit
    monkeypatch.setattr(KMeans, "fit", lambda self, *a, **kw: fits.append(self.n_clusters) or original(self, *a, **kw))
    result = fit_clusters(frame, "auto", random_state=0)
    assert result.n_clusters == 4 and result.selection.best_k == 4
    assert result.selection.reason == expected.reason
    # select_k fits each k on the data, then on 10 reference sets and 2 halves; k = 4 is not fitted again
    assert fits[:9] == list(range(2, 11))
    assert all(fits.count(k) == 1 + 10 + 2 for k in range(2, 11)) and len(fits) == 9 * 13
    assert result.pipeline.named_steps["kmeans"] is result.selection.models[4]
    same = fit_clusters(frame, 4, random_state=0)
    np.testing.assert_array_equal(result.labels, same.labels)
    np.testing.assert_allclose(result.centers, same.centers)
    payload = result.to_dict()["k_selection"]
    assert payload["best_k"] == 4 and payload["reason"] == expected.reason
    assert payload["recommended"] == expected.recommended


def test_fit_auto_says_what_it_chose_and_why(capsys, data_csv, frame):
    code, out, err = run(capsys, "fit", data_csv, "-k", "auto", "--seed", 0)
    assert code == 0, err
    expected = fit_clusters(frame, "auto", random_state=0)
    lines = out.splitlines()
    assert lines[0].endswith("240 rows x 2 features, k=4, scaling: standard")
    assert lines[1] == f"k chosen automatically (select-k over k = 2..10): {expected.selection.reason}"
    code, out, err = run(capsys, "fit", data_csv, "-k", "AUTO", "--seed", 0, "--json")
    payload = json.loads(out)
    assert payload["n_clusters"] == 4 and payload["k_selection"]["best_k"] == 4
    assert payload["k_selection"]["reason"] == expected.selection.reason


def test_auto_on_data_without_clusters_gives_one_cluster_and_says_so(capsys, tmp_path):
    path = tmp_path / "noise.csv"
    pd.DataFrame(np.random.default_rng(2).uniform(size=(300, 3)), columns=list("abc")).to_csv(path, index=False)
    code, out, err = run(capsys, "fit", path, "-k", "auto", "--seed", 0)
    assert code == 0, err
    assert "k=1," in out.splitlines()[0]
    assert "k chosen automatically (select-k over k = 2..10): k = 1, no cluster structure:" in out


def test_auto_caps_the_ks_below_the_rows():
    small = pd.DataFrame({"x": [0.0, 0.1, 5.0, 5.1, 9.0]})
    result = fit_clusters(small, "auto", random_state=0, scale="none")
    assert list(result.selection.table.index) == [2, 3, 4]
    with pytest.raises(ValueError, match="n_clusters='auto' needs at least 3 rows to compare values of k; got 2"):
        fit_clusters(small.head(2), "auto")
    assert list(workflow.AUTO_KS) == list(range(2, 11))


@pytest.mark.parametrize(
    "extra, fragments",
    [
        (["--out-of-core"], ["-k auto is not available with --out-of-core", "kmeanskit select-k"]),
        (["--mini-batch"], ["-k auto is not available with --mini-batch"]),
    ],
)
def test_auto_with_streaming_is_refused_in_one_line(capsys, data_csv, extra, fragments):
    code, out, err = run(capsys, "fit", data_csv, "-k", "auto", *extra)
    assert code == 2 and out == ""
    assert_one_line_error(err, *fragments)


def test_k_must_be_an_integer_or_auto(capsys, data_csv):
    code, out, err = run(capsys, "fit", data_csv, "-k", "three")
    assert code == 2 and "expected an integer or 'auto', got 'three'" in err


def test_auto_model_is_saved_and_predicts_its_labels(capsys, tmp_path, data_csv, frame):
    from kmeanskit import load

    target = tmp_path / "auto.kmk"
    labels = tmp_path / "labels.csv"
    code, out, err = run(capsys, "fit", data_csv, "-k", "auto", "--seed", 0, "-o", target, "--labels", labels)
    assert code == 0, err
    model = load(target)
    assert model[-1].n_clusters == 4
    np.testing.assert_array_equal(model.predict(frame), pd.read_csv(labels)["cluster"].to_numpy())
