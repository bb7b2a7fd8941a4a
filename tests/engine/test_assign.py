"""The assignment kernels against their NumPy reference."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.assign import (
    accumulate_csr,
    assign_accumulate_chunked_gemm,
    assign_accumulate_csr,
    assign_accumulate_direct,
    assign_accumulate_from_dots,
    weighted_sq_distances_csr,
    weighted_sq_distances_dense,
)
from kmeanskit._engine.serial import serial_twin

from . import reference


def _problem(dtype, n=300, d=5, k=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    centers = X[rng.choice(n, k, replace=False)] + rng.normal(scale=0.1, size=(k, d)).astype(dtype)
    return X, w, np.ascontiguousarray(centers, dtype=dtype)


def _run(kernel, X, w, centers, bounds, update=True, *, kernel_function=None):
    n, d = X.shape
    k = centers.shape[0]
    labels = np.full(n, -1, dtype=np.int32)
    sq_dist = np.full(n, np.nan)
    sums = np.zeros((len(bounds) - 1, k, d))
    weights = np.zeros((len(bounds) - 1, k))
    center_sq = np.einsum("ij,ij->i", centers, centers)
    if kernel == "direct":
        (kernel_function or assign_accumulate_direct)(X, w, centers, np.ascontiguousarray(centers.T), center_sq, labels, sq_dist, sums, weights, bounds, update)
    elif kernel == "chunked":
        assign_accumulate_chunked_gemm(X, w, centers, np.ascontiguousarray(centers.T), center_sq, labels, sq_dist, sums, weights, bounds, 16, update)
    elif kernel == "from_dots":
        dots = X @ centers.T
        assign_accumulate_from_dots(X, w, dots, centers, center_sq, labels, sq_dist, sums, weights, bounds, update)
    else:
        Xs = sp.csr_matrix(X)
        row_sq = np.asarray(Xs.multiply(Xs).sum(axis=1), dtype=np.float64).ravel()
        assign_accumulate_csr(Xs.data, Xs.indices, Xs.indptr, row_sq, w, np.ascontiguousarray(centers.T), center_sq, labels, sq_dist, sums, weights, bounds, update)
    return labels, sq_dist, sums, weights


@pytest.mark.parametrize("kernel", ["direct", "chunked", "from_dots", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_slabs", [1, 3])
def test_assign_accumulate_matches_reference(kernel, dtype, n_slabs):
    X, w, centers = _problem(dtype)
    if kernel == "csr":
        X[np.abs(X) < 0.8] = 0  # make it actually sparse
    bounds = slab_bounds(X.shape[0], n_slabs)
    labels, sq_dist, sums, weights = _run(kernel, X, w, centers, bounds)
    ref_labels, ref_dist, ref_sums, ref_weights = reference.assign_accumulate(X, w, centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(sq_dist, ref_dist, rtol=rtol, atol=1e-5 if kernel == "csr" else 0)
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights, ref_weights, rtol=1e-12)


@pytest.mark.parametrize("kernel", ["direct", "chunked", "from_dots", "csr"])
def test_no_accumulation_when_not_updating(kernel):
    X, w, centers = _problem(np.float64)
    bounds = slab_bounds(X.shape[0], 2)
    labels, _, sums, weights = _run(kernel, X, w, centers, bounds, update=False)
    assert not sums.any() and not weights.any()
    np.testing.assert_array_equal(labels, reference.assign_accumulate(X, w, centers, bounds)[0])


def _sparse_problem(dtype, n, d, density, k, seed):
    """CSR rows (some empty) and labels that leave the last cluster empty."""
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng, dtype=np.float64)
    X.data -= 0.5  # negative values too
    keep = np.arange(n) % 7 != 0  # every 7th row empty
    X = (sp.diags(keep.astype(np.float64)) @ X).tocsr().astype(dtype)
    X.eliminate_zeros()
    labels = rng.randint(0, k - 1, size=n).astype(np.int32)
    return X, labels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_slabs", [1, 3, 17])
# Few features and dense rows: the slab's partial sums are added over every
# feature; many features and sparse rows: by a second walk of the rows.
@pytest.mark.parametrize("shape", [(400, 12, 0.5), (400, 3000, 0.004)])
def test_accumulate_csr_has_the_bits_of_merged_slab_sums(dtype, weighted, n_slabs, shape):
    n, d, density = shape
    k = 6
    X, labels = _sparse_problem(dtype, n, d, density, k, seed=n_slabs)
    rng = np.random.RandomState(1)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype) if weighted else np.ones(1, dtype=dtype)
    bounds = slab_bounds(n, n_slabs)
    # The fused kernel's per-slab sums, merged in slab order (what the Lloyd step did before).
    centers = rng.normal(size=(k, d)).astype(dtype)
    row_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    fused_labels, sq_dist = np.empty(n, dtype=np.int32), np.empty(n)
    slab_sums, slab_weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k))
    assign_accumulate_csr(
        X.data, X.indices, X.indptr, row_sq, w, np.ascontiguousarray(centers.T),
        np.einsum("ij,ij->i", centers, centers), fused_labels, sq_dist, slab_sums, slab_weights, bounds, True,
    )
    expected, expected_weights = slab_sums.sum(axis=0), slab_weights.sum(axis=0)
    before = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            for n_groups in (1, 2, k):
                sums, weights = np.full((k, d), np.nan), np.full(k, np.nan)
                partial = np.zeros((k, d))
                accumulate_csr(X.data, X.indices, X.indptr, w, fused_labels, bounds, n_groups, sums, weights, partial)
                assert not partial.any()  # zeros again, for the next call
                np.testing.assert_array_equal(sums.view(np.int64), expected.view(np.int64))
                np.testing.assert_array_equal(weights.view(np.int64), expected_weights.view(np.int64))
    finally:
        numba.set_num_threads(before)
    # and the sums are the NumPy reference's
    ref_sums, ref_weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k))
    reference.accumulate(ref_sums, ref_weights, X.toarray(), np.broadcast_to(w, (n,)), fused_labels, bounds)
    np.testing.assert_allclose(sums, ref_sums.sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(weights[-1], 0.0)  # the empty cluster


def test_ties_go_to_the_first_center():
    X = np.zeros((4, 2))
    centers = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    labels, *_ = _run("direct", X, np.ones(4), centers, slab_bounds(4, 1))
    np.testing.assert_array_equal(labels, 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "d", "k"), [(1000, 5, 4), (300, 2, 1), (517, 13, 9), (129, 7, 3), (403, 64, 10), (97, 203, 3)])
@pytest.mark.parametrize("unit_weights", [False, True])
def test_direct_kernel_bits_for_any_thread_count(dtype, n, d, k, unit_weights):
    """The tiled direct kernel gives the bits of one row at a time (scores in X's dtype feature by feature,
    first minimum, exact distances in four partial sums, sums in row order), serial or on 1 or 2 threads,
    with tiles that do not divide the slabs, tiles of fewer rows for wide rows (64 and 203 features: 32 and
    8 rows of float64), and unit weights given as the single weight the kernels read for every row."""
    X, w, centers = _problem(dtype, n=n, d=d, k=k, seed=3)
    if unit_weights:
        w = np.ones(1, dtype=dtype)
    X[7] = X[11]  # duplicate rows
    if k > 2:
        centers[2] = centers[1]  # tied centers: the first wins
    bounds = slab_bounds(n, 3)
    labels = reference.direct_scores_labels(X, centers)
    sq_dist = reference.exact_sq_dist_four_sums(X, centers, labels)
    sums, weights = np.zeros((3, k, d)), np.zeros((3, k))
    reference.accumulate(sums, weights, X, np.broadcast_to(w, (n,)), labels, bounds)
    assert (k <= 2 or not (labels == 2).any()) and len(np.unique(labels)) > min(k, 2) - 1
    kernels = [(serial_twin(assign_accumulate_direct), 1), (assign_accumulate_direct, 1), (assign_accumulate_direct, 2)]
    previous = numba.get_num_threads()
    try:
        for kernel, n_threads in kernels:
            numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
            out = _run("direct", X, w, centers, bounds, kernel_function=kernel)
            for got, expected in zip(out, (labels, sq_dist, sums, weights), strict=True):
                np.testing.assert_array_equal(got, expected)
    finally:
        numba.set_num_threads(previous)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weighted_sq_distances(dtype):
    X, w, centers = _problem(dtype)
    labels = np.random.RandomState(1).randint(0, centers.shape[0], X.shape[0]).astype(np.int32)
    bounds = slab_bounds(X.shape[0], 4)
    expected = reference.weighted_sq_distances(X, w, centers, labels, bounds)
    out = np.empty(4)
    weighted_sq_distances_dense(X, w, centers, labels, bounds, out)
    np.testing.assert_allclose(out, expected, rtol=1e-10 if dtype == np.float64 else 1e-5)
    Xs = sp.csr_matrix(X)
    row_sq = (X.astype(np.float64) ** 2).sum(1)
    out_sparse = np.empty(4)
    weighted_sq_distances_csr(
        Xs.data, Xs.indices, Xs.indptr, row_sq, w, centers,
        np.einsum("ij,ij->i", centers, centers).astype(np.float64), labels, bounds, out_sparse,
    )
    np.testing.assert_allclose(out_sparse, expected, rtol=1e-9 if dtype == np.float64 else 1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_into(dtype):
    from kmeanskit._engine.blas import matmul_into

    rng = np.random.RandomState(0)
    a, b = rng.normal(size=(50, 7)).astype(dtype), rng.normal(size=(7, 9)).astype(dtype)
    out = np.empty((50, 9), dtype=dtype)
    matmul_into(a, b, out)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
