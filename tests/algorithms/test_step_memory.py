"""Memory of the iterations of a fit: what the assignment steps allocate per row.

Pins the budget of issue 3 where it is deterministic (array sizes and traced
NumPy allocations, not RSS): the bounded step keeps 16 bytes a row (labels,
distance, bound), no weights array when none was given, and GEMM buffers of at
most a sixteenth of X, freed after the passes that use them.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs

from kmeanskit._algorithms import bounded
from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.registry import fit_step
from kmeanskit._algorithms.rows import as_rows, n_slabs, slab_bounds
from kmeanskit._estimators.kmeans import KMeans


def _blobs(n, d, k, dtype):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=4.0, random_state=0)
    return X.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unit_weights_take_no_memory_per_row(dtype):
    X = _blobs(1000, 5, 4, dtype)
    rows = as_rows(X, None)
    assert rows.unit_weights and rows.kernel_w(10, 20).shape == (1,)
    assert rows.kernel_w().dtype == dtype and rows.weight(3) == 1.0
    w = rows.w  # materialised for code that wants n weights (seeding) ...
    assert w.shape == (1000,) and w.dtype == dtype and np.all(w == 1) and rows.w is w
    rows.forget_w()  # ... until the fit lets them go
    assert rows._ones is None
    values = np.random.default_rng(0).random(1000) * 1e3
    # One 1 for every row: the bits of given weights of 1 (slabs in row order, then in order).
    assert rows.weighted_sum(values) == as_rows(X, np.ones(1000, dtype=dtype)).weighted_sum(values)
    bounds = slab_bounds(1000, n_slabs(1000))
    expected = 0.0
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        part = 0.0
        for v in values[lo:hi]:
            part += float(v)
        expected += part
    assert rows.weighted_sum(values) == expected
    given = as_rows(X, np.full(1000, 2.0, dtype=dtype))
    assert not given.unit_weights and given.kernel_w(10, 20).shape == (10,) and given.weight(3) == 2.0


@pytest.mark.parametrize("algorithm", ["auto", "lloyd"])
@pytest.mark.parametrize("sparse", [False, True])
def test_no_weights_fit_is_the_fit_with_unit_weights(algorithm, sparse):
    X = _blobs(3000, 6, 9, np.float64)
    X[:, 3] = np.where(X[:, 3] > 0, X[:, 3], 0.0)
    X = sp.csr_matrix(X) if sparse else X
    ones = np.ones(X.shape[0])
    for init in ("k-means++", "random"):
        km = KMeans(9, init=init, n_init=2, random_state=0, algorithm=algorithm)
        a, b = km.fit(X), KMeans(**km.get_params()).fit(X, sample_weight=ones)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
        assert (a.inertia_, a.n_iter_) == (b.inertia_, b.n_iter_)
        assert a.score(X) == b.score(X, sample_weight=ones)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bounded_step_memory_per_row_and_gemm_buffers(dtype, monkeypatch):
    # n * d above the serial twins' limit (the full-GEMM first pass runs), and
    # k > 2 d: a slab's dots would exceed the budget, so groups are cut across slabs (n large
    # enough for buffers above the one-chunk floor).
    n, d, k = 30_000, 24, 80
    X = _blobs(n, d, k, dtype)
    rows = as_rows(X, None)
    step = BoundedStep(rows, k)
    assert step.use_gemm and not step.small and step.counts_label_changes
    sizes, gemm_passes, passes = [], set(), []
    dots_block, call = BoundedStep._dots_block, BoundedStep.__call__

    def recording(self, n_rows, which):
        out = dots_block(self, n_rows, which)
        sizes.append(sum(b.nbytes for b in self._dots_buffers if b is not None))
        gemm_passes.add(len(passes))
        return out

    def counting(self, *args, **kwargs):
        out = call(self, *args, **kwargs)
        passes.append(1)
        return out

    monkeypatch.setattr(BoundedStep, "_dots_block", recording)
    monkeypatch.setattr(BoundedStep, "__call__", counting)
    slab_rows = n // n_slabs(n, 8 * k * d)
    assert slab_rows * k > n * d // bounded.DOTS_SHARE_OF_INPUT  # groups smaller than a slab
    centers = X[np.random.RandomState(0).choice(n, k, replace=False)]
    run = run_kmeans(step, centers, max_iter=50, tol=0)
    # Two dots buffers of at most a thirty-second of X's values each (plus rounding up to whole rows).
    assert sizes and max(sizes) <= X.nbytes // 16 + 2 * k * X.itemsize
    assert step._dots_buffers == [None, None]  # freed after the pass
    # The first pass (every row recomputed) runs the full GEMM; the next one, whose
    # bounds spare most rows, does not.
    assert 0 in gemm_passes and 1 not in gemm_passes
    # Per-row arrays: float64 distance, float32 bound, int32 labels; no weights, no copy of the labels.
    assert step.sq_dist.nbytes + step.lower.nbytes + run.labels.nbytes == 16 * n
    assert rows._ones is None and step.n_changed == 0
    # Same fit as the Lloyd step's, bit for bit.
    ref = run_kmeans(LloydStep(as_rows(X, np.ones(n, dtype=dtype)), k), centers, max_iter=50, tol=0)
    np.testing.assert_array_equal(run.labels, ref.labels)
    np.testing.assert_array_equal(run.centers, ref.centers)
    assert (run.inertia, run.n_iter) == (ref.inertia, ref.n_iter)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_iterations_traced_peak_within_budget(dtype):
    # The iterations of a default fit (the bounded step, from given centers):
    # traced NumPy allocations stay within 16 bytes a row, GEMM buffers of X / 16,
    # and O(k d) (per-slab sums, copies of the centers, k x k separations).
    # Before: 28 bytes a row (a copy of the labels, a weights vector) and a slab's dots.
    n, d, k = 20_000, 32, 100
    X = _blobs(n, d, k, dtype)
    centers = X[np.random.RandomState(1).choice(n, k, replace=False)]
    run_kmeans(fit_step(as_rows(X, None), k, "auto"), centers, max_iter=2, tol=0)  # load the kernels
    rows = as_rows(X, None)
    step = fit_step(rows, k, "auto")
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run_kmeans(step, centers, max_iter=30, tol=0)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    slab_sums = n_slabs(n, 8 * k * d) * (k * d + k) * 8
    per_k = 10 * (k * d + k * k) * 8
    assert peak <= 16 * n + X.nbytes // 16 + slab_sums + per_k, peak
    assert peak <= X.nbytes // 4 + slab_sums + per_k
