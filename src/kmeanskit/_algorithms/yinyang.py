"""The group-bounded step (Yinyang k-means): Lloyd's result for many clusters.

Ding et al. (2015): the centers are split into groups (k-means on the centers
of the pass that starts the bounds), each row keeps a lower bound per group,
and a row whose global bound fails scores only the groups its group bounds
do not rule out (see ``_engine/yinyang.py``). Unlike the bounded step, a pass
makes no k x k table of center distances (their sort is most of a bounded
pass at k = 1000); the price is ``4 t`` bytes a row for ``t`` groups (at most 64).

Only for rows the kernel scores itself (fewer features than the bounded
step's BLAS threshold); the rows are visited in the Lloyd step's blocks and
slabs and added in row order, so labels, centers, inertia and iterations are
those of :class:`LloydStep` from the same start.
"""

import numpy as np

from kmeanskit._algorithms.bounded import GEMM_MIN_FEATURES, BoundedStep, center_arrays
from kmeanskit._engine.serial import sized
from kmeanskit._engine.yinyang import group_half_sep, yinyang_assign_accumulate

__all__ = ["YinyangStep", "center_groups", "default_groups"]

# Clusters per group: Ding et al.'s t = k / 10, and at most MAX_GROUPS groups,
# so the group bounds cost at most 256 bytes a row (at k = 1000, 50 groups ran
# faster than 100: benchmarks/README.md).
CLUSTERS_PER_GROUP = 10
MAX_GROUPS = 64
# Lloyd iterations that group the centers (the groups only decide how much is
# skipped, never the result).
GROUPING_ITERATIONS = 5


def default_groups(n_clusters):
    """The number of groups for ``n_clusters`` centers: ``ceil(k / 10)``, at most ``MAX_GROUPS``."""
    return max(1, min(MAX_GROUPS, -(-n_clusters // CLUSTERS_PER_GROUP)))


def center_groups(centers, n_groups):
    """Groups of nearby centers: a few Lloyd iterations on the centers themselves.

    Parameters
    ----------
    centers : ndarray of shape (n_clusters, n_features), float64
    n_groups : int, at most n_clusters

    Returns
    -------
    members : ndarray of shape (n_clusters,), int64, the centers group after
        group, each group in index order
    group_starts : ndarray of shape (t + 1,), int64, each group's bounds in
        ``members`` (t <= n_groups: groups left empty are dropped)
    group_of : ndarray of shape (n_clusters,), int64, each center's group
    """
    k = centers.shape[0]
    # Deterministic start: centers spread over the index range.
    means = centers[(np.arange(n_groups) * k) // n_groups]
    center_sq = np.einsum("ij,ij->i", centers, centers)
    group_of = np.zeros(k, dtype=np.int64)
    for _ in range(GROUPING_ITERATIONS):
        scores = np.einsum("ij,ij->i", means, means)[None, :] - 2.0 * centers @ means.T
        group_of = np.argmin(scores + center_sq[:, None], axis=1)
        counts = np.bincount(group_of, minlength=means.shape[0])
        sums = np.zeros_like(means)
        np.add.at(sums, group_of, centers)
        kept = counts > 0
        means = sums[kept] / counts[kept, None]
        group_of = np.cumsum(kept)[group_of] - 1  # groups renumbered without the empty ones
    members = np.argsort(group_of, kind="stable").astype(np.int64)
    counts = np.bincount(group_of)
    group_starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return members, group_starts, group_of.astype(np.int64)


class YinyangStep(BoundedStep):
    """Exact assignment (+ accumulation) with one lower bound per group of centers.

    Parameters
    ----------
    rows : DenseRows
        Fewer features than ``GEMM_MIN_FEATURES``.
    n_clusters : int
    n_groups : int, optional
        Groups of centers (default :func:`default_groups`).
    """

    def __init__(self, rows, n_clusters, n_groups=None):
        super().__init__(rows, n_clusters)
        if rows.d >= GEMM_MIN_FEATURES:
            raise ValueError(f"the group-bounded step takes fewer than {GEMM_MIN_FEATURES} features, got {rows.d}")
        self.path = "yinyang"
        self.n_groups = min(n_clusters, default_groups(n_clusters) if n_groups is None else n_groups)
        self._kernel = sized(yinyang_assign_accumulate, rows.n * rows.d)
        self.small = self._kernel is not yinyang_assign_accumulate
        self._group_lower = None  # (n, t) float32, allocated on the first pass
        self._stamps = None  # (n,) int32
        self._groups = None  # (members, group_starts, group_of) of the pass that started the bounds
        self._cum_drift = None  # (at least passes + 1, t) float64: rows 0 .. _now are set
        self._now = 0  # passes since the bounds started

    # Seeding's labels would start every group bound at 0: the first pass scores everything anyway.
    takes_seed_labels = False

    def start_from(self, labels, centers):
        raise NotImplementedError("the group-bounded step does not start from seeding's labels")

    def assign(self, centers, labels, update):
        """The pass of :meth:`__call__` without its reductions: writes ``labels``,
        ``sq_dist``, the bounds, ``n_changed`` and (``update``) the per-slab sums."""
        rows = self.rows
        centers, centers_t, center_sq, centers64 = center_arrays(centers, rows.dtype)
        fresh, drift, center_norm = self._center_moves(centers64, labels)
        if fresh:
            self._groups = center_groups(centers64, self.n_groups)
            n_groups = self._groups[1].shape[0] - 1
            self._cum_drift = np.zeros((1, n_groups))
            self._now = 0
            if self._group_lower is None or self._group_lower.shape[1] != n_groups:
                self._group_lower = np.empty((rows.n, n_groups), dtype=np.float32)
                self._stamps = np.zeros(rows.n, dtype=np.int32)
        else:
            members, group_starts, _ = self._groups
            group_drift = np.maximum.reduceat(drift[members], group_starts[:-1])
            self._now += 1
            if self._now == self._cum_drift.shape[0]:  # room doubled: O(passes) copies in all
                self._cum_drift = np.vstack([self._cum_drift, np.empty_like(self._cum_drift)])
            self._cum_drift[self._now] = self._cum_drift[self._now - 1] + group_drift
        members, group_starts, group_of = self._groups
        now = self._now
        half_sep = np.empty(self.n_clusters)
        group_half_sep(centers64, members, group_starts, group_of, half_sep)
        if update:
            self._reset_sums()
        recomputed, n_changed = [], 0
        for start, stop, Xb in rows.blocks(self.block_rows):
            bounds = self._slabs(stop - start)
            counts = np.zeros((2, bounds.shape[0] - 1), dtype=np.int64)
            self._kernel(
                Xb, rows.kernel_w(start, stop), centers, centers_t, center_sq, labels[start:stop], self.sq_dist[start:stop],
                self.lower[start:stop], self._group_lower[start:stop], self._stamps[start:stop], now,
                self._cum_drift[:now + 1], drift, half_sep, members, group_starts, group_of, self.gamma, center_norm,
                float(center_norm.max()), fresh, self._sums, self._weight_sums, bounds, update, counts[0], counts[1],
            )
            recomputed.append(int(counts[0].sum()))
            n_changed += int(counts[1].sum())
        self._pass_done(labels, centers64, fresh, recomputed, n_changed)
