"""The few-cluster CSR kernel against the general CSR kernel (same bits), its NumPy twin (same bits) and the
NumPy reference."""

import re

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.assign import accumulate_csr, assign_accumulate_csr
from kmeanskit._engine.csr_few import CSR_FEW_CLUSTERS, assign_accumulate_csr_few, assign_csr_few
from kmeanskit._engine.serial import kernels_mode, numpy_twin_of, serial_twin, sized

from . import reference
from .twins import assert_twin_matches


def _problem(dtype, n, d, density, k, seed):
    """CSR rows (every 7th empty, negative values too), centers near some rows,
    and two equal centers (ties go to the first)."""
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng, dtype=np.float64)
    X.data -= 0.3
    X = (sp.diags((np.arange(n) % 7 != 0).astype(np.float64)) @ X).tocsr().astype(dtype)
    X.eliminate_zeros()
    centers = X[rng.choice(n, k, replace=False)].toarray() + rng.normal(scale=0.05, size=(k, d))
    if k > 2:
        centers[2] = centers[1]
    return X, np.ascontiguousarray(centers, dtype=dtype)


def _general(X, centers, row_sq, bounds):
    """Labels and distances of the general kernel (the reference bits)."""
    n = X.shape[0]
    labels, sq_dist = np.empty(n, dtype=np.int32), np.empty(n)
    assign_accumulate_csr(
        X.data, X.indices, X.indptr, row_sq, np.ones(1, dtype=X.dtype), np.ascontiguousarray(centers.T),
        np.einsum("ij,ij->i", centers, centers), labels, sq_dist, np.zeros((1, 1, 1)), np.zeros((1, 1)),
        bounds, False,
    )
    return labels, sq_dist


def _guesses(kind, expected, k, rng):
    """Labels as the kernel finds them on entry."""
    n = expected.shape[0]
    if kind == "previous":  # a converging fit: most guesses right
        guess = expected.copy()
        guess[rng.rand(n) < 0.2] = rng.randint(0, k)
        return guess
    if kind == "unset":  # a first pass
        return np.full(n, -1, dtype=np.int32)
    return rng.randint(k, k + 1000, size=n).astype(np.int32)  # out of range: ignored


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 2, 5, 8, 9, CSR_FEW_CLUSTERS])
@pytest.mark.parametrize("guess", ["previous", "unset", "out of range"])
@pytest.mark.parametrize("n_slabs", [1, 3])
def test_assign_csr_few_has_the_bits_of_the_general_kernel(dtype, k, guess, n_slabs):
    X, centers = _problem(dtype, n=500, d=40, density=0.15, k=k, seed=k)
    row_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    bounds = slab_bounds(X.shape[0], n_slabs)
    expected_labels, expected_dist = _general(X, centers, row_sq, bounds)
    guesses = _guesses(guess, expected_labels, k, np.random.RandomState(0))
    center_sq = tuple(np.einsum("ij,ij->i", centers, centers))
    centers_t = np.ascontiguousarray(centers.T)
    before = numba.get_num_threads()
    try:
        for kernel, threads in ((serial_twin(assign_csr_few), 1), (assign_csr_few, 1), (assign_csr_few, 2)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            labels, sq_dist = guesses.copy(), np.full(X.shape[0], np.nan)
            kernel(X.data, X.indices, X.indptr, row_sq, centers_t, center_sq, labels, sq_dist, bounds)
            np.testing.assert_array_equal(labels, expected_labels)
            np.testing.assert_array_equal(sq_dist.view(np.int64), expected_dist.view(np.int64))
    finally:
        numba.set_num_threads(before)
    # and the labels are the NumPy reference's (up to ties between the two equal centers)
    ref_labels, ref_dist, _, _ = reference.assign_accumulate(X.toarray(), np.ones(X.shape[0]), centers, bounds)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(sq_dist, ref_dist, rtol=1e-5, atol=1e-5)
    if k > 2:
        assert not (labels == 2).any()  # center 2 equals center 1: ties go to the first


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 2, 3, 8, 9, CSR_FEW_CLUSTERS])
@pytest.mark.parametrize(("n", "d", "density"), [(1, 5, 0.5), (7, 3, 0.9), (200, 40, 0.15), (3000, 300, 0.02)])
@pytest.mark.parametrize("guess", ["previous", "unset"])
def test_assign_csr_few_numpy_twin_has_the_kernels_bits(dtype, k, n, d, density, guess):
    """Labels and distances, every slab layout, rows of different lengths (some empty), ties."""
    k = min(k, n)
    X, centers = _problem(dtype, n=n, d=d, density=density, k=k, seed=n + k)
    row_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    center_sq = tuple(np.einsum("ij,ij->i", centers, centers))
    centers_t = np.ascontiguousarray(centers.T)
    for slabs in sorted({1, min(n, 3), min(n, 64)}):
        bounds = slab_bounds(n, slabs)
        expected_labels, _ = _general(X, centers, row_sq, bounds)
        labels = _guesses(guess, expected_labels, k, np.random.RandomState(1))
        out = assert_twin_matches(
            assign_csr_few, X.data, X.indices, X.indptr, row_sq, centers_t, center_sq, labels,
            np.full(n, np.nan), bounds,
        )
        np.testing.assert_array_equal(out[6], expected_labels)


def test_assign_csr_few_runs_its_numpy_twin_in_numpy_mode():
    """Small inputs run the twin in kernel mode "numpy", the serial kernel in mode "compiled"."""
    with kernels_mode("numpy"):
        assert sized(assign_csr_few, 1000) is numpy_twin_of(assign_csr_few)
    with kernels_mode("compiled"):
        assert sized(assign_csr_few, 1000) is serial_twin(assign_csr_few)


def test_assign_csr_few_keeps_the_scores_in_registers():
    """One compiled version per k keeps the k running scores in registers (the
    loops over k unrolled: at least k subtractions in the machine code); a
    compiler that stopped unrolling at CSR_FEW_CLUSTERS would make the kernel
    several times slower than the general one (benchmarks/README.md)."""
    fresh = njit(nogil=True)(assign_csr_few.py_func)  # not from the cache, which cannot be inspected
    k = CSR_FEW_CLUSTERS
    X, centers = _problem(np.float64, n=50, d=20, density=0.3, k=k, seed=0)
    fresh(
        X.data, X.indices, X.indptr, np.zeros(50), np.ascontiguousarray(centers.T),
        tuple(np.einsum("ij,ij->i", centers, centers)), np.zeros(50, dtype=np.int32), np.empty(50),
        slab_bounds(50, 1),
    )
    (asm,) = fresh.inspect_asm().values()
    assert len(re.findall(r"\bv?sub[sp]d\b", asm)) >= k


@pytest.mark.parametrize("k", [3, 12])
def test_csr_kernels_give_the_same_bits_with_int64_indices(k):
    """The CSR kernels index with unsigned positions and features (no negative-index
    fix-up per value): SciPy's int64 index arrays (large matrices) give the bits of
    its int32 ones, for the labels, distances and cluster sums."""
    X32, centers = _problem(np.float64, n=300, d=40, density=0.2, k=k, seed=3)
    X64 = sp.csr_matrix((X32.data, X32.indices.astype(np.int64), X32.indptr.astype(np.int64)), shape=X32.shape)
    n = X32.shape[0]
    row_sq = np.asarray(X32.multiply(X32).sum(axis=1), dtype=np.float64).ravel()
    centers_t, center_sq = np.ascontiguousarray(centers.T), np.einsum("ij,ij->i", centers, centers)
    bounds, w = slab_bounds(n, 3), np.ones(1)
    results = []
    for X in (X32, X64):
        labels, sq_dist = np.full(n, -1, dtype=np.int32), np.empty(n)
        if k <= CSR_FEW_CLUSTERS:
            serial_twin(assign_csr_few)(
                X.data, X.indices, X.indptr, row_sq, centers_t, tuple(center_sq), labels, sq_dist, bounds,
            )
        slab_sums, slab_weights = np.zeros((3, k, 40)), np.zeros((3, k))
        serial_twin(assign_accumulate_csr)(
            X.data, X.indices, X.indptr, row_sq, w, centers_t, center_sq, labels, sq_dist, slab_sums, slab_weights,
            bounds, True,
        )
        sums, weights = np.empty((k, 40)), np.empty(k)
        serial_twin(accumulate_csr)(X.data, X.indices, X.indptr, w, labels, bounds, 2, sums, weights, np.zeros((k, 40)))
        results.append((labels, sq_dist, slab_sums, sums, weights))
    for got, expected in zip(results[1], results[0], strict=True):
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
    np.testing.assert_array_equal(results[0][3], results[0][2].sum(axis=0))  # the slab sums merged in order


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 3, CSR_FEW_CLUSTERS])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_slabs", [1, 4])
# Dense rows: a slab's partial sums join the totals over every feature; sparse rows: by a second walk.
@pytest.mark.parametrize("shape", [(300, 12, 0.5), (300, 2000, 0.004)])
def test_assign_accumulate_csr_few_has_the_bits_of_both_kernels(dtype, k, weighted, n_slabs, shape):
    """The one-walk kernel gives assign_csr_few's labels and distances and accumulate_csr's sums (at 1 and
    2 threads), bit for bit, leaves its scratch at zeros, and its NumPy twin gives the same bits."""
    n, d, density = shape
    X, centers = _problem(dtype, n, d, density, k, seed=n_slabs + k)
    rng = np.random.RandomState(2)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype) if weighted else np.ones(1, dtype=dtype)
    row_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    centers_t, center_sq = np.ascontiguousarray(centers.T), tuple(np.einsum("ij,ij->i", centers, centers))
    bounds = slab_bounds(n, n_slabs)
    guess = _guesses("previous", _general(X, centers, row_sq, bounds)[0], k, rng)
    labels, sq_dist = guess.copy(), np.empty(n)
    serial_twin(assign_csr_few)(X.data, X.indices, X.indptr, row_sq, centers_t, center_sq, labels, sq_dist, bounds)
    expected = None
    before = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            sums, weights = np.empty((k, d)), np.empty(k)
            accumulate_csr(X.data, X.indices, X.indptr, w, labels, bounds, threads, sums, weights, np.zeros((k, d)))
            if expected is not None:
                np.testing.assert_array_equal(sums.view(np.uint8), expected[2].view(np.uint8))
            expected = (labels, sq_dist, sums, weights)
    finally:
        numba.set_num_threads(before)
    for kernel in (assign_accumulate_csr_few, numpy_twin_of(assign_accumulate_csr_few)):
        got_labels, got_dist, got_sums, got_weights = guess.copy(), np.empty(n), np.full((k, d), np.nan), np.empty(k)
        partial = np.zeros((k, d))
        kernel(
            X.data, X.indices, X.indptr, row_sq, w, centers_t, center_sq, got_labels, got_dist, bounds,
            got_sums, got_weights, partial,
        )
        for got, want in zip((got_labels, got_dist, got_sums, got_weights), expected, strict=True):
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
        assert not partial.any()
