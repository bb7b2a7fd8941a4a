"""The group-bounded step's kernels (Yinyang k-means) against their NumPy references."""

import numba
import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._algorithms.yinyang import center_groups
from kmeanskit._engine.serial import serial_twin
from kmeanskit._engine.yinyang import group_half_sep, yinyang_assign_accumulate

from . import reference


def _pass(X, w, centers, state, fresh, drift, update=True, kernel=yinyang_assign_accumulate):
    """One kernel call over 3 slabs; returns the per-slab sums, weights, recomputed and changed counts."""
    members, group_starts, group_of = state["groups"]
    k, d = centers.shape
    centers64 = centers.astype(np.float64)
    half_sep = np.empty(k)
    group_half_sep(centers64, members, group_starts, group_of, half_sep)
    bounds = slab_bounds(X.shape[0], 3)
    sums, wsums = np.zeros((3, k, d)), np.zeros((3, k))
    recomputed, changed = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
    norms = np.linalg.norm(centers64, axis=1)
    kernel(
        X, w, centers, np.ascontiguousarray(centers.T), np.einsum("ij,ij->i", centers, centers), state["labels"],
        state["sq_dist"], state["lower"], state["group_lower"], state["stamps"], state["cum"].shape[0] - 1,
        state["cum"], drift, half_sep, members, group_starts, group_of, 1e-6, norms, float(norms.max()), fresh,
        sums, wsums, bounds, update, recomputed, changed,
    )
    return sums, wsums, recomputed, changed, bounds


def _state(n, groups):
    t = groups[1].shape[0] - 1
    return {
        "groups": groups, "labels": np.zeros(n, dtype=np.int32), "sq_dist": np.empty(n),
        "lower": np.empty(n, dtype=np.float32), "group_lower": np.empty((n, t), dtype=np.float32),
        "stamps": np.zeros(n, dtype=np.int32), "cum": np.zeros((1, t)),
    }


def _check(X, centers, state):
    members, group_starts, _ = state["groups"]
    labels, sq_dist, group_min = reference.yinyang_assign_accumulate(X, centers, members, group_starts)
    np.testing.assert_array_equal(state["labels"], labels)
    np.testing.assert_allclose(state["sq_dist"], sq_dist, rtol=1e-12)
    assert np.all(state["lower"] <= group_min.min(axis=1))  # valid lower bounds
    return group_min


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_against_reference(dtype):
    rng = np.random.default_rng(0)
    n, d, k = 600, 3, 40
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.uniform(0.5, 2, size=n).astype(dtype)
    centers = X[:k].copy()
    groups = center_groups(centers.astype(np.float64), 6)
    state = _state(n, groups)
    sums, wsums, recomputed, changed, bounds = _pass(X, w, centers, state, True, np.zeros(k))
    group_min = _check(X, centers, state)
    # Group bounds after a fresh pass: valid, and tight (within the scores' rounding).
    assert np.all(state["group_lower"] <= group_min)
    assert np.all(state["group_lower"] >= 0.999 * group_min - 1e-3)
    assert recomputed.sum() == n
    expected_sums, expected_weights = np.zeros((3, k, d)), np.zeros((3, k))
    reference.accumulate(expected_sums, expected_weights, X, w, state["labels"], bounds)
    np.testing.assert_array_equal(sums, expected_sums)  # row order: the same bits
    np.testing.assert_array_equal(wsums, expected_weights)

    # The same centers again: the bounds keep every row but the nearly tied ones.
    state["cum"] = np.vstack([state["cum"], state["cum"][-1]])
    _, _, recomputed, changed, _ = _pass(X, w, centers, state, False, np.zeros(k))
    _check(X, centers, state)
    assert recomputed.sum() < n // 10
    assert changed.sum() == 0

    # Moved centers, passes apart: each group's bound drops by its largest drift per pass.
    for _ in range(3):
        moved = (centers + rng.normal(scale=0.05, size=centers.shape)).astype(dtype)
        diff = moved.astype(np.float64) - centers.astype(np.float64)
        drift = np.sqrt((diff**2).sum(axis=1))
        members, group_starts, _ = groups
        state["cum"] = np.vstack([state["cum"], state["cum"][-1] + np.maximum.reduceat(drift[members], group_starts[:-1])])
        centers = moved
        _, _, recomputed, _, _ = _pass(X, w, centers, state, False, drift)
        group_min = _check(X, centers, state)
        fresh_rows = state["stamps"] == state["cum"].shape[0] - 1
        assert np.all(state["group_lower"][fresh_rows] <= group_min[fresh_rows])
        assert 0 < recomputed.sum() < n


def test_kernel_same_bits_serial_and_two_threads():
    rng = np.random.default_rng(1)
    n, d, k = 3000, 2, 64
    X = rng.uniform(size=(n, d))
    centers = X[:k].copy()
    groups = center_groups(centers, 7)
    results = []
    before = numba.get_num_threads()
    try:
        for kernel, threads in ((serial_twin(yinyang_assign_accumulate), 1), (yinyang_assign_accumulate, 1),
                                (yinyang_assign_accumulate, 2)):
            numba.set_num_threads(threads)
            state = _state(n, groups)
            sums, wsums, *_ = _pass(X, np.ones(1), centers, state, True, np.zeros(k), kernel=kernel)
            results.append((state["labels"], state["sq_dist"], state["group_lower"], sums, wsums))
    finally:
        numba.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_group_half_sep_bounds_half_the_nearest_distance():
    rng = np.random.default_rng(2)
    centers = rng.normal(size=(200, 4))
    members, group_starts, group_of = center_groups(centers, 20)
    half_sep = np.empty(200)
    group_half_sep(centers, members, group_starts, group_of, half_sep)
    exact = reference.group_half_sep(centers)
    assert np.all(half_sep <= exact)
    # Exact (up to the widening) where every other group is farther than the nearest center: far clouds.
    clouds = np.vstack([rng.normal(loc=100 * g, size=(10, 4)) for g in range(10)])
    groups = center_groups(clouds, 10)
    half_sep = np.empty(100)
    group_half_sep(clouds, *groups, half_sep)
    np.testing.assert_allclose(half_sep, reference.group_half_sep(clouds), rtol=1e-9)
    one = np.empty(1)
    group_half_sep(centers[:1], np.zeros(1, dtype=np.int64), np.array([0, 1]), np.zeros(1, dtype=np.int64), one)
    assert one[0] == np.inf  # no other center


def test_center_groups_partition_the_centers():
    rng = np.random.default_rng(3)
    centers = np.vstack([rng.normal(loc=10 * g, size=(15, 2)) for g in range(4)])
    members, group_starts, group_of = center_groups(centers, 4)
    np.testing.assert_array_equal(np.sort(members), np.arange(60))
    assert group_starts[0] == 0 and group_starts[-1] == 60
    for g in range(len(group_starts) - 1):
        part = members[group_starts[g]:group_starts[g + 1]]
        assert np.all(np.diff(part) > 0)  # each group in index order
        assert np.all(group_of[part] == g)
    # Four far-apart clouds: four groups, one per cloud.
    assert sorted(np.bincount(group_of).tolist()) == [15, 15, 15, 15]
    assert len({tuple(group_of[15 * c:15 * (c + 1)]) for c in range(4)}) == 4
