"""The bounded step on distinct rows (data with repeats): Lloyd's fit, bit for bit."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from kmeanskit import KMeans
from kmeanskit._algorithms import distinct, registry
from kmeanskit._algorithms import init as init_module
from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.distinct import DistinctStep, find_distinct
from kmeanskit._algorithms.init import kmeans_plusplus_rows
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.registry import fit_step
from kmeanskit._algorithms.rows import as_rows


@pytest.fixture
def small_data_too(monkeypatch):
    """Distinct rows are looked for in the tests' small data as well (and "auto" is bounded there)."""
    monkeypatch.setattr(distinct, "DISTINCT_MIN_ROWS", 0)
    monkeypatch.setattr(registry, "AUTO_LLOYD_MAX_WORK", 0)
    monkeypatch.setattr(registry, "AUTO_LLOYD_MAX_CENTER_VALUES", 0)


def _repeated(d, dtype, n=4000, seed=0, grid=2.0):
    """Blobs rounded to a grid (as pixels are): many rows repeat, in no order."""
    X, _ = make_blobs(n_samples=n, n_features=d, centers=6, cluster_std=1.5, random_state=seed)
    return (np.round(X / grid) * grid).astype(dtype)


def _assert_same_fit(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()
    assert (a.n_iter_, a.inertia_) == (b.n_iter_, b.inertia_)
    np.testing.assert_array_equal(a.inertia_history_, b.inertia_history_)


def test_fit_on_repeated_rows_uses_the_distinct_step(small_data_too):
    X = _repeated(3, np.float64)
    step = fit_step(as_rows(X, None), 6, "auto")
    assert type(step) is DistinctStep
    # Rows are told apart by their bits (rounding left some -0.0 beside 0.0).
    assert step.distinct.n == np.unique(X.view(np.uint64), axis=0).shape[0] < X.shape[0] // 2
    assert step.path == "bounded-direct-distinct"
    # Too few repeats, the Lloyd step asked for, or sparse rows: no distinct step.
    X_fine = _repeated(3, np.float64, grid=0.01)
    assert type(fit_step(as_rows(X_fine, None), 6, "auto")) is BoundedStep
    assert type(fit_step(as_rows(X, None), 6, "lloyd")) is LloydStep
    import scipy.sparse as sp

    assert type(fit_step(as_rows(sp.csr_matrix(X), None), 6, "auto")) is LloydStep


def test_distinct_rows_need_a_view_of_enough_rows_of_few_features():
    X = _repeated(3, np.float64)
    assert distinct.distinct_rows_of(as_rows(X, None)) is None  # 4000 rows: below the minimum
    big = np.tile(X, (distinct.DISTINCT_MIN_ROWS // X.shape[0] + 1, 1))
    assert distinct.distinct_rows_of(as_rows(big, None)) is not None
    assert distinct.distinct_rows_of(as_rows(big, None, shift=big.mean(axis=0))) is None  # mapped rows
    wide = np.tile(_repeated(distinct.DISTINCT_MAX_FEATURES + 1, np.float64), (13, 1))
    assert distinct.distinct_rows_of(as_rows(wide, None)) is None
    assert find_distinct(as_rows(wide, None)) is not None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 3, 4])
def test_same_fit_as_lloyd(d, dtype, small_data_too, bounded_path):
    X = _repeated(d, dtype, seed=d)
    assert type(fit_step(as_rows(X, None), 6, "auto")) is DistinctStep
    init = X[np.random.RandomState(0).choice(X.shape[0], 6, replace=False)]
    a = KMeans(6, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    b = KMeans(6, init=init, n_init=1, algorithm="auto", tol=0).fit(X)
    _assert_same_fit(a, b)


def test_same_fit_as_lloyd_with_weights_tol_and_restarts(small_data_too, bounded_path):
    X = _repeated(3, np.float64, seed=4)
    w = np.random.RandomState(0).uniform(0, 3, size=X.shape[0])
    w[::7] = 0
    a = KMeans(6, n_init=3, random_state=0, algorithm="lloyd").fit(X, sample_weight=w)
    b = KMeans(6, n_init=3, random_state=0, algorithm="auto").fit(X, sample_weight=w)
    _assert_same_fit(a, b)


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")
def test_empty_clusters_and_fewer_distinct_rows_than_clusters(small_data_too):
    # 5 distinct rows, 8 clusters: relocation runs every pass and takes rows
    # by their distances, which every row gets from its distinct row.
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [9.0, 0.0]]), 300, axis=0)
    X = X[np.random.RandomState(0).permutation(X.shape[0])]
    init = np.vstack([X[:3], X[:5] + 100.0])
    a = KMeans(8, init=init, n_init=1, algorithm="lloyd").fit(X)
    b = KMeans(8, init=init, n_init=1, algorithm="auto").fit(X)
    _assert_same_fit(a, b)


def test_same_fit_at_every_thread_count(small_data_too, at_thread_counts):
    X = np.tile(_repeated(4, np.float32, n=3000, seed=2), (3, 1))  # three slabs' worth of repeats
    fits = at_thread_counts(lambda: KMeans(6, random_state=0, n_init=2).fit(X))
    _assert_same_fit(*fits)


def test_start_from_any_labels_gives_lloyds_run(small_data_too):
    X = _repeated(3, np.float64, seed=5)
    centers = X[np.random.RandomState(0).choice(X.shape[0], 6, replace=False)]
    ref = run_kmeans(LloydStep(as_rows(X, None), 6), centers, max_iter=40, tol=0)
    step = fit_step(as_rows(X, None), 6, "auto")
    assert type(step) is DistinctStep
    wrong = np.random.RandomState(1).randint(0, 6, size=X.shape[0]).astype(np.int32)
    run = run_kmeans(step, centers, max_iter=40, tol=0, labels=wrong)
    assert run.labels is wrong
    np.testing.assert_array_equal(run.labels, ref.labels)
    np.testing.assert_array_equal(run.centers, ref.centers)
    assert (run.n_iter, run.inertia) == (ref.n_iter, ref.inertia)


def test_state_is_kept_per_distinct_row(small_data_too):
    X = _repeated(3, np.float64, seed=6)
    step = fit_step(as_rows(X, None), 6, "auto")
    run_kmeans(step, X[:6].copy(), max_iter=50, tol=0)
    # Bounds, labels and distances of the step's own pass: one per distinct row.
    assert step.inner.lower.shape == step.inner.sq_dist.shape == (step.distinct.n,)
    assert not hasattr(step, "_lower")  # no bound per row
    assert step.sq_dist.shape == (X.shape[0],)
    # The last pass (no label changed) recomputed only distinct rows near a tie.
    assert step.n_changed == 0 and step.recomputed.sum() < 0.2 * step.distinct.n


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("d, dtype", [(2, np.float64), (3, np.float32), (6, np.float64)])
def test_seeding_on_distinct_rows_draws_the_same_rows(d, dtype, weighted):
    # Potentials scored once per distinct row (weighted by its rows), draws made
    # over every row: scikit-learn's draws, hence the same centers.
    X = _repeated(d, dtype, n=5000, seed=7, grid=4.0)
    w = np.random.RandomState(3).uniform(0.2, 2.0, size=X.shape[0]).astype(dtype) if weighted else None
    rows = as_rows(X, w)
    found = find_distinct(rows)
    assert found is not None
    for seed in range(3):
        nearest_a = np.empty(X.shape[0], dtype=np.int32)
        nearest_b = np.empty(X.shape[0], dtype=np.int32)
        a = kmeans_plusplus_rows(rows, 8, np.random.RandomState(seed), nearest=nearest_a)
        b = kmeans_plusplus_rows(rows, 8, np.random.RandomState(seed), nearest=nearest_b, distinct=found)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(nearest_a, nearest_b)


def test_fit_seeds_on_the_distinct_rows(small_data_too, monkeypatch):
    X = _repeated(3, np.float64, seed=8)
    seen = []
    scorer = init_module._DistinctScorer

    def spy(*args, **kwargs):
        seen.append(args[3])
        return scorer(*args, **kwargs)

    monkeypatch.setattr(init_module, "_DistinctScorer", spy)
    km = KMeans(6, random_state=0, n_init=2).fit(X)
    assert len(seen) == 2 and all(found.n < X.shape[0] // 2 for found in seen)
    ref = KMeans(6, random_state=0, n_init=2, algorithm="lloyd").fit(X)  # seeded on every row
    _assert_same_fit(km, ref)
