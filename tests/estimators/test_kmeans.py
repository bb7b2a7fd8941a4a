"""KMeans against scikit-learn, and the promises of DESIGN.md."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, k_means, kmeans_plusplus
from kmeanskit._algorithms import lloyd
from kmeanskit._engine import serial


@pytest.fixture(params=["direct", "chunked", "blocks"])
def kernel_path(request, monkeypatch):
    """Run a test once with each dense assignment path (forced on small data)."""
    never = 1 << 62
    monkeypatch.setattr(serial, "SERIAL_MAX_VALUES", 0)  # the parallel kernels (serial twins: below)
    if request.param == "direct":
        monkeypatch.setattr(lloyd, "CHUNKED_MIN_FEATURES", never)
        monkeypatch.setattr(lloyd, "BLOCKS_MIN_PRODUCT", never)
    elif request.param == "chunked":
        monkeypatch.setattr(lloyd, "CHUNKED_MIN_FEATURES", 1)
        monkeypatch.setattr(lloyd, "BLOCKS_MIN_PRODUCT", never)
        monkeypatch.setattr(lloyd, "CHUNK_ROWS", 7)  # several chunks per slab, a ragged last one
    else:
        monkeypatch.setattr(lloyd, "BLOCKS_MIN_PRODUCT", 1)
        monkeypatch.setattr(lloyd, "DOTS_BLOCK_VALUES", 1 << 14)  # several blocks
    return request.param


def _blobs(n=3000, d=6, k=5, seed=0, dtype=np.float64):
    X, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=1.5, random_state=seed)
    return X.astype(dtype), y


def _datasets():
    return {
        "blobs": (_blobs()[0], 5),
        "iris": (load_iris().data, 3),
        "digits": (load_digits().data, 10),
        "blobs-wide": (_blobs(n=2000, d=40, k=12, seed=1)[0], 12),
    }


@pytest.mark.parametrize("name", ["blobs", "iris", "digits", "blobs-wide"])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_result_as_sklearn_lloyd_from_same_init(name, seed, kernel_path):
    X, k = _datasets()[name]
    init = X[np.random.RandomState(seed).choice(X.shape[0], k, replace=False)]
    ours = KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(X)
    theirs = SkKMeans(k, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6, atol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-9)


def test_same_result_as_sklearn_with_weights_and_sparse():
    X, _ = _blobs(n=1500, d=8, k=4)
    X[np.abs(X) < 3] = 0
    w = np.random.RandomState(0).uniform(0.1, 3, size=X.shape[0])
    init = X[[0, 500, 1000, 1400]]
    for data in (X, sp.csr_matrix(X)):
        ours = KMeans(4, init=init, n_init=1).fit(data, sample_weight=w)
        theirs = SkKMeans(4, init=init, n_init=1).fit(data, sample_weight=w)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6, atol=1e-9)


def test_default_fit_quality_matches_sklearn():
    X, _ = _blobs(n=5000, d=10, k=8)
    for seed in range(3):
        ours = KMeans(8, random_state=seed).fit(X).inertia_
        theirs = SkKMeans(8, random_state=seed).fit(X).inertia_
        assert ours <= theirs * 1.01


@pytest.mark.parametrize("d", [5, 40])  # dots by hand, by BLAS
def test_kmeans_plusplus_draws_what_sklearn_draws(d):
    # Same random stream, same greedy rule: same indices (on well-conditioned data).
    X, _ = _blobs(n=2000, d=d, k=6)
    for seed in range(3):
        _, ours = kmeans_plusplus(X, 6, random_state=seed)
        _, theirs = sk_kmeans_plusplus(X, 6, random_state=seed)
        np.testing.assert_array_equal(ours, theirs)


def test_kmeans_plusplus_returns_rows_of_x():
    X, _ = _blobs(n=500, d=3, k=4, dtype=np.float32)
    centers, indices = kmeans_plusplus(X, 4, random_state=0)
    assert centers.dtype == np.float32 and indices.shape == (4,)
    np.testing.assert_array_equal(centers, X[indices])
    assert len(set(indices.tolist())) == 4


def test_k_means_function():
    X, _ = _blobs()
    centers, labels, inertia, n_iter = k_means(X, 5, random_state=0, return_n_iter=True)
    est = KMeans(5, random_state=0).fit(X)
    np.testing.assert_array_equal(centers, est.cluster_centers_)
    np.testing.assert_array_equal(labels, est.labels_)
    assert inertia == est.inertia_ and n_iter == est.n_iter_
    assert len(k_means(X, 5, random_state=0)) == 3


@pytest.mark.parametrize("d", [4, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bitwise_identical_across_thread_counts(d, dtype, kernel_path, at_thread_counts):
    X, _ = _blobs(n=20000, d=d, k=9, dtype=dtype)
    w = np.random.RandomState(0).uniform(0.5, 2, size=X.shape[0])
    a, b = at_thread_counts(lambda: KMeans(9, random_state=3, n_init=2).fit(X, sample_weight=w))
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_
    np.testing.assert_array_equal(a.inertia_history_, b.inertia_history_)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_same_seed_same_result(init):
    X, _ = _blobs()
    a = KMeans(5, init=init, random_state=7).fit(X)
    b = KMeans(5, init=init, random_state=7).fit(X)
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()


@pytest.mark.parametrize("algorithm", ["auto", "lloyd", "hamerly", "yinyang"])
def test_float32_stays_float32_and_accurate_far_from_origin(algorithm):
    X, y = _blobs(n=4000, d=4, k=4, dtype=np.float64)
    offset = 1e5
    far32 = (X + offset).astype(np.float32)
    est = KMeans(4, random_state=0, algorithm=algorithm).fit(far32)
    assert est.cluster_centers_.dtype == np.float32
    assert est.transform(far32).dtype == np.float32
    ref = KMeans(4, random_state=0).fit(X)
    # The same partition as in float64 at the origin, and centers to float32 precision.
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(est.labels_, ref.labels_) == 1.0
    order = np.argsort(est.cluster_centers_[:, 0])
    ref_order = np.argsort(ref.cluster_centers_[:, 0])
    np.testing.assert_allclose(est.cluster_centers_[order] - offset, ref.cluster_centers_[ref_order], atol=0.05)
    assert est.inertia_ == pytest.approx(ref.inertia_, rel=1e-3)
    np.testing.assert_array_equal(est.predict(far32), est.labels_)


def test_integer_input_is_float64():
    X = np.random.RandomState(0).randint(0, 100, size=(200, 3))
    est = KMeans(3, random_state=0).fit(X)
    assert est.cluster_centers_.dtype == np.float64


def test_sample_weight_integer_equals_repeated_rows_from_same_init():
    X, _ = _blobs(n=300, d=3, k=3)
    w = np.random.RandomState(0).randint(1, 4, size=300)
    init = X[[0, 100, 200]]
    weighted = KMeans(3, init=init, n_init=1).fit(X, sample_weight=w)
    repeated = KMeans(3, init=init, n_init=1).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-10)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-10)


def test_sparse_equals_dense():
    X, _ = _blobs(n=1000, d=10, k=4)
    X[np.abs(X) < 4] = 0
    init = X[[0, 250, 500, 750]]
    dense = KMeans(4, init=init, n_init=1).fit(X)
    sparse = KMeans(4, init=init, n_init=1).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dense.labels_, sparse.labels_)
    np.testing.assert_allclose(dense.cluster_centers_, sparse.cluster_centers_, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), sparse.labels_)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), dense.transform(X), rtol=1e-7, atol=1e-9)


def test_empty_cluster_is_relocated_to_farthest_point():
    # Center 2 starts far away from every point: it is empty after the first
    # assignment and must take the point farthest from its center.
    X = np.array([[0.0, 0], [0.1, 0], [0, 0.1], [5, 5], [5.1, 5], [9, 9.5]])
    init = np.array([[0.0, 0.0], [5.0, 5.0], [100.0, 100.0]])
    est = KMeans(3, init=init, n_init=1).fit(X)
    assert np.isfinite(est.cluster_centers_).all()
    assert sorted(np.bincount(est.labels_, minlength=3).tolist()) == [1, 2, 3]
    assert any(np.allclose(c, [9, 9.5]) for c in est.cluster_centers_)


def test_attributes_and_methods():
    X, _ = _blobs()
    est = KMeans(5, random_state=0)
    labels = est.fit_predict(X)
    np.testing.assert_array_equal(labels, est.labels_)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    D = est.transform(X)
    assert D.shape == (X.shape[0], 5)
    np.testing.assert_allclose(D, np.linalg.norm(X[:, None] - est.cluster_centers_[None], axis=2), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.fit_transform(X), D, rtol=1e-12)
    assert est.score(X) == pytest.approx(-est.inertia_, rel=1e-9)
    assert est.n_iter_ == len(est.inertia_history_)
    assert np.all(np.diff(est.inertia_history_) <= 1e-9 * est.inertia_history_[0])
    assert est.inertia_ <= est.inertia_history_[-1] * (1 + 1e-12)
    assert est.labels_.dtype == np.int32
    assert list(est.get_feature_names_out()) == [f"kmeans{i}" for i in range(5)]


def test_dataframe_feature_names_and_set_output():
    X = pd.DataFrame(load_iris().data, columns=["sl", "sw", "pl", "pw"])
    est = KMeans(3, random_state=0).set_output(transform="pandas").fit(X)
    assert list(est.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    out = est.transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["kmeans0", "kmeans1", "kmeans2"]


def test_in_a_pipeline_with_a_scaler():
    X = load_iris().data
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    np.testing.assert_array_equal(pipe.predict(X), pipe[-1].labels_)


def test_pickle_roundtrip():
    X, _ = _blobs()
    est = KMeans(5, random_state=0).fit(X)
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.predict(X), est.labels_)


def test_init_callable_and_n_init_rules():
    X, _ = _blobs()

    def first_rows(data, n_clusters, random_state):
        return data[:n_clusters]

    est = KMeans(5, init=first_rows, n_init=1).fit(X)
    assert est.cluster_centers_.shape == (5, 6)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeans(5, init=X[:5], n_init=3).fit(X)


def test_copy_x_false_restores_input():
    X, _ = _blobs()
    original = X.copy()
    KMeans(5, random_state=0, copy_x=False).fit(X)
    np.testing.assert_allclose(X, original, rtol=0, atol=1e-12)


def test_n_init_keeps_the_best_run():
    X, _ = _blobs(n=2000, d=2, k=10, seed=3)
    single = [KMeans(10, init="random", n_init=1, random_state=s).fit(X).inertia_ for s in range(5)]
    best = KMeans(10, init="random", n_init=10, random_state=0).fit(X).inertia_
    assert best <= np.median(single)


def test_kernel_path_fixture_selects_the_path(kernel_path):
    from kmeanskit._algorithms.rows import DenseRows

    X = np.zeros((100, 40))
    step = lloyd.LloydStep(DenseRows(X, np.ones(100)), 12)
    assert step.path == kernel_path


def test_fit_does_not_copy_data_near_the_origin():
    import tracemalloc

    X, _ = _blobs(n=100_000, d=32, k=8)
    X -= X.mean(axis=0)
    before = X.copy()
    KMeans(8, random_state=0, n_init=1, max_iter=2).fit(X[:2000])  # compile outside the trace
    tracemalloc.start()
    try:
        km = KMeans(8, random_state=0, n_init=1).fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert km._X_mean is None  # used as it is
    assert peak < 0.6 * X.nbytes  # no copy of X (which would be 1.0 at least)
    np.testing.assert_array_equal(X, before)
    # Far from the origin, the data are centered (on a copy) for accuracy:
    # the same clustering as near the origin.
    near, init = X[:5000], X[:8]
    a = KMeans(8, init=init, n_init=1).fit(near)
    b = KMeans(8, init=init + 1e4, n_init=1).fit(near + 1e4)
    assert b._X_mean is not None
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(b.cluster_centers_ - 1e4, a.cluster_centers_, atol=1e-8)


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e200), (np.float32, 1e30)])
def test_predict_and_transform_far_beyond_the_training_range(dtype, big):
    X, _ = _blobs(n=500, d=3, k=3)
    X = (X - X.mean(axis=0)).astype(dtype)
    km = KMeans(3, random_state=0, n_init=1).fit(X)
    assert km._X_mean is None  # fitted where the data lay
    far = np.array([[big, 0, 0], [-big, 0, 0]], dtype=dtype)
    distances = km.transform(far)
    assert np.all(np.isfinite(distances))
    np.testing.assert_allclose(distances, big, rtol=1e-5)
    # Far along +x the nearest center is the one with the largest x, and so on.
    x = km.cluster_centers_[:, 0]
    np.testing.assert_array_equal(km.predict(far), [x.argmax(), x.argmin()])


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
def test_serial_twins_give_the_parallel_kernels_bits(algorithm, kernel_path, monkeypatch):
    X = load_digits().data
    fits = []
    for limit in (0, 1 << 62):  # parallel kernels, then their serial twins
        monkeypatch.setattr(serial, "SERIAL_MAX_VALUES", limit)
        km = KMeans(10, random_state=0, n_init=2, algorithm=algorithm).fit(X)
        fits.append((km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_, km.predict(X[:7])))
    (l1, c1, i1, n1, p1), (l2, c2, i2, n2, p2) = fits
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(p1, p2)
    assert (i1, n1) == (i2, n2)


def test_a_small_fit_sets_blas_threads_once_not_every_pass(monkeypatch):
    # Digits' shape runs the chunked BLAS pass; BLAS on one thread is set for the whole fit
    # (and once more for the final inertia), whatever the number of passes.
    from threadpoolctl import threadpool_limits

    from kmeanskit._algorithms import threads

    X = np.random.default_rng(0).normal(size=(1797, 64))
    counts = []
    with threadpool_limits(limits=2, user_api="blas"):
        for max_iter in (2, 20):
            calls = []
            for lib in threads._blas_libraries()[0]:
                monkeypatch.setattr(lib, "set_num_threads",
                                    lambda n, original=lib.set_num_threads, calls=calls: (calls.append(n), original(n))[1])
            km = KMeans(10, init=X[:10].copy(), max_iter=max_iter, tol=0, algorithm="lloyd").fit(X)
            assert km.n_iter_ == max_iter
            counts.append(len(calls))
            monkeypatch.undo()
    assert counts[0] == counts[1] <= 4 * len(threads._blas_libraries()[0])
