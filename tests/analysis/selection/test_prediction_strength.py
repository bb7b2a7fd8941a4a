"""Prediction strength (Tibshirani & Walther 2005): the pair count against a brute-force loop, and the choice of k."""

import itertools

import numpy as np
import pytest

from kmeanskit._analysis.selection.prediction_strength import co_membership_strength, prediction_strength_k


def _pairs_reference(test, predicted):
    # The paper's definition, literally: for each test cluster, the share of its pairs the other model co-assigns.
    shares = []
    for cluster in np.unique(test):
        rows = np.flatnonzero(test == cluster)
        pairs = list(itertools.combinations(rows, 2))
        if pairs:
            shares.append(np.mean([predicted[i] == predicted[j] for i, j in pairs]))
    return min(shares)


@pytest.mark.parametrize("seed", range(5))
def test_strength_matches_the_pairwise_definition(seed):
    rng = np.random.RandomState(seed)
    test = rng.randint(0, 4, size=60)
    predicted = np.where(rng.uniform(size=60) < 0.7, test, rng.randint(0, 5, size=60))
    assert co_membership_strength(test, predicted) == pytest.approx(_pairs_reference(test, predicted), rel=1e-12)


def test_strength_extremes():
    labels = np.repeat([0, 1, 2], 10)
    assert co_membership_strength(labels, labels + 7) == 1.0  # the same partition under other names
    # a test cluster the other model splits in half: 2 * C(5, 2) = 20 of C(10, 2) = 45 pairs stay together
    predicted = labels.copy()
    predicted[:5] = 9
    assert co_membership_strength(labels, predicted) == pytest.approx(20 / 45)
    # singletons have no pairs and are skipped; with only singletons the strength is undefined
    assert co_membership_strength(np.array([0, 1, 1, 1]), np.array([0, 0, 0, 1])) == pytest.approx(2 / 6)
    assert np.isnan(co_membership_strength(np.arange(3), np.zeros(3, dtype=int)))


def test_the_largest_k_above_the_threshold_else_one():
    assert prediction_strength_k([2, 3, 4, 5], [0.95, 0.91, 0.60, 0.82]) == 5
    assert prediction_strength_k([2, 3, 4], [0.79, 0.5, np.nan]) == 1
    assert prediction_strength_k([2, 3, 4], [0.85, 0.9, 0.95], threshold=0.9) == 4
