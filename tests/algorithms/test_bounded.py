"""The bounded step (Hamerly, 2010): Lloyd's result, bit for bit, with work skipped."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_blobs

from kmeanskit import KMeans
from kmeanskit._algorithms import bounded
from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.distinct import DistinctStep
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.registry import fit_step
from kmeanskit._algorithms.rows import DenseRows, as_rows
from kmeanskit._algorithms.yinyang import YinyangStep

from ..engine import reference


def _ties():
    """Integer points on a grid, duplicated: many exact ties between centers."""
    grid = np.array([[i, j] for i in range(6) for j in range(6)], dtype=np.float64)
    return np.repeat(grid, 3, axis=0), 4


def _cases():
    X, _ = make_blobs(n_samples=3000, n_features=6, centers=7, cluster_std=2.5, random_state=0)
    Xw, _ = make_blobs(n_samples=2000, n_features=30, centers=12, cluster_std=3.0, random_state=1)
    return {
        "blobs": (X, 7),
        "blobs-f32": (X.astype(np.float32), 7),
        "wide-f32": (Xw.astype(np.float32), 12),
        "wide": (Xw, 12),
        "iris": (load_iris().data, 3),
        "digits": (load_digits().data, 10),
        "ties": _ties(),
        "one-cluster": (X[:500], 1),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_same_result_as_lloyd_from_same_init(name, bounded_path):
    seed = 0
    X, k = _cases()[name]
    init = X[np.random.RandomState(seed).choice(X.shape[0], k, replace=False)]
    lloyd_fit = KMeans(k, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    fit = KMeans(k, init=init, n_init=1, algorithm="hamerly", tol=0).fit(X)
    np.testing.assert_array_equal(fit.labels_, lloyd_fit.labels_)
    np.testing.assert_array_equal(fit.cluster_centers_, lloyd_fit.cluster_centers_)
    assert fit.n_iter_ == lloyd_fit.n_iter_
    assert fit.inertia_ == lloyd_fit.inertia_
    np.testing.assert_array_equal(fit.inertia_history_, lloyd_fit.inertia_history_)


@pytest.mark.parametrize("levels_max", [1, 1 << 20])
def test_largest_drift_above_the_levels_limit_is_lloyds(levels_max, monkeypatch):
    # Above LEVELS_MAX_CLUSTERS the GEMM path keeps no sorted centers: bounds drop by the largest drift.
    monkeypatch.setattr(bounded, "LEVELS_MAX_CLUSTERS", levels_max)
    X, _ = make_blobs(n_samples=3000, n_features=20, centers=8, random_state=2)
    init = X[:8]
    lloyd_fit = KMeans(8, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    fit = KMeans(8, init=init, n_init=1, algorithm="hamerly", tol=0).fit(X)
    np.testing.assert_array_equal(fit.labels_, lloyd_fit.labels_)
    np.testing.assert_array_equal(fit.cluster_centers_, lloyd_fit.cluster_centers_)
    assert fit.n_iter_ == lloyd_fit.n_iter_


@pytest.mark.parametrize("algorithm, sparse, expected", [
    ("auto", False, BoundedStep), ("hamerly", False, BoundedStep), ("elkan", False, BoundedStep),
    ("lloyd", False, LloydStep), ("auto", True, LloydStep), ("hamerly", True, LloydStep),
])
def test_which_step_each_algorithm_runs(algorithm, sparse, expected):
    import scipy.sparse as sp

    # Above AUTO_LLOYD_MAX_WORK and AUTO_LLOYD_MAX_CENTER_VALUES at k=64.
    X = np.random.default_rng(0).normal(size=(200_000, 3))
    rows = as_rows(sp.csr_matrix(X) if sparse else X, np.ones(200_000))
    assert type(fit_step(rows, 64, algorithm)) is expected


@pytest.mark.parametrize("n, k, d, expected", [
    (150, 3, 4, LloydStep), (21_845, 64, 3, LloydStep), (21_846, 64, 3, BoundedStep), (2_000, 1_024, 3, YinyangStep),
    # Above the work threshold, fewer than AUTO_LLOYD_MAX_CENTER_VALUES = 160 clusters x features: Lloyd.
    (100_000, 53, 3, LloydStep), (100_000, 54, 3, BoundedStep), (100_000, 31, 5, LloydStep),
    (100_000, 32, 5, BoundedStep),
])
def test_auto_runs_lloyd_on_small_work(n, k, d, expected):
    # Below AUTO_LLOYD_MAX_WORK = 2**22 rows x clusters x features "auto" is Lloyd's step; the others keep theirs.
    rows = as_rows(np.random.default_rng(0).normal(size=(n, d)), np.ones(n))
    assert type(fit_step(rows, k, "auto")) is expected
    assert type(fit_step(rows, k, "hamerly")) is BoundedStep


def test_auto_keeps_the_distinct_step_where_few_center_values_meet_each_row():
    # Mostly repeated rows (few colours) keep the bounded step on their distinct rows, whatever k x d.
    X = np.random.default_rng(0).integers(0, 8, size=(100_000, 2)).astype(np.float64)
    rows = as_rows(X, None)
    assert type(fit_step(rows, 32, "auto")) is DistinctStep


def test_same_result_as_lloyd_with_weights_tol_and_restarts(bounded_path):
    X, _ = make_blobs(n_samples=2500, n_features=5, centers=6, cluster_std=3.0, random_state=3)
    w = np.random.RandomState(0).uniform(0, 3, size=X.shape[0])
    w[::7] = 0
    a = KMeans(6, n_init=4, random_state=0, algorithm="lloyd").fit(X, sample_weight=w)
    b = KMeans(6, n_init=4, random_state=0, algorithm="hamerly").fit(X, sample_weight=w)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert (a.n_iter_, a.inertia_) == (b.n_iter_, b.inertia_)


def test_empty_cluster_relocation_is_lloyds():
    # Centers far from the data leave clusters empty in the first iteration.
    X, _ = make_blobs(n_samples=600, n_features=3, centers=3, random_state=0)
    init = np.vstack([X[:3], X[:3] + 1000.0])
    a = KMeans(6, init=init, n_init=1, algorithm="lloyd").fit(X)
    b = KMeans(6, init=init, n_init=1, algorithm="hamerly").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


@pytest.mark.parametrize("d, dtype", [(4, np.float64), (40, np.float32)])
def test_bitwise_identical_across_thread_counts(d, dtype, bounded_path, at_thread_counts):
    X, _ = make_blobs(n_samples=6000, n_features=d, centers=9, cluster_std=3.0, random_state=2)
    X = X.astype(dtype)
    fits = at_thread_counts(lambda: KMeans(9, random_state=0, n_init=2, algorithm="hamerly").fit(X))
    (l1, c1, i1, n1), (l2, c2, i2, n2) = [(km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_) for km in fits]
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(c1, c2)
    assert (i1, n1) == (i2, n2)



@pytest.mark.parametrize("d, dtype", [(300, np.float64), (784, np.float32)])
def test_high_dimension_default_fits_identical_across_thread_counts(d, dtype, at_thread_counts):
    # The default fit's own paths at high dimension: seeding round by round (mid size), then the bounded
    # step's first pass by one GEMM on BLAS's threads (from 784 features its dots' last bits change with
    # BLAS's thread count, but a label comes from them only through the exact distances of a margin-wide
    # tie, and none is that close here), later passes by one-thread BLAS calls per chunk.
    X, _ = make_blobs(n_samples=3000, n_features=d, centers=12, cluster_std=6.0, random_state=3)
    X = X.astype(dtype)
    assert fit_step(as_rows(X, None), 12, "auto").path == "bounded-gemm"
    fits = at_thread_counts(lambda: KMeans(12, random_state=0).fit(X))
    (l1, c1, i1, n1), (l2, c2, i2, n2) = [(km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_) for km in fits]
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(c1, c2)
    assert (i1, n1) == (i2, n2)

def test_rows_are_skipped_once_bounds_are_set():
    X, _ = make_blobs(n_samples=20000, n_features=4, centers=10, cluster_std=1.0, random_state=0)
    X = X - X.mean(axis=0)
    rows = DenseRows(X, np.ones(X.shape[0]))
    step = BoundedStep(rows, 10)
    run_kmeans(step, X[:: X.shape[0] // 10][:10], max_iter=300, tol=0)
    # The last pass (labels unchanged) recomputes only rows near a tie.
    assert step.recomputed.sum() < 0.05 * X.shape[0]


def test_neighbour_levels_against_brute_force():
    rng = np.random.default_rng(0)
    for k in (2, 3, 5, 8, 9, 40):
        centers = rng.normal(size=(k, 3))
        if k > 3:
            centers[3] = centers[1]  # a duplicate: distance 0 ties with the center itself
        between = np.sqrt(reference.sq_distances(centers, centers))
        drift = rng.uniform(0, 1, size=k)
        level_sep, level_drift = bounded._neighbour_levels(*bounded._by_distance(between), drift)
        n_levels = len([p for p in (2, 4, 8, 16, 32) if p < k])
        assert level_sep.shape == (k, n_levels) and level_drift.shape == (k, n_levels + 1)
        expected_sep, expected_drift = reference.neighbour_levels(*reference.sort_neighbours(between), drift, n_levels)
        np.testing.assert_array_equal(level_sep, expected_sep)
        np.testing.assert_array_equal(level_drift, expected_drift)


def test_neighbour_drifts_keep_bounds_valid_and_spare_rows(monkeypatch):
    # One far center moves a lot: with the largest drift alone every row's bound
    # drops by it; bounded by the drifts of each row's neighbours, only the rows
    # near that center are recomputed.
    X, _, centers = make_blobs(
        n_samples=6000, n_features=3, centers=12, cluster_std=0.6, random_state=1, return_centers=True
    )
    centers = centers - X.mean(axis=0)
    X = X - X.mean(axis=0)
    moved = centers.copy()
    moved += 1e-3 * np.random.default_rng(0).normal(size=moved.shape)
    moved[np.argmax(np.abs(centers).sum(axis=1))] *= 1.3
    recomputed = {}
    for levels in (True, False):
        if not levels:
            monkeypatch.setattr(bounded, "_neighbour_levels", lambda *a: (np.empty((0, 0)), np.empty((0, 0))))
        step = BoundedStep(DenseRows(X, np.ones(len(X))), 12)
        labels = np.zeros(len(X), dtype=np.int32)
        step(centers, labels)
        step(moved, labels)
        recomputed[levels] = step.recomputed.sum()
        distances = np.sqrt(((X[:, None] - moved[None]) ** 2).sum(-1))
        np.testing.assert_array_equal(labels, distances.argmin(axis=1))
        others = np.where(np.arange(12)[None] == labels[:, None], np.inf, distances)
        assert np.all(step.lower <= others.min(axis=1))
    assert recomputed[True] < 0.25 * recomputed[False]


def test_lloyd_step_is_used_for_sparse_data():
    import scipy.sparse as sp

    X = sp.random(300, 20, density=0.2, format="csr", random_state=0)
    km = KMeans(3, random_state=0, n_init=1).fit(X)  # auto: no bounded CSR kernel
    ref = KMeans(3, random_state=0, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(km.labels_, ref.labels_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_from_seeding_labels_is_lloyds(dtype, bounded_path, monkeypatch):
    # k-means++ hands each row's nearest center to the bounded step (GEMM paths),
    # which then proves most labels instead of a full first pass. Well-separated
    # blobs: the first pass changes no label, and must not stop there.
    X, _ = make_blobs(n_samples=3000, n_features=30, centers=10, cluster_std=1.0, random_state=2)
    X = X.astype(dtype)
    starts = []
    start_from = BoundedStep.start_from

    def spy(self, labels, centers):
        starts.append(labels.copy())
        return start_from(self, labels, centers)

    monkeypatch.setattr(BoundedStep, "start_from", spy)
    for n_init in (1, 3):
        starts.clear()
        a = KMeans(10, n_init=n_init, random_state=0, algorithm="lloyd", tol=0).fit(X)
        b = KMeans(10, n_init=n_init, random_state=0, algorithm="hamerly", tol=0).fit(X)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
        assert (a.n_iter_, a.inertia_) == (b.n_iter_, b.inertia_) and a.n_iter_ >= 2
        np.testing.assert_array_equal(a.inertia_history_, b.inertia_history_)
        assert len(starts) == (n_init if bounded_path.startswith("gemm") else 0)
        if n_init == 1 and starts:  # seeding's labels were right (separated blobs)
            np.testing.assert_array_equal(starts[0], b.labels_)


def test_start_from_any_labels_gives_lloyds_pass(bounded_path):
    # Wrong labels cost work, never the result: a row keeps its label only where
    # the skip test proves it.
    X, _ = make_blobs(n_samples=2000, n_features=30, centers=8, cluster_std=4.0, random_state=5)
    centers = X[np.random.RandomState(0).choice(2000, 8, replace=False)]
    ref = run_kmeans(LloydStep(as_rows(X, None), 8), centers, max_iter=30, tol=0)
    step = BoundedStep(as_rows(X, None), 8)
    wrong = np.random.RandomState(1).randint(0, 8, size=2000).astype(np.int32)
    run = run_kmeans(step, centers, max_iter=30, tol=0, labels=wrong)
    assert run.labels is wrong
    np.testing.assert_array_equal(run.labels, ref.labels)
    np.testing.assert_array_equal(run.centers, ref.centers)
    assert (run.n_iter, run.inertia) == (ref.n_iter, ref.inertia)
    np.testing.assert_array_equal(run.inertia_history, ref.inertia_history)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weighted_rows_in_runs_of_one_label_give_lloyds_fit(d, dtype, bounded_path):
    # Rows sorted by blob (long runs of one label, as pixels of an image),
    # weighted, with 1 to 4 features: bitwise Lloyd's fit.
    X, y = make_blobs(n_samples=3000, n_features=d, centers=6, cluster_std=1.5, random_state=d)
    order = np.argsort(y, kind="stable")
    X = X[order].astype(dtype)
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=3000)
    init = X[np.random.RandomState(1).choice(3000, 6, replace=False)]
    lloyd_fit = KMeans(6, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X, sample_weight=w)
    fit = KMeans(6, init=init, n_init=1, algorithm="hamerly", tol=0).fit(X, sample_weight=w)
    np.testing.assert_array_equal(fit.labels_, lloyd_fit.labels_)
    assert fit.cluster_centers_.tobytes() == lloyd_fit.cluster_centers_.tobytes()
    assert fit.n_iter_ == lloyd_fit.n_iter_ and fit.inertia_ == lloyd_fit.inertia_


def test_full_gemm_only_while_the_bounds_still_fail(monkeypatch):
    # After a pass where most rows failed their bounds, the next pass takes one
    # full GEMM only if the bounds, dropped by this pass's drifts, still fail:
    # centers that settled leave most rows skipped, scored per chunk instead.
    X, _, centers = make_blobs(
        n_samples=3000, n_features=100, centers=8, cluster_std=1.0, random_state=0, return_centers=True
    )
    gemm_calls = []
    matmul_into = bounded.matmul_into
    monkeypatch.setattr(bounded, "matmul_into", lambda *a: gemm_calls.append(1) or matmul_into(*a))
    step = BoundedStep(DenseRows(X, np.ones(len(X))), 8)
    assert step.use_gemm and not step.small
    shift = 20.0 * np.random.default_rng(0).normal(size=centers.shape)
    labels = np.zeros(len(X), dtype=np.int32)
    passes = [centers, centers + shift, centers + shift + 1e-3, centers, centers - shift]
    used = []
    for moved in passes:
        gemm_calls.clear()
        step(moved, labels)
        used.append((bool(gemm_calls), int(step.recomputed.sum())))
        distances = ((X[:, None] - moved[None]) ** 2).sum(-1)
        np.testing.assert_array_equal(labels, distances.argmin(axis=1))
    # fresh: full GEMM; after it, per chunk; settled after a heavy pass: per chunk
    # (was a full GEMM); a heavy pass after a light one: per chunk; heavy after heavy: full GEMM.
    assert [gemm for gemm, _ in used] == [True, False, False, False, True]
    assert used[1][1] > 0.4 * len(X) and used[2][1] < 0.05 * len(X) and used[3][1] > 0.4 * len(X)
