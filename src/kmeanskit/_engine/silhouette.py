"""Numba kernels for the exact silhouette: per-cluster sums of distances, fused.

The silhouette of row i needs ``a_i``, its mean distance to the other rows of
its cluster, and ``b_i``, the smallest mean distance to the rows of another
cluster: both come from ``sums[i, j]``, the sum of the distances from row i to
the rows of cluster j (an n-by-k array; the n-by-n distance matrix is never
formed).

Rows are sorted by cluster and cut into fixed tiles of ``tile`` rows. Each
unordered pair of tiles (I, J) is one work item: one BLAS call gives its
``tile x tile`` dot products (small enough to stay in cache), which are turned
into distances and reduced at once, both ways (row i of I into ``sums[i, j]``
for the clusters j of J's rows, and row c of J into ``sums[c, j]`` for the
clusters of I's rows), so every distance is computed once. Pairs are run in
the rounds of a round-robin tournament: within a round no tile appears twice,
so the round's pairs run in parallel without races, and every row receives its
contributions in the same order whatever the number of threads (results are
bitwise reproducible).

Distances use ``|x - y| = sqrt(max(|x|^2 + |y|^2 - 2 x.y, 0))`` on data the
caller has centered, so float32 keeps its precision far from the origin. The
identity cancels badly for near-duplicate pairs: a pair whose squared distance
is below ``near * (|x|^2 + |y|^2)`` is recomputed exactly in float64, so
duplicate rows are at distance exactly 0; a row's distance to itself is never
counted. Dot products are in the data's dtype (float32 GEMM for float32 data);
everything after them is float64.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.serial import numpy_twin

__all__ = ["cluster_distance_sums", "cluster_distance_sums_numpy", "round_robin_pairs"]


def round_robin_pairs(n_tiles):
    """Schedule of all unordered pairs of distinct tiles (circle method).

    Plain NumPy (a few array operations; nothing worth compiling on a first call).

    OUT  pairs  (R, P, 2) int64: round r runs the pairs ``pairs[r, p]``, in which
         no tile appears twice; an entry of -1 is a bye (odd ``n_tiles``).
         Every pair (I, J), I != J, appears exactly once.
    """
    m = n_tiles + (n_tiles % 2)  # even number of slots; slot n_tiles is a bye if odd
    n_rounds = max(m - 1, 0)
    rounds = np.arange(n_rounds, dtype=np.int64)[:, None]
    slots = np.arange(m // 2, dtype=np.int64)[None, :]
    cycle = max(m - 1, 1)
    a = np.where(slots == 0, rounds, (rounds + slots) % cycle)
    b = np.where(slots == 0, m - 1, (rounds - slots + m - 1) % cycle)
    real = (a < n_tiles) & (b < n_tiles)
    pairs = np.empty((n_rounds, m // 2, 2), dtype=np.int64)
    pairs[..., 0] = np.where(real, np.minimum(a, b), -1)
    pairs[..., 1] = np.where(real, np.maximum(a, b), -1)
    return pairs


@njit(cache=True, nogil=True, inline="always")
def _exact_dist(x, y):
    """|x - y| in float64."""
    acc = 0.0
    for f in range(x.shape[0]):
        e = np.float64(x[f]) - np.float64(y[f])
        acc += e * e
    return np.sqrt(acc)


# Reassociation lets LLVM vectorise the row's sum (its order is then fixed by
# the compiled code, never by the threads). No flag that assumes finite values
# or approximates sqrt.
@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"})
def _add_distances(dots_row, x_sq_i, x_sq_cols, near, col_acc):
    """Distances from one row to a run of columns, by the dot-product identity.

    IN     dots_row   (w,) x_i . x_c, X's dtype
    IN     x_sq_i     float64 |x_i|^2
    IN     x_sq_cols  (w,) float64 |x_c|^2
    IN     near       float64 relative threshold of the exact recomputation
    INOUT  col_acc    (w,) float64, each column's distance added
    Returns the sum of the distances and the number of "near" pairs, which
    contribute 0 here and are left to :func:`_add_near`.
    """
    acc = 0.0
    n_near = 0
    zero = dots_row.dtype.type(0.0)
    for c in range(dots_row.shape[0]):
        s = x_sq_i + x_sq_cols[c]
        d2 = s - 2.0 * np.float64(dots_row[c])
        is_near = d2 < near * s
        n_near += is_near
        # in the dots' dtype: float32 data take float32 square roots (several times
        # faster; d2 is no more precise than float32 anyway), summed in float64
        d = np.float64(np.sqrt(max(dots_row.dtype.type(d2), zero)))
        d = 0.0 if is_near else d
        acc += d
        col_acc[c] += d
    return acc, n_near


@njit(cache=True, nogil=True)
def _add_near(X, i, c0, dots_row, x_sq, near, col_acc):
    """The exact distances of the pairs :func:`_add_distances` left out (row i with
    columns c0 + c); row i itself is at distance 0. Returns their sum."""
    x_sq_i = x_sq[i]
    acc = 0.0
    for c in range(dots_row.shape[0]):
        col = c0 + c
        s = x_sq_i + x_sq[col]
        if col != i and s - 2.0 * np.float64(dots_row[c]) < near * s:
            d = _exact_dist(X[i], X[col])
            acc += d
            col_acc[c] += d
    return acc


@njit(cache=True, nogil=True)
def _tile_pair(X, x_sq, labels, offsets, r0, r1, c0, c1, near, buffer, col_acc, sums):
    """Add the distances between rows r0:r1 and rows c0:c1 into ``sums``.

    Both ways when the ranges differ (rows into columns' clusters and back);
    rows into columns' clusters only when they are the same tile.
    """
    m = r1 - r0
    w = c1 - c0
    diagonal = r0 == c0
    dots = buffer[: m * w].reshape((m, w))
    np.dot(X[r0:r1], X[c0:c1].T, dots)
    acc = col_acc[:w]
    acc[:] = 0.0
    for r in range(m):
        i = r0 + r
        # the row's sums, one run of columns per cluster
        c = c0
        while c < c1:
            j = labels[c]
            stop = min(offsets[j + 1], c1)
            row_dots = dots[r, c - c0 : stop - c0]
            row_acc = acc[c - c0 : stop - c0]
            total, n_near = _add_distances(row_dots, x_sq[i], x_sq[c:stop], near, row_acc)
            if n_near > 0:
                total += _add_near(X, i, c, row_dots, x_sq, near, row_acc)
            sums[i, j] += total
            c = stop
        # the columns' sums for row i's cluster, flushed when the cluster changes
        if not diagonal and (i + 1 == r1 or labels[i + 1] != labels[i]):
            ji = labels[i]
            for c in range(w):
                sums[c0 + c, ji] += acc[c]
            acc[:] = 0.0


@njit(cache=True, parallel=True, nogil=True)
def cluster_distance_sums(X, x_sq, labels, offsets, tile, pairs, near, sums):
    """Sum of the distances from every row to the rows of every cluster.

    Call with BLAS limited to one thread (each work item makes its own BLAS call).

    IN   X        (n, d) centered rows sorted by cluster, C-contiguous, float32 or float64
    IN   x_sq     (n,) float64 squared norms of the rows of X
    IN   labels   (n,) int64 cluster of each row of X, non-decreasing, in 0..k-1
    IN   offsets  (k + 1,) int64: cluster j is rows offsets[j]:offsets[j + 1]
    IN   tile     int, rows per tile
    IN   pairs    (R, P, 2) int64 :func:`round_robin_pairs` of ceil(n / tile)
    IN   near     float64: pairs with d2 < near * (|x|^2 + |y|^2) are recomputed exactly
    OUT  sums     (n, k) float64: sums[i, j] = sum over rows c != i of cluster j of |x_i - x_c|
    """
    n = X.shape[0]
    n_tiles = (n + tile - 1) // tile
    sums[:] = 0.0
    # tiles against themselves
    for t in prange(n_tiles):
        buffer = np.empty(tile * tile, dtype=X.dtype)
        col_acc = np.empty(tile)
        r0 = t * tile
        r1 = min(r0 + tile, n)
        _tile_pair(X, x_sq, labels, offsets, r0, r1, r0, r1, near, buffer, col_acc, sums)
    # every other pair of tiles, one round at a time
    for r in range(pairs.shape[0]):
        for p in prange(pairs.shape[1]):
            a = pairs[r, p, 0]
            if a < 0:
                continue
            b = pairs[r, p, 1]
            buffer = np.empty(tile * tile, dtype=X.dtype)
            col_acc = np.empty(tile)
            r0 = a * tile
            r1 = min(r0 + tile, n)
            c0 = b * tile
            c1 = min(c0 + tile, n)
            _tile_pair(X, x_sq, labels, offsets, r0, r1, c0, c1, near, buffer, col_acc, sums)


@numpy_twin(cluster_distance_sums)
def cluster_distance_sums_numpy(X, x_sq, labels, offsets, tile, pairs, near, sums):
    """NumPy twin of :func:`cluster_distance_sums`, for small inputs (n x n distances).

    The same distances (the dot-product identity in X's dtype, the square root
    in X's dtype, near pairs recomputed exactly in float64, a row at distance 0
    from itself), summed in another order: the one twin that does not give its
    kernel's bits. The kernel's row sums are reassociated by LLVM, so their
    order, and their last bits, depend on the CPU; this twin's sums agree with
    them to rounding. ``tile`` and ``pairs`` are the kernel's schedule and are
    not needed here.
    """
    dots = (X @ X.T).astype(np.float64)
    s = x_sq[:, None] + x_sq[None, :]
    d2 = s - 2.0 * dots
    is_near = d2 < near * s
    dist = np.sqrt(np.maximum(d2.astype(X.dtype), X.dtype.type(0.0))).astype(np.float64)
    dist[is_near] = 0.0
    rows, cols = np.nonzero(is_near)
    apart = rows != cols
    rows, cols = rows[apart], cols[apart]
    diff = X[rows].astype(np.float64) - X[cols].astype(np.float64)
    dist[rows, cols] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    members = np.zeros((X.shape[0], offsets.shape[0] - 1))
    members[np.arange(X.shape[0]), labels] = 1.0
    np.dot(dist, members, out=sums)
