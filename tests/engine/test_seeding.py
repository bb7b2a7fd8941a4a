"""The k-means++ kernels against their NumPy reference."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.seeding import (
    candidate_potentials_dense,
    candidate_potentials_from_dots,
    lower_closest,
    update_closest_dense,
    update_closest_from_dots,
)

from .reference import candidate_potentials


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_match_reference(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 6)).astype(dtype)
    w = rng.uniform(0, 3, size=500).astype(dtype)
    closest = rng.uniform(0, 20, size=500)
    candidates = X[[3, 70, 400]]
    x_sq = (X.astype(np.float64) ** 2).sum(1)
    cand_sq = (candidates.astype(np.float64) ** 2).sum(1)
    bounds = slab_bounds(500, 3)
    out = np.empty((3, 3))
    candidate_potentials_from_dots(x_sq, w, closest, X @ candidates.T, cand_sq, bounds, out)
    np.testing.assert_allclose(out.sum(0), candidate_potentials(X, w, closest, candidates), rtol=1e-5 if dtype == np.float32 else 1e-10)


def test_update_closest_only_lowers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    center = X[5]
    closest = rng.uniform(0, 8, size=200)
    before = closest.copy()
    update_closest_from_dots((X**2).sum(1), X @ center, float(center @ center), closest)
    expected = np.minimum(before, ((X - center) ** 2).sum(1))
    np.testing.assert_allclose(closest, expected, rtol=1e-10, atol=1e-12)
    assert closest[5] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("use_blas", [True, False])
@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_dense_match_reference(use_blas, keep, dtype):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(700, 5)).astype(dtype)
    w = rng.uniform(0, 3, size=700).astype(dtype)
    closest = rng.uniform(0, 20, size=700)
    candidates = X[[3, 70, 400, 650]]
    x_sq = (X.astype(np.float64) ** 2).sum(1)
    cand_sq = (candidates.astype(np.float64) ** 2).sum(1)
    bounds = slab_bounds(700, 3)
    out = np.empty((3, 4))
    kept = np.full((700 if keep else 0, 4), np.nan, dtype=dtype)
    with single_threaded_blas():
        candidate_potentials_dense(
            X, x_sq, w, closest, np.ascontiguousarray(candidates.T), cand_sq, bounds, 64, use_blas, out, kept
        )
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out.sum(0), candidate_potentials(X, w, closest, candidates), rtol=rtol)
    if keep:
        expected = X.astype(np.float64) @ candidates.astype(np.float64).T
        np.testing.assert_allclose(kept, expected, rtol=rtol, atol=1e-4 if dtype == np.float32 else 1e-10)
        closest_before = closest.copy()
        lower_closest(kept, 2, x_sq, float(cand_sq[2]), closest, bounds)
        d2 = np.maximum(x_sq + cand_sq[2] - 2.0 * kept[:, 2].astype(np.float64), 0.0)
        np.testing.assert_array_equal(closest, np.minimum(closest_before, d2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_update_closest_dense(dtype):
    rng = np.random.RandomState(2)
    X = rng.normal(size=(300, 6)).astype(dtype)
    center = X[11]
    closest = rng.uniform(0, 8, size=300)
    before = closest.copy()
    c64 = center.astype(np.float64)
    update_closest_dense(X, (X.astype(np.float64) ** 2).sum(1), center, float(c64 @ c64), closest, slab_bounds(300, 2))
    expected = np.minimum(before, ((X.astype(np.float64) - c64) ** 2).sum(1))
    np.testing.assert_allclose(closest, expected, rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-5)
