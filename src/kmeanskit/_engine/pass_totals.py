"""The end of a Lloyd pass in one kernel: what the convergence loop needs from it.

After the assignment kernels have written every row's label and distance and
added the rows into per-slab sums, a pass still has to merge the slabs, add
up the inertia, count the labels that changed and form the new centers. Each
of these is a NumPy call or two; on a small input their fixed costs added up
to more than half of the assignment itself. :func:`pass_totals` does them in
one call, with the bits the separate calls gave:

- the slabs merged in index order from 0.0 (``np.add.reduce(sums, axis=0)``
  adds the outer axis one slab at a time);
- the inertia as :meth:`~kmeanskit._algorithms.rows._Rows.weighted_sum` adds
  it (each sum slab in row order from 0.0, then the slabs in order from 0.0);
- the new centers ``sums / weights`` in float64, then in the centers' dtype,
  when every cluster has weight (otherwise the caller relocates first).
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import row_weights
from kmeanskit._engine.numpy_twins import slab_sums_in_order, sum_in_order
from kmeanskit._engine.seeding import SLAB_LANES, weighted_slab_sums_interleaved
from kmeanskit._engine.serial import numpy_twin

__all__ = ["SLAB_LANES", "pass_totals", "pass_totals_numpy"]


@njit(cache=True, parallel=True, nogil=True)
def pass_totals(
    sums, weight_sums, w, sq_dist, sum_bounds, labels, labels_before, sums_out, weights_out, means_out,
):
    """Merge a pass's slab sums; its inertia, changed labels and new centers.

    IN   sums           (S, k, d) float64 per-slab weighted sums of rows
    IN   weight_sums    (S, k) float64 per-slab sums of weights
    IN   w              (n,) sample weights, or (1,): one weight for every row
    IN   sq_dist        (n,) float64 each row's squared distance to its center
    IN   sum_bounds     (T + 1,) int64 row bounds of the inertia's slabs
    IN   labels         (n,) int32 each row's label after the pass
    IN   labels_before  (n,) int32 each row's label before the pass
    OUT  sums_out       (k, d) float64 the slabs' sums added in slab order
    OUT  weights_out    (k,) float64 the slabs' weights added in slab order
    OUT  means_out      (k, d) the centers' dtype: ``sums_out / weights_out``,
                        written only when every cluster has positive weight

    Returns ``(inertia, n_changed, filled)``: ``sum_i w_i sq_dist_i`` (each
    sum slab adds its rows in order, then the slabs are added in order), the
    number of rows whose label changed, and whether every cluster has weight
    (``means_out`` written). Bits do not depend on the thread count.
    """
    n_sum_slabs = sum_bounds.shape[0] - 1
    partial = np.empty(n_sum_slabs)
    changed = np.empty(n_sum_slabs, dtype=np.int64)
    for g in prange((n_sum_slabs + SLAB_LANES - 1) // SLAB_LANES):
        weighted_slab_sums_interleaved(w, sq_dist, sum_bounds, g * SLAB_LANES, partial)
        for t in range(g * SLAB_LANES, min(n_sum_slabs, (g + 1) * SLAB_LANES)):
            # (on slices: vectorised; indexing by the bounds is not)
            after, before = labels[sum_bounds[t] : sum_bounds[t + 1]], labels_before[sum_bounds[t] : sum_bounds[t + 1]]
            count = 0
            for i in range(after.shape[0]):
                count += after[i] != before[i]
            changed[t] = count
    inertia = 0.0
    n_changed = 0
    for t in range(n_sum_slabs):
        inertia += partial[t]
        n_changed += changed[t]
    # Slab by slab into sums from 0.0 (contiguous reads; each sum's additions in slab order).
    n_slabs, k, d = sums.shape
    weights_out[:] = 0.0
    sums_out[:] = 0.0
    for s in range(n_slabs):
        for j in range(k):
            weights_out[j] += weight_sums[s, j]
            for f in range(d):
                sums_out[j, f] += sums[s, j, f]
    filled = True
    for j in range(k):
        filled = filled and weights_out[j] > 0.0
    if filled:
        for j in range(k):
            for f in range(d):
                means_out[j, f] = sums_out[j, f] / weights_out[j]
    return inertia, n_changed, filled


@numpy_twin(pass_totals)
def pass_totals_numpy(
    sums, weight_sums, w, sq_dist, sum_bounds, labels, labels_before, sums_out, weights_out, means_out,
):
    """:func:`pass_totals` in NumPy, with the same bits (its NumPy twin)."""
    start, stop = int(sum_bounds[0]), int(sum_bounds[-1])
    partial = slab_sums_in_order(row_weights(w, start, stop) * sq_dist[start:stop], sum_bounds)
    inertia = float(sum_in_order(partial))
    n_changed = int(np.count_nonzero(labels[start:stop] != labels_before[start:stop]))
    weights_out[:] = sum_in_order(weight_sums)
    sums_out[:] = sum_in_order(sums)
    filled = bool((weights_out > 0.0).all())
    if filled:
        means_out[:] = sums_out / weights_out[:, None]
    return inertia, n_changed, filled
