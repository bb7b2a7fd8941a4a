"""The silhouette kernel against a plain NumPy reference, and the schedule it runs on."""

import numba
import numpy as np
import pytest

from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.serial import numpy_twin_of, serial_twin
from kmeanskit._engine.silhouette import cluster_distance_sums, round_robin_pairs

from . import reference


def _run(X, labels, tile, near):
    """The kernel on X whose rows are sorted by ``labels``; returns sums."""
    n_clusters = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=n_clusters)
    offsets = np.zeros(n_clusters + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    x_sq = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    sums = np.full((X.shape[0], n_clusters), np.nan)
    pairs = round_robin_pairs(-(-X.shape[0] // tile))
    with single_threaded_blas():
        cluster_distance_sums(X, x_sq, labels.astype(np.int64), offsets, tile, pairs, near, sums)
    return sums


def _sorted_problem(n, d, k, dtype, seed=0):
    rng = np.random.RandomState(seed)
    labels = np.sort(rng.randint(0, k, size=n))
    labels[:k] = np.arange(k)  # every cluster present
    labels.sort()
    centers = rng.normal(scale=3.0, size=(k, d))
    X = centers[labels] + rng.normal(size=(n, d))
    X -= X.mean(axis=0)
    return np.ascontiguousarray(X.astype(dtype)), labels


@pytest.mark.parametrize("n_tiles", [0, 1, 2, 3, 4, 7, 10])
def test_round_robin_covers_every_pair_once_and_no_tile_twice_per_round(n_tiles):
    pairs = round_robin_pairs(n_tiles)
    seen = []
    for round_pairs in pairs:
        real = round_pairs[round_pairs[:, 0] >= 0]
        tiles = real.ravel()
        assert tiles.size == np.unique(tiles).size  # no tile twice in a round: no race
        seen.extend(map(tuple, real))
    expected = {(a, b) for a in range(n_tiles) for b in range(a + 1, n_tiles)}
    assert len(seen) == len(expected) and set(seen) == expected


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("n, tile", [(1, 4), (7, 16), (50, 16), (203, 32), (130, 256)])
def test_matches_reference(dtype, rtol, n, tile):
    k = min(4, n)
    X, labels = _sorted_problem(n, 5, k, dtype)
    near = 2.0**-6 if dtype == np.float32 else 2.0**-20
    got = _run(X, labels, tile, near)
    want = reference.cluster_distance_sums(X, labels, k)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-9)


def test_duplicates_and_self_are_exactly_zero():
    # far from the origin in float32: the identity alone would give sqrt(noise) > 0
    rng = np.random.RandomState(1)
    base = rng.normal(size=(3, 4)) * 1e-3 + 100.0
    labels = np.array([0] * 40 + [1] * 40 + [2] * 40)
    X = base[labels].astype(np.float32)  # every row duplicates 39 others
    X = np.ascontiguousarray(X - X.mean(axis=0))
    sums = _run(X, labels, 16, 2.0**-6)
    own = sums[np.arange(X.shape[0]), labels]
    assert np.all(own == 0.0)
    want = reference.cluster_distance_sums(X, labels, 3)
    np.testing.assert_allclose(sums, want, rtol=1e-6)


def test_bitwise_identical_for_any_thread_count():
    X, labels = _sorted_problem(700, 6, 5, np.float32, seed=3)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            results.append(_run(X, labels, 32, 2.0**-6))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(results[0], results[1])


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("n, d, k", [(1, 3, 1), (2, 1, 1), (9, 2, 3), (150, 4, 3), (300, 13, 7)])
def test_numpy_twin_agrees_with_the_kernel_to_rounding(dtype, rtol, n, d, k):
    # Not bitwise: the kernel's sums are reassociated by LLVM (an order that depends on the CPU).
    X, labels = _sorted_problem(n, d, k, dtype, seed=n)
    X[n // 2 :: 7] = X[n // 2]  # duplicate rows: near pairs, exactly 0 apart
    near = 2.0**-6 if dtype == np.float32 else 2.0**-20
    counts = np.bincount(labels, minlength=k)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    x_sq = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    pairs = round_robin_pairs(-(-n // 32))
    want, got = np.full((n, k), np.nan), np.full((n, k), np.nan)
    with single_threaded_blas():
        serial_twin(cluster_distance_sums)(X, x_sq, labels.astype(np.int64), offsets, 32, pairs, near, want)
    numpy_twin_of(cluster_distance_sums)(X, x_sq, labels.astype(np.int64), offsets, 32, pairs, near, got)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(got, reference.cluster_distance_sums(X, labels, k), rtol=rtol, atol=1e-9)
