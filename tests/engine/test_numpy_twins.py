"""NumPy twins against the compiled serial kernels: the same bits in every output, on many shapes.

Every array argument is compared after the call (IN arrays unchanged, OUT and INOUT written alike),
bit for bit (-0.0 is not 0.0), and so is the return value.
"""

import itertools

import numpy as np
import pytest

from kmeanskit._algorithms.rows import n_slabs, slab_bounds
from kmeanskit._engine.assign import (
    assign_accumulate_chunked_gemm,
    assign_accumulate_direct,
    weighted_sq_distances_dense,
)
from kmeanskit._engine.blas import matmul_into
from kmeanskit._engine.moments import mean_and_variances
from kmeanskit._engine.numpy_twins import slab_sums_in_order
from kmeanskit._engine.seeding import (
    GROUP,
    candidate_potentials_dense,
    candidate_potentials_direct,
    draw_rows,
    greedy_rounds_dense,
    greedy_rounds_direct,
    lower_closest,
    update_closest_direct,
    weighted_slab_sums,
)
from kmeanskit._engine.serial import numpy_twin_of, serial_twin

SIZES = [(1, 1, 1), (2, 3, 2), (7, 4, 3), (150, 4, 3), (178, 13, 3), (257, 2, 8), (1000, 5, 20), (3000, 40, 5)]
DTYPES = [np.float64, np.float32]


def assert_same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


def run_both(kernel, *args):
    """Call the compiled serial kernel and the NumPy twin on copies of ``args``; compare everything."""
    twin = numpy_twin_of(kernel)
    assert twin is not None, kernel
    compiled_args, numpy_args = ([a.copy() if isinstance(a, np.ndarray) else a for a in args] for _ in range(2))
    expected = serial_twin(kernel)(*compiled_args)
    got = twin(*numpy_args)
    for a, b in zip(compiled_args, numpy_args, strict=True):
        if isinstance(a, np.ndarray):
            assert_same_bits(a, b)
    assert got == expected


def _bounds(n):
    """Several slab layouts of n rows: one slab, the fits' own, and many short ones."""
    return [slab_bounds(n, s) for s in sorted({1, n_slabs(n), min(n, 5), min(n, 64)})]


def _data(n, d, dtype, seed, ties):
    rng = np.random.default_rng(seed)
    if ties:  # few distinct values: equal rows, equal scores
        return rng.integers(-2, 3, size=(n, d)).astype(dtype)
    return (rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d) + 3.0).astype(dtype)


def _weights(n, dtype, kind, seed):
    if kind == "unit":
        return np.ones(1, dtype=dtype)
    return np.random.default_rng(seed).uniform(0.0, 3.0, size=n).astype(dtype)


def _cases():
    for (n, d, k), dtype, ties in itertools.product(SIZES, DTYPES, (False, True)):
        yield n, d, k, dtype, ties


@pytest.mark.parametrize("update", [True, False])
def test_assign_accumulate_direct(update):
    for seed, (n, d, k, dtype, ties) in enumerate(_cases()):
        X = _data(n, d, dtype, seed, ties)
        centers = X[np.random.default_rng(seed).integers(0, n, size=k)].copy()
        for weights, bounds in itertools.product(("unit", "rows"), _bounds(n)):
            w = _weights(n, dtype, weights, seed)
            S = bounds.shape[0] - 1

            rng = np.random.default_rng(seed)
            run_both(assign_accumulate_direct, X, w, centers, np.ascontiguousarray(centers.T),
                     np.einsum("ij,ij->i", centers, centers), np.full(n, -1, dtype=np.int32),
                     np.full(n, np.nan), rng.normal(size=(S, k, d)), rng.normal(size=(S, k)), bounds, update)


@pytest.mark.parametrize("update", [True, False])
def test_assign_accumulate_chunked_gemm(update):
    for seed, (n, d, k, dtype, ties) in enumerate(_cases()):
        X = _data(n, d, dtype, seed, ties)
        centers = X[np.random.default_rng(seed).integers(0, n, size=k)].copy()
        for weights, bounds, chunk in itertools.product(("unit", "rows"), _bounds(n), (1, 7, 256)):
            S = bounds.shape[0] - 1
            rng = np.random.default_rng(seed)
            run_both(assign_accumulate_chunked_gemm, X, _weights(n, dtype, weights, seed), centers,
                     np.ascontiguousarray(centers.T), np.einsum("ij,ij->i", centers, centers),
                     np.full(n, -1, dtype=np.int32), np.full(n, np.nan), rng.normal(size=(S, k, d)),
                     rng.normal(size=(S, k)), bounds, chunk, update)


def test_weighted_sq_distances_dense():
    for seed, (n, d, k, dtype, ties) in enumerate(_cases()):
        X = _data(n, d, dtype, seed, ties)
        rng = np.random.default_rng(seed)
        centers = _data(k, d, dtype, seed + 1, ties)
        labels = rng.integers(0, k, size=n).astype(np.int32)
        for weights, bounds in itertools.product(("unit", "rows"), _bounds(n)):
            w = _weights(n, dtype, weights, seed)
            run_both(weighted_sq_distances_dense, X, w, centers, labels, bounds, np.full(bounds.shape[0] - 1, np.nan))


def test_mean_and_variances():
    for seed, (n, d, _, dtype, ties) in enumerate(_cases()):
        X = _data(n, d, dtype, seed, ties)
        if ties:
            X[:, 0] = -0.0  # an all -0.0 column: the kernel's sums start at 0.0
        run_both(mean_and_variances, X, np.full(d, np.nan), np.full(d, np.nan))


def _seeding_problem(n, d, dtype, seed, ties):
    rng = np.random.default_rng(seed)
    X = _data(n, d, dtype, seed, ties)
    w = rng.uniform(0.0, 3.0, size=n).astype(dtype)
    w[:: 7] = 0
    closest = rng.uniform(0, 4 * d, size=n)
    closest[rng.random(n) < 0.1] = np.inf  # rows no center reached yet
    closest[:: 11] = 0.0
    return X, w, closest


def test_candidate_potentials_direct():
    for seed, (n, d, _, dtype, ties) in enumerate(_cases()):
        X, w, closest = _seeding_problem(n, d, dtype, seed, ties)
        for t in (1, 3, GROUP + 1):
            candidates = X[np.random.default_rng(seed).integers(0, n, size=t)].astype(np.float64)
            cand_t = np.zeros((d, -(-t // GROUP) * GROUP))
            cand_t[:, :t] = candidates.T
            for bounds, chunk in itertools.product(_bounds(n), (1, 64)):
                run_both(candidate_potentials_direct, X, w, closest, cand_t, bounds, chunk,
                         np.full((bounds.shape[0] - 1, t), np.nan))


@pytest.mark.parametrize("keep", [True, False])
def test_update_closest_direct(keep):
    for seed, (n, d, _, dtype, ties) in enumerate(_cases()):
        X, w, closest = _seeding_problem(n, d, dtype, seed, ties)
        center = X[n // 2].astype(np.float64)
        for bounds in _bounds(n):
            run_both(update_closest_direct, X, w, center, closest, 3,
                     np.full(n if keep else 0, 7, dtype=np.int32), bounds,
                     np.full(bounds.shape[0] - 1, np.nan))


def test_candidate_potentials_dense():
    for seed, (n, d, _, dtype, ties) in enumerate(_cases()):
        X, w, closest = _seeding_problem(n, d, dtype, seed, ties)
        X64 = X.astype(np.float64)
        x_sq = np.einsum("ij,ij->i", X64, X64)
        for t in (1, 4):
            candidates = X[np.random.default_rng(seed).integers(0, n, size=t)]
            c64 = candidates.astype(np.float64)
            cand_t = np.ascontiguousarray(candidates.T)
            cand_sq = np.einsum("ij,ij->i", c64, c64)
            for bounds, chunk, n_kept in itertools.product(_bounds(n), (3, 4096), (0, n // 2, n)):
                run_both(candidate_potentials_dense, X, x_sq, w, closest, cand_t, cand_sq,
                         bounds, chunk, np.full((bounds.shape[0] - 1, t), np.nan),
                         np.full((t, n_kept), 5, dtype=dtype))


@pytest.mark.parametrize("keep", [True, False])
def test_lower_closest(keep):
    for seed, (n, d, _, dtype, ties) in enumerate(_cases()):
        X, w, closest = _seeding_problem(n, d, dtype, seed, ties)
        X64 = X.astype(np.float64)
        x_sq = np.einsum("ij,ij->i", X64, X64)
        center = X[n // 3].copy()
        c64 = center.astype(np.float64)
        dots = X @ center
        for bounds, n_kept in itertools.product(_bounds(n), (0, n // 2, n)):
            run_both(lower_closest, X, w, x_sq, center, float(c64 @ c64), dots[:n_kept],
                     closest, 2, np.full(n if keep else 0, 7, dtype=np.int32), bounds,
                     np.full(bounds.shape[0] - 1, np.nan))


def test_weighted_slab_sums():
    for seed, (n, _, _, dtype, _) in enumerate(_cases()):
        _, w, closest = _seeding_problem(n, 2, dtype, seed, False)
        closest[np.isinf(closest)] = 1.5
        for weights, bounds in itertools.product(("unit", "rows"), _bounds(n)):
            w_arg = np.ones(1, dtype=dtype) if weights == "unit" else w
            run_both(weighted_slab_sums, w_arg, closest, bounds, np.full(bounds.shape[0] - 1, np.nan))


def test_draw_rows():
    for seed, (n, _, _, dtype, _) in enumerate(_cases()):
        _, w, closest = _seeding_problem(n, 2, dtype, seed, False)
        closest[np.isinf(closest)] = 2.5
        for bounds in _bounds(n):
            sums = np.empty(bounds.shape[0] - 1)
            serial_twin(weighted_slab_sums)(w, closest, bounds, sums)
            total = 0.0
            for value in sums:
                total += value
            rng = np.random.default_rng(seed)
            # Uniform draws, the ends, and a draw past the total (rounding): the last row.
            rand_vals = np.concatenate([rng.uniform(size=9) * total, [0.0, total, total * (1 + 1e-12)]])
            run_both(draw_rows, w, closest, bounds, sums, rand_vals,
                     np.full(rand_vals.shape[0], -5, dtype=np.int64))


@pytest.mark.parametrize("keep", [True, False])
def test_greedy_rounds_dense(keep):
    for seed, (n, d, k, dtype, ties) in enumerate(_cases()):
        X, w, _ = _seeding_problem(n, d, dtype, seed, ties)
        w[0] = 1.0  # the first center's row
        X64 = X.astype(np.float64)
        x_sq = np.einsum("ij,ij->i", X64, X64)
        rng = np.random.default_rng(seed)
        for bounds, chunk, n_kept, t in itertools.product(_bounds(n), (3, 4096), (0, n // 2, n), (2, 5)):
            # The state after the first center (row 0), as greedy_plusplus leaves it.
            closest, sums = np.full(n, np.inf), np.empty(bounds.shape[0] - 1)
            nearest = np.full(n if keep else 0, 7, dtype=np.int32)
            serial_twin(lower_closest)(X, w, x_sq, X[0], float(X64[0] @ X64[0]), X[0, :0], closest, 0, nearest,
                                       bounds, sums)
            potential = 0.0
            for value in sums:
                potential += value
            centers = np.full((k, d), np.nan, dtype=dtype)
            centers[0] = X[0]
            indices = np.full(k, -1, dtype=np.int64)
            indices[0] = 0
            run_both(greedy_rounds_dense, X, x_sq, w, closest, nearest, bounds, sums, chunk,
                     np.full((t, n_kept), 5, dtype=dtype), rng.uniform(size=(k - 1, t)), potential, centers, indices)


@pytest.mark.parametrize("keep", [True, False])
def test_greedy_rounds_direct(keep):
    for seed, (n, d, k, dtype, ties) in enumerate(_cases()):
        X, w, _ = _seeding_problem(n, d, dtype, seed, ties)
        w[0] = 1.0  # the first center's row
        rng = np.random.default_rng(seed)
        for bounds, t in itertools.product(_bounds(n), (2, 3, 4, 5, GROUP + 1)):
            # The state after the first center (row 0), as greedy_plusplus leaves it.
            closest, sums = np.full(n, np.inf), np.empty(bounds.shape[0] - 1)
            nearest = np.full(n if keep else 0, 7, dtype=np.int32)
            serial_twin(update_closest_direct)(X, w, X[0].astype(np.float64), closest, 0, nearest, bounds, sums)
            potential = 0.0
            for value in sums:
                potential += value
            centers = np.full((k, d), np.nan, dtype=dtype)
            centers[0] = X[0]
            indices = np.full(k, -1, dtype=np.int64)
            indices[0] = 0
            run_both(greedy_rounds_direct, X, w, closest, nearest, bounds, sums, rng.uniform(size=(k - 1, t)),
                     potential, centers, indices)


def test_matmul_into():
    # numba calls gemm, gemv for one column or one row, dot for one of each, and writes zeros when empty.
    shapes = [(1, 5, 3), (6, 5, 1), (1, 7, 1), (0, 3, 2), (4, 0, 2), (3, 2, 0)]
    extra = [(m, p, n, dtype, False) for (m, p, n), dtype in itertools.product(shapes, DTYPES)]
    for seed, (n, d, k, dtype, ties) in enumerate([*_cases(), *extra]):
        a = _data(n, d, dtype, seed, ties)
        b = np.ascontiguousarray(_data(k, d, dtype, seed + 1, ties).T)
        run_both(matmul_into, a, b, np.full((n, k), np.nan, dtype=dtype))


def test_slab_sums_in_order_adds_each_slab_first_to_last_from_zero():
    values = np.array([1e16, 1.0, -1e16, 1.0, -0.0, -0.0, 3.0])
    bounds = np.array([0, 3, 4, 6, 7])
    expected = []
    for s in range(4):
        acc = 0.0
        for v in values[bounds[s]:bounds[s + 1]]:
            acc += v
        expected.append(acc)
    got = slab_sums_in_order(values, bounds)
    assert_same_bits(got, np.array(expected))
    assert got[0] == 0.0 and not np.signbit(got[2])  # (1e16 + 1) - 1e16 in order; a -0.0 slab sums to 0.0
    pairs = slab_sums_in_order(np.column_stack([values, 2 * values]), bounds)
    assert_same_bits(pairs[:, 1], 2 * np.array(expected))
