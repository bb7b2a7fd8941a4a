"""The NumPy twins of the K-Medians kernels give the bits of the compiled serial kernels."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.manhattan import (
    assign_l1,
    candidate_potentials_l1,
    l1_distances,
    update_closest_l1,
    weighted_l1_distances,
    weighted_medians,
)

from .twins import assert_twin_matches

# (n, d, k, slabs): single rows, fewer rows than clusters, d below, at and above the
# kernels' four partial sums, clusters past the selection's sampling threshold.
SHAPES = [(1, 1, 1, 1), (2, 3, 2, 1), (7, 4, 9, 2), (150, 4, 3, 1), (301, 5, 7, 3), (1000, 13, 20, 4),
          (3000, 2, 2, 5), (2500, 40, 3, 2)]


def _problem(n, d, k, dtype, weights, seed, ties=False):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    if ties:  # few distinct values: equal values, equal distances, +0.0 and -0.0
        X = np.round(X * 2) / 2
        X[rng.uniform(size=X.shape) < 0.2] = -0.0
    X = X.astype(dtype)
    w = np.ones(n, dtype=dtype) if weights == "unit" else rng.uniform(0.05, 3.0, n).astype(dtype)
    if weights == "zeros":
        w[rng.uniform(size=n) < 0.3] = 0.0
    if weights == "whole":  # whole weights, zeros among them: the twin's sort path
        w = rng.randint(0, 4, n).astype(dtype)
    centers = np.ascontiguousarray(X[rng.randint(0, n, k)] + (0 if ties else rng.normal(scale=0.1, size=(k, d))), dtype)
    return rng, X, w, centers


CASES = [(shape, dtype, weights, ties) for shape in SHAPES for dtype in (np.float64, np.float32)
         for weights in ("unit", "rows") for ties in (False, True)]


@pytest.mark.parametrize(("shape", "dtype", "weights", "ties"), CASES)
def test_row_kernels(shape, dtype, weights, ties):
    n, d, k, slabs = shape
    rng, X, w, centers = _problem(n, d, k, dtype, weights, n + d + k, ties)
    bounds = slab_bounds(n, slabs)
    assert_twin_matches(assign_l1, X, centers, np.empty(n, np.int32), np.empty(n), bounds)
    assert_twin_matches(l1_distances, X, centers, bounds, np.empty((n, k)))
    assert_twin_matches(l1_distances, X, centers, bounds, np.empty((n, k), dtype=dtype))
    labels = rng.randint(0, k, n).astype(np.int32)
    assert_twin_matches(weighted_l1_distances, X, w, centers, labels, bounds, np.empty(slabs))
    closest = np.where(rng.uniform(size=n) < 0.5, np.inf, rng.uniform(0, 2 * d, n))
    assert_twin_matches(update_closest_l1, X, w, centers[0], closest, bounds, np.empty(slabs))
    assert_twin_matches(candidate_potentials_l1, X, w, closest, centers, bounds, np.empty((slabs, k)))


MEDIAN_CASES = CASES + [((5000, 3, 2, 1), dtype, weights, ties) for dtype in (np.float64, np.float32)
                        for weights in ("unit", "rows", "zeros", "whole") for ties in (False, True)]
MEDIAN_CASES += [(shape, dtype, "whole", ties) for shape in SHAPES for dtype in (np.float64, np.float32)
                 for ties in (False, True)]


@pytest.mark.parametrize(("shape", "dtype", "weights", "ties"), MEDIAN_CASES)
def test_weighted_medians(shape, dtype, weights, ties):
    n, d, k, _ = shape
    rng, X, w, centers = _problem(n, d, k, dtype, weights, 7 * n + d, ties)
    labels = rng.randint(0, k, n)
    labels[labels == k - 1] = 0  # an empty cluster when k > 1
    order = np.argsort(labels, kind="stable").astype(np.int64)
    starts = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(labels, minlength=k), out=starts[1:])
    assert_twin_matches(weighted_medians, X, w, order, starts, centers, np.empty(k, dtype=np.bool_))


def test_weighted_medians_at_half_the_weight():
    """Cumulative weights that reach half the total exactly, and sums that round near it."""
    rng = np.random.RandomState(3)
    for n in (2, 17, 40, 1500):
        X = rng.randint(-3, 4, size=(n, 3)).astype(np.float64)
        for w in (np.full(n, 0.1), rng.choice([0.1, 0.2, 0.3], n), np.ones(n)):
            order = np.arange(n, dtype=np.int64)
            starts = np.array([0, n], dtype=np.int64)
            assert_twin_matches(weighted_medians, X, w, order, starts, np.zeros((1, 3)), np.empty(1, np.bool_))
