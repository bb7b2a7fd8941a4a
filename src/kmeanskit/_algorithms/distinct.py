"""The bounded step on data with many repeated rows: each distinct row assigned once.

Image pixels, rounded measurements and small integer codes repeat: the 273,280
pixels of china.jpg hold 96,615 distinct colours. Identical rows get identical
labels and distances in Lloyd's arithmetic, so the bounded step runs on the
distinct rows only (its bounds, too, are kept once per distinct row); one
more pass over all rows copies each row's label and adds the row to its
cluster's sums, in the slabs and row order of the Lloyd step. Labels,
centers, inertia and iterations are therefore Lloyd's, bit for bit.
"""

import contextlib
from dataclasses import dataclass

import numpy as np

from kmeanskit._algorithms.bounded import GEMM_MIN_FEATURES, BoundedStep
from kmeanskit._algorithms.lloyd import Assignment, LloydStep, mean_update
from kmeanskit._algorithms.rows import DenseRows, sum_in_order
from kmeanskit._engine.distinct import distinct_index, expand_accumulate
from kmeanskit._engine.serial import sized

__all__ = ["Distinct", "DistinctStep", "find_distinct"]

# Where finding the distinct rows is tried: dense rows seen as they are (a
# fit's), and only where the bounded step scores rows itself (few features,
# where repeats are common and a row's assignment costs about as much as
# hashing it). Below DISTINCT_MIN_ROWS a fit is fast anyway.
DISTINCT_MIN_ROWS = 50_000
DISTINCT_MAX_FEATURES = GEMM_MIN_FEATURES - 1
# Used when the distinct rows are at most this share of all rows: the pass
# over every row (labels, distances, sums) stays, so fewer repeats gain little.
# The search gives up as soon as it finds more, so data without repeats pay
# only for hashing about this share of their rows.
DISTINCT_MAX_SHARE = 0.5


@dataclass
class Distinct:
    """The distinct rows of some rows.

    index : ndarray of shape (n_samples,), int32, each row's distinct row
    first : ndarray of shape (n_distinct,), int64, the first row of each
    X : ndarray of shape (n_distinct, n_features), the distinct rows (a copy,
        shared by seeding and the step)
    """

    index: np.ndarray
    first: np.ndarray
    X: np.ndarray

    @property
    def n(self):
        return self.first.shape[0]


def find_distinct(rows, max_share=DISTINCT_MAX_SHARE):
    """The distinct rows of dense ``rows`` (a view of X), or None when there are
    more than ``max_share`` of the rows."""
    X = rows.X
    bits = X.view(np.uint64 if X.dtype == np.float64 else np.uint32)
    max_distinct = max(1, int(max_share * rows.n))
    index = np.empty(rows.n, dtype=np.int32)
    first = np.empty(max_distinct, dtype=np.int64)
    n_distinct = distinct_index(bits, max_distinct, index, first)
    if n_distinct < 0:
        return None
    first = first[:n_distinct].copy()
    return Distinct(index, first, X[first])


def distinct_rows_of(rows):
    """``find_distinct(rows)`` where a fit should use them, else None."""
    if rows.sparse or not rows.is_view or rows.n < DISTINCT_MIN_ROWS or rows.d > DISTINCT_MAX_FEATURES:
        return None
    return find_distinct(rows)


class DistinctStep(LloydStep):
    """The bounded step run on the distinct rows, its result given to every row.

    Parameters
    ----------
    rows : DenseRows
        All rows (a view of X).
    n_clusters : int
    distinct : Distinct
        The distinct rows of ``rows``.
    inner : type, default=BoundedStep
        The step run on the distinct rows (a :class:`BoundedStep` or a subclass).
    """

    counts_label_changes = True

    def __init__(self, rows, n_clusters, distinct, inner=BoundedStep):
        super().__init__(rows, n_clusters)
        self.distinct = distinct
        self._dots = []
        # The distinct rows are a copy (n_distinct x d): unit weights, since
        # the weights only enter the sums, which are added over all rows.
        self.inner = inner(DenseRows(distinct.X, None), n_clusters)
        self.path = self.inner.path + "-distinct"
        # The expand pass also adds the inertia when its slabs are weighted_sum's
        # (one block of every row, and the usual slab count): decided once.
        self._fuse_inertia = self.block_rows >= rows.n and np.array_equal(self._slabs(rows.n), rows.sum_slabs())
        self._labels = None  # the labels array of the last pass
        self._inner_labels = None
        self.n_changed = None

    def run_scope(self):
        """No scope for the run: the inner step makes BLAS calls of its own."""
        return contextlib.nullcontext()

    @property
    def takes_seed_labels(self):
        return self.inner.takes_seed_labels

    @property
    def recomputed(self):
        """Distinct rows per block of the last pass that needed the full arg-min."""
        return self.inner.recomputed

    def start_from(self, labels, centers):
        """Start the next pass from ``labels`` (see :meth:`BoundedStep.start_from`)."""
        self._labels = labels
        self._inner_labels = labels[self.distinct.first]
        return self.inner.start_from(self._inner_labels, centers)

    @property
    def sq_dist(self):
        """(n,) float64 squared distance of each row to its center in the last pass.

        Made on demand from the distinct rows' (the same bits): a pass does not
        write them (2 MB on china.jpg); only the relocation of an empty cluster,
        or an inertia the pass could not add itself, reads them.
        """
        if self._sq_dist is None:
            self._sq_dist = self.inner.sq_dist[self.distinct.index]
        return self._sq_dist

    def update_centers(self, centers, labels, assignment):
        """Means of the sums (see :func:`mean_update`); the rows' distances are
        made only when a cluster is empty (one gather of n values)."""
        sq_dist = self.sq_dist if np.any(assignment.weights == 0) else None
        return mean_update(self.rows, centers, labels, sq_dist, assignment)

    def __call__(self, centers, labels, update=True):
        """Assign rows to ``centers`` (see :meth:`LloydStep.__call__`)."""
        rows = self.rows
        self._sq_dist = None
        if labels is not self._labels:
            # Another labels array: the distinct rows start afresh too.
            self._labels = labels
            self._inner_labels = np.empty(self.distinct.n, dtype=np.int32)
        inner = self.inner
        inner.assign(centers, self._inner_labels, update=False)
        if update:
            self._reset_sums()
        n_changed = 0
        inertia = None
        for start, stop, Xb in rows.blocks(self.block_rows):
            bounds = self._slabs(stop - start)
            changed = np.zeros(bounds.shape[0] - 1, dtype=np.int64)
            # In the slabs of rows.weighted_sum, the pass adds the inertia too:
            # its bits, without another pass over the distances.
            fused = self._fuse_inertia
            parts = np.empty(bounds.shape[0] - 1 if fused else 0)
            sized(expand_accumulate, (stop - start) * rows.d)(
                Xb, rows.kernel_w(start, stop), self.distinct.index[start:stop], self._inner_labels,
                inner.sq_dist, labels[start:stop], self._sums, self._weight_sums, bounds, update, changed, parts,
            )
            n_changed += int(changed.sum())
            if fused:
                inertia = sum_in_order(parts)
        self.n_changed = n_changed
        if inertia is None:
            inertia = rows.weighted_sum(self.sq_dist)
        if not update:
            return Assignment(inertia, None, None)
        return Assignment(inertia, self._sums.sum(axis=0), self._weight_sums.sum(axis=0))
