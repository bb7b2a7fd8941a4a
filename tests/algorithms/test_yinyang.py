"""The group-bounded step (Yinyang k-means): Lloyd's result, bit for bit, for many clusters."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from kmeanskit import KMeans
from kmeanskit._algorithms import distinct
from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.distinct import DistinctStep
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.registry import AUTO_YINYANG_MIN_CLUSTERS, fit_step
from kmeanskit._algorithms.rows import DenseRows, as_rows
from kmeanskit._algorithms.yinyang import YinyangStep, default_groups
from kmeanskit._engine import serial


def _same(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.n_iter_ == b.n_iter_
    assert a.inertia_ == b.inertia_
    np.testing.assert_array_equal(a.inertia_history_, b.inertia_history_)


@pytest.fixture(params=["parallel", "serial"])
def kernel_twin(request, monkeypatch):
    """The parallel kernel, or its serial twin (small inputs)."""
    monkeypatch.setattr(serial, "SERIAL_MAX_VALUES", 0 if request.param == "parallel" else 1 << 62)
    return request.param


@pytest.mark.parametrize("n, d, k, dtype, weighted", [
    (2000, 2, 1, np.float64, False),
    (3000, 2, 50, np.float64, False),
    (3000, 3, 200, np.float32, True),
    (4000, 8, 100, np.float64, True),
    (3000, 16, 300, np.float32, False),
    (6000, 3, 1000, np.float32, False),
    (5000, 2, 1000, np.float64, True),
])
def test_same_result_as_lloyd_from_same_init(n, d, k, dtype, weighted, kernel_twin):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=max(k // 2, 1), cluster_std=1.5, random_state=0)
    X = X.astype(dtype)
    w = np.random.RandomState(1).uniform(0, 2, n) if weighted else None
    if weighted:
        w[::11] = 0
    init = X[np.random.RandomState(0).choice(n, k, replace=False)]
    lloyd = KMeans(k, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X, sample_weight=w)
    yinyang = KMeans(k, init=init, n_init=1, algorithm="yinyang", tol=0).fit(X, sample_weight=w)
    _same(yinyang, lloyd)


def test_exact_ties_on_a_grid():
    grid = np.array([[i, j] for i in range(8) for j in range(8)], dtype=np.float64)
    X = np.repeat(grid, 3, axis=0)
    for k in (4, 30):
        init = X[np.random.RandomState(k).choice(len(X), k, replace=False)]
        _same(KMeans(k, init=init, n_init=1, algorithm="yinyang").fit(X),
              KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(X))


def test_empty_clusters_relocated_as_lloyd():
    X, _ = make_blobs(n_samples=2000, n_features=3, centers=20, random_state=0)
    init = np.vstack([X[:20], X[:20] + 1000.0])  # 20 clusters empty in the first pass
    a = KMeans(40, init=init, n_init=1, algorithm="lloyd").fit(X)
    b = KMeans(40, init=init, n_init=1, algorithm="yinyang").fit(X)
    _same(b, a)


def test_restarts_and_seeding_as_lloyd():
    X, _ = make_blobs(n_samples=4000, n_features=4, centers=60, cluster_std=2.0, random_state=4)
    w = np.random.RandomState(0).uniform(0, 3, size=X.shape[0])
    _same(KMeans(120, n_init=3, random_state=0, algorithm="yinyang").fit(X, sample_weight=w),
          KMeans(120, n_init=3, random_state=0, algorithm="lloyd").fit(X, sample_weight=w))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bitwise_identical_across_thread_counts(dtype, at_thread_counts):
    X, _ = make_blobs(n_samples=60_000, n_features=3, centers=300, cluster_std=1.0, random_state=2)
    X = X.astype(dtype)
    _same(*at_thread_counts(lambda: KMeans(300, random_state=0, n_init=1, algorithm="yinyang").fit(X)))


def test_distinct_rows_as_lloyd(monkeypatch):
    # Rows with many repeats run the group-bounded step on their distinct rows.
    monkeypatch.setattr(distinct, "DISTINCT_MIN_ROWS", 1000)
    rng = np.random.RandomState(0)
    X = np.round(rng.uniform(size=(20_000, 3)) * 12) / 12  # 2,197 distinct rows
    step = fit_step(as_rows(X, None), 64, "yinyang")
    assert isinstance(step, DistinctStep) and isinstance(step.inner, YinyangStep)
    init = X[rng.choice(len(X), 64, replace=False)]
    _same(KMeans(64, init=init, n_init=1, algorithm="yinyang").fit(X),
          KMeans(64, init=init, n_init=1, algorithm="lloyd").fit(X))


def test_bounds_skip_rows_and_groups():
    X, _ = make_blobs(n_samples=20_000, n_features=2, centers=200, cluster_std=0.5, random_state=0)
    step = YinyangStep(DenseRows(X, None), 200)
    assert step.n_groups == default_groups(200) == 20
    labels = np.empty(len(X), dtype=np.int32)
    centers = X[np.random.RandomState(0).choice(len(X), 200, replace=False)]
    recomputed = []
    for _ in range(8):
        assignment = step(centers, labels)
        recomputed.append(step.recomputed.sum() / len(X))
        centers, _ = step.update_centers(centers, labels, assignment)
    assert recomputed[0] == 1.0
    assert recomputed[-1] < 0.4 and recomputed[-1] < recomputed[1], recomputed


@pytest.mark.parametrize("n, k, d, algorithm, expected", [
    (150, 3, 4, "auto", LloydStep),
    (100_000, 500, 2, "auto", BoundedStep),
    (100_000, AUTO_YINYANG_MIN_CLUSTERS, 2, "auto", YinyangStep),
    (10_000, 2000, 3, "auto", YinyangStep),
    (10_000, 2000, 30, "auto", BoundedStep),  # BLAS territory: the bounded step
    (1_000, 100, 3, "yinyang", YinyangStep),  # asked for: whatever the size
    (1_000, 100, 30, "yinyang", BoundedStep),
    (10_000, 2000, 3, "hamerly", BoundedStep),
    (10_000, 2000, 3, "lloyd", LloydStep),
])
def test_which_step_each_algorithm_runs(n, k, d, algorithm, expected):
    rows = as_rows(np.random.default_rng(0).normal(size=(n, d)), None)
    assert type(fit_step(rows, k, algorithm)) is expected


def test_sparse_rows_run_lloyd():
    import scipy.sparse as sp

    rows = as_rows(sp.random(2000, 5, density=0.5, format="csr", random_state=0), None)
    assert type(fit_step(rows, 1200, "yinyang")) is LloydStep


def test_bad_algorithm_names_the_choices():
    with pytest.raises(ValueError, match="'yinyang'"):
        KMeans(3, algorithm="yin").fit(np.random.default_rng(0).normal(size=(30, 2)))
