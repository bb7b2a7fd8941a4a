"""Kernels for data with repeated rows: distinct rows by bits, and the pass that expands them."""

import numpy as np
import pytest

from kmeanskit._engine.distinct import distinct_index, expand_accumulate, indexed_slab_sums
from kmeanskit._engine.seeding import draw_rows, draw_rows_indexed, weighted_slab_sums

from . import reference


def _as_bits(X):
    return X.view(np.uint64 if X.dtype == np.float64 else np.uint32)


def _distinct(X, max_distinct=None):
    n = X.shape[0]
    max_distinct = n if max_distinct is None else max_distinct
    index = np.full(n, -7, dtype=np.int32)
    first = np.full(max_distinct, -7, dtype=np.int64)
    n_distinct = distinct_index(_as_bits(X), max_distinct, index, first)
    return n_distinct, index, first[:max(n_distinct, 0)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 3, 8])
def test_distinct_rows_against_numpy_unique(d, dtype):
    rng = np.random.default_rng(d)
    values = rng.integers(0, 4, size=(3000, d)).astype(dtype) * dtype(0.25)
    n_distinct, index, first = _distinct(values)
    unique, first_ref = np.unique(_as_bits(values), axis=0, return_index=True)
    assert n_distinct == unique.shape[0]
    # Numbered in order of first appearance, each row's number pointing at its twin.
    np.testing.assert_array_equal(first, np.sort(first_ref))
    np.testing.assert_array_equal(values[first][index], values)
    assert index.min() == 0 and index.max() == n_distinct - 1
    assert np.all(np.diff(np.maximum.accumulate(index)) <= 1)


def test_distinct_rows_compare_bits():
    # -0.0 == 0.0 as numbers, not as bits: two rows (a finer split, still exact).
    X = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    n_distinct, index, first = _distinct(X)
    assert n_distinct == 3
    np.testing.assert_array_equal(index, [0, 1, 0, 2])
    np.testing.assert_array_equal(first, [0, 1, 3])


def test_distinct_rows_give_up_past_the_limit():
    X = np.arange(40, dtype=np.float64).reshape(20, 2)  # 20 distinct rows
    assert _distinct(X, max_distinct=19)[0] == -1
    assert _distinct(X, max_distinct=20)[0] == 20
    assert _distinct(np.repeat(X, 3, axis=0), max_distinct=20)[0] == 20


def test_distinct_rows_survive_hash_collisions():
    # Rows that differ only in low bits, many more than a small table's slots.
    base = np.full((5000, 2), 1.0)
    base[:, 1] = 1.0 + np.arange(5000) * np.finfo(np.float64).eps
    X = np.concatenate([base, base[::-1]])
    n_distinct, index, first = _distinct(X, max_distinct=5000)
    assert n_distinct == 5000
    np.testing.assert_array_equal(X[first][index], X)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_expand_accumulate_against_reference(weighted, dtype, d):
    rng = np.random.default_rng(1)
    distinct_X = rng.normal(size=(40, d)).astype(dtype)
    index = rng.integers(0, 40, size=900).astype(np.int32)
    X = distinct_X[index]
    centers = rng.normal(size=(5, d)).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=900).astype(dtype) if weighted else np.ones(1, dtype=dtype)
    bounds = np.array([0, 250, 251, 600, 900], dtype=np.int64)
    labels_ref, sq_ref, sums_ref, wsums_ref = reference.assign_accumulate(
        X, w if weighted else np.ones(900, dtype=dtype), centers, bounds
    )
    distinct_labels = labels_ref[np.unique(index, return_index=True)[1]]
    distinct_sq = sq_ref[np.unique(index, return_index=True)[1]]
    labels = labels_ref.copy()
    labels[::3] = (labels[::3] + 1) % 5  # the labels of an earlier pass
    sums, weight_sums = np.zeros((4, 5, d)), np.zeros((4, 5))
    changed = np.zeros(4, dtype=np.int64)
    parts = np.full(4, np.nan)
    expand_accumulate(X, w, index, distinct_labels, distinct_sq, labels, sums, weight_sums, bounds,
                      True, changed, parts)
    np.testing.assert_array_equal(labels, labels_ref)
    # The inertia's slab sums: the bits of the kernel that adds them from the distances.
    expected_parts = np.empty(4)
    weighted_slab_sums(w, sq_ref, bounds, expected_parts)
    assert parts.tobytes() == expected_parts.tobytes()
    np.testing.assert_allclose(sums, sums_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weight_sums, wsums_ref, rtol=1e-12)
    # Bit for bit the Lloyd kernels' sums: each slab adds w_i * x_i in row order.
    w_rows = w if weighted else np.ones(900, dtype=dtype)
    expected_sums, expected_weights = np.zeros((4, 5, d)), np.zeros((4, 5))
    reference.accumulate(expected_sums, expected_weights, X, w_rows, labels_ref, bounds)
    assert sums.tobytes() == expected_sums.tobytes()
    assert weight_sums.tobytes() == expected_weights.tobytes()
    expected_changed = [int(np.sum(np.arange(lo, hi) % 3 == 0)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    np.testing.assert_array_equal(changed, expected_changed)
    # A later block adds onto the sums so far (the step passes blocks in order).
    expand_accumulate(X, w, index, distinct_labels, distinct_sq, labels, sums, weight_sums, bounds,
                      True, changed, parts)
    reference.accumulate(expected_sums, expected_weights, X, w_rows, labels_ref, bounds)
    assert sums.tobytes() == expected_sums.tobytes()
    assert weight_sums.tobytes() == expected_weights.tobytes()
    # Without update the sums are left alone.
    before = sums.copy()
    expand_accumulate(X, w, index, distinct_labels, distinct_sq, labels, sums, weight_sums, bounds,
                      False, changed, np.empty(0))
    np.testing.assert_array_equal(sums, before)
    np.testing.assert_array_equal(changed, 0)


def test_indexed_slab_sums_and_draws_are_those_of_the_expanded_distances():
    rng = np.random.default_rng(3)
    index = rng.integers(0, 50, size=1200).astype(np.int32)
    distinct_closest = rng.uniform(0, 10, size=50)
    distinct_closest[7] = 0.0  # a chosen center's rows: never drawn
    w = rng.uniform(0.5, 2.0, size=1200)
    bounds = np.array([0, 1, 400, 1200], dtype=np.int64)
    slab_sums = np.full(3, np.nan)
    indexed_slab_sums(w, index, distinct_closest, bounds, slab_sums)
    # Per slab, in row order: the bits of the kernel that sums the expanded distances.
    closest = distinct_closest[index]
    expected = np.empty(3)
    weighted_slab_sums(w, closest, bounds, expected)
    assert slab_sums.tobytes() == expected.tobytes()
    rand_vals = rng.uniform(0, 1, size=200) * slab_sums.sum()
    rand_vals[:3] = [0.0, slab_sums[0], slab_sums.sum() * 2]  # the first row, a slab's end, past the total
    drawn, expected_drawn = np.empty(200, dtype=np.int64), np.empty(200, dtype=np.int64)
    draw_rows_indexed(w, index, distinct_closest, bounds, slab_sums, rand_vals, drawn)
    draw_rows(w, closest, bounds, slab_sums, rand_vals, expected_drawn)
    np.testing.assert_array_equal(drawn, expected_drawn)
    assert not np.any(index[drawn[3:]] == 7)
