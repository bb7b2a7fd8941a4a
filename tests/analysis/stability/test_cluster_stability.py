"""cluster_stability: R's fpc::clusterboot (Hennig 2007) on K-Means."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, cluster_stability
from kmeanskit._analysis.stability import _best_jaccard, stability_reading


def _blobs_and_background(seed=0, n_background=60, radius=30.0):
    """Three tight blobs of 200 rows and a uniform disc of background rows around them.

    With k=4 the fourth cluster is a catch-all of background rows: an artefact.
    (Over seeds 0-9 its mean Jaccard was 0.19-0.70, below 0.6 in 9 of 10; the
    blobs' 0.91-0.98.)
    """
    rng = np.random.default_rng(seed)
    blobs = [rng.normal(center, 0.5, size=(200, 2)) for center in ((0, 0), (10, 0), (5, 8.66))]
    angle = rng.uniform(0, 2 * np.pi, n_background)
    r = radius * np.sqrt(rng.uniform(0, 1, n_background))
    background = np.c_[5 + r * np.cos(angle), 2.9 + r * np.sin(angle)]
    return np.concatenate(blobs + [background])


class _Recorder(BaseEstimator, ClusterMixin):
    """Clusters by the sign of the first feature and records the rows of every fit."""

    fitted_rows: list = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y=None):
        type(self).fitted_rows.append(np.asarray(X).copy())
        self.labels_ = (np.asarray(X)[:, 0] > 0).astype(int)
        self.cluster_centers_ = np.zeros((2, np.asarray(X).shape[1]))
        return self

    def predict(self, X):
        return (np.asarray(X)[:, 0] > 0).astype(int)


# ---------------------------------------------------------------- the definition
def test_best_jaccard_is_clusterboot_clujaccard():
    original = np.array([0, 0, 0, 1, 1, 2])
    refit = np.array([5, 5, 7, 7, 7, 7])
    # cluster 0 = rows {0,1,2}: with {0,1} 2/3, with {2,3,4,5} 1/6 -> 2/3
    # cluster 1 = rows {3,4}: with {2,3,4,5} 2/4 -> 1/2
    # cluster 2 = row {5}: with {2,3,4,5} 1/4
    # cluster 3 has no resampled row: 0 (zerobyzero=0)
    assert np.array_equal(_best_jaccard(original, refit, 4), [2 / 3, 1 / 2, 1 / 4, 0.0])


@pytest.mark.parametrize(("value", "words"), [
    (0.0, "dissolves"), (0.5999, "dissolves"), (0.6, "pattern, doubtful membership"),
    (0.7499, "pattern, doubtful membership"), (0.75, "valid"), (0.8499, "valid"), (0.85, "highly stable"),
    (1.0, "highly stable"), (np.nan, "no rows"),
])
def test_hennig_reading(value, words):
    assert stability_reading(value) == words


def test_dissolved_and_recovered_count_as_clusterboot():
    X = _blobs_and_background()
    result = cluster_stability(X, KMeans(4, random_state=0), n_boot=10, random_state=0)
    assert result.jaccard.shape == (4, 10)
    # bootbrd counts Jaccard <= dissolution, bootrecover Jaccard > recover.
    assert result.clusters["dissolved"].tolist() == (result.jaccard <= 0.5).sum(axis=1).tolist()
    assert result.clusters["recovered"].tolist() == (result.jaccard > 0.75).sum(axis=1).tolist()
    assert np.allclose(result.clusters["mean_jaccard"], result.jaccard.mean(axis=1))


def test_bootstrap_drops_repeated_rows_and_subset_takes_half():
    X = np.arange(400, dtype=float).reshape(200, 2) - 200
    _Recorder.fitted_rows = []
    cluster_stability(X, _Recorder().fit(X), n_boot=5, random_state=0)
    boots = _Recorder.fitted_rows[1:]  # after the fit of the model itself
    assert len(boots) == 5
    for rows in boots:
        assert len(np.unique(rows, axis=0)) == len(rows)  # multipleboot=FALSE
        assert 0.55 * 200 < len(rows) < 0.72 * 200       # about 1 - 1/e of the rows
    _Recorder.fitted_rows = []
    cluster_stability(X, _Recorder().fit(X), n_boot=3, method="subset", random_state=0)
    assert [len(rows) for rows in _Recorder.fitted_rows[1:]] == [100, 100, 100]


# ------------------------------------------------------ published behaviour
@pytest.mark.parametrize("method", ["bootstrap", "subset"])
def test_a_planted_artefact_dissolves_and_real_clusters_are_highly_stable(method):
    X = _blobs_and_background()
    result = cluster_stability(X, KMeans(4, random_state=0), random_state=0, method=method)
    table = result.clusters
    artefact = table["size"] < 100
    assert artefact.sum() == 1
    assert (table.loc[artefact, "mean_jaccard"] < 0.6).all()
    assert (table.loc[artefact, "reading"] == "dissolves").all()
    assert (table.loc[~artefact, "mean_jaccard"] > 0.85).all()
    assert (table.loc[~artefact, "reading"] == "highly stable").all()
    # With the right k, every cluster is highly stable.
    right = cluster_stability(X, KMeans(3, random_state=0), random_state=0, method=method)
    assert (right.clusters["mean_jaccard"] > 0.85).all()


def test_deterministic_given_random_state():
    X = _blobs_and_background()
    a = cluster_stability(X, KMeans(4, random_state=0), n_boot=8, random_state=3)
    b = cluster_stability(X, KMeans(4, random_state=0), n_boot=8, random_state=3)
    assert np.array_equal(a.jaccard, b.jaccard)
    c = cluster_stability(X, KMeans(4, random_state=0), n_boot=8, random_state=4)
    assert not np.array_equal(a.jaccard, c.jaccard)


# ------------------------------------------------------ models and estimators
def test_unfitted_estimator_is_cloned_and_fitted():
    X = _blobs_and_background()
    estimator = KMeans(3, random_state=0)
    result = cluster_stability(X, estimator, n_boot=4, random_state=0)
    assert not hasattr(estimator, "cluster_centers_")  # the given estimator is not modified
    assert np.array_equal(result.model.cluster_centers_, KMeans(3, random_state=0).fit(X).cluster_centers_)
    assert result.clusters["size"].tolist() == np.bincount(result.model.labels_).tolist()


def test_fitted_pipeline_on_a_dataframe():
    frame = pd.DataFrame(_blobs_and_background(n_background=0) * [1.0, 1000.0], columns=["a", "b"])
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(frame)
    result = cluster_stability(frame, pipe, n_boot=5, random_state=0)
    assert result.model is pipe
    assert (result.clusters["mean_jaccard"] > 0.85).all()


def test_large_data_is_sampled_and_says_so():
    X = np.tile(_blobs_and_background(), (3, 1))
    result = cluster_stability(X, KMeans(3, random_state=0), n_boot=3, random_state=0, sample_size=500)
    assert result.n_samples == 1980 and result.n_resampled_from == 500
    assert int(result.clusters["size"].sum()) == 500
    assert "uniform sample of 500 of the 1,980 rows" in result.note
    full = cluster_stability(X[:300], KMeans(3, random_state=0), n_boot=3, random_state=0, sample_size=None)
    assert full.n_resampled_from == 300 and "all 300 rows" in full.note


# ----------------------------------------------------------------- output
def test_summary_html_and_json():
    X = _blobs_and_background()
    result = cluster_stability(X, KMeans(4, random_state=0), n_boot=5, random_state=0)
    text = result.summary()
    assert "mean Jaccard similarity over 5 resamples" in text and "dissolves" in text and "Hennig 2007" in text
    page = result._repr_html_()
    assert page.count("<tr") == 5 and "<table" in page
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["n_boot"] == 5 and payload["dissolution"] == 0.5 and payload["recover"] == 0.75
    assert [c["reading"] for c in payload["clusters"]] == result.clusters["reading"].tolist()


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_boot": 1}, "n_boot must be an integer of at least 2 (resamples), got 1"),
    ({"n_boot": 2.5}, "n_boot must be an integer of at least 2 (resamples), got 2.5"),
    ({"method": "jitter"}, "method must be 'bootstrap' or 'subset', got 'jitter'"),
    ({"sample_size": 5}, "sample_size must be None or an integer of at least 10, got 5"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cluster_stability(np.zeros((20, 2)), KMeans(2), **kwargs)


def test_bad_model_and_data():
    with pytest.raises(TypeError, match="must be a clustering estimator or a Pipeline ending in one, got str"):
        cluster_stability(np.zeros((20, 2)), "kmeans")
    with pytest.raises(ValueError, match="X has 1 row"):
        cluster_stability(np.zeros((1, 2)), KMeans(1))
