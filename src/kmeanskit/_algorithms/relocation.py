"""Empty-cluster relocation: one rule for every step.

When a pass leaves a cluster without weight, the cluster takes the row that
fits its own center worst, as scikit-learn does; several empty clusters take
the next rows, in order:

- only rows of positive weight whose distance to their center is above
  rounding level may move (a duplicate of its center gains nothing by moving,
  and moving it would make labels cycle forever);
- the farthest row first, ties by row index (never by a sort's whim);
- the row leaves its old cluster for this update only (labels are not
  changed: the next pass assigns it);
- a cluster still without weight keeps its previous center (never NaN).

What differs between steps is where the candidate rows come from (every row
in memory, the farthest rows kept while streaming, the farthest rows of each
Dask block) and how a center is formed (mean, weighted median, normalised
mean): the callers give the candidates' distances and rows, and form the
centers themselves (:func:`mean_centers` for means).
"""

import numpy as np

__all__ = ["mean_centers", "movable_distances", "farthest", "relocate"]


def movable_distances(dist, noise, w=None):
    """``dist`` where a row may move to an empty cluster, else -inf.

    Parameters
    ----------
    dist : ndarray of shape (n,), float64
        Each row's distance to its center (squared Euclidean, L1, cosine).
    noise : float or ndarray of shape (n,)
        Distances at or below it are rounding error: the row is its center.
    w : ndarray of shape (n,) or None
        Weights; rows of zero weight never move. None: all positive.
    """
    movable = dist > noise
    if w is not None:
        movable &= w > 0
    return np.where(movable, dist, -np.inf)


def farthest(key, m, index=None):
    """Positions of the (at most) ``m`` rows of largest finite ``key``.

    Farthest first, ties by ``index`` (each row's index in the data; default:
    its position). O(n) unless many rows tie at the ``m``-th distance.
    """
    m = min(m, key.size)
    if m == 0:
        return np.empty(0, dtype=np.int64)
    top = np.argpartition(key, key.size - m)[key.size - m :]
    threshold = key[top].min()
    if np.isfinite(threshold):
        # Every row at the m-th distance competes, so ties go by index.
        top = np.flatnonzero(key >= threshold)
    else:
        top = top[np.isfinite(key[top])]
    order = np.lexsort((top if index is None else index[top], -key[top]))[:m]
    return top[order]


def relocate(empty, key, labels, take=None, sums=None, weights=None, counts=None, index=None):
    """Give each empty cluster the next farthest movable row.

    Parameters
    ----------
    empty : ndarray of int
        The clusters without weight, in increasing order.
    key : ndarray of shape (n,), float64
        :func:`movable_distances` of the candidate rows.
    labels : ndarray of shape (n,), int
        Each candidate's cluster (not modified).
    take : callable or None
        ``take(i) -> (x, w)``: candidate ``i`` as a float64 vector in the
        space of ``sums`` and its weight as a float.
    sums, weights : ndarray of shape (k, d) and (k,), float64, INOUT, or None
        Per-cluster weighted sums and weights: each moved row's ``w x`` and
        ``w`` leave its old cluster and become the empty cluster's. None (for
        centers not formed from sums, such as medians): only the moves.
    counts : ndarray of shape (k,), int, INOUT, or None
        Per-cluster row counts, moved too.
    index : ndarray of shape (n,), int, or None
        Each candidate's row index, for ties (default: its position).

    Returns
    -------
    moves : list of (cluster, position)
    """
    far = farthest(key, empty.size, index)
    moves = list(zip(empty[: far.size].tolist(), far.tolist(), strict=True))
    if sums is not None:
        for cluster, i in moves:
            x, wi = take(i)
            old = labels[i]
            sums[old] -= wi * x
            weights[old] -= wi
            sums[cluster] = wi * x
            weights[cluster] = wi
            if counts is not None:
                counts[old] -= 1
                counts[cluster] = 1
    return moves


def mean_centers(centers, sums, weights, dtype):
    """Weighted means ``sums / weights`` in ``dtype``; a cluster without weight
    keeps its center from ``centers``.

    ``weights`` of shape (k,) are per cluster; of shape (k, d), per cluster and
    feature (rows with gaps: a coordinate without weight keeps its value)."""
    filled = weights > 0
    if filled.all():  # the usual case: one division, rounded to ``dtype`` as it is stored (no float64 temporary)
        new_centers = np.empty(sums.shape, dtype=dtype)
        np.divide(sums, weights if weights.ndim == 2 else weights[:, None], out=new_centers, casting="unsafe")
        return new_centers
    new_centers = np.array(centers, dtype=dtype, copy=True)
    new_centers[filled] = sums[filled] / (weights[filled] if weights.ndim == 2 else weights[filled, None])
    return new_centers
