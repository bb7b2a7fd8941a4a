"""The K-Medians kernels against plain NumPy references."""

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

from . import reference


def _medians(X, w, labels, k, centers=None):
    """Run the kernel as ManhattanStep does."""
    order = np.argsort(labels, kind="stable").astype(np.int64)
    starts = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(labels, minlength=k), out=starts[1:])
    out = np.zeros((k, X.shape[1]), dtype=X.dtype) if centers is None else centers.copy()
    filled = np.empty(k, dtype=np.bool_)
    weighted_medians(X, w, order, starts, out, filled)
    return out, filled


def _problem(dtype, n=301, d=5, k=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    centers = X[rng.choice(n, k, replace=False)] + rng.normal(scale=0.1, size=(k, d)).astype(dtype)
    return X, w, np.ascontiguousarray(centers, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_slabs", [1, 3])
def test_assign_l1_matches_reference(dtype, n_slabs):
    X, _, centers = _problem(dtype)
    bounds = slab_bounds(X.shape[0], n_slabs)
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    dist = np.full(X.shape[0], np.nan)
    assign_l1(X, centers, labels, dist, bounds)
    D = reference.l1_distances(X, centers)
    np.testing.assert_array_equal(labels, D.argmin(axis=1))
    np.testing.assert_allclose(dist, D.min(axis=1), rtol=1e-12)


def test_assign_l1_first_index_on_ties():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    centers = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # all at L1 distance 1 from row 0
    labels = np.empty(2, dtype=np.int32)
    dist = np.empty(2)
    assign_l1(X, centers, labels, dist, slab_bounds(2, 1))
    assert labels.tolist() == [0, 0]
    assert dist.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_l1_distances_and_inertia_match_reference(dtype):
    X, w, centers = _problem(dtype)
    bounds = slab_bounds(X.shape[0], 4)
    out = np.empty((X.shape[0], centers.shape[0]), dtype=dtype)
    l1_distances(X, centers, bounds, out)
    D = reference.l1_distances(X, centers)
    np.testing.assert_allclose(out, D, rtol=1e-6 if dtype == np.float32 else 1e-12)
    labels = np.random.RandomState(1).randint(0, centers.shape[0], size=X.shape[0]).astype(np.int32)
    partial = np.empty(4)
    weighted_l1_distances(X, w, centers, labels, bounds, partial)
    expected = reference.weighted_l1_distances(X, w, centers, labels, bounds).sum()
    np.testing.assert_allclose(partial.sum(), expected, rtol=1e-12)


def test_seeding_kernels_match_reference():
    X, w, centers = _problem(np.float64)
    bounds = slab_bounds(X.shape[0], 3)
    closest = np.full(X.shape[0], np.inf)
    sums = np.empty(3)
    update_closest_l1(X, w, centers[0], closest, bounds, sums)
    update_closest_l1(X, w, centers[1], closest, bounds, sums)
    D = reference.l1_distances(X, centers)
    np.testing.assert_allclose(closest, D[:, :2].min(axis=1), rtol=1e-12)
    np.testing.assert_allclose(sums, reference.weighted_slab_sums(w, closest, bounds), rtol=1e-12)
    out = np.empty((3, 5))
    candidate_potentials_l1(X, w, closest, centers[2:], bounds, out)
    expected = reference.candidate_potentials_l1(X, w, closest, centers[2:])
    np.testing.assert_allclose(out.sum(axis=0), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("values", "weights", "expected"),
    [
        ([3.0, 1.0, 2.0], [1, 1, 1], 2.0),  # odd count: the middle value
        ([4.0, 1.0, 3.0, 2.0], [1, 1, 1, 1], 2.0),  # even count: the lower middle value
        ([1.0, 2.0, 3.0], [1, 1, 5], 3.0),  # a heavy value wins
        ([1.0, 2.0, 3.0, 4.0], [3, 0, 0, 3], 1.0),  # exactly half reached at 1
        ([1.0, 2.0, 3.0, 4.0], [0, 1, 1, 0], 2.0),  # zero weights are never chosen alone
        ([2.0, 2.0, 2.0, 5.0], [1, 1, 1, 1], 2.0),  # ties are one value
        ([5.0, 2.0, 5.0, 5.0, 1.0], [1, 1, 1, 1, 1], 5.0),
        ([7.0], [0.25], 7.0),
    ],
)
def test_weighted_median_small_cases(values, weights, expected):
    X = np.asarray(values, dtype=np.float64)[:, None]
    w = np.asarray(weights, dtype=np.float64)
    labels = np.zeros(len(values), dtype=np.int64)
    centers, filled = _medians(X, w, labels, 1)
    assert filled.tolist() == [True]
    assert centers[0, 0] == expected == reference.weighted_median(values, weights)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n", [40, 41])
def test_weighted_medians_match_reference(dtype, weighted, n):
    rng = np.random.RandomState(n)
    k, d = 4, 6
    X = rng.randint(0, 7, size=(n, d)).astype(dtype)  # many ties
    w = (rng.randint(0, 5, size=n) if weighted else np.ones(n)).astype(dtype)
    labels = np.arange(n) % k  # clusters of 10/11 rows: even and odd counts
    rng.shuffle(labels)
    centers, filled = _medians(X, w, labels, k)
    for j in range(k):
        members = labels == j
        assert filled[j] == (w[members].sum() > 0)
        for f in range(d):
            assert centers[j, f] == reference.weighted_median(X[members, f], w[members])
    assert centers.dtype == dtype


def test_weighted_median_minimises_the_weighted_l1_cost():
    rng = np.random.RandomState(3)
    v = rng.normal(size=51)
    u = rng.uniform(0, 3, size=51)
    centers, _ = _medians(v[:, None], u, np.zeros(51, dtype=np.int64), 1)
    cost = lambda m: float((u * np.abs(v - m)).sum())  # noqa: E731
    assert cost(centers[0, 0]) <= min(cost(m) for m in v) + 1e-12


def test_clusters_without_weight_keep_their_center():
    X = np.arange(8, dtype=np.float64).reshape(4, 2)
    w = np.array([1.0, 1.0, 0.0, 0.0])
    labels = np.array([0, 0, 1, 1])
    previous = np.full((3, 2), 42.0)
    centers, filled = _medians(X, w, labels, 3, centers=previous)
    assert filled.tolist() == [True, False, False]
    np.testing.assert_array_equal(centers[1:], previous[1:])
    np.testing.assert_array_equal(centers[0], [0.0, 1.0])


def _random_columns(rng, dtype, n_clusters, d):
    """Clusters of varied sizes (1 to a few thousand rows) with many ties and zero weights."""
    sizes = np.concatenate([[1, 2, 3, 16, 17, 33], rng.randint(1, 400, size=n_clusters - 8), [2000, 3001]])
    labels = np.repeat(np.arange(sizes.size), sizes)
    rng.shuffle(labels)
    n = labels.size
    X = rng.randint(-20, 21, size=(n, d)).astype(dtype)  # ties, and +0.0
    X[:, 0] = rng.normal(size=n)  # (almost) no ties
    X[:, 1] = rng.randint(0, 3, size=n)  # long runs of equal values
    X[:, 2] *= 0.25
    X[rng.uniform(size=(n, d)) < 0.05] = -0.0
    return X.astype(dtype), labels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["unit", "integer", "dyadic", "uniform"])
def test_weighted_medians_randomized_against_reference(dtype, weights):
    rng = np.random.RandomState(hash((np.dtype(dtype).name, weights)) % 2**31)
    k, d = 60, 5
    X, labels = _random_columns(rng, dtype, k, d)
    n = X.shape[0]
    if weights == "unit":
        w = np.ones(n)
    elif weights == "integer":
        w = rng.randint(0, 4, size=n)  # a quarter of the weights are zero
    elif weights == "dyadic":
        w = rng.randint(0, 9, size=n) * 0.125
    else:
        w = rng.uniform(0, 2, size=n) * (rng.uniform(size=n) > 0.3)
    w = w.astype(dtype)
    w[labels == 5] = 0.0  # one cluster without weight
    previous = np.full((k, d), 7.5, dtype=dtype)
    centers, filled = _medians(X, w, labels, k, centers=previous)
    assert centers.dtype == dtype
    for j in range(k):
        members = labels == j
        assert filled[j] == (w[members].sum() > 0)
        for f in range(d):
            if not filled[j]:
                assert centers[j, f] == previous[j, f]
                continue
            expected = reference.weighted_median(X[members, f], w[members])
            assert centers[j, f] == expected, (j, f)
            if expected == 0:  # the zero a stable sort reaches first, with its sign
                v, u = X[members, f].astype(np.float64), w[members].astype(np.float64)
                order = np.argsort(v, kind="stable")
                at = np.searchsorted(np.cumsum(u[order]), 0.5 * u.sum(), side="left")
                assert np.signbit(centers[j, f]) == np.signbit(v[order][at]), (j, f)


@pytest.mark.parametrize(
    "column",
    [
        np.arange(5000.0),  # sorted
        np.arange(5000.0)[::-1].copy(),  # reversed
        np.concatenate([np.arange(2500.0), np.arange(2500.0)[::-1]]),  # organ pipe
        np.tile(np.arange(50.0), 100),  # sawtooth
        np.full(5000, 3.0),  # all equal
        np.where(np.arange(5000) % 2 == 0, 1.0, np.arange(5000.0)),  # half equal to one value
    ],
)
@pytest.mark.parametrize("heavy", [None, 0, -1])
def test_weighted_median_structured_columns(column, heavy):
    w = np.ones(column.size)
    if heavy is not None:  # push the median to an end of the column
        w[heavy] = column.size
    centers, _ = _medians(column[:, None], w, np.zeros(column.size, dtype=np.int64), 1)
    assert centers[0, 0] == reference.weighted_median(column, w)


@pytest.mark.parametrize("m", [1, 5, 16, 17, 200])
def test_sorted_fallback_matches_reference(m):
    from kmeanskit._engine.manhattan import _sorted_lower_median

    rng = np.random.RandomState(m)
    for _ in range(20):
        v = rng.randint(0, 6, size=m).astype(np.float64)
        u = rng.randint(0, 3, size=m).astype(np.float64)
        u[0] += 1.0
        below = float(rng.randint(0, int(u.sum())))  # the caller keeps below < half
        half = 0.5 * (u.sum() + below)
        # The reference sees the weight below as one value under every candidate.
        expected = reference.weighted_median(np.r_[-np.inf, v], np.r_[below, u])
        assert _sorted_lower_median(v.copy(), u.copy(), 0, m, below, half) == expected


def test_weighted_medians_do_not_depend_on_the_thread_count():
    import numba

    rng = np.random.RandomState(11)
    X, labels = _random_columns(rng, np.float64, 20, 6)
    w = rng.uniform(0, 1, size=X.shape[0]) * (rng.uniform(size=X.shape[0]) > 0.2)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, _ = _medians(X, w, labels, 20)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many, _ = _medians(X, w, labels, 20)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.view(np.int64), many.view(np.int64))
