"""The bounded step's kernel (Hamerly, 2010) and its distances against their NumPy references."""

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.assign import _exact_sq_dist
from kmeanskit._engine.bounds import _sq_dist_and_norm, _sq_dist_vectorised, bounded_assign_accumulate

from . import reference


@pytest.mark.parametrize("use_gemm", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_against_reference(use_gemm, dtype):
    rng = np.random.default_rng(0)
    n, d, k = 500, 7, 6
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.uniform(0.5, 2, size=n).astype(dtype)
    centers = X[:k].copy()
    center_sq = np.einsum("ij,ij->i", centers, centers)
    distances = np.sqrt(reference.sq_distances(X, centers))
    labels = np.zeros(n, dtype=np.int32)
    sq_dist, lower = np.empty(n), np.empty(n, dtype=np.float32)
    bounds = slab_bounds(n, 3)
    sums, wsums = np.zeros((3, k, d)), np.zeros((3, k))
    recomputed = np.zeros(3, dtype=np.int64)
    changed = np.zeros(3, dtype=np.int64)
    no_levels = (np.empty((0, 0)), np.empty((0, 0)))
    args = (
        X, w, centers, np.ascontiguousarray(centers.T), center_sq, labels, sq_dist, lower,
        np.zeros(k), *no_levels, np.full(k, 0.0), 1e-6, np.linalg.norm(centers.astype(np.float64), axis=1),
        float(np.linalg.norm(centers, axis=1).max()),
    )
    no_dots = np.empty((0, k), dtype=dtype)
    no_neighbours = (np.empty((0, 0), dtype=np.int64), np.empty((0, 0)))
    with threadpool_limits(1, user_api="blas"):
        bounded_assign_accumulate(
            *args, True, use_gemm, no_dots, *no_neighbours, sums, wsums, bounds, 16, True, recomputed, changed
        )
    np.testing.assert_array_equal(labels, distances.argmin(axis=1))
    np.testing.assert_allclose(sq_dist, distances.min(axis=1) ** 2, rtol=1e-12)
    others = np.where(np.arange(k)[None] == labels[:, None], np.inf, distances)
    assert np.all(lower <= others.min(axis=1))  # a valid lower bound
    assert np.all(lower >= 0.999 * others.min(axis=1) - 1e-3)  # and a tight one
    assert recomputed.sum() == n
    assert changed.sum() == np.count_nonzero(labels != 0)  # from labels all 0
    expected_sums, expected_weights = np.zeros((3, k, d)), np.zeros((3, k))
    reference.accumulate(expected_sums, expected_weights, X, w, labels, bounds)
    for j in range(k):
        np.testing.assert_allclose(sums.sum(0)[j], expected_sums.sum(0)[j], rtol=1e-5)
        np.testing.assert_allclose(wsums.sum(0)[j], expected_weights.sum(0)[j], rtol=1e-5)

    # A second pass from the same centers, with the bounds: every row is
    # skipped but the nearly tied ones, labels stay.
    before = labels.copy()
    sums[:], wsums[:], recomputed[:] = 0, 0, 0
    with threadpool_limits(1, user_api="blas"):
        bounded_assign_accumulate(
            *args, False, use_gemm, no_dots, *no_neighbours, sums, wsums, bounds, 16, True, recomputed, changed
        )
    np.testing.assert_array_equal(labels, before)
    assert recomputed.sum() < n // 2
    assert changed.sum() == 0

    # Every row recomputed from a wrong old label (bounds zeroed), with the
    # centers pruned by distance on the direct path: still the exact arg-min
    # and a valid lower bound.
    neighbours, neighbour_sep = reference.sort_neighbours(np.sqrt(reference.sq_distances(centers, centers)))
    labels[:] = (before + 1) % k
    lower[:] = 0
    with threadpool_limits(1, user_api="blas"):
        bounded_assign_accumulate(
            *args, False, use_gemm, no_dots, neighbours, neighbour_sep,
            sums, wsums, bounds, 16, False, recomputed, changed,
        )
    np.testing.assert_array_equal(labels, distances.argmin(axis=1))
    np.testing.assert_allclose(sq_dist, distances.min(axis=1) ** 2, rtol=1e-12)
    assert np.all(lower <= others.min(axis=1))
    assert changed.sum() == n  # every old label was wrong

    # Right labels, bounds zeroed: every row is recomputed and keeps its label;
    # its distance is the check's (Lloyd's bits) and its bound comes from the
    # score gap, still valid and tight. (Chunks of 256 rows: two tiles of rows
    # on the direct path, whole chunks to BLAS on the other.)
    lower[:] = 0
    sq_dist[:] = np.nan
    with threadpool_limits(1, user_api="blas"):
        bounded_assign_accumulate(
            *args, False, use_gemm, no_dots, *no_neighbours, sums, wsums, bounds, 256, False, recomputed, changed,
        )
    assert recomputed.sum() == n
    assert changed.sum() == 0
    np.testing.assert_array_equal(labels, distances.argmin(axis=1))
    exact = np.array([_exact_sq_dist_of(X[i], centers[labels[i]]) for i in range(n)])
    np.testing.assert_array_equal(sq_dist, exact)
    assert np.all(lower <= others.min(axis=1))
    assert np.all(lower >= 0.999 * others.min(axis=1) - 1e-3)


@numba.njit
def _exact_sq_dist_of(x, c):
    return _exact_sq_dist(x, c)


@numba.njit
def _both_sq_dists(X, c):
    squares = np.empty((2, X.shape[1]))
    out = np.empty((X.shape[0], 4))
    for i in range(X.shape[0]):
        out[i, 0] = _exact_sq_dist(X[i], c)
        out[i, 1] = _sq_dist_vectorised(X[i], c, squares[0])
        out[i, 2], out[i, 3] = _sq_dist_and_norm(X[i], c, squares)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 3, 4, 7, 64, 65])
def test_vectorised_distances_have_the_bits_of_lloyds(d, dtype):
    # The skip test's distance is the row's inertia term: it must be Lloyd's, bit for bit.
    rng = np.random.default_rng(d)
    X = (rng.normal(size=(200, d)) * 10.0 ** rng.integers(-3, 4, size=(200, 1))).astype(dtype)
    out = _both_sq_dists(X, X[7].copy())
    np.testing.assert_array_equal(out[:, 1], out[:, 0])
    np.testing.assert_array_equal(out[:, 2], out[:, 0])
    np.testing.assert_allclose(out[:, 3], (X.astype(np.float64) ** 2).sum(1), rtol=1e-12)
    np.testing.assert_allclose(out[:, 0], reference.sq_distances(X, X[7:8])[:, 0], rtol=1e-12)
