"""One empty-cluster relocation and one step interface for every step."""

import numpy as np
import pytest

from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.dask_step import DaskStep
from kmeanskit._algorithms.distinct import DistinctStep
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.manhattan import ManhattanStep
from kmeanskit._algorithms.masked import MaskedStep
from kmeanskit._algorithms.mixed import MixedStep
from kmeanskit._algorithms.registry import ALGORITHMS, MIXED_SEEDERS, SEEDERS, STEPS
from kmeanskit._algorithms.relocation import farthest, mean_centers, movable_distances, relocate
from kmeanskit._algorithms.spherical import SphericalStep
from kmeanskit._algorithms.step import Step
from kmeanskit._algorithms.streaming import StreamLloydStep
from kmeanskit._algorithms.yinyang import YinyangStep


def _reference_farthest(key, m, index):
    """The rule written out: finite keys, largest first, ties by index."""
    order = sorted((i for i in range(key.size) if np.isfinite(key[i])), key=lambda i: (-key[i], index[i]))
    return np.asarray(order[:m], dtype=np.int64)


@pytest.mark.parametrize("seed", range(20))
def test_farthest_is_largest_first_ties_by_index(seed):
    rng = np.random.RandomState(seed)
    n = rng.randint(1, 60)
    key = rng.randint(0, 5, size=n).astype(np.float64)  # many ties, at the boundary too
    key[rng.rand(n) < 0.3] = -np.inf
    index = rng.permutation(1000)[:n]
    for m in range(0, n + 2):
        np.testing.assert_array_equal(farthest(key, m, index), _reference_farthest(key, m, index))
        np.testing.assert_array_equal(farthest(key, m), _reference_farthest(key, m, np.arange(n)))


def test_movable_rows_exclude_zero_weight_and_rounding_level():
    dist = np.array([0.0, 1e-30, 2.0, 3.0, 4.0])
    noise = np.array([0.0, 1e-29, 0.0, 0.0, 0.0])
    w = np.array([1.0, 1.0, 1.0, 0.0, 1.0])
    key = movable_distances(dist, noise, w)
    np.testing.assert_array_equal(key, [-np.inf, -np.inf, 2.0, -np.inf, 4.0])
    np.testing.assert_array_equal(movable_distances(dist, noise), [-np.inf, -np.inf, 2.0, 3.0, 4.0])


def test_relocate_moves_sums_and_keeps_centers_without_weight():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [0.0, 5.0]])
    w = np.array([1.0, 2.0, 1.0, 1.0])
    labels = np.array([0, 0, 0, 1])
    key = np.array([1.0, 2.0, 9.0, 0.0])  # row 3 sits on its center: not movable
    key = movable_distances(key, 0.0, w)
    sums = np.zeros((4, 2))
    weights = np.zeros(4)
    for i in range(4):
        sums[labels[i]] += w[i] * X[i]
        weights[labels[i]] += w[i]
    counts = np.bincount(labels, minlength=4)
    empty = np.flatnonzero(weights == 0)  # clusters 2 and 3
    moves = relocate(empty, key, labels, lambda i: (X[i], float(w[i])), sums, weights, counts)
    assert moves == [(2, 2), (3, 1)]  # farthest first: row 2, then row 1
    np.testing.assert_array_equal(weights, [1.0, 1.0, 1.0, 2.0])
    np.testing.assert_array_equal(counts, [1, 1, 1, 1])
    np.testing.assert_array_equal(sums[2], X[2])
    np.testing.assert_array_equal(sums[3], 2.0 * X[1])
    centers = np.arange(8.0).reshape(4, 2)
    weights[1] = 0.0
    new = mean_centers(centers, sums, weights, np.float32)
    assert new.dtype == np.float32
    np.testing.assert_array_equal(new[1], centers[1])  # no weight: the center stays
    np.testing.assert_array_equal(new[3], X[1])


def test_relocate_without_sums_gives_the_moves_only():
    key = np.array([3.0, -np.inf, 3.0, 1.0])
    moves = relocate(np.array([4, 5, 6, 7]), key, np.zeros(4, dtype=np.int32))
    assert moves == [(4, 0), (5, 2), (6, 3)]  # ties by index; fewer movable rows than empty clusters


def test_every_step_declares_the_interface():
    assert set(STEPS.values()) == {
        LloydStep, BoundedStep, YinyangStep, DistinctStep, ManhattanStep, MixedStep, SphericalStep, StreamLloydStep,
        DaskStep, MaskedStep,
    }
    for step in STEPS.values():
        assert issubclass(step, Step)
        assert not getattr(step, "__abstractmethods__", None)
    assert Step.counts_label_changes is False and Step.takes_seed_labels is False
    assert BoundedStep.counts_label_changes and YinyangStep.counts_label_changes
    assert DistinctStep.counts_label_changes and MixedStep.counts_label_changes


def test_registries():
    assert {name: STEPS[ALGORITHMS[name]] for name in ALGORITHMS} == {
        "auto": BoundedStep, "lloyd": LloydStep, "hamerly": BoundedStep, "elkan": BoundedStep, "yinyang": YinyangStep,
    }
    assert set(SEEDERS) == {"random", "k-means++", "k-means||"}
    assert set(MIXED_SEEDERS) == {"random", "k-means++", "Huang", "Cao"}


def test_mean_centers_with_weights_per_feature():
    """Rows with gaps: each coordinate has its own weight; a coordinate without any keeps its value."""
    centers = np.array([[1.0, 2.0], [3.0, 4.0]])
    sums = np.array([[6.0, 0.0], [0.0, 0.0]])
    weights = np.array([[3.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(mean_centers(centers, sums, weights, np.float64), [[2.0, 2.0], [3.0, 4.0]])
