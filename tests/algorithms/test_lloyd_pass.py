"""The Lloyd step's end of pass (one kernel): the runs of the separate NumPy calls, bit for bit."""

import dataclasses

import numpy as np
import pytest

from kmeanskit._algorithms.lloyd import LloydStep, kernel_path
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.relocation import mean_centers
from kmeanskit._algorithms.rows import DenseRows


class SeparateCallsStep(LloydStep):
    """The Lloyd step as the loop saw it before: no label count (the loop compares copies) and no means
    from the pass (:func:`mean_update` forms them, relocating first)."""

    counts_label_changes = False

    def __call__(self, centers, labels, update=True):
        return dataclasses.replace(super().__call__(centers, labels, update), means=None)


def _rows(n, d, dtype, weighted, duplicates, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n // 4 if duplicates else n, d)) * 5.0
    if duplicates:  # few distinct rows: clusters go empty and are relocated
        X = np.repeat(X, 4, axis=0)
    w = rng.uniform(0.0, 2.0, size=X.shape[0]).astype(dtype) if weighted else None
    return np.ascontiguousarray(X, dtype=dtype), w


def _run(make_step, X, w, k, tol, seed):
    step = make_step(DenseRows(X, w), k)
    init = X[np.random.default_rng(seed).choice(X.shape[0], k, replace=False)]
    run = run_kmeans(step, init, max_iter=100, tol=tol)
    return step, (run.centers, run.labels, np.float64(run.inertia), run.n_iter, run.inertia_history, run.converged)


@pytest.mark.parametrize("n, d, k", [(150, 4, 3), (2_000, 3, 40), (1_000, 30, 6), (800, 64, 256)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("duplicates", [False, True])
@pytest.mark.parametrize("tol", [0.0, 1e-3])
def test_runs_have_the_bits_of_the_separate_calls(n, d, k, dtype, weighted, duplicates, tol, at_thread_counts):
    X, w = _rows(n, d, dtype, weighted, duplicates)
    runs = at_thread_counts(lambda: _run(LloydStep, X, w, k, tol, seed=1)[1])
    _, expected = _run(SeparateCallsStep, X, w, k, tol, seed=1)
    for got in runs:
        for a, b in zip(got, expected, strict=True):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.mark.parametrize("d", [4, 30])  # the direct and the chunked path
def test_a_fitting_pass_counts_the_labels_it_changed_and_forms_the_means(d):
    X, w = _rows(600, d, np.float64, True, False)
    step = LloydStep(DenseRows(X, w), 5)
    assert step.counts_label_changes
    labels = step.new_labels()
    assignment = step(X[:5].copy(), labels, update=True)
    assert step.n_changed == X.shape[0]  # from -1 everywhere
    for centers in (X[[7, 100, 200, 300, 400]], None, None):
        centers = assignment.means if centers is None else centers
        before = labels.copy()
        assignment = step(centers, labels, update=True)
        assert step.n_changed == np.count_nonzero(labels != before)
        expected = mean_centers(centers, assignment.sums, assignment.weights, X.dtype)
        assert assignment.means.tobytes() == expected.tobytes()
    assert step(assignment.means, labels, update=False).means is None
    assert kernel_path(step.rows, 5) == ("direct" if d == 4 else "chunked")
