"""The NumPy twins of the dense spherical K-Means kernels give the bits of the compiled serial kernels."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.spherical import (
    assign_cos_chunked_gemm,
    assign_cos_direct,
    assign_cos_from_dots,
    row_norms_dense,
    weighted_cos_distances_dense,
)

from .twins import assert_twin_matches

SHAPES = [(1, 1, 1, 1), (2, 3, 2, 1), (7, 4, 9, 2), (150, 4, 3, 1), (301, 5, 7, 3), (1000, 13, 20, 4),
          (3000, 2, 2, 5), (700, 40, 3, 2), (500, 24, 1, 2)]
CASES = [(shape, dtype, weights, ties) for shape in SHAPES for dtype in (np.float64, np.float32)
         for weights in ("unit", "rows") for ties in (False, True)]


def _problem(n, d, k, dtype, weights, ties, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    if ties:  # repeated rows and centers: equal scores
        X = np.round(X)
        X[np.all(X == 0, axis=1)] = 1.0
    X = X.astype(dtype)
    w = np.ones(n, dtype=dtype) if weights == "unit" else rng.uniform(0.05, 3.0, n).astype(dtype)
    inv_norm = 1.0 / np.linalg.norm(X.astype(np.float64), axis=1)
    picked = rng.randint(0, n, k)
    centers = (X[picked] * inv_norm[picked, None]).astype(dtype)
    if ties and k > 1:
        centers[-1] = centers[0]
    centers = np.ascontiguousarray(centers)
    c64 = centers.astype(np.float64)
    center_inv = 1.0 / np.sqrt(np.einsum("ij,ij->i", c64, c64))
    return rng, X, w, inv_norm, centers, center_inv


@pytest.mark.parametrize(("shape", "dtype", "weights", "ties"), CASES)
@pytest.mark.parametrize("update", [True, False])
def test_assignment_kernels(shape, dtype, weights, ties, update):
    n, d, k, slabs = shape
    rng, X, w, inv_norm, centers, center_inv = _problem(n, d, k, dtype, weights, ties, n * d + k)
    bounds = slab_bounds(n, slabs)
    centers_t = np.ascontiguousarray(centers.T)
    out = (np.empty(n, np.int32), np.empty(n), np.zeros((slabs, k, d)), np.zeros((slabs, k)))
    assert_twin_matches(assign_cos_direct, X, w, inv_norm, centers, centers_t, center_inv, *out, bounds, update)
    for chunk_rows in (256, 7):
        assert_twin_matches(
            assign_cos_chunked_gemm, X, w, inv_norm, centers, centers_t, center_inv, *out, bounds, chunk_rows, update
        )
    dots = X @ centers_t
    assert_twin_matches(assign_cos_from_dots, X, w, inv_norm, dots, centers, center_inv, *out, bounds, update)
    labels = rng.randint(0, k, n).astype(np.int32)
    assert_twin_matches(weighted_cos_distances_dense, X, w, inv_norm, centers, center_inv, labels, bounds,
                        np.empty(slabs))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_norms_dense(dtype):
    rng = np.random.RandomState(0)
    for n, d in [(1, 1), (5, 3), (300, 40), (3000, 7)]:
        X = rng.normal(size=(n, d)) * 10.0 ** rng.randint(-30, 30, size=(n, 1))
        X[0] = 0.0
        X = X.astype(dtype)
        assert_twin_matches(row_norms_dense, X, slab_bounds(n, 3 if n > 3 else 1), np.empty(n))
    # the extremes of float64: near overflow, subnormal (the kernel's other scaling)
    X = np.array([[1e308, 1e308, -3e307], [5e-324, -1e-320, 0.0], [1e-310, 2e-300, 0.0]])
    assert_twin_matches(row_norms_dense, X, slab_bounds(3, 1), np.empty(3))
