"""MiniBatchKMeans against scikit-learn's, and the promises of DESIGN.md."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.datasets import make_blobs
from sklearn.utils._param_validation import InvalidParameterError

from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.minibatch import MiniBatchKMeans


def _blobs(n=20_000, d=8, k=10, seed=0, dtype=np.float64, std=1.0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return X.astype(dtype)


def _sorted_rows(C):
    return C[np.lexsort(C.T[::-1])]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
def test_partial_fit_follows_sklearn_step_by_step(dtype, sparse):
    # From the same initial centers and seed, partial_fit consumes the random
    # state as scikit-learn does (init subset, reassignments): same centers.
    X = _blobs(n=3000, d=6, k=5, dtype=dtype)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 2, 0, X).astype(dtype))
    init = (X[:5].toarray() if sparse else X[:5]).copy()
    ours = MiniBatchKMeans(5, init=init, batch_size=300, random_state=3)
    theirs = SkMiniBatchKMeans(5, init=init, batch_size=300, random_state=3)
    for start in range(0, 3000, 300):
        ours.partial_fit(X[start:start + 300])
        theirs.partial_fit(X[start:start + 300])
        rtol = 1e-4 if dtype == np.float32 else 1e-9
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-4)
    assert ours.n_steps_ == theirs.n_steps_ == 10
    assert ours.cluster_centers_.dtype == dtype


def test_fit_quality_near_full_kmeans_and_sklearn():
    X = _blobs(n=30_000, d=10, k=12, std=2.0)
    full = KMeans(12, random_state=0).fit(X).inertia_
    ours = [MiniBatchKMeans(12, random_state=s).fit(X) for s in range(2)]
    theirs = [SkMiniBatchKMeans(12, random_state=s).fit(X).inertia_ for s in range(2)]
    # The same seeding draws as scikit-learn: the same local optimum per seed
    # (some seeds merge two blobs, with either library), within 0.5%.
    np.testing.assert_allclose([m.inertia_ for m in ours], theirs, rtol=5e-3)
    assert min(m.inertia_ for m in ours) <= 1.002 * full
    m = ours[0]
    np.testing.assert_array_equal(m.labels_, m.predict(X))
    assert m.score(X) == pytest.approx(-m.inertia_, rel=1e-9)
    d = m.transform(X[:50])
    np.testing.assert_allclose(d, np.sqrt(((X[:50, None] - m.cluster_centers_[None]) ** 2).sum(-1)), rtol=1e-9)
    assert m.n_iter_ == int(np.ceil(m.n_steps_ * 1024 / X.shape[0]))


def test_same_result_whatever_the_thread_count():
    # Batches large enough for the parallel kernels.
    X = _blobs(n=40_000, d=40, k=32, std=3.0)
    fits = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            m = MiniBatchKMeans(32, batch_size=8192, max_iter=3, random_state=0).fit(X)
            fits.append((m.cluster_centers_, m.labels_, m.inertia_, m.n_steps_))
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    np.testing.assert_array_equal(fits[0][1], fits[1][1])
    assert fits[0][2:] == fits[1][2:]


def test_float32_stays_accurate_far_from_the_origin():
    X = _blobs(n=10_000, d=5, k=4, std=0.5)
    X64 = X + 1e5
    a = MiniBatchKMeans(4, random_state=0).fit(X64)
    b = MiniBatchKMeans(4, random_state=0).fit(X64.astype(np.float32))
    assert b.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(b.cluster_centers_ - 1e5, a.cluster_centers_ - 1e5, atol=2e-2)
    assert b.inertia_ == pytest.approx(a.inertia_, rel=1e-3)
    # Without centering, float32 squared distances at 1e5 lose all precision.
    assert np.mean(b.labels_ == a.labels_) == 1.0


def test_sparse_and_dense_take_the_same_path():
    X = _blobs(n=5000, d=6, k=4)
    X[np.abs(X) < 1] = 0
    a = MiniBatchKMeans(4, random_state=0, batch_size=256).fit(X)
    b = MiniBatchKMeans(4, random_state=0, batch_size=256).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_sample_weight_draws_batches_and_weighs_inertia():
    X = _blobs(n=4000, d=3, k=3)
    outliers = np.full((400, 3), 500.0)
    Xw = np.vstack([X, outliers])
    w = np.r_[np.ones(4000), np.zeros(400)]
    m = MiniBatchKMeans(3, random_state=0).fit(Xw, sample_weight=w)
    assert np.abs(m.cluster_centers_).max() < 100  # zero-weight rows are never drawn
    d2 = ((Xw - m.cluster_centers_[m.labels_]) ** 2).sum(axis=1)
    assert m.inertia_ == pytest.approx(float(d2 @ w), rel=1e-9)
    X_before = Xw.copy()
    MiniBatchKMeans(3, random_state=0).fit(Xw, sample_weight=w)
    np.testing.assert_array_equal(Xw, X_before)


def test_compute_labels_false_estimates_inertia():
    X = _blobs()
    m = MiniBatchKMeans(10, random_state=0, compute_labels=False).fit(X)
    assert not hasattr(m, "labels_")
    exact = -m.score(X)
    assert m.inertia_ == pytest.approx(exact, rel=0.25)


def test_tol_stops_early():
    X = _blobs(std=0.3)
    loose = MiniBatchKMeans(10, random_state=0, tol=1e-2, max_no_improvement=None).fit(X)
    none = MiniBatchKMeans(10, random_state=0, max_no_improvement=None, max_iter=2).fit(X)
    assert loose.n_steps_ < none.n_steps_ == (2 * X.shape[0]) // 1024


@pytest.mark.parametrize("init", ["random", "array", "callable"])
def test_other_inits_reach_sklearn_optimum(init):
    # The same draws as scikit-learn's for the initial centers, so the same
    # local optimum per seed (random starts sometimes merge two blobs).
    X = _blobs(n=2000, k=4)
    if init == "array":
        init = X[:4]
    elif init == "callable":
        def init(X, k, random_state):
            return X[random_state.choice(X.shape[0], k, replace=False)]
    ours = [MiniBatchKMeans(4, init=init, random_state=s, batch_size=256).fit(X).inertia_ for s in range(2)]
    theirs = [SkMiniBatchKMeans(4, init=init, random_state=s, batch_size=256).fit(X).inertia_ for s in range(2)]
    np.testing.assert_allclose(ours, theirs, rtol=5e-3)


def test_bad_parameters_are_named():
    X = _blobs(n=100)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        MiniBatchKMeans(batch_size=0).fit(X)
    with pytest.raises(InvalidParameterError, match="reassignment_ratio"):
        MiniBatchKMeans(reassignment_ratio=-1).fit(X)
    with pytest.raises(ValueError, match="n_samples=100 should be >= n_clusters=101"):
        MiniBatchKMeans(101).fit(X)
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        MiniBatchKMeans(2).fit(X, sample_weight=np.zeros(100))
    with pytest.warns(RuntimeWarning, match="init_size=2 should be larger than n_clusters=8"):
        MiniBatchKMeans(8, init_size=2, random_state=0).fit(X)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        MiniBatchKMeans(3, init=X[:3], n_init=3).fit(X)
    m = MiniBatchKMeans(3, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        m.partial_fit(X[:, :4])
