"""The mixed step (K-Prototypes, K-Modes) and its seeders."""

import numpy as np
import pytest

from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.mixed import MixedRows, MixedStep, cao_centers, huang_centers, mixed_plusplus_rows


def _rows(n=500, seed=0, weights=False, gamma=0.8):
    rng = np.random.RandomState(seed)
    num = rng.normal(size=(n, 2))
    cat = np.column_stack([rng.randint(0, 3, n), rng.randint(0, 4, n)]).astype(np.int32)
    w = rng.uniform(0.5, 2.0, n) if weights else None
    return MixedRows(num, cat, w, [3, 4], gamma)


def test_rows_take_and_split_keep_the_layout():
    rows = _rows()
    taken = rows.take([4, 1])
    assert taken.shape == (2, 4)
    np.testing.assert_array_equal(taken[:, :2], rows.num[[4, 1]])
    np.testing.assert_array_equal(taken[:, 2:], rows.cat[[4, 1]])
    num, modes = rows.split(taken)
    assert num.flags.c_contiguous and modes.dtype == np.int32
    np.testing.assert_array_equal(modes, rows.cat[[4, 1]])
    assert rows.level_offsets.tolist() == [0, 3, 7]


def test_empty_cluster_takes_the_farthest_row_with_its_values_and_levels():
    rows = _rows(n=50)
    step = MixedStep(rows, 3)
    centers = rows.take([0, 1, 2])
    centers[2, :2] = 1e6  # nothing is nearest: empty
    labels = step.new_labels()
    assignment = step(centers, labels)
    assert assignment.weights[2] == 0
    far = int(np.argmax(step.cost))
    new_centers, n_relocated = step.update_centers(centers, labels, assignment)
    assert n_relocated == 1
    np.testing.assert_array_equal(new_centers[2], rows.take([far])[0])
    # The moved row left its old cluster for this update only.
    old = labels[far]
    members = np.flatnonzero(labels == old)
    members = members[members != far]
    np.testing.assert_allclose(new_centers[old, :2], rows.num[members].mean(axis=0), rtol=1e-12)
    assert labels[far] == old  # labels themselves are not changed


def test_modes_break_ties_by_the_smallest_code():
    num = np.zeros((4, 0))
    cat = np.array([[2], [1], [1], [2]], dtype=np.int32)
    rows = MixedRows(num, cat, None, [3], 1.0)
    step = MixedStep(rows, 1)
    labels = step.new_labels()
    centers = np.array([[0.0]])
    new_centers, _ = step.update_centers(centers, labels, step(centers, labels))
    assert new_centers.tolist() == [[1.0]]


def test_center_shift_is_infinite_while_a_mode_moves():
    step = MixedStep(_rows(), 2)
    old = np.array([[0.0, 0.0, 1.0, 2.0], [1.0, 1.0, 0.0, 0.0]])
    new = old.copy()
    new[0, :2] = [0.5, -0.5]
    assert step.center_shift(old, new) == 0.5
    new[1, 3] = 3.0
    assert step.center_shift(old, new) == np.inf


def test_run_counts_changes_and_cost_never_increases():
    rows = _rows(n=2000, weights=True)
    step = MixedStep(rows, 5)
    run = run_kmeans(step, rows.take([0, 1, 2, 3, 4]), max_iter=100, tol=0.0)
    assert run.converged
    assert np.all(np.diff(run.inertia_history) <= 0)
    assert run.inertia == pytest.approx(step.inertia(run.centers, run.labels), rel=0, abs=0)


def test_plusplus_picks_rows_of_positive_weight_deterministically():
    rows = _rows(weights=True)
    rows.sample_weight[::2] = 0.0
    a, ia = mixed_plusplus_rows(rows, 6, np.random.RandomState(1))
    b, ib = mixed_plusplus_rows(rows, 6, np.random.RandomState(1))
    assert a.tobytes() == b.tobytes() and ia.tolist() == ib.tolist()
    assert np.all(ia % 2 == 1)
    np.testing.assert_array_equal(a, rows.take(ia))


def test_cao_starts_from_the_densest_row_and_huang_from_rows():
    cat = np.array([[0, 0], [0, 0], [0, 1], [1, 1], [2, 2]], dtype=np.int32)
    rows = MixedRows(np.zeros((5, 0)), cat, None, [3, 3], 1.0)
    centers = cao_centers(rows, 2, np.random.RandomState(0), numeric=False)
    # densities (mean share of each row's levels): .5, .5, .5, .3, .2: the first
    # center is row 0; the second the row of largest density * distance to it:
    # row 3 (.3 * 2 = .6, above row 2's .5 * 1 and row 4's .2 * 2)
    assert centers.astype(int).tolist() == [[0, 0], [1, 1]]
    centers = huang_centers(rows, 3, np.random.RandomState(0), numeric=False)
    assert all(row in cat.tolist() for row in centers.astype(int).tolist())
    assert len({tuple(row) for row in centers.astype(int).tolist()}) == 3  # distinct where possible
