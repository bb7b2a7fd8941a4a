"""The Dask step under the one convergence loop, on blocks in memory (no dask needed)."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from kmeanskit._algorithms import dask_blocks
from kmeanskit._algorithms.dask_step import DaskStep
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.rows import DenseRows


class _BlocksInMemory:
    """What ``DaskStep`` asks of a fit's data, on NumPy blocks: Lloyd passes and far rows."""

    def __init__(self, X, w, n_blocks):
        self.parts = list(zip(np.array_split(X, n_blocks), np.array_split(w, n_blocks), strict=True))
        self.starts = np.cumsum([0] + [len(Xb) for Xb, _ in self.parts])[:-1]
        self.n_passes = 0

    def lloyd(self, centers, update=True):
        self.n_passes += 1
        partials = []
        for Xb, wb in self.parts:
            a = LloydStep(DenseRows(Xb, wb), centers.shape[0])(centers, np.empty(len(Xb), dtype=np.int32), update)
            partials.append((a.sums, a.weights, a.inertia))
        return dask_blocks.add_partials(*partials)

    def far_rows(self, centers, n_rows):
        found = [
            dask_blocks.far_rows(Xb, wb, centers, None, 1.0, 1, int(start), n_rows)
            for (Xb, wb), start in zip(self.parts, self.starts, strict=True)
        ]
        return tuple(np.concatenate([p[j] for p in found]) for j in range(5))


def _problem():
    X, _ = make_blobs(n_samples=3000, n_features=5, centers=6, cluster_std=0.5, random_state=3)
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=len(X))
    # Two centers far from every row: their clusters are empty and relocated.
    centers = np.vstack([X[:6], np.full((2, 5), 1e3)])
    return np.ascontiguousarray(X), w, centers


@pytest.mark.parametrize("tol", [0.0, 1e-3])
def test_one_block_gives_the_lloyd_run(tol):
    X, w, centers = _problem()
    ref = run_kmeans(LloydStep(DenseRows(X, w), 8), centers, max_iter=100, tol=tol)
    data = _BlocksInMemory(X, w, 1)
    step = DaskStep(data, len(X), X.shape[1], X.dtype, 8)
    run = run_kmeans(step, centers, max_iter=100, tol=tol)
    np.testing.assert_array_equal(run.centers, ref.centers)
    np.testing.assert_array_equal(run.inertia_history, ref.inertia_history)
    assert run.n_iter == ref.n_iter
    assert run.inertia == pytest.approx(ref.inertia, rel=1e-12)
    assert run.labels.size == 0  # the labels stay with the blocks
    # One pass an iteration, and one for the final centers unless they did not
    # move (tol=0 stops there; tol=1e-3 stops earlier, with centers still moving).
    assert data.n_passes == run.n_iter + (tol > 0)
    np.testing.assert_array_equal(step.last[0], run.centers)  # what the estimator reports


def test_far_rows_of_several_blocks_are_those_of_one():
    X, w, centers = _problem()
    one, three = _BlocksInMemory(X, w, 1), _BlocksInMemory(X, w, 3)
    empty = np.array([6, 7])
    for data in (one, three):
        sums, weights, _ = data.lloyd(centers)
        assert np.array_equal(np.flatnonzero(weights == 0), empty)
    a = DaskStep(one, len(X), 5, X.dtype, 8)
    b = DaskStep(three, len(X), 5, X.dtype, 8)
    runs = [run_kmeans(step, centers, max_iter=1, tol=0) for step in (a, b)]
    np.testing.assert_array_equal(runs[0].centers[6:], runs[1].centers[6:])  # the same rows moved
