"""The kernels of rows with gaps (``_engine/masked.py``) against plain NumPy references."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.masked import (
    masked_bounded_assign_accumulate,
    masked_candidate_potentials,
    masked_label_distances,
    masked_sq_distances,
)
from kmeanskit._engine.serial import serial_twin

from . import reference


def _problem(dtype, n=301, d=7, k=5, share=0.3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    X[rng.uniform(size=X.shape) < share] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 1.0
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    centers = rng.normal(size=(k, d)).astype(dtype)
    observed = ~np.isnan(X)
    return X, np.where(observed, X, 0).astype(dtype), observed.view(np.uint8), w, centers


def _transposed(centers):
    centers_t = np.ascontiguousarray(centers.T)
    return centers_t, centers_t * centers_t


def _gamma(dtype, d):
    return max(4.0 * (d + 4) * float(np.finfo(dtype).eps), 1e-12)


def _scoring_pass(kernel, X0, M, w, centers, labels, dist, sums, weights, bounds, update):
    """A pass of the masked bounded kernel that starts afresh: every row gets the scores (its direct arg-min)."""
    n, (k, d) = X0.shape[0], centers.shape
    c64 = centers.astype(np.float64)
    kernel(X0, M, w, centers, *_transposed(centers), labels, dist, np.empty(n), np.zeros(k), _gamma(X0.dtype, d),
           np.sqrt((c64 * c64).sum(axis=1)), True, sums, weights, bounds, update,
           np.empty(bounds.shape[0] - 1, dtype=np.int64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_slabs", [1, 4])
@pytest.mark.parametrize("serial", [False, True])
def test_masked_scoring_pass_matches_reference(dtype, n_slabs, serial):
    X, X0, M, w, centers = _problem(dtype)
    bounds = slab_bounds(X.shape[0], n_slabs)
    k, d = centers.shape
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    dist = np.full(X.shape[0], np.nan)
    sums, weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k, d))
    kernel = serial_twin(masked_bounded_assign_accumulate) if serial else masked_bounded_assign_accumulate
    _scoring_pass(kernel, X0, M, w, centers, labels, dist, sums, weights, bounds, True)
    ref_labels, ref_dist, ref_sums, ref_weights = reference.masked_bounded_assign_accumulate(X, w, centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    # Row-order sums in float64, as the reference adds them: the same bits.
    np.testing.assert_array_equal(sums, ref_sums)
    np.testing.assert_array_equal(weights, ref_weights)


def test_masked_scoring_pass_unit_weight_and_no_update():
    """One weight read for every row; without ``update`` the sums are left alone."""
    X, X0, M, _, centers = _problem(np.float64)
    bounds = slab_bounds(X.shape[0], 2)
    labels = np.empty(X.shape[0], dtype=np.int32)
    dist = np.empty(X.shape[0])
    sums = np.full((2, 5, 7), 7.0)
    _scoring_pass(masked_bounded_assign_accumulate, X0, M, np.ones(1), centers, labels, dist, sums, sums.copy(),
                  bounds, False)
    np.testing.assert_array_equal(sums, 7.0)
    ref_labels, ref_dist, _, _ = reference.masked_bounded_assign_accumulate(X, np.ones(len(X)), centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_masked_distances_match_reference(dtype):
    X, X0, M, _, centers = _problem(dtype)
    out = np.empty((X.shape[0], centers.shape[0]))
    masked_sq_distances(X0, M, centers, out)
    expected = reference.masked_sq_distances(X, centers)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    labels = np.random.RandomState(1).randint(0, centers.shape[0], X.shape[0]).astype(np.int32)
    mine = np.empty(X.shape[0])
    masked_label_distances(X0, M, centers, labels, mine)
    np.testing.assert_allclose(mine, expected[np.arange(X.shape[0]), labels], rtol=1e-12)


def test_complete_rows_give_full_distances():
    """With every entry observed, the partial distance is the squared Euclidean distance."""
    rng = np.random.RandomState(3)
    X, centers = rng.normal(size=(50, 6)), rng.normal(size=(4, 6))
    out = np.empty((50, 4))
    masked_sq_distances(X, np.ones(X.shape, dtype=np.uint8), centers, out)
    np.testing.assert_allclose(out, reference.sq_distances(X, centers), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_masked_assign_from_dots_matches_reference(dtype):
    from kmeanskit._engine.masked import masked_assign_from_dots

    X, X0, M, w, centers = _problem(dtype, d=12)
    bounds = slab_bounds(X.shape[0], 3)
    k, d = centers.shape
    mask_dots = M.astype(dtype) @ (centers * centers).T
    x_dots = X0 @ centers.T
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    dist = np.full(X.shape[0], np.nan)
    sums, weights = np.zeros((3, k, d)), np.zeros((3, k, d))
    masked_assign_from_dots(X0, M, w, centers, mask_dots, x_dots, labels, dist, sums, weights, bounds, True)
    ref_labels, ref_dist, ref_sums, ref_weights = reference.masked_bounded_assign_accumulate(X, w, centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    np.testing.assert_array_equal(sums, ref_sums)
    np.testing.assert_array_equal(weights, ref_weights)


def _bounded_passes(dtype, serial, n=2000, k=6, passes=8):
    """Lloyd passes on the observed entries, each run from the same centers by a scoring pass (every row
    scored, as if fresh) and by a pass that carries its bounds. Pass 3 moves a center far (as a relocation), pass 5
    duplicates one (exact ties). Returns both kernels' outputs per pass and the rows the bounds skipped."""
    X, X0, M, w, centers = _problem(dtype, n=n, d=9, k=k, share=0.3, seed=1)
    X0 = X0 + np.asarray(np.arange(n) % k, dtype=dtype)[:, None] * M  # some structure: bounds skip rows
    centers = X0[:k].copy()
    bounds = slab_bounds(n, 4)
    bounded = serial_twin(masked_bounded_assign_accumulate) if serial else masked_bounded_assign_accumulate
    labels_b = np.full(n, -1, dtype=np.int32)
    lower = np.empty(n)
    gamma = _gamma(dtype, 9)
    previous, out = None, []
    for p in range(passes):
        if p == 3:
            centers[2] += 50
        if p == 5:
            centers[4] = centers[3]
        c64 = centers.astype(np.float64)
        drift = np.zeros(k) if previous is None else np.sqrt(((c64 - previous) ** 2).sum(axis=1))
        labels_d, dist_d = np.full(n, -1, dtype=np.int32), np.empty(n)
        sums_d, weights_d = np.zeros((4, k, 9)), np.zeros((4, k, 9))
        _scoring_pass(bounded, X0, M, w, centers, labels_d, dist_d, sums_d, weights_d, bounds, True)
        before = labels_b.copy()
        dist_b, sums_b, weights_b = np.empty(n), np.zeros((4, k, 9)), np.zeros((4, k, 9))
        changed = np.empty(4, dtype=np.int64)
        bounded(X0, M, w, centers, *_transposed(centers), labels_b, dist_b, lower, drift, gamma,
                np.sqrt((c64 * c64).sum(axis=1)), previous is None, sums_b, weights_b, bounds, True, changed)
        # Every lower bound is below the row's true partial distance to every other center.
        true = np.sqrt(reference.masked_sq_distances(X0.astype(np.float64) + np.where(M, 0, np.nan), c64))
        true[np.arange(n), labels_b] = np.inf
        assert (lower <= true.min(axis=1) * (1 + 1e-12)).all()
        out.append(((labels_d, dist_d, sums_d, weights_d), (labels_b.copy(), dist_b, sums_b, weights_b),
                    int(changed.sum()), int((before != labels_b).sum())))
        previous = c64
        merged = sums_d.sum(axis=0), weights_d.sum(axis=0)
        centers = np.where(merged[1] > 0, merged[0] / np.where(merged[1] > 0, merged[1], 1), centers).astype(dtype)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("serial", [False, True])
def test_masked_bounded_kernel_gives_the_bits_of_a_scoring_pass(dtype, serial):
    for direct, bounded, n_changed, counted in _bounded_passes(dtype, serial):
        for a, b in zip(direct, bounded, strict=True):
            assert a.tobytes() == b.tobytes()
        assert n_changed == counted


def test_masked_bounded_kernel_same_bits_at_any_thread_count(at_thread_counts):
    def run():
        return [b for _, b, _, _ in _bounded_passes(np.float64, False)]

    one, two = at_thread_counts(run)
    for a, b in zip(one, two, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_masked_candidate_potentials_match_the_unfused_computation(dtype, weighted):
    """The scaled distances of masked_sq_distances, and each slab's row-order sum of w_i min(closest_i, dist),
    bit for bit."""
    X, X0, M, w, centers = _problem(dtype)
    w = w if weighted else np.ones(1, dtype=dtype)
    n = X.shape[0]
    scale = 7 / M.sum(axis=1)
    closest = np.random.RandomState(3).uniform(0, 10, n)
    bounds = slab_bounds(n, 3)
    dist, out = np.empty((n, 5)), np.empty((3, 5))
    masked_candidate_potentials(X0, M, w, scale, closest, centers, bounds, dist, out)
    expected = np.empty((n, 5))
    masked_sq_distances(X0, M, centers, expected)
    expected *= scale[:, None]
    assert dist.tobytes() == expected.tobytes()
    for s in range(3):
        for t in range(5):
            total = 0.0
            for i in range(bounds[s], bounds[s + 1]):
                total += float(w[i if weighted else 0]) * min(closest[i], expected[i, t])
            assert out[s, t] == total
