import numpy as np
import pytest
from scipy.spatial.distance import cdist

from kmeanskit._engine.center_order import neighbour_levels, sort_neighbours

from . import reference


def _between(k, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, 3))
    if k > 3:
        centers[3] = centers[1]  # a duplicate: distance 0 ties with the center itself
    if k > 6:
        centers[6] = 2 * centers[5] - centers[4]  # 4 and 6 equally far from 5
    return cdist(centers, centers)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 40, 130])
@pytest.mark.parametrize("start", ["cold", "same", "shuffled", "reversed"])
def test_sort_neighbours_is_a_stable_argsort(k, start):
    between = _between(k)
    expected, expected_sep = reference.sort_neighbours(between)
    rng = np.random.default_rng(1)
    neighbours = {
        "cold": np.full((k, k), -1, dtype=np.int64),
        "same": expected.copy(),
        "shuffled": rng.permuted(np.tile(np.arange(k), (k, 1)), axis=1),
        # k^2 / 2 shifts a row: past the insertion sort's limit for k > 17, the row is sorted afresh
        "reversed": expected[:, ::-1].copy(),
    }[start]
    neighbour_sep = np.full((k, k), np.nan)
    sort_neighbours(between, start != "cold", neighbours, neighbour_sep)
    np.testing.assert_array_equal(neighbours, expected)
    assert neighbour_sep.tobytes() == expected_sep.tobytes()


@pytest.mark.parametrize("k", [2, 3, 4, 5, 9, 40, 64, 65])
def test_neighbour_levels_against_brute_force(k):
    between = _between(k, seed=2)
    neighbours, neighbour_sep = reference.sort_neighbours(between)
    drift = np.random.default_rng(3).uniform(0, 1, size=k)
    n_levels = len([p for p in 2 ** np.arange(1, 8) if p < k])
    level_sep, level_drift = np.empty((k, n_levels)), np.empty((k, n_levels + 1))
    neighbour_levels(neighbours, neighbour_sep, drift, level_sep, level_drift)
    expected_sep, expected_drift = reference.neighbour_levels(neighbours, neighbour_sep, drift, n_levels)
    np.testing.assert_array_equal(level_sep, expected_sep)
    np.testing.assert_array_equal(level_drift, expected_drift)
