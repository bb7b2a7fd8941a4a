"""The bounded step: Lloyd's result with most of the distance work skipped.

One lower bound per row (Hamerly, 2010), a tight upper bound recomputed every
pass, and margins that make every skip agree with Lloyd's own arg-min (see
``_engine/bounds.py``). Rows are visited in the blocks and slabs of the Lloyd
step, and sums are added in row order, so labels, centers, inertia and the
number of iterations are those of :class:`LloydStep` from the same start.

Extra memory: one float32 bound per row (4 bytes) besides the labels and
distances every step keeps, nothing of size n x k; the first pass's dots
buffers hold a sixteenth of X's values and are freed after it.
"""

import contextlib

import numpy as np
from scipy.spatial.distance import cdist

from kmeanskit._algorithms.lloyd import CHUNK_ROWS, CHUNKED_MIN_FEATURES, Assignment, LloydStep
from kmeanskit._algorithms.threads import in_background, single_threaded_blas
from kmeanskit._engine.blas import matmul_into
from kmeanskit._engine.bounds import bounded_assign_accumulate
from kmeanskit._engine.center_order import neighbour_levels, sort_neighbours
from kmeanskit._engine.serial import serial_twin, sized

__all__ = ["BoundedStep", "CenterDrift", "center_arrays", "score_rounding"]

# Direct arg-min below this many features, BLAS on the recomputed rows of a
# chunk above (the rule of the Lloyd step, whose arithmetic it must repeat).
GEMM_MIN_FEATURES = CHUNKED_MIN_FEATURES
# In the first pass, and when more than this share of rows needed the full
# arg-min in the last pass (not itself a first one), one multi-threaded GEMM
# over groups of slabs beats per-chunk BLAS calls on the recomputed rows.
FULL_GEMM_SHARE = 0.4
# Rows counted at a time by _rows_bounds_fail (its temporaries stay within the step's memory budget).
_COUNT_ROWS = 4096
# Values in each of the two dots buffers of that GEMM (one is reduced while
# BLAS fills the other): a thirty-second of the input's values (both: a
# sixteenth, 6% of the input's memory), and at least one chunk of rows, so
# that the memory of a fit stays within the input's size plus a quarter.
# Groups are cut by rows, not by slabs (k > 2d makes a slab's dots larger
# than the buffer share: cutting by rows keeps the buffers small at no cost
# in speed, see benchmarks/README.md).
DOTS_SHARE_OF_INPUT = 32
# Up to this many clusters the GEMM path also sorts each center's others by
# distance every pass (two k x k arrays kept, 16 MB at the limit), so that a
# row's bound drops only by the drifts of the centers near its own; above it,
# by the largest drift. (The direct path sorts them anyway, for its pruning.)
LEVELS_MAX_CLUSTERS = 1024


class CenterDrift:
    """The bookkeeping of a step whose bounds follow the centers from pass to pass (a mixin).

    Bounds on each row's distances hold for one labels array (the convergence
    loop passes the same one back every pass) and the centers of the pass that
    last moved them: a pass that gets another labels array, or comes first,
    starts afresh. The bounded, group-bounded and masked steps share this.
    """

    _labels = None  # the labels array the bounds belong to
    _centers = None  # float64 centers of the last pass

    def _center_moves(self, centers64, labels):
        """Whether this pass starts afresh, how far each center moved since the
        last pass, and each center's norm.

        Parameters
        ----------
        centers64 : ndarray of shape (n_clusters, n_features), float64
            This pass's centers.
        labels : ndarray of shape (n_samples,), int32
            This pass's labels array.

        Returns
        -------
        fresh : bool
            No bounds to carry over (first pass, or another labels array).
        drift : ndarray of shape (n_clusters,), float64
            Euclidean distance from each center's last position (0 when fresh).
        center_norm : ndarray of shape (n_clusters,), float64
        """
        fresh = labels is not self._labels or self._centers is None
        if fresh:
            drift = np.zeros(centers64.shape[0])
        else:
            moved = centers64 - self._centers
            drift = np.sqrt(np.einsum("ij,ij->i", moved, moved))
        return fresh, drift, np.sqrt(np.einsum("ij,ij->i", centers64, centers64))

    def _bounds_follow(self, labels, centers64):
        """Record that the bounds now belong to ``labels`` and ``centers64`` (float64)."""
        self._labels, self._centers = labels, centers64


class BoundedStep(CenterDrift, LloydStep):
    """Exact assignment (+ accumulation) that skips rows whose label the bounds prove.

    Parameters
    ----------
    rows : DenseRows
    n_clusters : int
    """

    # Each call sets ``n_changed`` (labels it changed): the convergence loop
    # needs no copy of the labels (4 bytes a row).
    counts_label_changes = True

    def __init__(self, rows, n_clusters):
        if rows.sparse:
            raise ValueError("the bounded step takes dense rows")
        super().__init__(rows, n_clusters)
        self._dots = []  # no block GEMM here
        self.use_gemm = rows.d >= GEMM_MIN_FEATURES
        self.path = "bounded-gemm" if self.use_gemm else "bounded-direct"
        self._kernel = sized(bounded_assign_accumulate, rows.n * rows.d)
        self._serial_kernel = serial_twin(bounded_assign_accumulate)
        self.small = self._kernel is not bounded_assign_accumulate
        self._lower = None  # one float32 per row, allocated on the first pass (after seeding)
        self.gamma = score_rounding(rows)
        self.recomputed = np.zeros(0, dtype=np.int64)  # rows per block given the full arg-min
        self.n_changed = None  # labels the last call changed
        self._last_fresh = False  # whether the last call started afresh (every row recomputed)
        self._no_dots = np.empty((0, n_clusters), dtype=rows.dtype)
        self._no_neighbours = (np.empty((0, 0), dtype=np.int64), np.empty((0, 0)))
        self._no_levels = (np.empty((0, 0)), np.empty((0, 0)))
        self._sorted = None  # (neighbours, their distances) of the last pass's centers
        self._dots_buffers = [None, None]

    def run_scope(self):
        """No scope for the run: this step makes BLAS calls of its own."""
        return contextlib.nullcontext()

    @property
    def takes_seed_labels(self):
        """Whether :meth:`start_from` pays: it spares the first pass's full GEMM."""
        return self.use_gemm and not self.small

    def start_from(self, labels, centers):
        """Make the next pass from ``centers`` use ``labels`` (INOUT, int32, values
        in [0, k)) as each row's center, with lower bounds 0.

        A row then keeps its label only where it lies within half the gap from its
        center to the next one, which the skip test proves exactly; every other
        row gets the full arg-min. So the pass gives Lloyd's result whatever the
        labels are; labels from seeding (nearly right) spare most of the work.
        Returns True: the labels are taken.
        """
        self.lower[:] = 0.0
        self._bounds_follow(labels, np.ascontiguousarray(centers, dtype=self.rows.dtype).astype(np.float64))
        self._sorted = None
        self._last_fresh = False
        self.recomputed = np.zeros(0, dtype=np.int64)
        return True

    @property
    def lower(self):
        """(n,) float32 lower bound of each row's distance to the other centers."""
        if self._lower is None:
            self._lower = np.empty(self.rows.n, dtype=np.float32)
        return self._lower

    def __call__(self, centers, labels, update=True):
        """Assign rows to ``centers`` (see :meth:`LloydStep.__call__`).

        The bounds stay valid while the same ``labels`` array comes back, as
        in the convergence loop; any other array starts afresh.
        """
        self.assign(centers, labels, update)
        inertia = self.rows.weighted_sum(self.sq_dist)
        if not update:
            return Assignment(inertia, None, None)
        return Assignment(inertia, self._sums.sum(axis=0), self._weight_sums.sum(axis=0))

    def assign(self, centers, labels, update):
        """The pass of :meth:`__call__` without its reductions: writes ``labels``,
        ``sq_dist``, the bounds, ``n_changed`` and (``update``) the per-slab sums."""
        rows, k = self.rows, self.n_clusters
        centers, centers_t, center_sq, centers64 = center_arrays(centers, rows.dtype)
        fresh, drift, center_norm = self._center_moves(centers64, labels)
        level_sep, level_drift = self._no_levels
        if k > 1:
            between = cdist(centers64, centers64)
            # Each center's others by distance: the direct path prunes its
            # arg-min with them, and the next pass bounds the drifts with them.
            previous = None if fresh or self._sorted is None else self._sorted[0]
            sorted_now = _by_distance(between, previous) if k <= LEVELS_MAX_CLUSTERS or not self.use_gemm else None
            if not fresh and sorted_now is not None:
                if self._sorted is None:  # after start_from
                    self._sorted = _by_distance(cdist(self._centers, self._centers))
                level_sep, level_drift = _neighbour_levels(*self._sorted, drift)
            neighbours, neighbour_sep = self._no_neighbours
            if not self.use_gemm and not fresh:  # the direct path prunes by distance
                neighbours, neighbour_sep = sorted_now
            np.fill_diagonal(between, np.inf)
            half_sep = 0.5 * between.min(axis=1)
        else:
            half_sep = np.full(1, np.inf)
            neighbours, neighbour_sep = self._no_neighbours
            sorted_now = None
        norm_max = float(center_norm.max())
        if update:
            self._reset_sums()
        # (Small inputs stay on the calling thread: waking BLAS threads costs more.)
        # A fresh pass recomputes every row, which says nothing of the next pass:
        # after one, the bounds spare most rows, and per-chunk BLAS on the rows
        # left beats a full GEMM (benchmarks/README.md).
        # A heavy last pass predicts a heavy one only while the centers still move
        # far: once they settle, the bounds (tested against this pass's drifts)
        # spare most rows again, and the full GEMM would score them all for nothing.
        full_gemm = (
            self.use_gemm and not self.small
            and (fresh or (
                not self._last_fresh and self.recomputed.sum() > FULL_GEMM_SHARE * rows.n
                and self._rows_bounds_fail(labels, drift, half_sep) > FULL_GEMM_SHARE * rows.n
            ))
        )
        recomputed, n_changed = [], 0
        for start, stop, Xb in rows.blocks(self.block_rows):
            bounds = self._slabs(stop - start)
            if full_gemm:
                groups = self._gemm_groups(bounds)
                # Both buffers at the largest group's size at once (growing them later leaves holes).
                most = max(hi - lo for _, _, lo, hi in groups)
                for which in (0, 1):
                    self._dots_block(most, which)
            else:
                groups = [(0, bounds.shape[0] - 1, 0, stop - start)]
            counts = []  # per call: rows recomputed and labels changed, per slab
            pending = None
            for index, (s0, s1, lo, hi) in enumerate(groups):
                dots = self._no_dots
                if full_gemm:
                    # BLAS computes this group's dots on all cores while the previous
                    # group (the other buffer) is reduced in the background.
                    dots = self._dots_block(hi - lo, index % 2)
                    matmul_into(Xb[lo:hi], centers_t, dots)
                # The group's slab bounds, relative to lo (a piece of one slab: [0, hi - lo]).
                group_bounds = np.clip(bounds[s0:s1 + 1], lo, hi) - lo
                counts.append(np.zeros((2, s1 - s0), dtype=np.int64))
                args = (
                    Xb[lo:hi], rows.kernel_w(start + lo, start + hi), centers, centers_t, center_sq,
                    labels[start + lo:start + hi], self.sq_dist[start + lo:start + hi],
                    self.lower[start + lo:start + hi], drift, level_sep, level_drift, half_sep, self.gamma,
                    center_norm, norm_max, fresh,
                    self.use_gemm, dots, neighbours, neighbour_sep, self._sums[s0:s1] if update else self._sums,
                    self._weight_sums[s0:s1] if update else self._weight_sums, group_bounds,
                    CHUNK_ROWS, update, counts[-1][0], counts[-1][1],
                )
                if full_gemm:
                    if pending is not None:
                        pending.result()  # groups are reduced in order: the same sums
                    # One slab is one thread's work: its serial twin (the same bits)
                    # spares waking the parallel threads on each of these many calls.
                    pending = in_background(self._serial_kernel if s1 - s0 == 1 else self._kernel, *args)
                elif self.use_gemm:
                    with single_threaded_blas():
                        self._kernel(*args)
                else:  # no BLAS call to keep on one thread (spares threadpoolctl's cost each pass)
                    self._kernel(*args)
            if pending is not None:
                pending.result()
            recomputed.append(sum(int(c[0].sum()) for c in counts))
            n_changed += sum(int(c[1].sum()) for c in counts)
        self._pass_done(labels, centers64, fresh, recomputed, n_changed)
        self._sorted = sorted_now
        if full_gemm:
            # Only full-GEMM passes (the first, mostly) use the dots buffers:
            # freed, they leave room for the rest of the fit.
            self._dots_buffers = [None, None]

    def _rows_bounds_fail(self, labels, drift, half_sep):
        """How many rows fail the skip test with the last pass's distances plus
        their center's drift for upper bounds (at least the kernel's count).

        The kernel tests a row against its exact distance, which is at most
        that, and drops its bound by at most the largest drift of another
        center: a row that passes here passes there, up to the rounding
        margin. Only a count to choose the pass's BLAS calls by: any choice
        gives the same result.
        """
        order = np.argsort(drift)
        top1 = drift[order[-1]]
        top2 = drift[order[-2]] if drift.shape[0] > 1 else 0.0
        failing = 0
        for start in range(0, labels.shape[0], _COUNT_ROWS):  # temporaries of a few rows, not of n
            rows = slice(start, start + _COUNT_ROWS)
            own = labels[rows]
            drop = np.where(own == order[-1], top2, top1)
            upper = np.sqrt(self.sq_dist[rows]) + drift[own]
            reach = np.maximum(self.lower[rows] - drop, 2.0 * half_sep[own] - upper)
            failing += int(np.count_nonzero(reach <= upper))
        return failing

    def _pass_done(self, labels, centers64, fresh, recomputed, n_changed):
        """Record a pass: the rows recomputed per block, the labels changed, whether
        it started afresh, and the labels and centers the bounds now follow."""
        self.recomputed = np.asarray(recomputed, dtype=np.int64)
        self.n_changed = n_changed
        self._last_fresh = fresh
        self._bounds_follow(labels, centers64)

    def _gemm_groups(self, bounds):
        """Row ranges ``(s0, s1, lo, hi)`` of at most the dots buffer's rows each.

        Rows ``lo .. hi - 1`` cut the block into near-equal groups; a group
        holds the parts of slabs ``s0 .. s1 - 1`` that fall in it. A slab cut
        by group boundaries gets its rows added to its sums part after part,
        in row order, so the sums are those of the whole slab.
        """
        values = self.rows.n * self.rows.d // DOTS_SHARE_OF_INPUT
        cap = max(CHUNK_ROWS, -(-values // self.n_clusters))
        n_rows = int(bounds[-1])
        n_groups = -(-n_rows // cap)
        cuts = (np.arange(n_groups + 1, dtype=np.int64) * n_rows) // n_groups
        groups = []
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            s0 = int(np.searchsorted(bounds, lo, side="right")) - 1
            s1 = int(np.searchsorted(bounds, hi, side="left"))
            groups.append((s0, s1, lo, hi))
        return groups

    def _dots_block(self, n_rows, which):
        buffer = self._dots_buffers[which]
        if buffer is None or buffer.shape[0] < n_rows:
            buffer = self._dots_buffers[which] = np.empty((n_rows, self.n_clusters), dtype=self.rows.dtype)
        return buffer[:n_rows]


def center_arrays(centers, dtype):
    """The centers as the kernels take them: contiguous in ``dtype``, transposed, their
    squared norms (Lloyd's ``center_sq``) and a float64 copy."""
    centers = np.ascontiguousarray(centers, dtype=dtype)
    return centers, np.ascontiguousarray(centers.T), np.einsum("ij,ij->i", centers, centers), centers.astype(np.float64)


def score_rounding(rows):
    """Rounding error of a score relative to ``(|x| + |c|max)^2``, with room to
    spare (see ``_engine/bounds.py``); the floor covers float64 bound updates."""
    eps = float(np.finfo(rows.dtype).eps)
    return max(4.0 * (rows.d + 4) * eps, 1e-12)


def _by_distance(between, previous=None):
    """(k, k) indices of each center's centers from the nearest (itself) on, and their distances.

    ``previous``: last pass's indices, where the sort starts from (nearly right).
    """
    k = between.shape[0]
    neighbours = np.empty((k, k), dtype=np.int64) if previous is None else previous.copy()
    neighbour_sep = np.empty((k, k))
    sort_neighbours(between, previous is not None, neighbours, neighbour_sep)
    return neighbours, neighbour_sep


def _neighbour_levels(neighbours, neighbour_sep, drift):
    """The kernel's ``level_sep`` (k, M) and ``level_drift`` (k, M + 1) (see
    ``bounded_assign_accumulate``) from the last pass's sorted centers and the drifts since."""
    k = drift.shape[0]
    n_levels = max(int(k - 1).bit_length() - 1, 0)  # the neighbours 2, 4, 8, ... below k
    level_sep, level_drift = np.empty((k, n_levels)), np.empty((k, n_levels + 1))
    neighbour_levels(neighbours, neighbour_sep, drift, level_sep, level_drift)
    return level_sep, level_drift
