"""The Lloyd step: assign every row to its nearest center, accumulate new sums.

One ``LloydStep`` is built per fit and reused across iterations and restarts,
so its buffers (per-slab sums, distances, the BLAS output block) are allocated
once. Which kernel runs is decided here, from the data's shape:

- small ``d`` (``"direct"``): ``assign_accumulate_direct`` computes the dot
  products itself, vectorised over tiles of rows.
- moderate ``d * k`` (``"chunked"``): ``assign_accumulate_chunked_gemm`` calls
  BLAS on 256-row chunks inside each slab, so the dots stay in cache and are
  reduced at once (what scikit-learn does too).
- large ``d * k`` (``"blocks"``): BLAS computes ``dots = X_block @ centers.T``
  for a large block of rows on all cores while ``assign_accumulate_from_dots``
  reduces the previous block in a background thread (two dots buffers).
  Per-chunk BLAS calls lose here: BLAS needs large calls to reach its peak.
- CSR: ``assign_accumulate_csr``, sparse rows against dense centers, for the
  labels; then ``accumulate_csr`` adds each cluster's rows (no per-slab dense
  sums: they would cost S x k x d per pass for a few nonzeros a row), with the
  bits of ``rows.center_sum_slabs()``: few slabs, set by the shape alone, whose
  merge is a small share of the pass (``n_csr_sum_slabs``). Up to 10
  clusters, ``assign_csr_few`` (same bits) keeps a row's k scores in registers;
  on one thread ``assign_accumulate_csr_few`` does both in one walk (same bits).
"""

import contextlib
from dataclasses import dataclass

import numba
import numpy as np

from kmeanskit._algorithms.relocation import mean_centers, movable_distances, relocate
from kmeanskit._algorithms.rows import n_slabs, slab_bounds
from kmeanskit._algorithms.step import Step, einsum
from kmeanskit._algorithms.threads import SmallThreads, in_background, single_threaded_blas
from kmeanskit._engine.assign import (
    accumulate_csr,
    accumulate_groups,
    assign_accumulate_chunked_gemm,
    assign_accumulate_csr,
    assign_accumulate_direct,
    assign_accumulate_from_dots,
    weighted_sq_distances_csr,
    weighted_sq_distances_dense,
)
from kmeanskit._engine.blas import matmul_into
from kmeanskit._engine.csr_few import CSR_FEW_CLUSTERS, assign_accumulate_csr_few, assign_csr_few
from kmeanskit._engine.pass_totals import pass_totals
from kmeanskit._engine.serial import SERIAL_MAX_VALUES, sized

__all__ = ["Assignment", "LloydStep", "SlabSums", "dots_block_rows", "kernel_path", "mean_update"]

# Which dense kernel runs: direct dots for few features, BLAS per chunk for
# moderate d * k, one BLAS call per large block above (the timings per shape
# that set these thresholds are in benchmarks/README.md).
CHUNKED_MIN_FEATURES = 24
BLOCKS_MIN_PRODUCT = 16384  # d * k
CHUNK_ROWS = 256
# Rows per BLAS block: the (b, k) dots block holds this many values. Smaller
# blocks lose more to BLAS and numba threads handing the cores over; larger
# ones gain little and cost memory (see benchmarks/README.md).
DOTS_BLOCK_VALUES = 1 << 24
# The CSR sums cost about one k-th of the CSR arg-min (a few operations a stored
# value): they run serially below this many times the serial threshold of values,
# where waking the threads costs more than they save (benchmarks/README.md).
ACCUMULATE_SERIAL_SHARE = 8
# Rows per block when a dense block has to be shifted (copied) first.
SHIFTED_BLOCK_ROWS = 1 << 16


@dataclass
class Assignment:
    """What one pass over the data produced.

    inertia : float, sum of w_i |x_i - c_{l_i}|^2 over all rows
    sums : ndarray of shape (n_clusters, n_features), float64 weighted sums of rows
        per cluster (None when the pass did not accumulate)
    weights : ndarray of shape (n_clusters,), float64 total weight per cluster
    means : ndarray of shape (n_clusters, n_features), the rows' dtype, or None
        ``sums / weights`` when the pass formed them (every cluster has weight):
        :func:`mean_update`'s new centers, with its bits
    """

    inertia: float
    sums: np.ndarray | None
    weights: np.ndarray | None
    means: np.ndarray | None = None


def mean_update(rows, centers, labels, sq_dist, assignment):
    """New centers from accumulated sums, empty clusters relocated.

    The rule is :mod:`~kmeanskit._algorithms.relocation`'s, over every row:
    an empty cluster takes the row farthest from its center, which leaves its
    old cluster's sums. ``sq_dist`` (each row's squared distance to its
    center) is read only when a cluster is empty; it may be None otherwise.

    Returns
    -------
    new_centers : ndarray of shape (n_clusters, n_features), rows' dtype
    n_relocated : int
    """
    if assignment.means is not None:  # every cluster has weight: the pass formed the means
        return assignment.means, 0
    sums, weights = assignment.sums, assignment.weights
    n_relocated = 0
    if not weights.all():  # some cluster has no weight
        empty = np.flatnonzero(weights == 0)
        centers64 = centers.astype(np.float64)
        center_sq = np.einsum("ij,ij->i", centers64, centers64)
        noise = rows.sq_dist_rel_noise * (rows.x_sq + center_sq[labels])
        key = movable_distances(sq_dist, noise, None if rows.unit_weights else rows.w)
        moves = relocate(
            empty, key, labels, lambda i: (rows.row(i), rows.weight(i)), sums, weights,
        )
        n_relocated = len(moves)
    return mean_centers(centers, sums, weights, rows.dtype), n_relocated


def kernel_path(rows, n_clusters):
    """The assignment kernel for the rows' shape: "csr", "blocks", "chunked" or
    "direct" (see the module docstring)."""
    if rows.sparse:
        return "csr"
    if rows.d * n_clusters >= BLOCKS_MIN_PRODUCT:
        return "blocks"
    if rows.d >= CHUNKED_MIN_FEATURES:
        return "chunked"
    return "direct"


def dots_block_rows(n_clusters):
    """Rows per block of the "blocks" path (its dots block holds DOTS_BLOCK_VALUES)."""
    return max(1024, DOTS_BLOCK_VALUES // n_clusters)


class SlabSums:
    """Blocks, slabs and per-slab sums of a step that adds rows in slabs (a mixin)."""

    def _start_slabs(self, rows, n_clusters, path, block_rows, slab_bytes, feature_weights=False):
        """Set the step's rows, kernel ``path``, rows per block and slab sizes.

        ``slab_bytes``: bytes of one slab's sums, for :func:`n_slabs` (0: no sums).
        ``feature_weights``: weight sums per cluster and feature, (S, k, d) (rows
        with gaps weigh only where observed), else per cluster, (S, k).
        """
        self.rows = rows
        self.n_clusters = n_clusters
        self.path = path
        self.block_rows = max(1, min(block_rows, rows.n))
        self._slab_bytes = slab_bytes
        # Per-slab sums are only needed by fits; prediction passes get no-op stand-ins.
        self._sums, self._weight_sums = np.zeros((1, 1, 1)), np.zeros((1, 1, 1) if feature_weights else (1, 1))
        self._bounds = {}

    def _slabs(self, n_rows):
        bounds = self._bounds.get(n_rows)
        if bounds is None:
            # A block is never longer than block_rows, so this fits the buffers.
            slabs = n_slabs(n_rows, self._slab_bytes)
            bounds = self._bounds[n_rows] = slab_bounds(n_rows, slabs)
        return bounds

    def _reset_sums(self):
        """Zeroed per-slab sums, allocated on the first fitting pass."""
        shape = (self._slabs(self.block_rows).shape[0] - 1, self.n_clusters, self.rows.d)
        if self._sums.shape != shape:
            self._sums = np.zeros(shape)
            self._weight_sums = np.zeros(shape[: self._weight_sums.ndim])
        else:
            self._sums.fill(0.0)
            self._weight_sums.fill(0.0)


class LloydStep(SlabSums, Step):
    """Assignment (+ accumulation) over all rows for a fixed number of clusters.

    Parameters
    ----------
    rows : DenseRows or CsrRows
    n_clusters : int
    """

    def __init__(self, rows, n_clusters):
        k = n_clusters
        path = kernel_path(rows, k)
        if path == "blocks":
            block_rows = dots_block_rows(k)
        elif rows.is_view:
            block_rows = rows.n
        else:
            block_rows = SHIFTED_BLOCK_ROWS
        self._start_slabs(rows, k, path, block_rows, 8 * k * rows.d)
        self._sq_dist = None
        self._csr_partial = None  # accumulate_csr's scratch (CSR fits), zeros between passes
        self._labels_before = None  # each row's label before a fitting pass (dense rows)
        self.n_changed = None
        self._small_threads = SmallThreads()  # small inputs: serial or threaded passes, whichever is faster
        self._totals = None  # sized(pass_totals, n), looked up on the first fitting pass
        # Views of X's blocks with their slabs and weights, made once (each pass reads the same).
        self._block_parts = None
        n_buffers = 2 if self.path == "blocks" else 0
        self._dots = [np.empty((self.block_rows, k), dtype=rows.dtype) for _ in range(n_buffers)]

    def run_scope(self):
        """The chunked passes' BLAS on one thread for a whole run, instead of setting
        and restoring it every pass (threadpoolctl's calls cost about 10 us a pass;
        each pass's own :func:`single_threaded_blas` then only nests).

        Subclasses that make other BLAS calls override this with no scope."""
        return single_threaded_blas() if self.path == "chunked" else contextlib.nullcontext()

    @property
    def counts_label_changes(self):
        """Whether a fitting pass counts the labels it changed (dense rows: :func:`pass_totals`)."""
        return self.path != "csr"

    @property
    def sq_dist(self):
        """(n,) float64 squared distance of each row to its center in the last pass.

        Allocated on first use: a fit makes its step before seeding, whose own
        arrays then have the memory to themselves.
        """
        if self._sq_dist is None:
            self._sq_dist = np.empty(self.rows.n)
        return self._sq_dist

    def __call__(self, centers, labels, update=True):
        """Assign rows to ``centers`` (writes ``labels`` and ``self.sq_dist``).

        Parameters
        ----------
        centers : ndarray of shape (n_clusters, n_features), the data's dtype
        labels : ndarray of shape (n_samples,), int32, overwritten
        update : bool
            Also accumulate per-cluster weighted sums for the center update.

        Returns
        -------
        Assignment
        """
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        # The direct kernel does not read the transposed centers: it gets the
        # centers in their place (the same array type, no copy each pass).
        centers_t = centers if self.path == "direct" else np.ascontiguousarray(centers.T)
        center_sq = einsum("ij,ij->i", centers, centers)
        if self.path == "csr":
            return self._csr_pass(rows.X, centers_t, center_sq, labels, update)
        if update:
            self._reset_sums()
            if self._labels_before is None:
                self._labels_before = np.empty_like(labels)
            np.copyto(self._labels_before, labels)
        pending = None
        sq_dist = self.sq_dist
        for index, (start, stop, Xb, bounds, wb) in enumerate(self._blocks()):
            lb, db = labels[start:stop], sq_dist[start:stop]
            size = (stop - start) * rows.d
            work = size * self.n_clusters
            if self.path == "chunked":
                args = (
                    Xb, wb, centers, centers_t, center_sq, lb, db, self._sums, self._weight_sums, bounds,
                    CHUNK_ROWS, update,
                )
                with single_threaded_blas():
                    self._small_threads(assign_accumulate_chunked_gemm, size, work, args)
            elif self.path == "blocks":
                dots = self._dots[index % 2][: stop - start]
                matmul_into(Xb, centers_t, dots)
                if pending is not None:
                    pending.result()  # blocks are reduced in order: deterministic sums
                pending = in_background(
                    sized(assign_accumulate_from_dots, size), Xb, wb, dots, centers, center_sq, lb, db,
                    self._sums, self._weight_sums, bounds, update,
                )
            else:
                args = (Xb, wb, centers, centers_t, center_sq, lb, db, self._sums, self._weight_sums, bounds, update)
                self._small_threads(assign_accumulate_direct, size, work, args)
        if pending is not None:
            pending.result()
        if not update:
            self.n_changed = None
            return Assignment(rows.weighted_sum(self.sq_dist), None, None)
        # The slabs merged in index order, the inertia, the changed labels and
        # the means in one call, with the bits of the separate NumPy calls.
        k, d = self.n_clusters, rows.d
        sums, weights, means = np.empty((k, d)), np.empty(k), np.empty((k, d), dtype=rows.dtype)
        if self._totals is None:
            self._totals = sized(pass_totals, rows.n)
        inertia, n_changed, filled = self._totals(
            self._sums, self._weight_sums, rows.kernel_w(), sq_dist, rows.sum_slabs(), labels,
            self._labels_before, sums, weights, means,
        )
        self.n_changed = int(n_changed)
        return Assignment(float(inertia), sums, weights, means if filled else None)

    def _blocks(self):
        """``(start, stop, X_block, slab_bounds, kernel_weights)`` of each block of a dense pass;
        kept for the step's passes when the blocks are views of X (no copies held)."""
        if self._block_parts is not None:
            return self._block_parts
        rows = self.rows
        parts = (
            (start, stop, Xb, self._slabs(stop - start), rows.kernel_w(start, stop))
            for start, stop, Xb in rows.blocks(self.block_rows)
        )
        if not rows.is_view:
            return parts  # mapped copies, made block by block
        self._block_parts = tuple(parts)
        return self._block_parts

    def _csr_pass(self, X, centers_t, center_sq, labels, update):
        """A pass over CSR rows (one block): labels and distances on fine slabs,
        then the sums per cluster with the bits of ``rows.center_sum_slabs()`` (see
        :func:`~kmeanskit._engine.assign.accumulate_csr`). Up to
        ``CSR_FEW_CLUSTERS`` clusters the labels come from
        :func:`~kmeanskit._engine.csr_few.assign_csr_few` (the same bits), and
        a fitting pass on one thread runs both in one walk of the rows
        (:func:`~kmeanskit._engine.csr_few.assign_accumulate_csr_few`, the same bits)."""
        rows = self.rows
        k = self.n_clusters
        few = k <= CSR_FEW_CLUSTERS
        if update:
            sums, weights = np.empty((k, rows.d)), np.empty(k)
            if self._csr_partial is None:
                self._csr_partial = np.zeros((k, rows.d))  # the kernels' scratch, zeros between passes
        if few and update and (X.nnz < SERIAL_MAX_VALUES or numba.get_num_threads() == 1):
            sized(assign_accumulate_csr_few, X.nnz)(
                X.data, X.indices, X.indptr, rows.x_sq, rows.kernel_w(), centers_t, tuple(center_sq), labels,
                self.sq_dist, rows.center_sum_slabs(), sums, weights, self._csr_partial,
            )
            return Assignment(rows.weighted_sum(self.sq_dist), sums, weights)
        fine = slab_bounds(rows.n, n_slabs(rows.n))
        if few:
            sized(assign_csr_few, X.nnz)(
                X.data, X.indices, X.indptr, rows.x_sq, centers_t, tuple(center_sq), labels, self.sq_dist, fine,
            )
        else:
            sized(assign_accumulate_csr, X.nnz)(
                X.data, X.indices, X.indptr, rows.x_sq, rows.kernel_w(), centers_t, center_sq, labels,
                self.sq_dist, self._sums, self._weight_sums, fine, False,
            )
        inertia = rows.weighted_sum(self.sq_dist)
        if not update:
            return Assignment(inertia, None, None)
        kernel = sized(accumulate_csr, X.nnz // ACCUMULATE_SERIAL_SHARE)
        n_threads = numba.get_num_threads() if kernel is accumulate_csr else 1
        kernel(
            X.data, X.indices, X.indptr, rows.kernel_w(), labels, rows.center_sum_slabs(),
            accumulate_groups(k, rows.d, n_threads), sums, weights, self._csr_partial,
        )
        return Assignment(inertia, sums, weights)

    def update_centers(self, centers, labels, assignment):
        """Means of the accumulated sums, empty clusters relocated (see :func:`mean_update`)."""
        return mean_update(self.rows, centers, labels, self.sq_dist, assignment)

    def inertia(self, centers, labels):
        """Inertia of a given labelling, without reassigning (one pass, O(n d))."""
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        total = 0.0
        for start, stop, Xb in rows.blocks(self.block_rows):
            bounds = self._slabs(stop - start)
            out = np.empty(bounds.shape[0] - 1)
            wb, lb = rows.kernel_w(start, stop), labels[start:stop]
            if rows.sparse:
                center_sq = np.einsum("ij,ij->i", centers, centers).astype(np.float64)
                sized(weighted_sq_distances_csr, Xb.nnz)(
                    Xb.data, Xb.indices, Xb.indptr, rows.x_sq[start:stop], wb, centers,
                    center_sq, lb, bounds, out,
                )
            else:
                sized(weighted_sq_distances_dense, Xb.size)(Xb, wb, centers, lb, bounds, out)
            total += float(out.sum())
        return total
