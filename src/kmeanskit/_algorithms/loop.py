"""The convergence loop, written once for every assignment step.

Semantics follow scikit-learn's ``_kmeans_single_lloyd`` so that, from the same
initial centers, the same iterations happen: stop when the labels no longer
change (strict convergence) or when the squared center shift falls to ``tol``
(already scaled by the data's variance); after a ``tol`` stop, reassign once
more so that the labels match the returned centers.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["KMeansRun", "run_kmeans"]


@dataclass
class KMeansRun:
    """Result of one run from one set of initial centers."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    inertia_history: np.ndarray
    converged: bool


def run_kmeans(step, centers_init, *, max_iter, tol, verbose=0, labels=None):
    """Lloyd-style iterations from ``centers_init`` until convergence.

    Parameters
    ----------
    step : Step
        ``step(centers, labels, update)`` assigns rows and returns an
        ``Assignment``; ``step.update_centers(centers, labels, assignment)``
        returns ``(new_centers, n_relocated)`` (means for Lloyd, weighted
        medians for K-Medians); ``step.inertia(centers, labels)``. A step
        whose ``counts_label_changes`` is true sets ``step.n_changed``
        (labels its call changed) and spares the loop a copy of the labels.
    centers_init : ndarray of shape (n_clusters, n_features)
    max_iter : int
    tol : float
        Absolute tolerance on the sum of squared center shifts.
    verbose : int
    labels : ndarray of shape (n_samples,), int32, or None
        Each row's nearest initial center as seeding found it (by its own
        arithmetic). A step whose ``start_from`` takes them (the bounded one)
        starts from them instead of recomputing every row in its first pass;
        the array becomes the run's labels. Results are the same either way.

    Returns
    -------
    KMeansRun
    """
    centers = np.array(centers_init, dtype=step.rows.dtype, copy=True)
    # Seeded labels are not labels of a previous iteration: the first one
    # never converges strictly (as from -1 everywhere).
    seeded = labels is not None and step.start_from(labels, centers)
    if not seeded:
        labels = step.new_labels()
    # Strict convergence: no label changed. Steps that count changes spare
    # this copy (4 bytes per row: 16 MB for 4 million streamed rows).
    counted = step.counts_label_changes
    labels_old = None if counted else labels.copy()
    history = []
    strict = converged = False
    with step.run_scope():  # what the step holds for the whole run (one BLAS thread, say)
        for i in range(max_iter):
            assignment = step(centers, labels, update=True)
            history.append(assignment.inertia)
            if verbose:
                print(f"Iteration {i}, inertia {assignment.inertia}.")
            new_centers, _ = step.update_centers(centers, labels, assignment)
            # (not np.array_equal: its checks and conversions cost more than the comparison)
            unchanged = (step.n_changed == 0) if counted else not (labels != labels_old).any()
            if unchanged and not (seeded and i == 0):
                centers = new_centers
                strict = converged = True
                if verbose:
                    print(f"Converged at iteration {i}: strict convergence.")
                break
            # (after the strict test: a strictly converged run never reads the shift)
            center_shift_tot = step.center_shift(centers, new_centers)
            centers = new_centers
            if center_shift_tot <= tol:
                converged = True
                if verbose:
                    print(
                        f"Converged at iteration {i}: center shift {center_shift_tot} "
                        f"within tolerance {tol}."
                    )
                break
            if not counted:
                labels_old[:] = labels
        if strict:
            # Labels are final; the centers are their update: only the inertia is new.
            inertia = step.inertia(centers, labels)
        else:
            inertia = step(centers, labels, update=False).inertia
    return KMeansRun(centers, labels, inertia, i + 1, np.asarray(history), converged)
