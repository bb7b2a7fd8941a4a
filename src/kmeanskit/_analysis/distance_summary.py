"""How the rows of each cluster lie around its center: sizes and distance quantiles.

One summary for two readers: the training summary a model file stores
(:func:`kmeanskit.save` with ``X``) and the training profile drift monitoring
compares new rows against (:func:`kmeanskit.monitoring.fit_monitor`). Both
take it from :func:`summarize_distances`, so a profile read from a file and
one computed from the same rows hold the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["QUANTILE_LEVELS", "DistanceSummary", "cluster_sizes", "summarize_distances"]

#: Distance quantile levels stored per cluster, in a model file and in a profile by default.
QUANTILE_LEVELS = (0.5, 0.9, 0.95, 0.99, 1.0)


@dataclass(frozen=True, eq=False)
class DistanceSummary:
    """Per-cluster sizes, distance quantiles and mean distances.

    Attributes
    ----------
    sizes : ndarray of shape (n_clusters,), int64
        Rows in each cluster.
    quantiles : ndarray of shape (n_clusters, n_levels), float64
        Quantiles of the distances of each cluster's rows to its center, at
        the levels asked for; NaN for a cluster with no rows.
    means : ndarray of shape (n_clusters,), float64
        Mean distance of each cluster's rows; NaN for a cluster with no rows.
    at_or_below : ndarray of shape (n_clusters, n_levels), float64
        Share of each cluster's rows at or below each quantile: the level
        itself for distinct distances, more where distances tie (K-Modes'
        counts of mismatches, duplicated rows). Drift tests bin by it.
    """

    sizes: np.ndarray
    quantiles: np.ndarray
    means: np.ndarray
    at_or_below: np.ndarray


def cluster_sizes(labels: np.ndarray, n_clusters: int, *, block: int = 1 << 18) -> np.ndarray:
    """``np.bincount(labels, minlength=n_clusters)`` as int64, in bounded extra memory.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,), integer
        Cluster of each row, in ``[0, n_clusters)``.
    n_clusters : int
    block : int, default=262144
        Rows counted at a time: ``np.bincount`` copies int32 labels to int64
        first, so counting by blocks bounds that copy (2 MB a block, where 4
        million labels at once would take 32 MB).

    Returns
    -------
    sizes : ndarray of shape (n_clusters,), int64
    """
    sizes = np.zeros(n_clusters, dtype=np.int64)
    for start in range(0, labels.shape[0], block):
        sizes += np.bincount(labels[start:start + block], minlength=n_clusters)
    return sizes


def summarize_distances(labels: np.ndarray, distances: np.ndarray, n_clusters: int,
                        levels=QUANTILE_LEVELS) -> DistanceSummary:
    """Sizes, distance quantiles and mean distances of each cluster's rows.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,), integer
        Cluster of each row, in ``[0, n_clusters)``.
    distances : ndarray of shape (n_samples,), float64
        Distance of each row to the center of its cluster.
    n_clusters : int
    levels : sequence of float, default=(0.5, 0.9, 0.95, 0.99, 1.0)
        Quantile levels in [0, 1] (:func:`numpy.quantile`, linear interpolation).

    Returns
    -------
    DistanceSummary
    """
    sizes = cluster_sizes(labels, n_clusters)
    quantiles = np.full((n_clusters, len(levels)), np.nan)
    means = np.full(n_clusters, np.nan)
    at_or_below = np.full((n_clusters, len(levels)), np.nan)
    # One sort, then each cluster's rows are a contiguous slice (in row order).
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for j in range(n_clusters):
        if sizes[j]:
            d = distances[order[bounds[j]:bounds[j + 1]]]
            means[j] = d.mean()
            d = np.sort(d)  # once, for the quantiles and the shares at or below them
            quantiles[j] = np.quantile(d, levels)
            at_or_below[j] = np.searchsorted(d, quantiles[j], side="right") / d.size
    return DistanceSummary(sizes=sizes, quantiles=quantiles, means=means, at_or_below=at_or_below)
