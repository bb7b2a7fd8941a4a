"""K-Medians pieces for the one convergence loop: the L1 step and L1 seeding.

``ManhattanStep`` implements the :class:`~kmeanskit._algorithms.step.Step`
interface with its own ``update_centers`` (coordinate-wise weighted medians), which
:func:`kmeanskit._algorithms.loop.run_kmeans` uses instead of the mean update.
Dense rows only, unshifted (``rows.is_view``): medians are data values, and L1
distances are computed from the raw values in float64, so no centering is
needed for accuracy far from the origin.
"""

import numpy as np

from kmeanskit._algorithms.init import greedy_plusplus
from kmeanskit._algorithms.lloyd import Assignment
from kmeanskit._algorithms.relocation import movable_distances, relocate
from kmeanskit._algorithms.rows import n_slabs, slab_bounds
from kmeanskit._algorithms.step import Step
from kmeanskit._engine.manhattan import (
    assign_l1,
    candidate_potentials_l1,
    update_closest_l1,
    weighted_l1_distances,
    weighted_medians,
)
from kmeanskit._engine.serial import sized

__all__ = ["ManhattanStep", "kmedians_plusplus_rows"]


class ManhattanStep(Step):
    """L1 assignment over all rows, and the weighted-median center update.

    Parameters
    ----------
    rows : DenseRows
        Dense, unshifted rows (``rows.is_view``).
    n_clusters : int
    """

    def __init__(self, rows, n_clusters):
        if rows.sparse or not rows.is_view:
            raise TypeError("ManhattanStep needs dense, unshifted rows.")
        self.rows = rows
        self.n_clusters = n_clusters
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n))
        self.l1_dist = np.empty(rows.n)

    @property
    def sq_dist(self):
        # The loop's generic code names the per-row distance ``sq_dist``.
        return self.l1_dist

    def __call__(self, centers, labels, update=True):
        """Assign rows to ``centers`` in L1 (writes ``labels`` and ``self.l1_dist``).

        ``update`` is accepted for the step interface; the median update needs
        no accumulation during the pass. Returns an :class:`Assignment` whose
        ``inertia`` is ``sum_i w_i |x_i - c_{l_i}|_1`` (``sums``/``weights`` None).
        """
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        sized(assign_l1, rows.X.size)(rows.X, centers, labels, self.l1_dist, self.bounds)
        # einsum sums in a fixed order: deterministic.
        return Assignment(float(np.einsum("i,i->", self.l1_dist, rows.w)), None, None)

    def inertia(self, centers, labels):
        """L1 inertia of a given labelling, without reassigning."""
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        out = np.empty(self.bounds.shape[0] - 1)
        sized(weighted_l1_distances, rows.X.size)(rows.X, rows.w, centers, labels, self.bounds, out)
        return float(out.sum())

    def update_centers(self, centers, labels, assignment):
        """Weighted medians of the clusters, relocating empty clusters.

        Relocation follows :mod:`~kmeanskit._algorithms.relocation` with L1
        distances: an empty cluster takes the row of positive weight farthest
        from its center, which leaves its old cluster for this update only
        (``labels`` is not modified). Rows at distance 0 are never moved. A
        cluster still without weight keeps its previous center (never NaN).

        Returns
        -------
        new_centers : ndarray of shape (n_clusters, n_features), rows' dtype
        n_relocated : int
        """
        rows, k = self.rows, self.n_clusters
        weights = np.bincount(labels, weights=rows.w.astype(np.float64), minlength=k)
        empty = np.flatnonzero(weights == 0)
        n_relocated = 0
        if empty.size:
            # Medians are not formed from sums: the moved rows change cluster
            # in a copy of the labels, for this update only.
            moves = relocate(empty, movable_distances(self.l1_dist, 0.0, rows.w), labels)
            labels = labels.copy()
            for cluster, i in moves:
                labels[i] = cluster
            n_relocated = len(moves)
        order = np.argsort(labels, kind="stable").astype(np.int64)
        starts = np.zeros(k + 1, dtype=np.int64)
        np.cumsum(np.bincount(labels, minlength=k), out=starts[1:])
        new_centers = np.array(centers, dtype=rows.dtype, copy=True, order="C")
        filled = np.empty(k, dtype=np.bool_)
        sized(weighted_medians, rows.X.size)(rows.X, rows.w, order, starts, new_centers, filled)
        return new_centers, n_relocated


class _L1Scorer:
    """Candidate potentials and updates of ``closest`` (INOUT) in L1 distance."""

    def __init__(self, rows, closest, n_candidates):
        self.X, self.w, self.closest = rows.X, rows.w, closest
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n))
        self.out = np.empty((self.bounds.shape[0] - 1, n_candidates))
        self.slab_sums = np.empty(self.bounds.shape[0] - 1)

    def potentials(self, candidates):
        sized(candidate_potentials_l1, self.X.size)(self.X, self.w, self.closest, np.ascontiguousarray(candidates), self.bounds, self.out)
        return self.out.sum(axis=0)

    def update(self, center, candidate=None):
        """Lower ``closest`` with a new center; each slab's sum of ``w_i closest_i``."""
        sized(update_closest_l1, self.X.size)(self.X, self.w, center, self.closest, self.bounds, self.slab_sums)
        return self.slab_sums


def kmedians_plusplus_rows(rows, n_clusters, random_state, n_local_trials=None):
    """Greedy ++ seeding with L1 distances (D^1 sampling), see :func:`greedy_plusplus`.

    Parameters
    ----------
    rows : DenseRows (unshifted)
    n_clusters : int
    random_state : numpy.random.RandomState
    n_local_trials : int or None, default ``2 + int(ln k)``

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), rows' dtype
    indices : ndarray of shape (n_clusters,), int64 row index of each center
    """
    return greedy_plusplus(rows, n_clusters, random_state, _L1Scorer, n_local_trials)
