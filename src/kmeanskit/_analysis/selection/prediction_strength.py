"""Prediction strength (Tibshirani & Walther, 2005): is a clustering of one half predicted by the other?

Split the rows in two halves. Cluster each half into k clusters. For each
cluster of the *test* half, take every pair of its rows and count the share that
the clustering of the *training* half (its nearest centers) also puts together;
the prediction strength of the test clustering is the smallest share over its
clusters. With two folds each half is the test half once, and the two values
are averaged. Real clusters are predicted (strength near 1); splitting a real
cluster, or cutting data without clusters, is not.

The chosen k is the largest with strength >= 0.8 (the paper suggests 0.8 to
0.9), and 1 when no k reaches it (k = 1 has strength 1 by definition).
"""

import numpy as np

__all__ = ["PS_THRESHOLD", "co_membership_strength", "prediction_strength_k"]

#: Tibshirani & Walther's threshold for a k to count as predictable.
PS_THRESHOLD = 0.8


def co_membership_strength(test_labels, predicted_labels):
    """The prediction strength of one test clustering given the training model's labels.

    For each test cluster j with n_j >= 2 rows, the share of its n_j (n_j - 1)
    ordered pairs that ``predicted_labels`` also co-assigns; the minimum over
    clusters. Computed from the contingency table: a pair is co-assigned when
    both rows fall in the same cell.

    Parameters
    ----------
    test_labels : ndarray of int of shape (n,)
        Clusters of the test half, by its own clustering (0 .. k-1).
    predicted_labels : ndarray of int of shape (n,)
        Clusters of the same rows by the clustering of the training half.

    Returns
    -------
    strength : float
        In [0, 1]; NaN when no test cluster has two rows.
    """
    test = np.unique(test_labels, return_inverse=True)[1]
    predicted = np.unique(predicted_labels, return_inverse=True)[1]
    table = np.zeros((test.max() + 1, predicted.max() + 1))
    np.add.at(table, (test, predicted), 1.0)
    sizes = table.sum(axis=1)
    pairs = sizes * (sizes - 1.0)
    kept = pairs > 0
    if not kept.any():
        return float("nan")
    together = (table * (table - 1.0)).sum(axis=1)
    return float((together[kept] / pairs[kept]).min())


def prediction_strength_k(ks, strength, threshold=PS_THRESHOLD):
    """The largest k with prediction strength >= threshold; 1 when none is.

    Parameters
    ----------
    ks : sequence of int
    strength : array-like of shape (len(ks),); NaN entries are skipped
    threshold : float, default=0.8

    Returns
    -------
    k : int
    """
    strength = np.asarray(strength, dtype=np.float64)
    good = [int(k) for k, s in zip(ks, strength, strict=True) if np.isfinite(s) and s >= threshold]
    return max(good, default=1)
