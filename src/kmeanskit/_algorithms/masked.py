"""Lloyd's step on the observed entries of rows with gaps (k-POD's objective).

With missing entries (NaN), the objective is the within-cluster sum of squares
over the observed entries only (Chi, Chi & Baraniuk 2016, "k-POD: A Method for
k-Means Clustering of Missing Data", The American Statistician 70(1)):

    sum_i w_i sum_{f observed in row i} (x_if - c_{l_i, f})^2

Each Lloyd iteration lowers it (or leaves it unchanged): rows are assigned by
their partial squared distance (over their observed coordinates), and each
center coordinate becomes the weighted mean of the observed entries of its
cluster's rows in that feature, which minimises the objective given the labels.

What this module decides:

- a center coordinate without any observed entry in its cluster keeps its
  previous value (it does not enter the objective);
- a cluster left without rows takes the row farthest from its center, by
  :mod:`~kmeanskit._algorithms.relocation`'s rule; the coordinates that row
  does not observe keep the cluster's previous values;
- seeding (:func:`masked_plusplus`, and ``init='random'`` through
  :func:`~kmeanskit._algorithms.init.random_rows`) draws rows as centers: the
  gaps of a drawn row take the feature's mean over its observed entries
  (:attr:`MaskedRows.fill`).

:class:`MaskedRows` and :class:`MaskedStep` know nothing of the estimator: any
Euclidean estimator (KMeans, and the numeric part of a mixed one) can run them.
"""

import numpy as np

from kmeanskit._algorithms.bounded import CenterDrift, score_rounding
from kmeanskit._algorithms.init import greedy_plusplus
from kmeanskit._algorithms.lloyd import Assignment, SlabSums
from kmeanskit._algorithms.mapping import DataMapping
from kmeanskit._algorithms.relocation import mean_centers, movable_distances, relocate
from kmeanskit._algorithms.rows import _Rows, sum_in_order
from kmeanskit._algorithms.step import Step
from kmeanskit._engine.blas import matmul_into
from kmeanskit._engine.masked import (
    masked_assign_from_dots,
    masked_bounded_assign_accumulate,
    masked_candidate_potentials,
    masked_label_distances,
    masked_sq_distances,
)
from kmeanskit._engine.serial import sized

__all__ = ["MASKED_DOTS_MIN_PRODUCT", "MaskedRows", "MaskedStep", "masked_plusplus", "masked_sq_distances_of"]

# From this d * k on, the step finds each row's nearest center from two matrix
# products per block of rows (BLAS), below by direct differences (the timings
# behind it are in benchmarks/README.md, "Missing values").
MASKED_DOTS_MIN_PRODUCT = 65536
# Values of one (b, k) block of products.
DOTS_BLOCK_VALUES = 1 << 20


class MaskedRows(_Rows):
    """Dense rows with gaps, as the masked kernels take them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        The data, NaN where an entry is missing (no infinity; every row and
        every column with at least one observed entry). Not modified.
    sample_weight : ndarray of shape (n_samples,), X's dtype, or None
        None: every weight is 1.
    mapping : DataMapping or None, default=None (the identity)
        Applied to the observed values (a shift by the mean for the
        matrix-product path, a power-of-two scale against overflow).

    Attributes
    ----------
    X0 : ndarray of shape (n_samples, n_features), X's dtype
        The mapped values, 0 where missing (a copy).
    M : ndarray of shape (n_samples, n_features), uint8
        1 where observed.
    fill : ndarray of shape (n_features,), X's dtype
        Each feature's mean over its observed entries (mapped): the value a
        gap takes in a row drawn as a center.
    """

    sparse = False
    is_view = True

    def __init__(self, X, sample_weight, mapping=None):
        mapping = DataMapping() if mapping is None else mapping
        observed = ~np.isnan(X)
        self.M = observed.view(np.uint8)
        self.X0 = np.where(observed, X, X.dtype.type(0))
        if not mapping.is_identity:
            mapping.map_rows(self.X0, in_place=True)
            self.X0[~observed] = 0
        self.n, self.d = X.shape
        self.dtype = X.dtype
        counts = self.M.sum(axis=0, dtype=np.int64)
        self.fill = (self.X0.sum(axis=0, dtype=np.float64) / counts).astype(X.dtype)
        self._init_weights(sample_weight)

    def take(self, indices):
        """Rows ``indices`` as centers: (len(indices), d), X's dtype, gaps filled with :attr:`fill`."""
        return np.where(self.M[indices].astype(bool), self.X0[indices], self.fill)


def masked_sq_distances_of(rows, centers, dtype=np.float64):
    """(n, k) partial squared distances of every row of ``rows`` (MaskedRows) to ``centers``."""
    out = np.empty((rows.n, centers.shape[0]), dtype=dtype)
    centers = np.ascontiguousarray(centers, dtype=rows.dtype)
    sized(masked_sq_distances, rows.n * rows.d)(rows.X0, rows.M, centers, out)
    return out


class MaskedStep(CenterDrift, SlabSums, Step):
    """Assignment by partial distances, centers as per-feature means over observed entries.

    The nearest center comes from scores over each row's observed features,
    computed by ``masked_bounded_assign_accumulate`` only for the rows whose
    label Hamerly-style bounds on partial distances do not prove (the labels
    of scoring every row),
    or, from ``d * k >= MASKED_DOTS_MIN_PRODUCT``, from two matrix products per
    block of rows (``masked_assign_from_dots``); the rows should be shifted by
    their mean (:class:`MaskedRows` with a mapping), as for Lloyd's GEMM
    identity. The bounds (8 bytes a row) stay valid while the same ``labels``
    array comes back, as in the convergence loop; any other array starts afresh.

    Parameters
    ----------
    rows : MaskedRows
    n_clusters : int
    """

    def __init__(self, rows, n_clusters):
        self.dots = rows.d * n_clusters >= MASKED_DOTS_MIN_PRODUCT
        # A slab's sums and weight sums both hold k x d float64 values.
        self._start_slabs(
            rows, n_clusters, "masked-dots" if self.dots else "masked-bounded",
            DOTS_BLOCK_VALUES // n_clusters if self.dots else rows.n, 16 * n_clusters * rows.d,
            feature_weights=True,
        )
        self.sq_dist = np.empty(rows.n)
        # The direct path counts the labels each call changes (the loop then keeps no copy of them).
        self.counts_label_changes = not self.dots
        self.gamma = score_rounding(rows)
        self._lower = None

    def __call__(self, centers, labels, update=True):
        """Assign rows to ``centers`` (writes ``labels`` and ``self.sq_dist``).

        Returns an :class:`~kmeanskit._algorithms.lloyd.Assignment` whose
        ``weights`` are per cluster and feature, shape (n_clusters, n_features):
        the total weight of the observed entries.
        """
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        if update:
            self._reset_sums()
        centers_t = np.ascontiguousarray(centers.T)
        centers_sq_t = centers_t * centers_t
        if not self.dots:
            self._bounded_pass(centers, centers_t, centers_sq_t, labels, update)
        else:
            k = self.n_clusters
            mask_dots = np.empty((self.block_rows, k), dtype=rows.dtype)
            x_dots = np.empty((self.block_rows, k), dtype=rows.dtype)
            for start in range(0, rows.n, self.block_rows):
                stop = min(start + self.block_rows, rows.n)
                X0b, Mb, wb = rows.X0[start:stop], rows.M[start:stop], rows.kernel_w(start, stop)
                md, xd = mask_dots[: stop - start], x_dots[: stop - start]
                matmul_into(Mb.astype(rows.dtype), centers_sq_t, md)
                matmul_into(X0b, centers_t, xd)
                sized(masked_assign_from_dots, (stop - start) * rows.d)(
                    X0b, Mb, wb, centers, md, xd, labels[start:stop], self.sq_dist[start:stop], self._sums,
                    self._weight_sums, self._slabs(stop - start), update,
                )
        inertia = rows.weighted_sum(self.sq_dist)
        if not update:
            return Assignment(inertia, None, None)
        # Merge slabs in index order (numpy reduces the outer axis sequentially).
        return Assignment(inertia, self._sums.sum(axis=0), self._weight_sums.sum(axis=0))

    def _bounded_pass(self, centers, centers_t, centers_sq_t, labels, update):
        rows = self.rows
        centers64 = centers.astype(np.float64)
        fresh, drift, center_norm = self._center_moves(centers64, labels)
        if self._lower is None:
            self._lower = np.empty(rows.n)
        bounds = self._slabs(rows.n)
        changed = np.empty(bounds.shape[0] - 1, dtype=np.int64)
        sized(masked_bounded_assign_accumulate, rows.n * rows.d)(
            rows.X0, rows.M, rows.kernel_w(0, rows.n), centers, centers_t, centers_sq_t, labels, self.sq_dist,
            self._lower, drift, self.gamma, center_norm, fresh,
            self._sums, self._weight_sums, bounds, update, changed,
        )
        self.n_changed = int(changed.sum())
        self._bounds_follow(labels, centers64)

    def update_centers(self, centers, labels, assignment):
        """Per-feature means over the observed entries; empty clusters relocated.

        A cluster is empty when none of its rows carries weight; it takes the
        farthest movable row (partial distance) by the relocation rule, and that
        row's observed entries leave its old cluster's sums.
        """
        rows = self.rows
        sums, weights = assignment.sums, assignment.weights
        empty = np.flatnonzero(~(weights > 0).any(axis=1))
        n_relocated = 0
        if empty.size:
            # Partial distances are direct differences: zero only for a row on its center.
            key = movable_distances(self.sq_dist, 0.0, None if rows.unit_weights else rows.w)
            moves = relocate(empty, key, labels)
            for cluster, i in moves:
                x, m, wi = rows.X0[i].astype(np.float64), rows.M[i].astype(np.float64), rows.weight(i)
                old = labels[i]
                sums[old] -= wi * x
                weights[old] -= wi * m
                sums[cluster] = wi * x
                weights[cluster] = wi * m
            n_relocated = len(moves)
        return mean_centers(centers, sums, weights, rows.dtype), n_relocated

    def inertia(self, centers, labels):
        """Objective of a given labelling, without reassigning (one pass, O(n d))."""
        rows = self.rows
        out = np.empty(rows.n)
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        sized(masked_label_distances, rows.n * rows.d)(rows.X0, rows.M, centers, labels, out)
        return rows.weighted_sum(out)


class _MaskedScorer:
    """Greedy k-means++'s scorer (see :func:`greedy_plusplus`) on partial squared distances,
    each row's scaled by ``d / (its observed entries)`` (the partial distance strategy): a row
    with gaps is drawn as if its gaps were as far as its observed entries, not nearer."""

    def __init__(self, rows, closest, n_candidates):
        self.rows = rows
        self.closest = closest
        self.bounds = rows.sum_slabs()
        self.row_scale = rows.d / rows.M.sum(axis=1, dtype=np.float64)
        # Made once for the usual number of candidates (contiguous, as the kernel takes them).
        self._candidate_dist = np.empty((rows.n, n_candidates))  # the winner's column lowers closest
        self._out = np.empty((self.bounds.shape[0] - 1, n_candidates))

    def potentials(self, candidates):
        rows = self.rows
        t = candidates.shape[0]
        if self._out.shape[1] != t:
            self._candidate_dist = np.empty((rows.n, t))
            self._out = np.empty((self.bounds.shape[0] - 1, t))
        out = self._out
        sized(masked_candidate_potentials, rows.n * rows.d)(
            rows.X0, rows.M, rows.kernel_w(), self.row_scale, self.closest,
            np.ascontiguousarray(candidates, dtype=rows.dtype), self.bounds, self._candidate_dist, out,
        )
        # Slab sums added in the order greedy_plusplus adds them.
        return np.array([sum_in_order(out[:, j]) for j in range(t)])

    def update(self, center, candidate=None):
        if candidate is None:
            dist = masked_sq_distances_of(self.rows, center[None, :])[:, 0]
            dist *= self.row_scale
        else:
            dist = self._candidate_dist[:, candidate]
        np.minimum(self.closest, dist, out=self.closest)


def masked_plusplus(rows, n_clusters, random_state, n_local_trials=None):
    """Greedy k-means++ on partial squared distances (partial distance strategy).

    Candidates are drawn with probability proportional to ``w_i`` times their
    partial squared distance to the nearest chosen center, scaled by ``d``
    over the row's number of observed entries (on complete rows: k-means++'s
    draws, bit for bit, the factor being 1); a drawn row's gaps
    take :attr:`MaskedRows.fill`. ``random_state`` is consumed as by
    :func:`~kmeanskit._algorithms.init.kmeans_plusplus_rows`.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), rows' dtype
    indices : ndarray of shape (n_clusters,), int64 row index of each center
    """
    return greedy_plusplus(rows, n_clusters, random_state, _MaskedScorer, n_local_trials)
