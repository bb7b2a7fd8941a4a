"""kmeanskit.dask.KMeans: the in-memory KMeans on dask arrays, on threads and on a LocalCluster."""

import logging
import os
import signal
import threading
import time
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from kmeanskit import KMeans as MemoryKMeans  # noqa: E402
from kmeanskit._algorithms import dask_blocks as _dask_blocks  # noqa: E402
from kmeanskit.dask import KMeans  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """One small cluster for the whole file: 2 worker processes x 1 thread."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
    ) as cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture
def on_cluster(client):
    # as_current, not dask.config.set(scheduler=client): nannies copy dask's config
    # into the processes they start, and a Client in it cannot be pickled.
    with client.as_current():
        yield client


@pytest.fixture
def on_threads():
    with dask.config.set(scheduler="threads"):
        yield


def _blobs(n=6000, d=5, k=6, seed=0, dtype=np.float64, std=2.0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return X.astype(dtype)


def _start(X, k, seed=0):
    return X[np.random.RandomState(seed).choice(X.shape[0], k, replace=False)].copy()


def _assert_same_as_memory(km, X, init, sample_weight=None):
    mem = MemoryKMeans(init.shape[0], init=init, n_init=1, algorithm="lloyd").fit(X, sample_weight=sample_weight)
    assert_array_equal(km.labels_.compute(), mem.labels_)
    rtol = 1e-5 if X.dtype == np.float32 else 1e-10
    assert_allclose(km.cluster_centers_, mem.cluster_centers_, rtol=rtol, atol=rtol * np.abs(X).max())
    assert km.cluster_centers_.dtype == X.dtype
    assert km.n_iter_ == mem.n_iter_
    assert km.inertia_ == pytest.approx(mem.inertia_, rel=rtol)
    assert_allclose(km.inertia_history_, mem.inertia_history_, rtol=rtol)


# ------------------------------------------------------- equals in memory
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("copy_x", [True, False])
def test_threads_match_in_memory_kmeans_from_the_same_centers(on_threads, dtype, copy_x):
    X = _blobs(dtype=dtype)
    init = _start(X, 6)
    Xd = da.from_array(X, chunks=((1000, 2500, 7, 2493),  (5,)))  # uneven blocks, a tiny one
    km = KMeans(6, init=init, copy_x=copy_x).fit(Xd)
    _assert_same_as_memory(km, X, init)


def test_cluster_matches_in_memory_kmeans_and_the_threaded_fit(on_cluster):
    X = _blobs(n=8000, d=24, k=10, seed=1)  # d=24: the chunked-BLAS kernel path
    init = _start(X, 10)
    Xd = da.from_array(X, chunks=(1500, 24))
    km = KMeans(10, init=init).fit(Xd)
    _assert_same_as_memory(km, X, init)
    with dask.config.set(scheduler="threads"):
        local = KMeans(10, init=init).fit(Xd)
    # Partial sums are added in a fixed order: bitwise the same on any scheduler.
    assert_array_equal(km.cluster_centers_, local.cluster_centers_)
    assert km.inertia_ == local.inertia_


def test_far_centers_empty_clusters_are_relocated_as_in_memory(on_threads):
    X = _blobs(n=3000, d=3, k=4, seed=2)
    init = _start(X, 5, seed=3)
    init[1] = 1e4  # attracts nothing: relocated to the farthest row, as in memory
    km = KMeans(5, init=init).fit(da.from_array(X, chunks=700))
    _assert_same_as_memory(km, X, init)
    assert np.all(np.abs(km.cluster_centers_) < 1e3)


def test_sample_weight_matches_in_memory(on_threads):
    X = _blobs(n=4000, d=4, k=5, seed=4)
    w = np.random.RandomState(0).randint(0, 4, size=X.shape[0]).astype(np.float64)
    init = _start(X, 5, seed=1)
    km = KMeans(5, init=init).fit(da.from_array(X, chunks=900), sample_weight=da.from_array(w, chunks=1000))
    _assert_same_as_memory(km, X, init, sample_weight=w)
    assert km.score(da.from_array(X, chunks=900), sample_weight=w) == pytest.approx(-km.inertia_, rel=1e-10)


def test_numpy_and_pandas_input_are_split_into_blocks(on_threads):
    X = _blobs(n=2000, d=3, k=3)
    init = _start(X, 3)
    before = X.copy()
    km = KMeans(3, init=init, copy_x=False).fit(X)
    _assert_same_as_memory(km, X, init)
    assert_array_equal(X, before)  # never modified
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    km_df = KMeans(3, init=init).fit(frame)
    assert list(km_df.feature_names_in_) == ["a", "b", "c"]
    assert_array_equal(km_df.cluster_centers_, km.cluster_centers_)


# ------------------------------------------------------------- k-means||
def test_kmeans_parallel_init_is_as_good_as_kmeans_plusplus(on_threads):
    # 20 overlapping blobs: a bad start leaves a visible excess of inertia.
    X = _blobs(n=8000, d=6, k=20, seed=5, std=2.5)
    Xd = da.from_array(X, chunks=2000)
    ours = [KMeans(20, random_state=s).fit(Xd).inertia_ for s in range(5)]
    plusplus = [MemoryKMeans(20, random_state=s).fit(X).inertia_ for s in range(5)]
    assert np.mean(ours) <= 1.02 * np.mean(plusplus)
    sample_pp = KMeans(20, init="k-means++", random_state=0).fit(Xd)
    assert sample_pp.inertia_ <= 1.05 * np.mean(plusplus)


def test_kmeans_parallel_is_reproducible_and_scheduler_independent(on_cluster):
    X = _blobs(n=5000, d=6, k=8, seed=6)
    Xd = da.from_array(X, chunks=1250)
    a = KMeans(8, random_state=3, oversampling_factor=1.5, init_max_iter=3).fit(Xd)
    with dask.config.set(scheduler="threads"):
        b = KMeans(8, random_state=3, oversampling_factor=1.5, init_max_iter=3).fit(Xd)
    assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_
    # As good as the best of three in-memory k-means++ fits.
    best_memory = min(MemoryKMeans(8, random_state=s).fit(X).inertia_ for s in range(3))
    assert a.inertia_ <= best_memory * (1 + 1e-9)


def test_fewer_distinct_rows_than_clusters_warns_and_keeps_finite_centers(on_threads):
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]]), 40, axis=0)
    with pytest.warns(Warning, match="Number of distinct clusters"):
        km = KMeans(5, random_state=0).fit(da.from_array(X, chunks=50))
    assert np.isfinite(km.cluster_centers_).all()
    assert km.inertia_ == pytest.approx(0.0, abs=1e-12)
    assert set(np.unique(km.labels_.compute())) <= set(range(5))


def test_n_init_keeps_the_best_run(on_threads):
    X = _blobs(n=3000, d=4, k=12, seed=7, std=3.0)
    Xd = da.from_array(X, chunks=1000)
    runs = [KMeans(12, random_state=np.random.RandomState(9), init_max_iter=1).fit(Xd)]
    best = KMeans(12, random_state=9, init_max_iter=1, n_init=3).fit(Xd)
    assert best.inertia_ <= runs[0].inertia_ + 1e-9


# ------------------------------------------------------- predict, transform
def test_predict_transform_are_lazy_and_match_in_memory(on_threads):
    X = _blobs(n=3000, d=4, k=5, seed=8, dtype=np.float32)
    init = _start(X, 5)
    km = KMeans(5, init=init).fit(da.from_array(X, chunks=1000))
    mem = MemoryKMeans(5, init=init, n_init=1).fit(X)
    new = (X[::7] + 0.5).astype(np.float32)
    new_d = da.from_array(new, chunks=100)

    calls = []
    with dask.config.set(scheduler=lambda dsk, keys, **kw: calls.append(keys)):
        labels, distances = km.predict(new_d), km.transform(new_d)
        fit_labels = km.labels_
    assert calls == []  # building them computed nothing
    assert isinstance(labels, da.Array) and isinstance(distances, da.Array)
    assert labels.dtype == np.int32 and distances.dtype == np.float32
    assert distances.shape == (new.shape[0], 5)
    assert_array_equal(labels.compute(), mem.predict(new))
    assert_allclose(distances.compute(), mem.transform(new), rtol=1e-5, atol=1e-4)
    assert_array_equal(fit_labels.compute(), mem.labels_)
    assert km.fit_predict(da.from_array(X, chunks=1000)).shape == (X.shape[0],)
    assert km.score(new_d) == pytest.approx(mem.score(new), rel=1e-5)
    assert list(km.get_feature_names_out()) == [f"kmeans{i}" for i in range(5)]


def test_predict_on_the_cluster(on_cluster):
    X = _blobs(n=3000, d=4, k=4, seed=9)
    km = KMeans(4, random_state=0).fit(da.from_array(X, chunks=800))
    labels = km.predict(da.from_array(X, chunks=1000)).compute()
    assert_array_equal(labels, km.labels_.compute())
    mem = MemoryKMeans(4, init=km.cluster_centers_, n_init=1, max_iter=1)
    mem.cluster_centers_, mem._X_mean, mem.n_features_in_ = km.cluster_centers_, km._X_mean, 4
    assert_array_equal(labels, mem.predict(X))


# -------------------------------------------------------- dask DataFrames
def test_dask_dataframe_of_numeric_columns(on_threads):
    X = _blobs(n=2400, d=3, k=3, seed=10)
    frame = pd.DataFrame(X, columns=["height", "weight", "age"])
    frame["age"] = frame["age"].round().astype(np.int64) + 100  # integers count as numbers
    ddf = dd.from_pandas(frame, npartitions=4)
    init = _start(frame.to_numpy(dtype=np.float64), 3)
    km = KMeans(3, init=init).fit(ddf)
    assert list(km.feature_names_in_) == ["height", "weight", "age"]
    _assert_same_as_memory(km, frame.to_numpy(dtype=np.float64), init)
    assert_array_equal(km.predict(ddf).compute(), km.labels_.compute())
    with pytest.raises(ValueError, match="feature names"):
        km.predict(ddf.rename(columns={"age": "years"}))


def test_dask_dataframe_with_text_column_is_refused_by_name(on_threads):
    frame = pd.DataFrame({"x": np.arange(10.0), "city": list("abcdefghij")})
    with pytest.raises(TypeError, match="'city'"):
        KMeans(2).fit(dd.from_pandas(frame, npartitions=2))


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"n_clusters": 0}, ValueError, "n_clusters"),
        ({"n_clusters": True}, TypeError, "n_clusters"),
        ({"init": "random"}, ValueError, "init"),
        ({"oversampling_factor": 0}, ValueError, "oversampling_factor"),
        ({"init_max_iter": 0}, ValueError, "init_max_iter"),
        ({"algorithm": "elkan"}, ValueError, "algorithm"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"init": np.zeros((3, 2))}, ValueError, "initial centers"),
    ],
)
def test_bad_parameters_are_named(on_threads, params, error, match):
    X = da.from_array(_blobs(n=100, d=3, k=2), chunks=50)
    with pytest.raises(error, match=match):
        KMeans(**{"n_clusters": 2, **params}).fit(X)


def test_bad_data_is_refused_with_a_clear_error(on_threads):
    X = _blobs(n=200, d=3, k=2)
    bad = X.copy()
    bad[17, 1] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        KMeans(2).fit(da.from_array(bad, chunks=50))
    with pytest.raises(ValueError, match="2-D"):
        KMeans(2).fit(da.from_array(X[:, 0], chunks=50))
    with pytest.raises(ValueError, match="n_samples=200 should be >= n_clusters=300"):
        KMeans(300).fit(da.from_array(X, chunks=50))
    with pytest.raises(TypeError, match="dtype"):
        KMeans(2).fit(da.from_array(X.astype(str), chunks=50))
    with pytest.raises(ValueError, match="negative"):
        KMeans(2).fit(da.from_array(X, chunks=50), sample_weight=-np.ones(200))
    with pytest.raises(ValueError, match="sums to zero"):
        KMeans(2).fit(da.from_array(X, chunks=50), sample_weight=np.zeros(200))
    with pytest.raises(ValueError, match=r"sample_weight must be a 1-D array of shape \(200,\)"):
        KMeans(2).fit(da.from_array(X, chunks=50), sample_weight=np.ones(199))
    km = KMeans(2, random_state=0).fit(da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="4 features, but KMeans is expecting 3"):
        km.predict(da.ones((10, 4), chunks=5))
    lazy = km.predict(da.from_array(bad, chunks=50))  # found when computed
    with pytest.raises(ValueError, match="NaN or infinity"):
        lazy.compute()


def test_a_worker_lost_for_good_is_a_clear_error(monkeypatch):
    import kmeanskit._estimators.dask as kd

    def lost(*args, **kwargs):
        worker = types.SimpleNamespace(address="tcp://127.0.0.1:1")
        raise distributed.KilledWorker("lloyd_partial-1", worker, 3)

    monkeypatch.setattr(kd.dask, "compute", lost)  # the dask package itself: every module sees it
    with pytest.raises(RuntimeError, match="workers died repeatedly.*no result was kept"):
        KMeans(2).fit(da.ones((10, 2), chunks=5))


def test_without_dask_the_import_error_says_what_to_install(monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "dask", None)  # as if dask were not installed
    monkeypatch.delitem(sys.modules, "kmeanskit.dask")
    monkeypatch.delitem(sys.modules, "kmeanskit._estimators.dask")
    monkeypatch.delitem(sys.modules, "kmeanskit._estimators.dask_data", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'kmeanskit\[dask\]'"):
        importlib.import_module("kmeanskit.dask")


def test_unfitted_estimator_refuses_predict():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KMeans(2).predict(da.ones((4, 2), chunks=2))


def test_block_functions_match_numpy_references(monkeypatch):
    monkeypatch.setattr(_dask_blocks, "_STATS_PIECE_ROWS", 13)  # several pieces per block
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 3)) + 1e6  # far from the origin: the variance stays accurate
    w = rng.uniform(0.5, 2.0, size=500)
    stats = _dask_blocks.combine_stats(*[_dask_blocks.block_stats(X[i:i + 97], w[i:i + 97]) for i in range(0, 500, 97)])
    assert stats["n"] == 500 and stats["w_sum"] == pytest.approx(w.sum())
    assert stats["abs_max"] == np.abs(X).max() and stats["nonfinite"] == 0
    assert_allclose(stats["mean"], X.mean(axis=0), rtol=1e-14)
    assert_allclose(stats["m2"] / 500, X.var(axis=0), rtol=1e-8)
    bad = X.astype(np.float32)
    bad[3, 1], bad[40, 2] = np.nan, -np.inf
    assert _dask_blocks.block_stats(bad, None)["nonfinite"] == 2
    X = X - 1e6
    centers = X[:4].copy()
    ((sums, weights, inertia),) = _dask_blocks.group_lloyd(_dask_blocks.make_group(4, None, 1.0, X, w), centers, 1)
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(-1)
    labels = d2.argmin(1)
    assert_allclose(weights, np.bincount(labels, w, minlength=4))
    assert_allclose(sums, np.stack([(w[labels == j, None] * X[labels == j]).sum(0) for j in range(4)]))
    assert inertia == pytest.approx((w * d2.min(1)).sum())


# ---------------------------------------------------------- killed worker
class _KillAfterIteration(logging.Handler):
    """Kills a worker process shortly after the fit logs the given Lloyd iteration."""

    def __init__(self, pid, iteration):
        super().__init__(level=logging.DEBUG)
        self.pid, self.message, self.killed_at, self.thread = pid, f"Lloyd iteration {iteration}:", None, None

    def _kill(self):
        time.sleep(0.02)  # while the next iteration's tasks run
        os.kill(self.pid, signal.SIGKILL)
        self.killed_at = time.perf_counter()

    def emit(self, record):
        if self.thread is None and record.getMessage().startswith(self.message):
            self.thread = threading.Thread(target=self._kill)
            self.thread.start()


def test_a_worker_killed_mid_fit_does_not_change_the_result(on_cluster):
    client = on_cluster
    # Made on the workers: the blocks a dead worker held are recomputed from this graph.
    Xd = da.random.default_rng(11).uniform(size=(200_000, 8), chunks=25_000)
    init = Xd[:32].compute()
    reference = KMeans(32, init=init, max_iter=8, tol=0).fit(Xd)

    victim = sorted(client.run(os.getpid).values())[0]
    handler = _KillAfterIteration(victim, iteration=2)
    log = logging.getLogger("kmeanskit.dask")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # distributed warns about the lost worker
            km = KMeans(32, init=init, max_iter=8, tol=0).fit(Xd)
            end = time.perf_counter()
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    handler.thread.join()
    assert handler.killed_at is not None and handler.killed_at < end  # it died during the fit
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.run(os.getpid).values()  # the nanny started a new one
    assert_array_equal(km.cluster_centers_, reference.cluster_centers_)
    assert km.inertia_ == reference.inertia_
    assert km.n_iter_ == reference.n_iter_ == 8


# ------------------------------------------------- block groups (bounded passes)
def _lloyd_partial(Xb, wb, centers):
    """A Lloyd pass over one block, computing every distance: (sums, weights, inertia)."""
    from kmeanskit._algorithms.lloyd import LloydStep
    from kmeanskit._algorithms.rows import DenseRows

    rows = DenseRows(np.ascontiguousarray(Xb), np.ascontiguousarray(wb))
    a = LloydStep(rows, centers.shape[0])(centers, np.empty(rows.n, dtype=np.int32))
    return a.sums, a.weights, a.inertia


def test_block_group_passes_are_lloyd_partials_even_from_a_stale_copy():
    """A group keeps bounds between passes; a copy (as dask moves it) starts afresh: both stay exact."""
    import pickle

    X = _blobs(n=5000, d=4, k=7, seed=5)
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=X.shape[0])
    parts = [(X[:1800], w[:1800]), (X[1800:], w[1800:])]
    group = _dask_blocks.make_group(7, None, 1.0, *[a for p in parts for a in p])
    trajectory = [_start(X, 7, seed=s) for s in range(4)]
    stale = None
    for step, centers in enumerate(trajectory):
        if step == 1:
            stale = pickle.loads(pickle.dumps(group))  # a copy dask might move or keep
        for g in (group, stale) if stale is not None else (group,):
            got = _dask_blocks.group_lloyd(g, centers, 1)
            assert len(got) == len(parts)
            for (sums, weights, inertia), (Xb, wb) in zip(got, parts, strict=True):
                ref_sums, ref_weights, ref_inertia = _lloyd_partial(Xb, wb, centers)
                assert_array_equal(sums, ref_sums)
                assert_array_equal(weights, ref_weights)
                assert inertia == ref_inertia
    # The bounds were used: later passes skipped rows.
    assert sum(int(s.recomputed.sum()) for s, _ in group.steps) <= X.shape[0]
    assert group.__sizeof__() > X.nbytes  # dask sees the blocks' weight: no cheap moves


def test_groups_hold_each_block_once_where_it_lives(on_cluster):
    from kmeanskit._estimators.dask_data import DaskBlocks

    client = on_cluster
    Xd = da.from_array(_blobs(n=9000, d=3), chunks=(1000, 3)).persist()
    distributed.wait(Xd)
    b = DaskBlocks(Xd, None)
    plan = b.groups(client)
    assert sorted(i for _, members in plan for i in members) == list(range(len(b)))
    holders = client.who_has(b.x)
    for worker, members in plan:
        assert all(worker in holders[b.x[i].key] for i in members)
    assert len(plan) == len(client.scheduler_info()["workers"])  # one per worker thread
    assert b.groups(None) == [(None, [i]) for i in range(len(b))]


def test_grouped_passes_equal_passes_with_a_group_per_block(on_cluster, monkeypatch):
    from kmeanskit._estimators import dask_data as kdask

    X = _blobs(n=12000, d=6, k=9, seed=7)
    init = _start(X, 9)
    Xd = da.from_array(X, chunks=(1700, 6))
    made = []
    start_groups = kdask.DaskData.start_groups

    def spy(self, client, k):
        start_groups(self, client, k)
        made.append(len(self.groups))

    monkeypatch.setattr(kdask.DaskData, "start_groups", spy)
    grouped = KMeans(9, init=init, max_iter=15, tol=0).fit(Xd)
    assert made == [2]  # two groups (one per worker) ran the passes
    monkeypatch.setattr(kdask.DaskData, "start_groups", start_groups)
    monkeypatch.setattr(kdask.DaskBlocks, "groups", lambda self, client: [(None, [i]) for i in range(len(self))])
    per_block = KMeans(9, init=init, max_iter=15, tol=0).fit(Xd)
    assert_array_equal(grouped.cluster_centers_, per_block.cluster_centers_)
    assert grouped.inertia_ == per_block.inertia_
    assert_array_equal(grouped.inertia_history_, per_block.inertia_history_)
    assert_array_equal(grouped.labels_.compute(), per_block.labels_.compute())
