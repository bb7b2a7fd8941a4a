"""The K-Prototypes / K-Modes kernels against plain NumPy references."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.mixed import (
    assign_mixed,
    candidate_potentials_mixed,
    mixed_costs,
    update_closest_mixed,
    weighted_mixed_costs,
)
from kmeanskit._engine.serial import serial_twin

from . import reference

GAMMA = 0.7


def _problem(n=401, p=3, levels=(2, 5, 3), k=6, seed=0):
    rng = np.random.RandomState(seed)
    num = rng.normal(size=(n, p))
    cat = np.column_stack([rng.randint(0, m, n) for m in levels]).astype(np.int32)
    w = rng.uniform(0.5, 2.0, size=n)
    picks = rng.choice(n, k, replace=False)
    centers_num = num[picks] + rng.normal(scale=0.1, size=(k, p))
    modes = np.ascontiguousarray(cat[picks])
    offsets = np.zeros(len(levels) + 1, dtype=np.int64)
    np.cumsum(levels, out=offsets[1:])
    return num, cat, w, centers_num, modes, offsets


def _assign(num, cat, w, centers_num, modes, offsets, bounds, kernel=assign_mixed, update=True):
    k, s = centers_num.shape[0], len(bounds) - 1
    labels = np.full(num.shape[0], -1, dtype=np.int32)
    cost = np.full(num.shape[0], np.nan)
    slab_cost, changed = np.empty(s), np.empty(s, dtype=np.int64)
    acc = np.full((s, k, num.shape[1] + int(offsets[-1])), np.nan)
    weights = np.full((s, k), np.nan)
    kernel(num, cat, w, centers_num, modes, GAMMA, offsets, bounds, update, labels, cost, slab_cost, changed, acc,
           weights)
    return labels, cost, slab_cost, changed, acc, weights


@pytest.mark.parametrize("n_slabs", [1, 4])
@pytest.mark.parametrize("p", [0, 3])
def test_assign_mixed_matches_reference(n_slabs, p):
    num, cat, w, centers_num, modes, offsets = _problem()
    num, centers_num = np.ascontiguousarray(num[:, :p]), np.ascontiguousarray(centers_num[:, :p])
    bounds = slab_bounds(num.shape[0], n_slabs)
    labels, cost, slab_cost, changed, acc, weights = _assign(num, cat, w, centers_num, modes, offsets, bounds)
    ref_labels, ref_cost, ref_slab_cost, ref_acc, ref_weights = reference.assign_mixed(
        num, cat, w, centers_num, modes, GAMMA, offsets, bounds
    )
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(cost, ref_cost, rtol=1e-12)
    np.testing.assert_allclose(slab_cost, ref_slab_cost, rtol=1e-12)
    assert changed.sum() == num.shape[0]  # every label changed from -1
    # Sums added in row order within each slab: the same bits as the reference.
    assert acc.tobytes() == ref_acc.tobytes()
    assert weights.tobytes() == ref_weights.tobytes()


def test_assign_mixed_counts_changes_and_skips_accumulation_without_update():
    num, cat, w, centers_num, modes, offsets = _problem()
    bounds = slab_bounds(num.shape[0], 3)
    labels = _assign(num, cat, w, centers_num, modes, offsets, bounds)[0]
    labels[:10] = (labels[:10] + 1) % centers_num.shape[0]
    k, s = centers_num.shape[0], 3
    cost, slab_cost, changed = np.empty(num.shape[0]), np.empty(s), np.empty(s, dtype=np.int64)
    acc, weights = np.empty((0, k, 1)), np.empty((0, k))
    assign_mixed(num, cat, w, centers_num, modes, GAMMA, offsets, bounds, False, labels, cost, slab_cost, changed,
                 acc, weights)
    assert changed.sum() == 10


def test_assign_mixed_unit_weight_is_one_weight_for_every_row():
    num, cat, _, centers_num, modes, offsets = _problem()
    bounds = slab_bounds(num.shape[0], 3)
    one = _assign(num, cat, np.ones(1), centers_num, modes, offsets, bounds)
    ones = _assign(num, cat, np.ones(num.shape[0]), centers_num, modes, offsets, bounds)
    for a, b in zip(one, ones, strict=True):
        assert a.tobytes() == b.tobytes()


def test_assign_mixed_first_index_on_ties_and_unseen_codes_match_no_mode():
    num = np.zeros((2, 1))
    cat = np.array([[0], [-1]], dtype=np.int32)  # row 1: a category never seen at fit
    centers_num = np.array([[1.0], [-1.0], [0.0]])
    modes = np.array([[0], [0], [1]], dtype=np.int32)
    labels, cost, *_ = _assign(num, cat, np.ones(1), centers_num, modes, np.array([0, 2]), slab_bounds(2, 1),
                               update=False)
    # Row 0: costs 1, 1, 0 + gamma = 0.7 -> center 2. Row 1: 1 + g, 1 + g, g -> center 2.
    assert labels.tolist() == [2, 2]
    assert cost.tolist() == [GAMMA, GAMMA]
    num[0] = 0.0
    modes[2] = 0
    labels, cost, *_ = _assign(num, cat, np.ones(1), np.array([[1.0], [-1.0], [1.0]]), modes, np.array([0, 2]),
                               slab_bounds(2, 1), update=False)
    assert labels.tolist() == [0, 0]  # three equal costs: the first center


def test_serial_twin_gives_the_same_bits():
    num, cat, w, centers_num, modes, offsets = _problem()
    bounds = slab_bounds(num.shape[0], 4)
    a = _assign(num, cat, w, centers_num, modes, offsets, bounds)
    b = _assign(num, cat, w, centers_num, modes, offsets, bounds, kernel=serial_twin(assign_mixed))
    for x, y in zip(a, b, strict=True):
        assert x.tobytes() == y.tobytes()


def test_costs_and_inertia_match_reference():
    num, cat, w, centers_num, modes, _ = _problem()
    bounds = slab_bounds(num.shape[0], 4)
    out = np.empty((num.shape[0], centers_num.shape[0]))
    mixed_costs(num, cat, centers_num, modes, GAMMA, bounds, out)
    np.testing.assert_allclose(out, reference.mixed_costs(num, cat, centers_num, modes, GAMMA), rtol=1e-12)
    labels = np.random.RandomState(1).randint(0, centers_num.shape[0], size=num.shape[0]).astype(np.int32)
    partial = np.empty(4)
    weighted_mixed_costs(num, cat, w, centers_num, modes, GAMMA, labels, bounds, partial)
    expected = reference.weighted_mixed_costs(num, cat, w, centers_num, modes, GAMMA, labels, bounds)
    np.testing.assert_allclose(partial, expected, rtol=1e-12)


def test_seeding_kernels_match_reference():
    num, cat, w, centers_num, modes, _ = _problem()
    bounds = slab_bounds(num.shape[0], 3)
    closest = np.full(num.shape[0], np.inf)
    sums = np.empty(3)
    update_closest_mixed(num, cat, w, centers_num[0], modes[0], GAMMA, closest, bounds, sums)
    expected = reference.update_closest_mixed(np.full(num.shape[0], np.inf), num, cat, centers_num[0], modes[0], GAMMA)
    np.testing.assert_allclose(closest, expected, rtol=1e-12)
    np.testing.assert_allclose(sums, reference.weighted_slab_sums(w, closest, bounds), rtol=1e-12)
    out = np.empty((3, 5))
    candidate_potentials_mixed(num, cat, w, closest, centers_num[1:], modes[1:], GAMMA, bounds, out)
    np.testing.assert_allclose(
        out.sum(axis=0),
        reference.candidate_potentials_mixed(num, cat, w, closest, centers_num[1:], modes[1:], GAMMA),
        rtol=1e-12,
    )
