"""Numba kernels for the assignment step, fused with accumulation.

Every kernel works on one block of rows and splits it into ``slabs``: fixed row
ranges given by ``slab_bounds``. Slab ``s`` is processed by a single thread in
row order and adds into ``sums[s]`` / ``weight_sums[s]``; the caller merges the
slabs in index order. The partition depends only on the block size, never on
the number of threads, so results are bitwise identical for any thread count.

Distances use the GEMM identity ``|x - c|^2 = |x|^2 - 2 x.c + |c|^2`` for the
arg-min (the ``|x|^2`` term is constant per row and dropped), with data the
caller has centered first so that float32 keeps its precision far from the
origin. The distance to the chosen center is then recomputed exactly, in
float64, because it feeds the inertia and the empty-cluster relocation.

Naming: ``*_direct`` kernels compute the dot products themselves (small d),
``*_chunked_gemm`` kernels call BLAS on small chunks of rows inside each slab
(moderate d·k), ``*_from_dots`` kernels take ``dots = X_block @ centers.T``
from a BLAS call on a large block (large d·k), ``*_csr`` kernels read CSR rows.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.numpy_twins import chunked_dots, slab_sums_in_order
from kmeanskit._engine.serial import numpy_twin

__all__ = [
    "row_weight",
    "assign_accumulate_chunked_gemm",
    "assign_accumulate_direct",
    "assign_accumulate_from_dots",
    "assign_accumulate_csr",
    "accumulate_csr",
    "accumulate_groups",
    "join_slab_sums",
    "assign_accumulate_chunked_gemm_numpy",
    "assign_accumulate_direct_numpy",
    "exact_sq_dists",
    "row_weights",
    "weighted_sq_distances_dense",
    "weighted_sq_distances_dense_numpy",
    "weighted_sq_distances_csr",
]


@njit(cache=True, nogil=True, inline="always")
def _add_row(x, wi, label, sums_s, wsums_s):
    wi64 = np.float64(wi)
    for f in range(x.shape[0]):
        sums_s[label, f] += wi64 * np.float64(x[f])
    wsums_s[label] += wi64


@njit(cache=True, nogil=True, inline="always")
def _exact_sq_dist(x, c):
    """|x - c|^2 in float64, with four partial sums (a single running sum is a
    chain of dependent additions; four run in parallel, in a fixed order)."""
    d = x.shape[0]
    d4 = d - d % 4
    a0 = a1 = a2 = a3 = 0.0
    for f in range(0, d4, 4):
        e0 = np.float64(x[f]) - np.float64(c[f])
        e1 = np.float64(x[f + 1]) - np.float64(c[f + 1])
        e2 = np.float64(x[f + 2]) - np.float64(c[f + 2])
        e3 = np.float64(x[f + 3]) - np.float64(c[f + 3])
        a0 += e0 * e0
        a1 += e1 * e1
        a2 += e2 * e2
        a3 += e3 * e3
    for f in range(d4, d):
        e = np.float64(x[f]) - np.float64(c[f])
        a0 += e * e
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True, inline="always")
def _first_argmin(scores):
    """First index of the minimum of a finite vector.

    Eight independent running minima (vectorisable, no serial chain of
    branches), then the first index holding the minimum.
    """
    k = scores.shape[0]
    k8 = k - k % 8
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = scores[0]
    for j in range(0, k8, 8):
        m0 = min(m0, scores[j])
        m1 = min(m1, scores[j + 1])
        m2 = min(m2, scores[j + 2])
        m3 = min(m3, scores[j + 3])
        m4 = min(m4, scores[j + 4])
        m5 = min(m5, scores[j + 5])
        m6 = min(m6, scores[j + 6])
        m7 = min(m7, scores[j + 7])
    m = min(min(min(m0, m1), min(m2, m3)), min(min(m4, m5), min(m6, m7)))
    for j in range(k8, k):
        m = min(m, scores[j])
    for j in range(k):
        if scores[j] == m:
            return j
    return 0


@njit(cache=True, nogil=True, inline="always")
def row_weight(w, i):
    """``w[i]``, or ``w[0]`` when a single weight stands for every row.

    Unit weights are passed as one 1 (no array of n ones; the same type, so no
    other compiled version); a one-row block's weight is its own either way.
    """
    return w[0] if w.shape[0] == 1 else w[i]


@njit(cache=True, nogil=True, inline="always")
def _record(X, w, i, best, centers, labels, sq_dist, sums_s, wsums_s, update):
    """Store row i's label and exact distance; add it to its slab's sums."""
    labels[i] = best
    sq_dist[i] = _exact_sq_dist(X[i], centers[best])
    if update:
        _add_row(X[i], row_weight(w, i), best, sums_s, wsums_s)


# Rows per tile of the direct kernel: at most DIRECT_TILE_ROWS, and fewer for
# wide rows, so that a tile's doubled rows (d x rows) fit in DIRECT_TILE_BYTES
# and stay in L1 with its running scores (timings in benchmarks/README.md).
DIRECT_TILE_ROWS = 128
DIRECT_TILE_BYTES = 16384


@njit(cache=True, nogil=True, inline="always")
def _direct_tile_rows(n_features, itemsize):
    """Rows per tile of :func:`assign_accumulate_direct`: a multiple of 8."""
    return max(8, min(DIRECT_TILE_ROWS, DIRECT_TILE_BYTES // (itemsize * n_features) // 8 * 8))


@njit(cache=True, nogil=True, inline="always")
def _doubled_transposed(X, start, m, two_xt):
    """``two_xt[f, r] = X[start + r, f] + X[start + r, f]`` (in X's dtype) for r < m.

    Eight rows at a time, all their features: reads run along the rows and the
    writes go to eight contiguous values per feature.
    """
    n_features = X.shape[1]
    x_tile = X[start:start + m]  # indices from 0: known not negative, no wraparound test a value
    m8 = m - m % 8
    for r0 in range(0, m8, 8):
        for f in range(n_features):
            for r in range(r0, r0 + 8):
                two_xt[f, r] = x_tile[r, f] + x_tile[r, f]
    for r in range(m8, m):
        for f in range(n_features):
            two_xt[f, r] = x_tile[r, f] + x_tile[r, f]


@njit(cache=True, nogil=True, inline="always")
def _tile_scores(two_xt, centers, center_sq, j, m, scores):
    """Center j's score ``|c_j|^2 - 2 x.c_j`` for each of a tile's m rows, into ``scores``.

    Built in X's dtype feature by feature, in feature order, as for one row at
    a time (``score -= 2x_f * c_jf``); the loop over the tile's rows is the
    innermost (vectorised) and takes four features per pass (the same
    subtractions, in the same order, with one load and store of the scores
    instead of four).
    """
    n_features = two_xt.shape[0]
    d4 = n_features - n_features % 4
    cs = center_sq[j]
    for r in range(m):
        scores[r] = cs
    for f in range(0, d4, 4):
        c0, c1, c2, c3 = centers[j, f], centers[j, f + 1], centers[j, f + 2], centers[j, f + 3]
        t0, t1, t2, t3 = two_xt[f], two_xt[f + 1], two_xt[f + 2], two_xt[f + 3]
        for r in range(m):
            scores[r] = (((scores[r] - t0[r] * c0) - t1[r] * c1) - t2[r] * c2) - t3[r] * c3
    for f in range(d4, n_features):
        c = centers[j, f]
        t = two_xt[f]
        for r in range(m):
            scores[r] -= t[r] * c


@njit(cache=True, nogil=True, inline="always")
def _tile_nearest(two_xt, centers, center_sq, m, scores, best_scores, best):
    """The nearest center of each of a tile's m rows (first on ties), into ``best``.

    Scores as :func:`_tile_scores` builds them, one center after another.
    """
    for j in range(centers.shape[0]):
        _tile_scores(two_xt, centers, center_sq, j, m, scores)
        if j == 0:
            for r in range(m):
                best_scores[r] = scores[r]
                best[r] = 0
        else:
            for r in range(m):  # selects, not branches: vectorised
                better = scores[r] < best_scores[r]
                best_scores[r] = scores[r] if better else best_scores[r]
                best[r] = j if better else best[r]


@njit(cache=True, nogil=True, inline="always")
def _record_tile(X, w, start, m, best, centers, labels, sq_dist, sums_s, wsums_s, update):
    """:func:`_record` for rows ``start .. start + m`` (nearest centers ``best``), in row order.

    Each row's label, exact distance and weighted add to its slab's sums, as
    ``_record`` makes them; unit weights (one weight for every row) are read
    once for the tile.
    """
    n_features = X.shape[1]
    # The tile's rows, labels and distances sliced: indices from 0, no wraparound test a value.
    x_tile, tile_labels, tile_sq_dist = X[start:start + m], labels[start:start + m], sq_dist[start:start + m]
    if not update:
        for r in range(m):
            tile_labels[r] = best[r]
            tile_sq_dist[r] = _exact_sq_dist(x_tile[r], centers[best[r]])
        return
    if w.shape[0] == 1:
        w0 = np.float64(w[0])
        for r in range(m):
            b = best[r]
            tile_labels[r] = b
            tile_sq_dist[r] = _exact_sq_dist(x_tile[r], centers[b])
            for f in range(n_features):
                sums_s[b, f] += w0 * np.float64(x_tile[r, f])
            wsums_s[b] += w0
        return
    tile_w = w[start:start + m]
    for r in range(m):
        b = best[r]
        tile_labels[r] = b
        tile_sq_dist[r] = _exact_sq_dist(x_tile[r], centers[b])
        wi = np.float64(tile_w[r])
        for f in range(n_features):
            sums_s[b, f] += wi * np.float64(x_tile[r, f])
        wsums_s[b] += wi


@njit(cache=True, parallel=True, nogil=True)
def assign_accumulate_direct(
    X, w, centers, centers_t, center_sq, labels, sq_dist, sums, weight_sums,
    slab_bounds, update,
):
    """Assign each row to its nearest center; accumulate weighted sums per slab.

    IN     X            (b, d) block of (centered) rows, float32 or float64
    IN     w            (b,) sample weights, X's dtype, or (1,): one weight for every row
    IN     centers      (k, d) centers, X's dtype
    IN     centers_t    (d, k) the same centers transposed (unused here; the
                        signature is that of the other dense kernels)
    IN     center_sq    (k,) squared norms of the centers, X's dtype
    OUT    labels       (b,) int32 index of the nearest center (first on ties)
    OUT    sq_dist      (b,) float64 exact squared distance to that center
    INOUT  sums         (S, k, d) float64 per-slab weighted sums of rows
    INOUT  weight_sums  (S, k) float64 per-slab sums of weights
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs in this block
    IN     update       bool, accumulate sums (False: labels and distances only)

    Each slab walks its rows in tiles (:func:`_direct_tile_rows`), transposed
    and doubled (feature-major) so that the innermost loop runs over the
    tile's rows: vectorised, with every row's score ``|c_j|^2 - 2 x.c_j``
    built feature by feature in X's dtype, in the same order as for one row
    at a time (:func:`_tile_nearest`). The running minimum over the centers
    keeps the first on ties. Rows are then recorded and added to the slab's
    sums in row order (:func:`_record_tile`): the bits of one row at a time.
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_features = X.shape[1]
    tile = _direct_tile_rows(n_features, X.itemsize)
    for s in prange(n_slabs):
        two_xt = np.empty((n_features, tile), dtype=X.dtype)
        scores = np.empty(tile, dtype=X.dtype)
        best_scores = np.empty(tile, dtype=X.dtype)
        best = np.empty(tile, dtype=np.int32)
        sums_s, weight_sums_s = sums[s], weight_sums[s]  # one view per slab, not per row
        stop = slab_bounds[s + 1]
        for start in range(slab_bounds[s], stop, tile):
            m = min(tile, stop - start)
            _doubled_transposed(X, start, m, two_xt)
            _tile_nearest(two_xt, centers, center_sq, m, scores, best_scores, best)
            _record_tile(X, w, start, m, best, centers, labels, sq_dist, sums_s, weight_sums_s, update)


def row_weights(w, start, stop):
    """:func:`row_weight` of rows ``start .. stop - 1`` as a float64 vector (a NumPy twin's weights)."""
    if w.shape[0] == 1:
        return np.full(stop - start, np.float64(w[0]))
    return w[start:stop].astype(np.float64)


def exact_sq_dists(X, C):
    """What ``_exact_sq_dist(X[i], C[i])`` gives for every row i (same bits), vectorised across rows.

    IN   X  (n, d), C (n, d): rows and their centers, any float dtypes
    Returns (n,) float64.
    """
    n, d = X.shape
    d4 = d - d % 4
    lanes = np.zeros((4, n))
    for f in range(d):
        e = X[:, f].astype(np.float64) - C[:, f].astype(np.float64)
        lanes[f % 4 if f < d4 else 0] += e * e
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])


def _slab_of_rows(slab_bounds):
    """The slab of each row ``slab_bounds[0] .. slab_bounds[-1] - 1``."""
    return np.repeat(np.arange(slab_bounds.shape[0] - 1), np.diff(slab_bounds))


def _record_numpy(X, w, rows, best, centers, labels, sq_dist, sums, weight_sums, slab_bounds, update):
    """``_record`` of every row of ``rows`` (a slice), the slab sums added row by row in row order."""
    labels[rows] = best
    sq_dist[rows] = exact_sq_dists(X[rows], centers[best])
    if update:
        slab = _slab_of_rows(slab_bounds)
        weights = row_weights(w, rows.start, rows.stop)
        np.add.at(sums, (slab, best), weights[:, None] * X[rows].astype(np.float64))  # in index order
        np.add.at(weight_sums, (slab, best), weights)


@numpy_twin(assign_accumulate_direct)
def assign_accumulate_direct_numpy(
    X, w, centers, centers_t, center_sq, labels, sq_dist, sums, weight_sums,
    slab_bounds, update,
):
    """:func:`assign_accumulate_direct` in NumPy, with the same bits (its NumPy twin).

    Every row's scores ``|c_j|^2 - 2 x.c_j`` are built feature by feature in
    X's dtype, the running minimum keeps the first center on ties, and rows
    are added to their slab's sums in row order (``np.add.at``).
    """
    rows = slice(int(slab_bounds[0]), int(slab_bounds[-1]))
    Xr = X[rows]
    two_x = Xr + Xr  # stays in X's dtype
    scores = np.empty((Xr.shape[0], centers.shape[0]), dtype=X.dtype)
    scores[:] = center_sq
    for f in range(X.shape[1]):
        scores -= two_x[:, f, None] * centers[:, f]
    best = np.zeros(Xr.shape[0], dtype=np.int32)
    best_scores = scores[:, 0].copy()
    for j in range(1, centers.shape[0]):
        better = scores[:, j] < best_scores
        best_scores[better] = scores[better, j]
        best[better] = j
    _record_numpy(X, w, rows, best, centers, labels, sq_dist, sums, weight_sums, slab_bounds, update)


@njit(cache=True, nogil=True, inline="always")
def _argmin_from_dots(center_sq, dots_row, scores):
    """First index of the smallest ``|c_j|^2 - 2 x.c_j``, in the dots' dtype.

    INOUT scores (k,) scratch
    """
    for j in range(center_sq.shape[0]):
        scores[j] = center_sq[j] - (dots_row[j] + dots_row[j])
    return _first_argmin(scores)


@njit(cache=True, parallel=True, nogil=True)
def assign_accumulate_chunked_gemm(
    X, w, centers, centers_t, center_sq, labels, sq_dist, sums, weight_sums,
    slab_bounds, chunk_rows, update,
):
    """As :func:`assign_accumulate_direct`, with BLAS dot products per chunk.

    Each slab walks its rows in chunks of ``chunk_rows``; a chunk's dots
    (chunk_rows x k) are computed by one BLAS call into a buffer small enough
    to stay in cache, then reduced at once. Chunks are small enough that BLAS
    runs them on the calling thread (no oversubscription).

    IN     chunk_rows   int, rows per BLAS call
    (all other arguments as in :func:`assign_accumulate_direct`)
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters = centers.shape[0]
    for s in prange(n_slabs):
        buffer = np.empty((chunk_rows, n_clusters), dtype=X.dtype)
        scores = np.empty(n_clusters, dtype=X.dtype)
        sums_s, weight_sums_s = sums[s], weight_sums[s]
        for start in range(slab_bounds[s], slab_bounds[s + 1], chunk_rows):
            stop = min(start + chunk_rows, slab_bounds[s + 1])
            dots = buffer[: stop - start]
            np.dot(X[start:stop], centers_t, dots)
            for r in range(stop - start):
                i = start + r
                best = _argmin_from_dots(center_sq, dots[r], scores)
                _record(X, w, i, best, centers, labels, sq_dist, sums_s, weight_sums_s, update)


@numpy_twin(assign_accumulate_chunked_gemm)
def assign_accumulate_chunked_gemm_numpy(
    X, w, centers, centers_t, center_sq, labels, sq_dist, sums, weight_sums,
    slab_bounds, chunk_rows, update,
):
    """:func:`assign_accumulate_chunked_gemm` in NumPy, with the same bits (its NumPy twin).

    The dots come from the same BLAS calls (one per chunk of each slab), the
    scores ``|c_j|^2 - (x.c_j + x.c_j)`` in the dots' dtype, the first
    arg-min on ties, and rows join their slab's sums in row order.
    """
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    dots = chunked_dots(X, centers_t, slab_bounds, chunk_rows)
    scores = center_sq - (dots + dots)
    best = np.argmin(scores, axis=1).astype(np.int32)  # the first minimum, as _first_argmin (finite scores)
    _record_numpy(X, w, slice(start, stop), best, centers, labels, sq_dist, sums, weight_sums, slab_bounds, update)


@njit(cache=True, parallel=True, nogil=True)
def assign_accumulate_from_dots(
    X, w, dots, centers, center_sq, labels, sq_dist, sums, weight_sums,
    slab_bounds, update,
):
    """As :func:`assign_accumulate_direct`, with the dot products given.

    IN     dots         (b, k) ``X @ centers.T`` for this block, X's dtype
    (all other arguments as in :func:`assign_accumulate_direct`)
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        scores = np.empty(center_sq.shape[0], dtype=dots.dtype)
        sums_s, weight_sums_s = sums[s], weight_sums[s]
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best = _argmin_from_dots(center_sq, dots[i], scores)
            _record(X, w, i, best, centers, labels, sq_dist, sums_s, weight_sums_s, update)


@njit(cache=True, parallel=True, nogil=True)
def assign_accumulate_csr(
    data, indices, indptr, row_sq, w, centers_t, center_sq, labels, sq_dist,
    sums, weight_sums, slab_bounds, update,
):
    """As :func:`assign_accumulate_direct` for a CSR block of rows.

    IN     data, indices, indptr   the CSR arrays of the block (b rows, d cols)
    IN     row_sq       (b,) squared norms of the rows, float64
    IN     centers_t    (d, k) centers transposed, data's dtype
    OUT    sq_dist      (b,) float64 squared distance by the GEMM identity
                        (sparse rows are not centered; clipped at 0)
    (all other arguments as in :func:`assign_accumulate_direct`)
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters = centers_t.shape[1]
    for s in prange(n_slabs):
        scores = np.empty(n_clusters, dtype=data.dtype)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            for j in range(n_clusters):
                scores[j] = center_sq[j]
            # Unsigned indices: no negative-index fix-up per value (same bits).
            lo, hi = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            for p in range(lo, hi):
                two_x = data[p] + data[p]
                f = np.uint64(indices[p])
                for j in range(n_clusters):
                    scores[j] -= two_x * centers_t[f, j]
            best = _first_argmin(scores)
            labels[i] = best
            u_best = np.uint64(best)
            dot = 0.0
            for p in range(lo, hi):
                dot += np.float64(data[p]) * np.float64(centers_t[np.uint64(indices[p]), u_best])
            sq_dist[i] = max(row_sq[i] - 2.0 * dot + np.float64(center_sq[best]), 0.0)
            if update:
                wi = np.float64(row_weight(w, i))
                for p in range(lo, hi):
                    sums[s, u_best, np.uint64(indices[p])] += wi * np.float64(data[p])
                weight_sums[s, best] += wi


# accumulate_csr gives each group of clusters partial sums of at most this many
# bytes (they stay in cache) and at least one group per thread.
GROUP_PARTIAL_BYTES = 1 << 18
# It adds a slab's partial sums over all of a group's features (contiguous,
# vectorised) rather than by walking the slab's values again when the slab has
# at least (clusters x features) / SWEEP_SHARE values of the group: a walk's
# scattered read-modify-writes cost about as much as 16 swept values
# (benchmarks/README.md).
SWEEP_SHARE = 16


def accumulate_groups(n_clusters, n_features, n_threads):
    """Groups of clusters for :func:`accumulate_csr`: partial sums of at most
    ``GROUP_PARTIAL_BYTES`` each, and at least one group per thread."""
    by_size = -(-(n_clusters * n_features * 8) // GROUP_PARTIAL_BYTES)
    return int(min(n_clusters, max(by_size, n_threads)))


@njit(cache=True, parallel=True, nogil=True)
def accumulate_csr(data, indices, indptr, w, labels, slab_bounds, n_groups, sums, weight_sums, partial):
    """Weighted sums of CSR rows per cluster, with the bits of per-slab sums merged in slab order.

    What :func:`assign_accumulate_csr` with ``update=True`` and these slabs,
    followed by ``sums.sum(axis=0)``, gives, bit for bit, without its
    (S, k, d) dense buffers. The clusters are split into groups (one thread
    each, partial sums small enough to stay in cache); a group scans the
    rows in order, slab by slab, adds its rows into its partial sums, and at
    the end of each slab adds them to the totals and resets them. A slab
    without rows of a cluster, or without a feature, would add 0.0 there,
    which changes no sum (no sum is -0.0), so the partial sums are added
    either over every feature or only where the slab's rows have values (a
    feature seen twice adds 0.0 after its reset). Each cluster's additions are
    the same whatever the groups, hence the same bits for any thread count.
    The work is O(nnz + k d) plus a scan of the labels per group.

    IN     data, indices, indptr   the CSR arrays (n rows, d columns)
    IN     w            (n,) sample weights, or (1,): one weight for every row
    IN     labels       (n,) int32 cluster of each row
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs whose bits are kept
    IN     n_groups     int in 1..k, groups of clusters (:func:`accumulate_groups`)
    OUT    sums         (k, d) float64 weighted sums of rows per cluster
    OUT    weight_sums  (k,) float64 sums of weights per cluster
    INOUT  partial      (k, d) float64 scratch for the partial sums: zeros on entry,
                        zeros again on return, so a caller keeps one across passes
                        (a fresh (k, d) buffer a pass costs the allocator's page
                        faults, several times the pass at large d: benchmarks/README.md)
    """
    n_clusters, n_features = sums.shape
    longest = 0
    for s in range(slab_bounds.shape[0] - 1):
        longest = max(longest, slab_bounds[s + 1] - slab_bounds[s])
    for g in prange(n_groups):
        lo, hi = g * n_clusters // n_groups, (g + 1) * n_clusters // n_groups
        group_partial = partial[lo:hi]
        w_partial = np.zeros(hi - lo)
        sums[lo:hi] = 0.0
        weight_sums[lo:hi] = 0.0
        mine = np.empty(longest, dtype=np.int64)  # the group's rows of the current slab
        for s in range(slab_bounds.shape[0] - 1):
            m = 0
            nnz = 0
            for i in range(slab_bounds[s], slab_bounds[s + 1]):
                j = labels[i] - lo
                if j < 0 or j >= hi - lo:
                    continue
                mine[m] = i
                m += 1
                wi = np.float64(row_weight(w, i))
                # Unsigned indices: no negative-index fix-up per value (1.3-1.8x, same bits).
                u_j = np.uint64(j)
                for p in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    group_partial[u_j, np.uint64(indices[p])] += wi * np.float64(data[p])
                nnz += indptr[i + 1] - indptr[i]
                w_partial[j] += wi
            join_slab_sums(indices, indptr, labels, mine, m, nnz, lo, group_partial, w_partial, sums, weight_sums)


@njit(cache=True, nogil=True, inline="always")
def join_slab_sums(indices, indptr, labels, rows, n_rows, nnz, lo, partial, w_partial, sums, weight_sums):
    """A slab's partial sums join the totals, as the slab merge adds them, and are reset to zeros.

    Over every feature, or, when the slab's rows have fewer than (clusters x
    features) / ``SWEEP_SHARE`` values, only where they have values (a second
    walk of those rows): the same bits (see :func:`accumulate_csr`).

    IN     indices, indptr   the CSR arrays
    IN     labels       (n,) int32 cluster of each row
    IN     rows         (>= n_rows,) int64 the slab's rows of these clusters, in order (first n_rows)
    IN     nnz          int, their stored values
    IN     lo           int, the first cluster of ``partial``: its row j is cluster lo + j
    INOUT  partial      (g, d) float64 partial sums, zeros on return
    INOUT  w_partial    (g,) float64 partial weights, zeros on return
    INOUT  sums         (k, d) float64 totals
    INOUT  weight_sums  (k,) float64 totals
    """
    n_clusters, n_features = partial.shape
    if nnz * SWEEP_SHARE >= n_clusters * n_features:
        for j in range(n_clusters):
            for f in range(n_features):
                sums[lo + j, f] += partial[j, f]
                partial[j, f] = 0.0
            weight_sums[lo + j] += w_partial[j]
            w_partial[j] = 0.0
    else:
        for t in range(n_rows):
            i = rows[t]
            j = labels[i] - lo
            u_j, u_total = np.uint64(j), np.uint64(lo + j)
            for p in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                f = np.uint64(indices[p])
                sums[u_total, f] += partial[u_j, f]
                partial[u_j, f] = 0.0
            weight_sums[lo + j] += w_partial[j]
            w_partial[j] = 0.0


@njit(cache=True, parallel=True, nogil=True)
def weighted_sq_distances_dense(X, w, centers, labels, slab_bounds, out):
    """Per-slab inertia of a given labelling.

    IN   X (b, d), w (b,) or (1,) (see :func:`row_weight`), centers (k, d), labels (b,) int32
    IN   slab_bounds (S + 1,) int64
    OUT  out (S,) float64: sum over the slab of w_i |x_i - c_{l_i}|^2
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            acc += np.float64(row_weight(w, i)) * _exact_sq_dist(X[i], centers[labels[i]])
        out[s] = acc


@njit(cache=True, parallel=True, nogil=True)
def weighted_sq_distances_csr(
    data, indices, indptr, row_sq, w, centers, center_sq, labels, slab_bounds, out
):
    """As :func:`weighted_sq_distances_dense` for CSR rows (GEMM identity).

    IN   row_sq (b,) float64 squared row norms; center_sq (k,) squared center norms
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            c = labels[i]
            dot = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                dot += np.float64(data[p]) * np.float64(centers[c, indices[p]])
            d2 = max(row_sq[i] - 2.0 * dot + np.float64(center_sq[c]), 0.0)
            acc += np.float64(row_weight(w, i)) * d2
        out[s] = acc


@numpy_twin(weighted_sq_distances_dense)
def weighted_sq_distances_dense_numpy(X, w, centers, labels, slab_bounds, out):
    """:func:`weighted_sq_distances_dense` in NumPy, with the same bits (its NumPy twin)."""
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    d2 = exact_sq_dists(X[start:stop], centers[labels[start:stop]])
    out[:] = slab_sums_in_order(row_weights(w, start, stop) * d2, slab_bounds)
