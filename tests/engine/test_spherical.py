"""The cosine kernels of SphericalKMeans (row norms, assignment, inertia) against their NumPy references."""

import numpy as np
import pytest
import scipy.sparse as sp

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.spherical import (
    assign_cos_chunked_gemm,
    assign_cos_csr,
    assign_cos_direct,
    assign_cos_from_dots,
    row_norms_csr,
    row_norms_dense,
    weighted_cos_distances_csr,
    weighted_cos_distances_dense,
)

from . import reference


def _problem(dtype, n=301, d=5, k=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype) * rng.uniform(0.1, 10, size=(n, 1)).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    centers = reference.unit_rows(rng.normal(size=(k, d))).astype(dtype)
    return X, w, np.ascontiguousarray(centers)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 1e-30, 1e30])
def test_row_norms_match_numpy(dtype, scale):
    X = _problem(dtype)[0] * dtype(scale)
    bounds = slab_bounds(X.shape[0], 3)
    out = np.empty(X.shape[0])
    row_norms_dense(X, bounds, out)
    np.testing.assert_allclose(out, reference.row_norms(X), rtol=1e-14)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.3 * scale, X, 0))
    out_csr = np.empty(X.shape[0])
    row_norms_csr(Xs.data, Xs.indptr, bounds, out_csr)
    np.testing.assert_allclose(out_csr, reference.row_norms(Xs), rtol=1e-14)


def test_row_norms_neither_overflow_nor_underflow():
    # Squares of 1e200 overflow and squares of 1e-200 vanish; the norms must not.
    X = np.array([[3e200, 4e200], [3e-200, 4e-200], [3e-310, 4e-310], [0.0, 0.0], [1.5e308, 1.5e308]])
    out = np.empty(len(X))
    row_norms_dense(X, slab_bounds(len(X), 1), out)
    np.testing.assert_allclose(out[:2], [5e200, 5e-200], rtol=1e-15)
    assert out[2] == pytest.approx(5e-310, rel=1e-3)  # subnormal inputs carry few digits
    assert out[3] == 0.0
    assert out[4] == np.inf  # sqrt(2) * 1.5e308 is beyond float64


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel", ["direct", "chunked", "from_dots", "csr"])
@pytest.mark.parametrize("n_slabs", [1, 4])
def test_assign_kernels_match_reference(dtype, kernel, n_slabs):
    """Labels, cosine distances, and (dense kernels) per-slab sums, against NumPy."""
    X, w, centers = _problem(dtype)
    if kernel == "csr":
        X = np.where(np.abs(X) > 0.4, X, 0).astype(dtype)
        X[np.abs(X).sum(axis=1) == 0, 0] = 1  # no zero rows
    n, k = X.shape[0], centers.shape[0]
    inv = 1.0 / reference.row_norms(X)
    center_inv = 1.0 / reference.row_norms(centers)
    bounds = slab_bounds(n, n_slabs)
    labels = np.full(n, -1, dtype=np.int32)
    dist = np.full(n, np.nan)
    sums, wsums = np.zeros((n_slabs, k, X.shape[1])), np.zeros((n_slabs, k))
    centers_t = np.ascontiguousarray(centers.T)
    if kernel == "direct":
        assign_cos_direct(X, w, inv, centers, centers_t, center_inv, labels, dist, sums, wsums, bounds, True)
    elif kernel == "chunked":
        assign_cos_chunked_gemm(X, w, inv, centers, centers_t, center_inv, labels, dist, sums, wsums, bounds, 16, True)
    elif kernel == "from_dots":
        dots = np.ascontiguousarray(X @ centers_t)
        assign_cos_from_dots(X, w, inv, dots, centers, center_inv, labels, dist, sums, wsums, bounds, True)
    else:
        Xs = sp.csr_matrix(X)
        assign_cos_csr(Xs.data, Xs.indices, Xs.indptr, inv, centers_t, center_inv, labels, dist, bounds)
    ref_labels, ref_dist, ref_sums, ref_w = reference.assign_cos(X, w, centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-15)
    if kernel == "csr":  # the CSR step gets its sums from a sparse product instead
        return
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(sums, ref_sums, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(wsums, ref_w, rtol=1e-12)

    # update=False leaves the sums alone and gives the same labels and distances.
    labels2, dist2 = np.empty_like(labels), np.empty_like(dist)
    before = sums.copy()
    if kernel == "direct":
        assign_cos_direct(X, w, inv, centers, centers_t, center_inv, labels2, dist2, sums, wsums, bounds, False)
        np.testing.assert_array_equal(labels2, labels)
        np.testing.assert_array_equal(dist2, dist)
        np.testing.assert_array_equal(sums, before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_step_sums_match_reference(dtype):
    from kmeanskit._algorithms.spherical import SphericalStep, UnitRows
    from kmeanskit._estimators.spherical import _inverse_row_norms

    X, w, centers = _problem(dtype)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.2, X, 0).astype(dtype))
    Xs = Xs[np.diff(Xs.indptr) > 0]
    w = w[: Xs.shape[0]]
    step = SphericalStep(UnitRows(Xs, w, _inverse_row_norms(Xs)), centers.shape[0])
    labels = np.empty(Xs.shape[0], dtype=np.int32)
    assignment = step(centers, labels, update=True)
    ref_labels, ref_dist, ref_sums, ref_w = reference.assign_cos(Xs, w, centers, slab_bounds(Xs.shape[0], 1))
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(assignment.sums, ref_sums[0], rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-12)
    np.testing.assert_allclose(assignment.weights, ref_w[0], rtol=1e-12)
    assert assignment.inertia == pytest.approx(float((w.astype(np.float64) * ref_dist).sum()), rel=1e-10)


def test_argmax_takes_the_first_center_on_ties():
    X = np.array([[1.0, 1.0], [2.0, 0.0]])
    centers = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # row 0 is equally close to 0 and 1
    labels, dist = np.empty(2, dtype=np.int32), np.empty(2)
    inv = 1 / reference.row_norms(X)
    assign_cos_direct(
        X, np.ones(2), inv, centers, np.ascontiguousarray(centers.T), np.ones(3), labels, dist,
        np.zeros((1, 3, 2)), np.zeros((1, 3)), slab_bounds(2, 1), False,
    )
    assert labels.tolist() == [0, 0]
    np.testing.assert_allclose(dist, [1 - np.sqrt(0.5), 0.0], atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weighted_cos_distances_match_reference(dtype):
    X, w, centers = _problem(dtype)
    labels = np.random.RandomState(3).randint(centers.shape[0], size=X.shape[0]).astype(np.int32)
    inv = 1.0 / reference.row_norms(X)
    center_inv = 1.0 / reference.row_norms(centers)
    bounds = slab_bounds(X.shape[0], 3)
    expected = float(reference.weighted_cos_distances(X, w, centers, labels, bounds).sum())
    out = np.empty(3)
    weighted_cos_distances_dense(X, w, inv, centers, center_inv, labels, bounds, out)
    assert out.sum() == pytest.approx(expected, rel=1e-12)
    Xs = sp.csr_matrix(X)
    weighted_cos_distances_csr(Xs.data, Xs.indices, Xs.indptr, w, inv, centers, center_inv, labels, bounds, out)
    assert out.sum() == pytest.approx(expected, rel=1e-12)
