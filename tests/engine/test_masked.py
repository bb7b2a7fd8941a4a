"""The kernels of rows with gaps (``_engine/masked.py``) against plain NumPy references."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.masked import masked_assign_accumulate, masked_label_distances, masked_sq_distances
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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_slabs", [1, 4])
@pytest.mark.parametrize("serial", [False, True])
def test_masked_assign_accumulate_matches_reference(dtype, n_slabs, serial):
    X, X0, M, w, centers = _problem(dtype)
    bounds = slab_bounds(X.shape[0], n_slabs)
    k, d = centers.shape
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    dist = np.full(X.shape[0], np.nan)
    sums, weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k, d))
    kernel = serial_twin(masked_assign_accumulate) if serial else masked_assign_accumulate
    kernel(X0, M, w, centers, *_transposed(centers), labels, dist, sums, weights, bounds, True)
    ref_labels, ref_dist, ref_sums, ref_weights = reference.masked_assign_accumulate(X, w, centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    # Row-order sums in float64, as the reference adds them: the same bits.
    np.testing.assert_array_equal(sums, ref_sums)
    np.testing.assert_array_equal(weights, ref_weights)


def test_masked_assign_unit_weight_and_no_update():
    """One weight read for every row; without ``update`` the sums are left alone."""
    X, X0, M, _, centers = _problem(np.float64)
    bounds = slab_bounds(X.shape[0], 2)
    labels = np.empty(X.shape[0], dtype=np.int32)
    dist = np.empty(X.shape[0])
    sums = np.full((2, 5, 7), 7.0)
    masked_assign_accumulate(
        X0, M, np.ones(1), centers, *_transposed(centers), labels, dist, sums, sums.copy(), bounds, False
    )
    np.testing.assert_array_equal(sums, 7.0)
    ref_labels, ref_dist, _, _ = reference.masked_assign_accumulate(X, np.ones(len(X)), centers, bounds)
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
    ref_labels, ref_dist, ref_sums, ref_weights = reference.masked_assign_accumulate(X, w, centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    np.testing.assert_array_equal(sums, ref_sums)
    np.testing.assert_array_equal(weights, ref_weights)
