"""KMeans's init choices: 'auto' picks k-means|| on large dense data and greedy
k-means++ otherwise; k-means|| fits are exact, reproducible and thread-count
independent, and reach the quality of greedy k-means++."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs

from kmeanskit import KMeans
from kmeanskit._estimators import kmeans as _kmeans


def _blobs(n=6000, d=30, k=12, seed=0, dtype=np.float64):
    X, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=seed)
    return X.astype(dtype), y


def _same_fit(a, b):
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_
    np.testing.assert_array_equal(a.inertia_history_, b.inertia_history_)


def test_default_init_is_auto_with_one_run():
    assert KMeans().init == "auto"
    assert KMeans()._resolve_n_init() == 1
    assert KMeans(init="k-means||")._resolve_n_init() == 1
    assert KMeans(init="random")._resolve_n_init() == 10


@pytest.mark.parametrize("large", [False, True])
def test_auto_is_kmeans_parallel_on_large_dense_data_only(large, monkeypatch):
    X, _ = _blobs()
    if large:  # thresholds lowered so that this small X counts as large
        monkeypatch.setattr(_kmeans, "PARALLEL_INIT_MIN_ROWS", 1000)
        monkeypatch.setattr(_kmeans, "PARALLEL_INIT_MIN_ROWS_PER_CLUSTER", 10)
    auto = KMeans(12, random_state=0).fit(X)
    expected = KMeans(12, init="k-means||" if large else "k-means++", random_state=0).fit(X)
    _same_fit(auto, expected)


def test_auto_rule():
    dense = _kmeans.as_rows(np.zeros((60_000, 16)), None)
    assert _kmeans._use_parallel_init(dense, 100)
    assert not _kmeans._use_parallel_init(dense, 1000)  # fewer than 100 rows a cluster
    assert not _kmeans._use_parallel_init(_kmeans.as_rows(np.zeros((60_000, 3)), None), 10)  # china-like
    assert not _kmeans._use_parallel_init(_kmeans.as_rows(np.zeros((20_000, 32)), None), 10)
    sparse = _kmeans.as_rows(sp.random(60_000, 50, density=0.01, format="csr", random_state=0), None)
    assert not _kmeans._use_parallel_init(sparse, 10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seeded_start_gives_lloyds_result(dtype):
    # The bounded step starts from k-means||'s guess of the labels (d >= 24);
    # Lloyd recomputes every row. Same seeding, so the same fit.
    X, _ = _blobs(dtype=dtype)
    bounded = KMeans(12, init="k-means||", random_state=1, algorithm="hamerly").fit(X)
    lloyd = KMeans(12, init="k-means||", random_state=1, algorithm="lloyd").fit(X)
    _same_fit(bounded, lloyd)


def test_bitwise_identical_across_thread_counts(at_thread_counts):
    X, _ = _blobs(n=30_000, d=24, k=20, dtype=np.float32)
    w = np.random.RandomState(0).uniform(0.5, 2, size=X.shape[0])
    _same_fit(*at_thread_counts(lambda: KMeans(20, init="k-means||", random_state=3).fit(X, sample_weight=w)))


def test_quality_at_least_greedy_kmeans_plusplus():
    # Blobs close enough for seeding to matter (greedy k-means++ misses some).
    X, _ = make_blobs(n_samples=20_000, n_features=16, centers=40, cluster_std=2.5, random_state=0)
    ours = [KMeans(40, init="k-means||", random_state=s).fit(X).inertia_ for s in range(3)]
    theirs = [SkKMeans(40, random_state=s).fit(X).inertia_ for s in range(3)]
    assert np.median(ours) <= np.median(theirs) * 1.001


def test_far_from_origin_and_float32():
    X, y = _blobs(n=4000, d=20, k=6)
    near = KMeans(6, init="k-means||", random_state=0).fit(X)
    far = KMeans(6, init="k-means||", random_state=0).fit((X + 1e5).astype(np.float32))
    assert far.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(far.cluster_centers_ - 1e5, near.cluster_centers_, atol=0.05)


def test_sparse_input():
    X, y = _blobs(n=3000, d=20, k=5)
    X[np.abs(X) < 4] = 0.0
    ours = KMeans(5, init="k-means||", random_state=0).fit(sp.csr_matrix(X))
    dense = KMeans(5, init="k-means++", random_state=0).fit(X)
    assert ours.inertia_ <= dense.inertia_ * 1.001


def test_fewer_distinct_rows_than_clusters_falls_back():
    X = np.repeat(np.arange(4.0)[:, None], 50, axis=0)
    with pytest.warns(Warning, match="distinct clusters"):
        km = KMeans(6, init="k-means||", random_state=0).fit(X)
    assert km.inertia_ == 0.0


def test_unknown_init_names_the_options():
    with pytest.raises(ValueError, match="k-means\\|\\|"):
        KMeans(3, init="kmeans||").fit(np.zeros((10, 2)))


def test_extreme_cluster_counts_and_weights():
    X = np.random.RandomState(0).normal(size=(500, 20))
    one = KMeans(1, init="k-means||", random_state=0).fit(X)
    np.testing.assert_allclose(one.cluster_centers_[0], X.mean(axis=0))
    assert KMeans(500, init="k-means||", random_state=0).fit(X).inertia_ == 0.0
    # Only 10 rows weigh: 10 clusters put a center on each of them.
    w = np.zeros(500)
    w[:10] = 1.0
    km = KMeans(10, init="k-means||", random_state=0).fit(X, sample_weight=w)
    assert km.inertia_ == 0.0
    np.testing.assert_array_equal(np.sort(km.labels_[:10]), np.arange(10))
