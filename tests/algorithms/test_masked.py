"""Lloyd on the observed entries (``_algorithms/masked.py``): a NumPy k-POD reference, the
objective's descent, complete data, relocation and seeding on partial distances."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from kmeanskit._algorithms.init import kmeans_plusplus_rows
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.masked import MaskedRows, MaskedStep, masked_plusplus
from kmeanskit._algorithms.rows import DenseRows

from ..engine import reference


@pytest.fixture(params=["direct", "dots"])
def masked_path(request, monkeypatch):
    """Each way the masked step finds the nearest center: direct differences, or matrix products
    (several blocks)."""
    from kmeanskit._algorithms import masked

    if request.param == "dots":
        monkeypatch.setattr(masked, "MASKED_DOTS_MIN_PRODUCT", 1)
        monkeypatch.setattr(masked, "DOTS_BLOCK_VALUES", 256)
    else:
        monkeypatch.setattr(masked, "MASKED_DOTS_MIN_PRODUCT", 1 << 30)
    return request.param


def _gappy(n=600, d=5, k=4, share=0.2, seed=0, dtype=np.float64):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=1.5, random_state=seed)
    rng = np.random.RandomState(seed)
    X[rng.uniform(size=X.shape) < share] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 0.0
    return X.astype(dtype)


def kpod_reference(X, w, centers, max_iter=300):
    """k-POD's Lloyd iterations in plain NumPy: assign by partial distances, per-feature weighted
    means over observed entries (a coordinate without any keeps its value), until no label changes."""
    observed = ~np.isnan(X)
    X0 = np.where(observed, X, 0.0)
    centers = centers.astype(np.float64).copy()
    labels = np.full(len(X), -1)
    history = []
    for _ in range(max_iter):
        d2 = reference.masked_sq_distances(X, centers)
        new = d2.argmin(axis=1)
        history.append(float(w @ d2[np.arange(len(X)), new]))
        for j in range(len(centers)):
            members = new == j
            wsum = (w[members, None] * observed[members]).sum(axis=0)
            xsum = (w[members, None] * X0[members]).sum(axis=0)
            centers[j] = np.where(wsum > 0, xsum / np.where(wsum > 0, wsum, 1), centers[j])
        if np.array_equal(new, labels):
            break
        labels = new
    d2 = reference.masked_sq_distances(X, centers)
    return labels, centers, float(w @ d2[np.arange(len(X)), labels]), history


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_masked_step_matches_kpod_reference(dtype, weighted, masked_path):
    X = _gappy(dtype=dtype)
    w = np.random.RandomState(2).uniform(0.5, 2, len(X)).astype(dtype) if weighted else None
    rows = MaskedRows(X, w)
    init = np.nan_to_num(X[[0, 150, 300, 450]], nan=0.0)
    run = run_kmeans(MaskedStep(rows, 4), init, max_iter=300, tol=0.0)
    w64 = np.ones(len(X)) if w is None else w.astype(np.float64)
    labels, centers, inertia, history = kpod_reference(X.astype(np.float64), w64, init)
    assert run.converged
    np.testing.assert_array_equal(run.labels, labels)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(run.centers, centers, rtol=rtol)
    assert run.centers.dtype == dtype
    assert run.inertia == pytest.approx(inertia, rel=rtol)
    np.testing.assert_allclose(run.inertia_history, history[: run.n_iter], rtol=rtol)


@pytest.mark.parametrize("share", [0.05, 0.2, 0.4])
def test_objective_never_increases(share, masked_path):
    X = _gappy(n=2000, d=8, k=6, share=share, seed=3)
    rows = MaskedRows(X, None)
    centers = masked_plusplus(rows, 6, np.random.RandomState(0))[0]
    run = run_kmeans(MaskedStep(rows, 6), centers, max_iter=300, tol=0.0)
    history = np.append(run.inertia_history, run.inertia)
    assert np.all(np.diff(history) <= 1e-12 * history[:-1])
    assert run.n_iter > 2


def test_complete_rows_are_lloyd(masked_path):
    """Without gaps the masked step is Lloyd's: same labels and iterations, centers to rounding."""
    X = _gappy(share=0.0)
    init = X[[0, 150, 300, 450]].copy()
    masked = run_kmeans(MaskedStep(MaskedRows(X, None), 4), init, max_iter=300, tol=0.0)
    lloyd = run_kmeans(LloydStep(DenseRows(X, None), 4), init, max_iter=300, tol=0.0)
    np.testing.assert_array_equal(masked.labels, lloyd.labels)
    assert masked.n_iter == lloyd.n_iter
    np.testing.assert_allclose(masked.centers, lloyd.centers, rtol=1e-12)
    assert masked.inertia == pytest.approx(lloyd.inertia, rel=1e-10)


def test_coordinate_without_observed_entries_keeps_its_value():
    X = np.array([[0.0, np.nan], [0.2, np.nan], [10.0, 1.0], [10.2, 3.0]])
    step = MaskedStep(MaskedRows(X, None), 2)
    labels = step.new_labels()
    centers = np.array([[0.0, 7.0], [10.0, 0.0]])
    assignment = step(centers, labels)
    new, relocated = step.update_centers(centers, labels, assignment)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    np.testing.assert_allclose(new, [[0.1, 7.0], [10.1, 2.0]])
    assert relocated == 0


def test_empty_cluster_takes_the_farthest_row():
    X = np.array([[0.0, 0.0], [0.0, np.nan], [1.0, 0.0], [9.0, np.nan]])
    step = MaskedStep(MaskedRows(X, None), 2)
    labels = step.new_labels()
    centers = np.array([[0.0, 0.0], [100.0, 100.0]])
    assignment = step(centers, labels)
    new, relocated = step.update_centers(centers, labels, assignment)
    assert relocated == 1
    # Row 3 (partial distance 81) moves: its observed entry is the new center's first
    # coordinate; the one it does not observe keeps the cluster's previous value.
    np.testing.assert_allclose(new, [[1.0 / 3.0, 0.0], [9.0, 100.0]])


def test_seeding_on_complete_data_draws_as_kmeans_plusplus():
    X = _gappy(n=1000, d=6, k=5, share=0.0, seed=4)
    ours, idx = masked_plusplus(MaskedRows(X, None), 5, np.random.RandomState(7))
    dense, dense_idx = kmeans_plusplus_rows(DenseRows(X, None), 5, np.random.RandomState(7))
    np.testing.assert_array_equal(idx, dense_idx)
    np.testing.assert_array_equal(ours, dense)


def test_seed_rows_fill_gaps_with_the_observed_mean():
    X = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0]])
    rows = MaskedRows(X, None)
    np.testing.assert_allclose(rows.take([0, 2]), [[1.0, 6.0], [2.0, 8.0]])
    assert not np.isnan(X[1]).any() and np.isnan(X[0, 1])  # X itself is not modified


def test_bitwise_across_thread_counts(masked_path, at_thread_counts):
    X = _gappy(n=40_000, d=6, k=5, seed=5)

    def fit():
        rows = MaskedRows(X, None)
        centers = masked_plusplus(rows, 5, np.random.RandomState(0))[0]
        return run_kmeans(MaskedStep(rows, 5), centers, max_iter=50, tol=0.0)

    results = at_thread_counts(fit)
    np.testing.assert_array_equal(results[0].labels, results[1].labels)
    np.testing.assert_array_equal(results[0].centers, results[1].centers)
    assert results[0].inertia == results[1].inertia
