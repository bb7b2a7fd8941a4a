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

import numba
import numpy as np
from numba import njit, prange

from kmeanskit._engine.numpy_twins import numba_dot, sum_in_order
from kmeanskit._engine.serial import numpy_twin

__all__ = ["cluster_distance_sums", "round_robin_pairs"]


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


# ----------------------------------------------------------------- NumPy twin
# _add_distances lets LLVM reassociate its sum, so the order of the additions is
# the loop LLVM makes of it for the CPU: a main vector loop of 4 interleaved
# vectors of ``width`` float64 lanes, a 4-lane epilogue, then single values. The
# width, by the CPU numba compiles for (read from LLVM's output for each name,
# and checked bit for bit against the compiled kernel in the tests); the CPUs
# not listed have no NumPy twin (their kernel compiles as before).
_LANES_BY_CPU = {
    **dict.fromkeys(
        ("nehalem", "haswell", "broadwell", "skylake", "alderlake", "btver2", "znver1", "znver2", "znver3",
         "znver4", "x86-64", "x86-64-v3"), 8),
    **dict.fromkeys(
        ("skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client", "icelake-server",
         "tigerlake", "rocketlake", "sapphirerapids", "emeraldrapids", "graniterapids", "x86-64-v4"), 4),
}


def _target_cpu():
    """The CPU name numba compiles for (``NUMBA_CPU_NAME``, else the host's)."""
    from llvmlite import binding  # noqa: PLC0415

    return numba.config.CPU_NAME or binding.get_host_cpu_name()


def _sums_in_compiled_order(D, width):
    """Each row's sum of ``D`` (m, w) float64, added as the compiled :func:`_add_distances` adds.

    Main loop (w >= 4 * width): lane l of the 4 * width lanes adds the columns
    c = l mod 4 * width in order; the 4 vectors are added ``((v1 + v0) + v2) + v3``
    and halved down to one lane (``r[:h] + r[h:]``). Then, if 4 or more columns
    remain (or w >= 4 without the main loop), a 4-lane loop starting from
    ``[sum, 0, 0, 0]``, reduced ``(l0 + l2) + (l1 + l3)``; the last columns one
    by one.
    """
    m, w = D.shape
    total = np.zeros(m)
    done = 0
    if w >= 4:
        step = 4 * width
        if w >= step:
            done = w - w % step
            lanes = sum_in_order(D[:, :done].reshape(m, done // step, step), axis=1)
            v = lanes.reshape(m, 4, width)
            r = ((v[:, 1] + v[:, 0]) + v[:, 2]) + v[:, 3]
            while r.shape[1] > 1:
                half = r.shape[1] // 2
                r = r[:, :half] + r[:, half:]
            total = 0.0 + r[:, 0]
        if w - done >= 4:
            stop = w - w % 4
            start = np.zeros((m, 4))
            start[:, 0] = total
            lanes = sum_in_order(D[:, done:stop].reshape(m, (stop - done) // 4, 4), axis=1, start=start)
            r = lanes[:, :2] + lanes[:, 2:]
            total = 0.0 + (r[:, 0] + r[:, 1])
            done = stop
    return sum_in_order(D[:, done:], axis=1, start=total)


def _runs(labels, start, stop):
    """``(j, a, b)``: the runs of equal labels in ``labels[start:stop]`` (sorted), offsets from ``start``."""
    cut = np.flatnonzero(np.diff(labels[start:stop])) + 1
    bounds = np.concatenate(([0], cut, [stop - start]))
    return [(int(labels[start + a]), int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _tile_pair_numpy(X, x_sq, labels, r0, r1, c0, c1, near, sums, width):
    """:func:`_tile_pair` on whole tiles: the same BLAS call, distances, sums and order."""
    m, w = r1 - r0, c1 - c0
    dots = np.empty((m, w), dtype=X.dtype)
    numba_dot(X[r0:r1], X[c0:c1].T, dots, "C", "F")
    s = x_sq[r0:r1, None] + x_sq[None, c0:c1]
    d2 = s - 2.0 * dots.astype(np.float64)
    is_near = d2 < near * s
    d2 = d2.astype(X.dtype)
    dist = np.sqrt(np.where(d2 < 0, X.dtype.type(0.0), d2)).astype(np.float64)
    dist[is_near] = 0.0
    # The near pairs, but a row with itself, recomputed exactly (_add_near).
    if r0 == c0:
        np.fill_diagonal(is_near, False)
    rows, cols = np.nonzero(is_near)
    diff = X[r0 + rows].astype(np.float64) - X[c0 + cols].astype(np.float64)
    sq = np.zeros(rows.size)
    for f in range(X.shape[1]):
        sq += diff[:, f] * diff[:, f]
    exact = np.sqrt(sq)
    col_runs = _runs(labels, c0, c1)
    run_of_col = np.repeat(np.arange(len(col_runs)), [b - a for _, a, b in col_runs])
    near_sums = np.zeros((m, len(col_runs)))
    np.add.at(near_sums, (rows, run_of_col[cols]), exact)
    for run, (j, a, b) in enumerate(col_runs):
        total = _sums_in_compiled_order(dist[:, a:b], width)
        sums[r0:r1, j] += np.where(is_near[:, a:b].any(axis=1), total + near_sums[:, run], total)
    if r0 != c0:
        dist[rows, cols] = exact
        for ji, a, b in _runs(labels, r0, r1):
            sums[c0:c1, ji] += sum_in_order(dist[a:b])


def _cluster_distance_sums_numpy(X, x_sq, labels, offsets, tile, pairs, near, sums):
    """:func:`cluster_distance_sums` in NumPy (same bits): the tile pairs in the
    kernel's order, each vectorised over its rows and columns."""
    width = _LANES_BY_CPU[_target_cpu()]
    n = X.shape[0]
    sums[:] = 0.0
    tiles = [(t, t) for t in range(-(-n // tile))]
    tiles += [(int(a), int(b)) for a, b in pairs.reshape(-1, 2) if a >= 0]
    for a, b in tiles:
        _tile_pair_numpy(X, x_sq, labels, a * tile, min(a * tile + tile, n), b * tile, min(b * tile + tile, n),
                         near, sums, width)


if _target_cpu() in _LANES_BY_CPU:
    numpy_twin(cluster_distance_sums)(_cluster_distance_sums_numpy)
