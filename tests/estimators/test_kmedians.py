"""KMedians: robustness to outliers, determinism (its scikit-learn contract: test_contract.py)."""

import numpy as np
import pytest
import scipy.sparse as sp

from kmeanskit import KMeans
from kmeanskit._estimators.kmedians import KMedians

TRUE_CENTERS = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, 20.0, 10.0]])


def _blobs_with_outliers(seed=0, n_per=300, outlier_fraction=0.07, radius=(1e3, 1e4)):
    rng = np.random.RandomState(seed)
    X = np.concatenate([c + rng.normal(size=(n_per, 3)) for c in TRUE_CENTERS])
    n_out = int(round(outlier_fraction * len(X)))
    victims = rng.choice(len(X), n_out, replace=False)
    directions = rng.normal(size=(n_out, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    X[victims] += directions * rng.uniform(*radius, size=(n_out, 1))
    return X


def _matched_error(centers):
    """Largest distance from each true center to the nearest found center."""
    D = np.linalg.norm(TRUE_CENTERS[:, None, :] - centers[None, :, :], axis=2)
    return D.min(axis=1).max()


def test_robust_to_extreme_outliers_where_kmeans_is_pulled():
    X = _blobs_with_outliers()
    init = TRUE_CENTERS + 0.5  # the same start for both: the update rule makes the difference
    kmed = KMedians(3, init=init).fit(X)
    kmeans = KMeans(3, init=init).fit(X)
    assert _matched_error(kmed.cluster_centers_) < 0.3
    assert _matched_error(kmeans.cluster_centers_) > 50
    # From its own seeding, the L1 optimum at k=3 spends a center on these
    # extreme outliers (two blobs share one median): a lower cost than the true
    # centers', so the seeded fit must find a cost at least as low.
    seeded = KMedians(3, random_state=0).fit(X)
    assert seeded.inertia_ < kmed.inertia_


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seeded_fit_recovers_the_true_centers_despite_outliers(seed):
    # 7% of the rows thrown 50 to 200 away (blobs: std 1, 20 apart) in every direction.
    X = _blobs_with_outliers(seed=seed, radius=(50, 200))
    kmed = KMedians(3, random_state=seed, n_init=10).fit(X)
    kmeans = KMeans(3, random_state=seed, n_init=10).fit(X)
    assert _matched_error(kmed.cluster_centers_) < 0.3
    assert _matched_error(kmeans.cluster_centers_) > 5  # means are dragged, or a center is spent


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inertia_is_the_weighted_l1_cost_and_history_decreases(dtype):
    rng = np.random.RandomState(1)
    X = _blobs_with_outliers(seed=1).astype(dtype)
    w = rng.uniform(0.1, 3.0, size=len(X))
    km = KMedians(5, random_state=0).fit(X, sample_weight=w)
    assert km.cluster_centers_.dtype == dtype
    D = np.abs(X.astype(np.float64)[:, None, :] - km.cluster_centers_.astype(np.float64)[None]).sum(axis=2)
    np.testing.assert_array_equal(km.labels_, D.argmin(axis=1))
    expected = float((w.astype(dtype).astype(np.float64) * D[np.arange(len(X)), km.labels_]).sum())
    np.testing.assert_allclose(km.inertia_, expected, rtol=1e-10)
    h = km.inertia_history_
    assert h.shape == (km.n_iter_,)
    assert np.all(np.diff(h) <= 1e-12 * h[0])
    assert km.inertia_ <= h[-1] * (1 + 1e-12)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_allclose(km.score(X, sample_weight=w), -km.inertia_, rtol=1e-10)
    np.testing.assert_allclose(km.transform(X), D, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert km.transform(X).dtype == dtype


def test_centers_are_weighted_medians_of_their_clusters():
    X = _blobs_with_outliers(seed=2)
    w = np.random.RandomState(2).randint(0, 4, size=len(X)).astype(float)
    w[0] = 1.0
    km = KMedians(3, random_state=0).fit(X, sample_weight=w)
    for j in range(3):
        members = km.labels_ == j
        for f in range(X.shape[1]):
            v, u = X[members, f], w[members]
            order = np.argsort(v, kind="stable")
            cum = np.cumsum(u[order])
            assert km.cluster_centers_[j, f] == v[order][np.searchsorted(cum, 0.5 * u.sum())]


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_bitwise_identical_across_thread_counts(init, at_thread_counts):
    X = _blobs_with_outliers(seed=3, n_per=2000)  # several slabs
    def fit():
        km = KMedians(6, init=init, random_state=7).fit(X)
        return km.cluster_centers_, km.labels_, km.inertia_, km.inertia_history_

    (c1, l1, i1, h1), (c2, l2, i2, h2) = at_thread_counts(fit)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(l1, l2)
    assert i1 == i2
    np.testing.assert_array_equal(h1, h2)


def test_same_seed_same_result_and_n_init_auto():
    X = _blobs_with_outliers(seed=4)
    a = KMedians(4, init="random", random_state=3).fit(X)
    b = KMedians(4, init="random", random_state=3).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a._resolve_n_init() == 10
    assert KMedians(4)._resolve_n_init() == 1
    with pytest.warns(RuntimeWarning, match="only one init"):
        KMedians(3, init=TRUE_CENTERS, n_init=4).fit(X)


def test_empty_cluster_is_relocated_never_nan():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [10.0, 10.0], [10.2, 10.0], [50.0, 50.0]])
    init = np.array([[0.0, 0.0], [10.0, 10.0], [1000.0, 1000.0]])  # the third center attracts no row
    km = KMedians(3, init=init, max_iter=10).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert np.unique(km.labels_).size == 3
    assert km.labels_[5] != km.labels_[3]  # the farthest row took the empty cluster
    np.testing.assert_array_equal(km.cluster_centers_[km.labels_[5]], X[5])


def test_integer_input_and_dataframe_names():
    pd = pytest.importorskip("pandas")
    X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    km = KMedians(2, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float64
    df = pd.DataFrame(X, columns=["a", "b"])
    km = KMedians(2, random_state=0).fit(df)
    assert km.feature_names_in_.tolist() == ["a", "b"]
    assert km.get_feature_names_out().tolist() == ["kmedians0", "kmedians1"]


@pytest.mark.parametrize(
    ("X", "params", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), {"n_clusters": 2}, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0], [2.0, 2.0]]), {"n_clusters": 2}, "infinity"),
        (np.arange(6.0), {"n_clusters": 2}, "2D array"),
        (np.ones((3, 2)), {"n_clusters": 4}, "n_samples=3 should be >= n_clusters=4"),
        (np.ones((3, 2)), {"n_clusters": 0}, "n_clusters"),
        (np.ones((3, 2)), {"n_clusters": 2, "init": np.zeros((3, 2))}, "shape of the initial centers"),
        (np.ones((3, 2)), {"n_clusters": 2, "tol": -1.0}, "tol"),
        (np.ones((3, 2)), {"n_clusters": 2, "init": "kmeans"}, "init"),
    ],
)
def test_bad_input_names_the_problem(X, params, match):
    with pytest.raises(ValueError, match=match):
        KMedians(**params).fit(X)


def test_bad_weights_and_predict_shape():
    X = np.random.RandomState(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="sample_weight"):
        KMedians(2).fit(X, sample_weight=np.ones(9))
    with pytest.raises(ValueError, match="[Ss]ample.?weight"):
        KMedians(2).fit(X, sample_weight=np.zeros(10))
    km = KMedians(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        km.predict(X[:, :2])


def test_sparse_input_is_refused_with_a_type_error():
    with pytest.raises(TypeError, match="[Ss]parse"):
        KMedians(2).fit(sp.random(20, 4, density=0.5, format="csr", random_state=0))
