"""Numba kernel for the assignment step on CSR rows with few clusters (k <= 10).

The general CSR kernel (:func:`~kmeanskit._engine.assign.assign_accumulate_csr`)
loops over the k centers for every stored value, with the scores in memory:
with few clusters that loop and its loads and stores cost more than the
arithmetic. Here the k scores of a row are a tuple of k running sums, which
the compiler keeps in registers (one compiled version per k), in one walk of
the row's stored values, together with the row's dot product with its
previous center, so the distance to the nearest center mostly needs no second
walk.

The arithmetic is the general kernel's, in the same order, so labels and
distances are the same bits: center j's score is ``center_sq[j]`` minus
``2x * c[f, j]`` over the row's stored values in order (data's dtype), the
dot with the nearest center the float64 sum of ``x * c[f, best]`` in order,
and the squared distance ``max(|x|^2 - 2 dot + |c|^2, 0)``.
"""

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.tuple import tuple_setitem

from kmeanskit._engine.assign import _first_argmin, join_slab_sums, row_weight, row_weights
from kmeanskit._engine.serial import numpy_twin

__all__ = [
    "CSR_FEW_CLUSTERS",
    "assign_accumulate_csr_few",
    "assign_accumulate_csr_few_numpy",
    "assign_csr_few",
    "assign_csr_few_numpy",
]

# Up to this many clusters the kernel of this module runs: beyond, its gain over
# the general kernel depends on the shape (0.9-1.5x at 12 to 14 clusters, 0.7-1.2x
# at 16), and from 17 the compiler no longer unrolls its loops, which makes it
# several times slower (timings in benchmarks/README.md).
CSR_FEW_CLUSTERS = 10
# Clusters per unrolled loop of the running sums.
_UNROLLED = 8


@njit(cache=True, nogil=True, inline="always")
def _nearest(data, indices, lo, hi, centers_t, center_sq, guess, scores):
    """Nearest center of the CSR row ``data[lo:hi]``, and the row's float64 dot with it.

    The dot with the row's previous center (``guess``) is summed in the same
    walk as the scores: when that center is still the nearest (most rows,
    after a few passes), the row needs no second walk.

    IN   centers_t  (d, k) centers transposed, data's dtype
    IN   center_sq  tuple of k squared center norms, data's dtype
    IN   guess      int, the row's previous label (any value: out of range is ignored)
    OUT  scores     (k,) data's dtype: scratch
    """
    n_clusters = len(center_sq)
    guess = guess if 0 <= guess < n_clusters else 0
    acc = center_sq  # k running scores: a tuple, so they stay in registers
    dot = 0.0
    # Unsigned positions, features and clusters: numba then emits no negative-index
    # fix-up per load (same values, same bits; 1.15-1.5x, benchmarks/README.md).
    u_guess = np.uint64(guess)
    for p in range(np.uint64(lo), np.uint64(hi)):
        x = data[p]
        two_x = x + x
        f = np.uint64(indices[p])
        # Two loops of constant length (the tuple's), each unrolled: the sums in registers.
        for j in range(min(n_clusters, _UNROLLED)):
            acc = tuple_setitem(acc, j, acc[j] - two_x * centers_t[f, np.uint64(j)])
        for j in range(_UNROLLED, n_clusters):
            acc = tuple_setitem(acc, j, acc[j] - two_x * centers_t[f, np.uint64(j)])
        dot += np.float64(x) * np.float64(centers_t[f, u_guess])
    for j in range(n_clusters):
        scores[j] = acc[j]
    best = _first_argmin(scores)
    if best != guess:
        dot = 0.0
        u_best = np.uint64(best)
        for p in range(np.uint64(lo), np.uint64(hi)):
            dot += np.float64(data[p]) * np.float64(centers_t[np.uint64(indices[p]), u_best])
    return best, dot


@njit(cache=True, parallel=True, nogil=True)
def assign_csr_few(data, indices, indptr, row_sq, centers_t, center_sq, labels, sq_dist, slab_bounds):
    """Labels and distances of CSR rows, the bits of ``assign_accumulate_csr(..., update=False)``.

    IN     data, indices, indptr   the CSR arrays (n rows, d columns)
    IN     row_sq       (n,) float64 squared norms of the rows
    IN     centers_t    (d, k) centers transposed, data's dtype, k <= ``CSR_FEW_CLUSTERS``
    IN     center_sq    tuple of k squared center norms, data's dtype (``tuple(array)``)
    INOUT  labels       (n,) int32 nearest center (first on ties); read first as a guess
                        (previous labels spare most rows a second walk; any values do)
    OUT    sq_dist      (n,) float64 squared distance by the GEMM identity, clipped at 0
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs (the unit of parallel work)
    """
    for s in prange(slab_bounds.shape[0] - 1):
        scores = np.empty(len(center_sq), dtype=data.dtype)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best, dot = _nearest(data, indices, indptr[i], indptr[i + 1], centers_t, center_sq, labels[i], scores)
            labels[i] = best
            sq_dist[i] = max(row_sq[i] - 2.0 * dot + np.float64(center_sq[best]), 0.0)


@numpy_twin(assign_csr_few)
def assign_csr_few_numpy(data, indices, indptr, row_sq, centers_t, center_sq, labels, sq_dist, slab_bounds):
    """:func:`assign_csr_few` in NumPy, with the same bits (its NumPy twin).

    The rows' stored values are taken position by position (the q-th value of
    every row that has one), so each row's sums run in the kernel's order,
    vectorised across rows.
    """
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    lo = indptr[start:stop].astype(np.int64)
    lengths = indptr[start + 1:stop + 1] - lo
    # For each position q: the rows with a q-th stored value, and where it is stored.
    positions = []
    for q in range(int(lengths.max(initial=0))):
        rows = np.flatnonzero(lengths > q)
        positions.append((rows, lo[rows] + q))
    scores = np.empty((stop - start, len(center_sq)), dtype=data.dtype)
    scores[:] = np.array(center_sq, dtype=data.dtype)
    for rows, p in positions:
        two_x = data[p] + data[p]
        scores[rows] -= two_x[:, None] * centers_t[indices[p]]
    best = np.argmin(scores, axis=1)  # the first minimum, as _first_argmin
    dot = np.zeros(stop - start)
    for rows, p in positions:
        dot[rows] += data[p].astype(np.float64) * centers_t[indices[p], best[rows]].astype(np.float64)
    labels[start:stop] = best
    center_sq64 = np.array(center_sq, dtype=data.dtype).astype(np.float64)
    sq_dist[start:stop] = np.maximum(row_sq[start:stop] - 2.0 * dot + center_sq64[best], 0.0)


@njit(cache=True, nogil=True)
def assign_accumulate_csr_few(
    data, indices, indptr, row_sq, w, centers_t, center_sq, labels, sq_dist, slab_bounds, sums, weight_sums, partial,
):
    """:func:`assign_csr_few` and :func:`~kmeanskit._engine.assign.accumulate_csr` in one walk of the rows (serial).

    Each row's labels and distance are :func:`assign_csr_few`'s, and its values
    join its cluster's partial sums while they are in cache; the partial sums
    join the totals at the end of each slab, as ``accumulate_csr`` adds them:
    the bits of both kernels, for a pass that runs on one thread (small inputs,
    or one thread), where the second kernel's walk of the rows costs more than
    its adds (very sparse rows: benchmarks/README.md).

    IN     data, indices, indptr, row_sq, centers_t, center_sq   as in :func:`assign_csr_few`
    IN     w            (n,) sample weights, or (1,): one weight for every row
    INOUT  labels       (n,) int32, read first as a guess
    OUT    sq_dist      (n,) float64
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs whose sums' bits are kept
                        (``accumulate_csr``'s, not the arg-min's: the arg-min has no slabs' bits)
    OUT    sums         (k, d) float64 weighted sums of rows per cluster
    OUT    weight_sums  (k,) float64 sums of weights per cluster
    INOUT  partial      (k, d) float64 scratch, zeros on entry and on return
    """
    n_clusters = len(center_sq)
    scores = np.empty(n_clusters, dtype=data.dtype)
    w_partial = np.zeros(n_clusters)
    sums[:] = 0.0
    weight_sums[:] = 0.0
    for s in range(slab_bounds.shape[0] - 1):
        first, last = slab_bounds[s], slab_bounds[s + 1]
        for i in range(first, last):
            lo, hi = indptr[i], indptr[i + 1]
            best, dot = _nearest(data, indices, lo, hi, centers_t, center_sq, labels[i], scores)
            labels[i] = best
            sq_dist[i] = max(row_sq[i] - 2.0 * dot + np.float64(center_sq[best]), 0.0)
            wi = np.float64(row_weight(w, i))
            u_best = np.uint64(best)
            for p in range(np.uint64(lo), np.uint64(hi)):
                partial[u_best, np.uint64(indices[p])] += wi * np.float64(data[p])
            w_partial[best] += wi
        # The slab's rows are every row from first to last (one cluster group: lo 0).
        join_slab_sums(
            indices, indptr, labels, np.arange(first, last), last - first, indptr[last] - indptr[first], 0,
            partial, w_partial, sums, weight_sums,
        )


@numpy_twin(assign_accumulate_csr_few)
def assign_accumulate_csr_few_numpy(
    data, indices, indptr, row_sq, w, centers_t, center_sq, labels, sq_dist, slab_bounds, sums, weight_sums, partial,
):
    """:func:`assign_accumulate_csr_few` in NumPy, with the same bits (its NumPy twin).

    The labels and distances of :func:`assign_csr_few_numpy`; each slab's
    partial sums by ``np.add.at`` (unbuffered: the values added in stored
    order, as the kernel adds them), added to the totals in slab order.
    """
    assign_csr_few_numpy(data, indices, indptr, row_sq, centers_t, center_sq, labels, sq_dist, slab_bounds)
    n_clusters, n_features = sums.shape
    sums[:] = 0.0
    weight_sums[:] = 0.0
    for s in range(slab_bounds.shape[0] - 1):
        start, stop = int(slab_bounds[s]), int(slab_bounds[s + 1])
        lo, hi = int(indptr[start]), int(indptr[stop])
        slab_labels = labels[start:stop]
        wi = row_weights(w, start, stop)
        counts = np.diff(indptr[start:stop + 1])
        slab_partial = np.zeros((n_clusters, n_features))
        np.add.at(
            slab_partial, (np.repeat(slab_labels, counts), indices[lo:hi]),
            np.repeat(wi, counts) * data[lo:hi].astype(np.float64),
        )
        slab_weights = np.zeros(n_clusters)
        np.add.at(slab_weights, slab_labels, wi)
        sums += slab_partial
        weight_sums += slab_weights
