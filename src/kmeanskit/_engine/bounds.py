"""Numba kernel for the bounded assignment step (Hamerly's method, exact).

Each row keeps one lower bound ``lower[i]`` on its distance to every center
other than its own. After the centers move by ``drift[j]``, the bound drops by
the largest drift of another center (triangle inequality), or less: with
``u_old <= u + drift[a]`` the row's distance to its old center ``c_a``, a
center ``j`` whose old distance from ``c_a`` is at least ``lower[i] + u_old +
top1`` (``top1`` the largest drift) was at least ``lower[i] + top1`` from the
row, so it stays at least ``lower[i]`` away whatever its drift. Only the drifts
of the centers nearer ``c_a`` than that count; they are looked up among the 2,
4, 8, ... nearest centers of ``c_a`` (a superset, so the bound stays valid).
On china.jpg pixels (k=64) the fit recomputes 11% of rows a pass instead of
24%. The distance to the
row's own center is recomputed exactly every pass (it feeds the inertia anyway,
and it costs one row read, like the accumulation), so the upper bound is tight.
A row keeps its label without looking at the other centers when

    L = max(lower[i], 2 * half_sep[a] - u) and L^2 - u^2 > margin_i,

``half_sep[a]`` being half the distance from center ``a`` to its nearest other
center. Every other row gets the full arg-min, computed with exactly the
arithmetic of the Lloyd kernels (same dtype, same order), and a fresh bound;
without BLAS, a tile of such rows at a time (the Lloyd direct kernel's tile
scores). A row whose label stays keeps the check's distance (the same bits)
and takes its bound from the gap between its two smallest scores.

The margin makes the skip exact with respect to Lloyd: Lloyd's arg-min compares
scores ``|c_j|^2 - 2 x.c_j`` rounded in X's dtype, with an error below
``gamma * (|x| + |c|max)^2``. A row is skipped only when the true gap is wider
than twice that error, so Lloyd would pick the same center; rows closer to a
tie are recomputed and Lloyd's own rounding decides. Sums are accumulated per
slab in row order, so centers are bitwise those of the Lloyd step.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import _add_row, _direct_tile_rows, _tile_scores, row_weight

__all__ = ["bounded_assign_accumulate"]


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_and_norm(x, c, squares):
    """(|x - c|^2, |x|^2) in float64, each over four partial sums.

    The bits of ``assign._exact_sq_dist`` for the distance. Vectorised as
    :func:`_sq_dist_vectorised` is, through ``squares`` ((2, d) float64).
    """
    d = x.shape[0]
    for f in range(d):
        xf = np.float64(x[f])
        e = xf - np.float64(c[f])
        squares[0, f] = e * e
        squares[1, f] = xf * xf
    d4 = d - d % 4
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    for f in range(0, d4, 4):
        a0 += squares[0, f]
        a1 += squares[0, f + 1]
        a2 += squares[0, f + 2]
        a3 += squares[0, f + 3]
        b0 += squares[1, f]
        b1 += squares[1, f + 1]
        b2 += squares[1, f + 2]
        b3 += squares[1, f + 3]
    for f in range(d4, d):
        a0 += squares[0, f]
        b0 += squares[1, f]
    return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_vectorised(x, c, squares):
    """|x - c|^2 in float64, the bits of ``assign._exact_sq_dist`` (four partial sums).

    The squared differences go through ``squares`` (a (d,) float64 buffer):
    that loop has no reduction, so LLVM vectorises it (and the float32 to
    float64 conversions with it), which it does not do for the partial sums
    themselves (faster on float32 rows of many features).
    """
    d = x.shape[0]
    for f in range(d):
        e = np.float64(x[f]) - np.float64(c[f])
        squares[f] = e * e
    d4 = d - d % 4
    a0 = a1 = a2 = a3 = 0.0
    for f in range(0, d4, 4):
        a0 += squares[f]
        a1 += squares[f + 1]
        a2 += squares[f + 2]
        a3 += squares[f + 3]
    for f in range(d4, d):
        a0 += squares[f]
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True, inline="always")
def _merge_two(a0, b0, a1, b1):
    """Smallest and second smallest of two (smallest, second smallest) pairs."""
    return min(a0, a1), min(max(a0, a1), min(b0, b1))


@njit(cache=True, nogil=True, inline="always")
def _argmin_and_second(scores):
    """(first index of the minimum, the second smallest score as float64).

    One branch-free pass with four lanes, each keeping its two smallest
    values: the comparisons of a row's scores are unpredictable, and a
    mispredicted branch per center costs more than the scoring itself when d
    is small. The index is that of Lloyd's arg-min (the first minimum); the
    second smallest counts a tied minimum (inf when k = 1).
    """
    k = scores.shape[0]
    k4 = k - k % 4
    a0 = a1 = a2 = a3 = np.inf
    b0 = b1 = b2 = b3 = np.inf
    for j in range(0, k4, 4):
        v0 = np.float64(scores[j])
        v1 = np.float64(scores[j + 1])
        v2 = np.float64(scores[j + 2])
        v3 = np.float64(scores[j + 3])
        b0 = min(b0, max(a0, v0))
        b1 = min(b1, max(a1, v1))
        b2 = min(b2, max(a2, v2))
        b3 = min(b3, max(a3, v3))
        a0 = min(a0, v0)
        a1 = min(a1, v1)
        a2 = min(a2, v2)
        a3 = min(a3, v3)
    for j in range(k4, k):
        v0 = np.float64(scores[j])
        b0 = min(b0, max(a0, v0))
        a0 = min(a0, v0)
    a0, b0 = _merge_two(a0, b0, a1, b1)
    a2, b2 = _merge_two(a2, b2, a3, b3)
    smallest, second = _merge_two(a0, b0, a2, b2)
    for j in range(k):
        if np.float64(scores[j]) == smallest:
            return j, second
    return 0, second


@njit(cache=True, nogil=True, inline="always")
def _two_largest(drift):
    """(largest drift, its center, second largest drift); (0, -1, 0) when none moved."""
    top1, top1_index, top2 = 0.0, -1, 0.0
    for j in range(drift.shape[0]):
        if drift[j] > top1:
            top2 = top1
            top1, top1_index = drift[j], j
        elif drift[j] > top2:
            top2 = drift[j]
    return top1, top1_index, top2


# Widens a float64 sum of three distances past its rounding error (a few ulps).
_WIDER = 1.0 + 2.0**-40

# Largest finite and smallest normal float32, and a factor that takes a float64 below any float32
# rounding of it (float32 rounding moves a value by at most 2^-24 of it).
_F32_MAX = float(np.finfo(np.float32).max)
_BELOW = 1.0 - 2.0**-22
_F32_TINY = float(np.finfo(np.float32).tiny)


@njit(cache=True, nogil=True, inline="always")
def _bound_below(value):
    """``value`` (float64, >= 0) as a float32 that does not exceed it.

    Branch-free: shrunk by 2^-22 of itself before rounding (a bound looser by
    a relative 2.4e-7), instead of rounding and stepping down when rounding
    went up, a branch taken at random.
    """
    # (Below float32's normal range the relative rounding bound fails: 0 there.)
    return np.float32(min(value, _F32_MAX) * _BELOW) if value > _F32_TINY else np.float32(0.0)


@njit(cache=True, nogil=True, inline="always")
def _fold(j, score, best, best_score, second):
    """Fold center j's score into (best, best score, second best): ties go to the lowest index."""
    if score < best_score or (score == best_score and j < best):
        if best >= 0:
            second = min(second, np.float64(best_score))
        return j, score, second
    return best, best_score, min(second, np.float64(score))


@njit(cache=True, nogil=True, inline="always")
def _pruned_argmin(x, labels, sq_dist, lower, i, u, m, centers, center_sq,
                   neighbours, neighbour_sep, gamma, center_norm_max, squares):
    """Row i's label, exact distance and lower bound from the ``m`` centers nearest its old one.

    Scores are Lloyd's (``|c_j|^2 - 2 x.c_j`` in X's dtype, in the same order of
    operations); ties go to the lowest index, as Lloyd's arg-min does. Four
    centers are scored at once: four independent chains of multiply-adds
    instead of one (each chain is still Lloyd's sum, feature by feature).
    """
    a = labels[i]
    n_clusters = center_sq.shape[0]
    n_features = x.shape[0]
    best = -1
    best_score = center_sq[0]  # any value of X's dtype: replaced by the first score
    second = np.inf
    q = 0
    while q + 4 <= m:
        j0, j1, j2, j3 = neighbours[a, q], neighbours[a, q + 1], neighbours[a, q + 2], neighbours[a, q + 3]
        s0, s1, s2, s3 = center_sq[j0], center_sq[j1], center_sq[j2], center_sq[j3]
        for f in range(n_features):
            two_x = x[f] + x[f]
            s0 -= two_x * centers[j0, f]
            s1 -= two_x * centers[j1, f]
            s2 -= two_x * centers[j2, f]
            s3 -= two_x * centers[j3, f]
        if best < 0:
            best, best_score = j0, s0
        else:
            best, best_score, second = _fold(j0, s0, best, best_score, second)
        best, best_score, second = _fold(j1, s1, best, best_score, second)
        best, best_score, second = _fold(j2, s2, best, best_score, second)
        best, best_score, second = _fold(j3, s3, best, best_score, second)
        q += 4
    while q < m:
        j = neighbours[a, q]
        score = center_sq[j]
        for f in range(n_features):
            score -= (x[f] + x[f]) * centers[j, f]
        if best < 0:
            best, best_score = j, score
        else:
            best, best_score, second = _fold(j, score, best, best_score, second)
        q += 1
    labels[i] = best
    sq, x_sq = _sq_dist_and_norm(x, centers[best], squares)
    sq_dist[i] = sq
    scale = np.sqrt(x_sq) + center_norm_max
    near = np.sqrt(max(second + x_sq - gamma * scale * scale, 0.0))
    # Centers outside the ball are at least (their distance from c_a) - u away.
    far = neighbour_sep[a, m] - u if m < n_clusters else np.inf
    lower[i] = _bound_below(max(min(near, far), 0.0))


@njit(cache=True, nogil=True, inline="always")
def _gathered_doubled_transposed(X, need, which, m, two_xt):
    """``two_xt[f, r] = X[i, f] + X[i, f]`` (in X's dtype) for rows ``i = need[which[r]]``, r < m."""
    for r in range(m):
        i = need[which[r]]
        for f in range(X.shape[1]):
            two_xt[f, r] = X[i, f] + X[i, f]


@njit(cache=True, nogil=True, inline="always")
def _tile_nearest_two(two_xt, centers, center_sq, m, scores, best_scores, second, best):
    """The nearest center of each of a tile's m rows and the second smallest score.

    The scores are Lloyd's (``assign._tile_scores``: the bits of one row at a
    time); ``best`` gets the first index of each row's minimum, as
    :func:`_argmin_and_second` does, and ``second`` (X's dtype) the second
    smallest score, a tied minimum counted (inf when k = 1). Selects, not
    branches: the loops over the tile's rows are vectorised.
    """
    for j in range(centers.shape[0]):
        _tile_scores(two_xt, centers, center_sq, j, m, scores)
        if j == 0:
            for r in range(m):
                best_scores[r] = scores[r]
                second[r] = np.inf
                best[r] = 0
        else:
            for r in range(m):
                v = scores[r]
                b = best_scores[r]
                second[r] = min(second[r], max(b, v))
                better = v < b
                best_scores[r] = v if better else b
                best[r] = j if better else best[r]


@njit(cache=True, nogil=True, inline="always")
def _settle(X, i, best, best_score, second, sq_old, scale_old, labels, sq_dist, lower, centers, gamma,
            center_norm_max, squares):
    """Row i's new label ``best`` and exact distance, and its lower bound from
    ``second`` (the second smallest score; scores as float64); whether its label changed.

    ``sq_old`` (< 0: unknown) is the row's exact squared distance to its old
    center and ``scale_old`` at least ``|x| + |c|max``. When the label stays,
    that distance is the new one (the same bits), and every other center j is
    at least ``sq_old + (s_j - s_best) - 2 gamma scale_old^2`` away (squared):
    the true scores differ from the computed ones by less than ``gamma *
    scale^2`` each. No second pass over the row is made.
    """
    if best == labels[i] and sq_old >= 0.0:
        sq_dist[i] = sq_old
        gap = sq_old + (second - best_score) - 2.0 * gamma * scale_old * scale_old
        lower[i] = _bound_below(np.sqrt(max(gap, 0.0)))
        return False
    moved = labels[i] != best
    labels[i] = best
    sq, x_sq = _sq_dist_and_norm(X[i], centers[best], squares)
    sq_dist[i] = sq
    scale = np.sqrt(x_sq) + center_norm_max
    second = second + x_sq - gamma * scale * scale
    lower[i] = _bound_below(np.sqrt(max(second, 0.0)))
    return moved


# A recomputed row whose ball of candidate centers (see the kernel) holds at
# most this share of the clusters is scored alone over the ball; the others
# are scored in tiles of rows over every center (vectorised across rows:
# about four times cheaper per center on 10 features, benchmarks/README.md).
PRUNED_MAX_SHARE = 0.25


@njit(cache=True, parallel=True, nogil=True)
def bounded_assign_accumulate(
    X, w, centers, centers_t, center_sq, labels, sq_dist, lower, drift, level_sep, level_drift, half_sep,
    gamma, center_norm, center_norm_max, fresh, use_gemm, dots_given, neighbours, neighbour_sep, sums,
    weight_sums, slab_bounds, chunk_rows, update, recomputed, changed,
):
    """Assign rows, skipping the arg-min where the bounds prove the label.

    IN     X            (b, d) block of (centered) rows, float32 or float64
    IN     w            (b,) sample weights, X's dtype, or (1,): one weight for every row
    IN     centers      (k, d) centers, X's dtype
    IN     centers_t    (d, k) the same centers transposed (contiguous over k)
    IN     center_sq    (k,) squared norms of the centers, X's dtype
    INOUT  labels       (b,) int32 label of each row (read unless ``fresh``)
    OUT    sq_dist      (b,) float64 exact squared distance to the row's center
    INOUT  lower        (b,) float32 lower bound on the distance to other centers
    IN     drift        (k,) float64 distance each center moved since the last pass
    IN     level_sep    (k, M) float64: ``level_sep[a, m]`` is the distance from
                        the last pass's center a to its ``2^(m+1)``-th nearest
                        center (a itself the 0-th), or (0, 0): no neighbour drifts
    IN     level_drift  (k, M + 1) float64: ``level_drift[a, m]`` is the largest
                        drift of the ``2^(m+1) - 1`` centers nearest a (besides a),
                        ``level_drift[a, M]`` that of every center but a
    IN     half_sep     (k,) float64 half the distance to the nearest other center
    IN     gamma        float, relative rounding error of a score (see module doc)
    IN     center_norm  (k,) float64 norm of each center
    IN     center_norm_max  float, largest center norm
    IN     fresh        bool, labels and bounds are not valid: arg-min every row
    IN     use_gemm     bool, dot products of recomputed rows by BLAS per chunk
    IN     dots_given   (b, k) ``X @ centers.T`` computed by the caller, or (0, k):
                        then recomputed rows get their dots by BLAS or by hand
    IN     neighbours   (k, k) int64: row a lists the centers by distance from center a
                        (a first), or (0, 0): recomputed rows score every center
    IN     neighbour_sep (k, k) float64 the matching distances from center a
    INOUT  sums         (S, k, d) float64 per-slab weighted sums of rows
    INOUT  weight_sums  (S, k) float64 per-slab sums of weights
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs in this block
    IN     chunk_rows   int, rows per chunk (and per BLAS call)
    IN     update       bool, accumulate sums
    OUT    recomputed   (S,) int64 rows per slab that needed the full arg-min
    OUT    changed      (S,) int64 rows per slab whose label this call changed
                        (the convergence test, without a copy of the labels)
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_features = X.shape[1]
    n_clusters = centers.shape[0]
    have_dots = dots_given.shape[0] > 0
    gemm = use_gemm and not have_dots
    # Hand-computed scores of a row with valid bounds need only the centers in
    # a ball around its old center (Exponion, Newling & Fleuret 2016): a center
    # j with |c_a - c_j| > 2u is farther from x than c_a. The ball is widened
    # by a slack whose squared-distance effect exceeds twice a score's rounding
    # error, so every center left out loses to c_a in Lloyd's own arithmetic.
    prune = not fresh and not use_gemm and not have_dots and neighbours.shape[0] > 0
    slack_factor = np.sqrt(2.0 * gamma)
    # The two largest drifts: a row's bound drops by the largest drift of
    # a center other than its own.
    top1, top1_index, top2 = _two_largest(drift)
    neighbour_drifts = level_drift.shape[0] > 0
    n_levels = level_sep.shape[1]
    # Rows the kernel scores itself over every center go in tiles (Lloyd's tile scores).
    tiled = not use_gemm and not have_dots
    tile = _direct_tile_rows(n_features, X.itemsize) if tiled else 1
    for s in prange(n_slabs):
        scores = np.empty(n_clusters, dtype=X.dtype)
        squares = np.empty((2, n_features))
        need = np.empty(chunk_rows, dtype=np.int64)
        full = np.empty(chunk_rows if tiled else 0, dtype=np.int64)
        two_xt = np.empty((n_features, tile), dtype=X.dtype)
        tile_scores = np.empty(tile, dtype=X.dtype)
        tile_best_scores = np.empty(tile, dtype=X.dtype)
        tile_second = np.empty(tile, dtype=X.dtype)
        tile_best = np.empty(tile, dtype=np.int32)
        need_u = np.empty(chunk_rows)
        need_scale = np.empty(chunk_rows)
        need_sq = np.empty(chunk_rows)
        gathered = np.empty((chunk_rows if gemm else 0, n_features), dtype=X.dtype)
        dots = np.empty((chunk_rows if gemm else 0, n_clusters), dtype=X.dtype)
        count = 0
        n_changed = 0
        for start in range(slab_bounds[s], slab_bounds[s + 1], chunk_rows):
            stop = min(start + chunk_rows, slab_bounds[s + 1])
            m = 0
            for i in range(start, stop):
                if not fresh:
                    a = labels[i]
                    low = np.float64(lower[i])
                    bound = low - (top2 if a == top1_index else top1)
                    sq = _sq_dist_vectorised(X[i], centers[a], squares[0])
                    u = np.sqrt(sq)
                    reach = max(bound, 2.0 * half_sep[a] - u)
                    # |x| <= u + |c_a|: a margin at least as wide as with |x|
                    # itself, without computing |x|^2 on every row.
                    scale = u + center_norm[a] + center_norm_max
                    margin = gamma * scale * scale
                    if neighbour_drifts:
                        # Only the centers that were within lower + u_old + top1
                        # of the old c_a can come nearer than lower (see above).
                        # Every row, not only those the largest drift fails: the
                        # higher bound it keeps spares it in later passes (0.110
                        # against 0.129 of rows recomputed a pass on china.jpg).
                        reach_old = (low + u + drift[a] + top1) * _WIDER
                        level = 0
                        for v in range(n_levels):
                            level += level_sep[a, v] < reach_old
                        reach = max(reach, low - level_drift[a, level])
                    if reach > u and reach * reach - sq > margin:
                        sq_dist[i] = sq
                        # |x - c_j| >= |c_a - c_j| - u >= 2 half_sep[a] - u for every
                        # j != a: the larger of the two bounds stays valid.
                        lower[i] = _bound_below(max(reach, 0.0))
                        continue
                    need_u[m] = u
                    need_scale[m] = scale
                    need_sq[m] = sq
                else:
                    need_sq[m] = -1.0
                need[m] = i
                m += 1
            count += m
            if gemm and m == stop - start:  # every row of the chunk: no copy
                np.dot(X[start:stop], centers_t, dots[:m])
            elif gemm and m > 0:
                for r in range(m):
                    gathered[r] = X[need[r]]
                np.dot(gathered[:m], centers_t, dots[:m])
            n_full = 0
            for r in range(m):
                i = need[r]
                if prune:
                    a = labels[i]
                    radius = 2.0 * need_u[r] + need_scale[r] * slack_factor
                    ball = 0
                    while ball < n_clusters and neighbour_sep[a, ball] <= radius:
                        ball += 1
                    # A wide ball is scored faster by the full (vectorised) arg-min.
                    if ball <= PRUNED_MAX_SHARE * n_clusters:
                        _pruned_argmin(X[i], labels, sq_dist, lower, i, need_u[r], ball, centers, center_sq,
                                       neighbours, neighbour_sep, gamma, center_norm_max, squares)
                        n_changed += labels[i] != a
                        continue
                if tiled:
                    full[n_full] = r
                    n_full += 1
                    continue
                if have_dots:
                    for j in range(n_clusters):
                        scores[j] = center_sq[j] - (dots_given[i, j] + dots_given[i, j])
                else:
                    for j in range(n_clusters):
                        scores[j] = center_sq[j] - (dots[r, j] + dots[r, j])
                best, second = _argmin_and_second(scores)
                n_changed += _settle(X, i, best, np.float64(scores[best]), second, need_sq[r], need_scale[r], labels,
                                     sq_dist, lower, centers, gamma, center_norm_max, squares)
            for t0 in range(0, n_full, tile):
                t = min(tile, n_full - t0)
                _gathered_doubled_transposed(X, need, full[t0:], t, two_xt)
                _tile_nearest_two(two_xt, centers, center_sq, t, tile_scores, tile_best_scores, tile_second,
                                  tile_best)
                for q in range(t):
                    r = full[t0 + q]
                    n_changed += _settle(X, need[r], tile_best[q], np.float64(tile_best_scores[q]),
                                         np.float64(tile_second[q]), need_sq[r], need_scale[r], labels, sq_dist,
                                         lower, centers, gamma, center_norm_max, squares)
            if update:
                for i in range(start, stop):
                    _add_row(X[i], row_weight(w, i), labels[i], sums[s], weight_sums[s])
        recomputed[s] = count
        changed[s] = n_changed

