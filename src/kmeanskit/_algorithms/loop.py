"""The convergence loop, written once for every assignment step.

Semantics follow scikit-learn's ``_kmeans_single_lloyd`` so that, from the same
initial centers, the same iterations happen: stop when the labels no longer
change (strict convergence) or when the squared center shift falls to ``tol``
(already scaled by the data's variance); after a ``tol`` stop, reassign once
more so that the labels match the returned centers.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["KMeansRun", "run_kmeans", "update_centers"]


@dataclass
class KMeansRun:
    """Result of one run from one set of initial centers."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    inertia_history: np.ndarray
    converged: bool


def update_centers(rows, centers, labels, sq_dist, assignment):
    """New centers from accumulated sums, relocating empty clusters.

    An empty cluster takes the row farthest from its assigned center (among
    rows of positive weight), which is removed from its old cluster's sums, as
    scikit-learn does; several empty clusters take the next farthest rows.
    Rows whose distance is at rounding level (duplicates of their center) are
    never moved: that gains nothing and would make labels cycle forever.
    A cluster left with no weight keeps its previous center (never NaN).

    Returns
    -------
    new_centers : ndarray of shape (n_clusters, n_features), rows' dtype
    n_relocated : int
    """
    sums, weights = assignment.sums, assignment.weights
    empty = np.flatnonzero(weights == 0)
    n_relocated = 0
    if empty.size:
        centers64 = centers.astype(np.float64)
        center_sq = np.einsum("ij,ij->i", centers64, centers64)
        noise = rows.sq_dist_rel_noise * (rows.x_sq + center_sq[labels])
        dist = np.where((rows.w > 0) & (sq_dist > noise), sq_dist, -np.inf)
        # The empty.size farthest rows (n_samples >= n_clusters > empty.size),
        # farthest first, ties by row index: independent of argpartition's order.
        far = np.argpartition(dist, dist.size - empty.size)[dist.size - empty.size :]
        far = far[np.lexsort((far, -dist[far]))]
        for cluster, i in zip(empty, far, strict=True):
            if not np.isfinite(dist[i]):
                break
            x = rows.row(i)
            wi = float(rows.w[i])
            old = labels[i]
            sums[old] -= wi * x
            weights[old] -= wi
            sums[cluster] = wi * x
            weights[cluster] = wi
            n_relocated += 1
    new_centers = np.array(centers, dtype=rows.dtype, copy=True)
    filled = weights > 0
    new_centers[filled] = sums[filled] / weights[filled, None]
    return new_centers, n_relocated


def run_kmeans(step, centers_init, *, max_iter, tol, verbose=0):
    """Lloyd-style iterations from ``centers_init`` until convergence.

    Parameters
    ----------
    step : LloydStep (or any step with the same call signature)
    centers_init : ndarray of shape (n_clusters, n_features)
    max_iter : int
    tol : float
        Absolute tolerance on the sum of squared center shifts.
    verbose : int

    Returns
    -------
    KMeansRun
    """
    rows = step.rows
    centers = np.array(centers_init, dtype=rows.dtype, copy=True)
    labels = np.full(rows.n, -1, dtype=np.int32)
    labels_old = labels.copy()
    history = []
    strict = converged = False
    for i in range(max_iter):
        assignment = step(centers, labels, update=True)
        history.append(assignment.inertia)
        if verbose:
            print(f"Iteration {i}, inertia {assignment.inertia}.")
        new_centers, _ = update_centers(rows, centers, labels, step.sq_dist, assignment)
        diff = new_centers.astype(np.float64) - centers
        center_shift_tot = float(np.einsum("ij,ij->", diff, diff))
        centers = new_centers
        if np.array_equal(labels, labels_old):
            strict = converged = True
            if verbose:
                print(f"Converged at iteration {i}: strict convergence.")
            break
        if center_shift_tot <= tol:
            converged = True
            if verbose:
                print(
                    f"Converged at iteration {i}: center shift {center_shift_tot} "
                    f"within tolerance {tol}."
                )
            break
        labels_old[:] = labels
    if strict:
        # Labels are final; the centers are their means: only the inertia is new.
        inertia = step.inertia(centers, labels)
    else:
        inertia = step(centers, labels, update=False).inertia
    return KMeansRun(centers, labels, inertia, i + 1, np.asarray(history), converged)
