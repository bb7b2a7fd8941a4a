"""Numba kernels ordering each center's other centers by distance, every pass.

The bounded step sorts the k x k center distances once a pass (its pruned
arg-min and its per-neighbourhood drift bounds read them). Between passes the
centers move little, so last pass's order is nearly right: an insertion sort
from it costs about k steps a row instead of a full sort, and compiled it
spares the NumPy calls (``argsort``, ``take_along_axis``) of each pass.
"""

import numpy as np
from numba import njit

__all__ = ["neighbour_levels", "sort_neighbours"]


@njit(cache=True, nogil=True, inline="always")
def _before(between_a, i, j):
    """Whether center i comes before center j from center a: nearer, or as near with a lower index
    (the order of a stable sort)."""
    return between_a[i] < between_a[j] or (between_a[i] == between_a[j] and i < j)


@njit(cache=True, nogil=True)
def sort_neighbours(between, warm, neighbours, neighbour_sep):
    """Each center's centers from the nearest on (``np.argsort(between, axis=1, kind="stable")``).

    IN     between        (k, k) float64 distances between the centers (finite)
    IN     warm           bool, ``neighbours`` holds a permutation of each row to start
                          from (last pass's order); else the rows are sorted afresh
    INOUT  neighbours     (k, k) int64 the order
    OUT    neighbour_sep  (k, k) float64 the matching distances
    An insertion sort whose shifts pass 8 k in a row gives the row to a full sort.
    """
    k = between.shape[0]
    limit = 8 * k
    for a in range(k):
        between_a = between[a]
        row = neighbours[a]
        done = warm
        if warm:
            shifts = 0
            for q in range(1, k):
                j = row[q]
                p = q - 1
                while p >= 0 and _before(between_a, j, row[p]):
                    row[p + 1] = row[p]
                    p -= 1
                row[p + 1] = j
                shifts += q - 1 - p
                if shifts > limit:
                    done = False
                    break
        if not done:
            row[:] = np.argsort(between_a, kind="mergesort")
        for q in range(k):
            neighbour_sep[a, q] = between_a[row[q]]


@njit(cache=True, nogil=True)
def neighbour_levels(neighbours, neighbour_sep, drift, level_sep, level_drift):
    """The bounded kernel's ``level_sep`` and ``level_drift`` (see ``bounds.bounded_assign_accumulate``).

    IN   neighbours     (k, k) int64 last pass's order (:func:`sort_neighbours`)
    IN   neighbour_sep  (k, k) float64 its distances
    IN   drift          (k,) float64 distance each center moved since
    OUT  level_sep      (k, M) float64: distance from center a to its ``2^(m+1)``-th
                        nearest center (a itself the 0-th); M levels, ``2^M < k``
    OUT  level_drift    (k, M + 1) float64: largest drift of the ``2^(m+1) - 1``
                        centers nearest a (a's own drift left out), and at M of all
    """
    k = drift.shape[0]
    n_levels = level_sep.shape[1]
    for a in range(k):
        running = 0.0
        level = 0
        for q in range(k):
            if level < n_levels and q == 2 << level:
                level_sep[a, level] = neighbour_sep[a, q]
                level_drift[a, level] = running
                level += 1
            j = neighbours[a, q]
            if j != a:
                running = max(running, drift[j])
        level_drift[a, n_levels] = running
