"""Numba kernels for rows with missing entries: squared distances over the observed entries.

A row is given as ``X0`` (its values, a gap stored as 0) and ``M`` (uint8, 1
where the entry is observed). The partial squared distance of row ``i`` to a
center ``c`` is ``sum_f M[i, f] (X0[i, f] - c_f)^2``. The nearest center is
found from scores ``sum_f M[i, f] (c_f^2 - 2 X0[i, f] c_f)`` (the distance less
a term that is the same for every center: the GEMM identity restricted to the
observed entries, on rows the caller has shifted by their mean), computed over
the observed features only or taken from two matrix products; the chosen
center's distance is then recomputed by direct differences in float64, in a
fixed order of additions, for the inertia and the relocation.

As in :mod:`kmeanskit._engine.assign`, row kernels split the rows into fixed
slabs (``slab_bounds``, chosen from the number of rows only); slab ``s`` is
processed by one thread in row order and writes only its own outputs, and the
caller merges per-slab sums in slab order: results are bitwise identical
whatever the number of threads.

:func:`masked_bounded_assign_accumulate` scores every row on a fresh pass and
afterwards skips the scores of rows whose label bounds prove (Hamerly 2010, on
partial distances), with the labels that scoring every row gives. The partial distance of a
row is the Euclidean distance of the centers' projections onto the row's
observed coordinates, and a projection moves no more than the center does: a
row's distance to another center drops by at most that center's drift (its
full-space shift), so a lower bound on the distance to every other center
stays valid after subtracting the largest such drift. A row keeps its label
without scores when ``lower^2 - |x - c_a|^2 > margin``, the margin exceeding
twice the rounding error of a score (``gamma (|x| + |c_a| + |c|max)^2``, as
in :mod:`kmeanskit._engine.bounds`), so the arg-min of the scores would pick
the same center; every other row gets the scores, in their order.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import row_weight
from kmeanskit._engine.bounds import _two_largest

__all__ = [
    "masked_bounded_assign_accumulate",
    "masked_candidate_potentials",
    "masked_assign_from_dots",
    "masked_label_distances",
    "masked_sq_distances",
]


@njit(cache=True, nogil=True, inline="always")
def _masked_term(x, m, c, f):
    """``m_f (x_f - c_f)^2`` in float64."""
    t = np.float64(x[f]) - np.float64(c[f])
    return np.float64(m[f]) * (t * t)


@njit(cache=True, nogil=True, inline="always")
def _masked_sq(x, m, c):
    """``sum_f m_f (x_f - c_f)^2`` in float64, with four partial sums in a fixed order."""
    d = x.shape[0]
    d4 = d - d % 4
    a0 = a1 = a2 = a3 = 0.0
    for f in range(0, d4, 4):
        a0 += _masked_term(x, m, c, f)
        a1 += _masked_term(x, m, c, f + 1)
        a2 += _masked_term(x, m, c, f + 2)
        a3 += _masked_term(x, m, c, f + 3)
    for f in range(d4, d):
        a0 += _masked_term(x, m, c, f)
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True, inline="always")
def _scores_argmin(x, m, centers_t, centers_sq_t, scores):
    """Fill ``scores`` (k,) with ``sum_f m_f (c_jf^2 - 2 x_f c_jf)`` in x's dtype, over the observed
    features in order; return the first index of the smallest."""
    scores[:] = 0
    for f in range(x.shape[0]):
        if m[f]:
            two_x = x[f] + x[f]
            for j in range(scores.shape[0]):
                scores[j] += centers_sq_t[f, j] - two_x * centers_t[f, j]
    best = 0
    for j in range(1, scores.shape[0]):
        if scores[j] < scores[best]:  # strict: the first index wins ties
            best = j
    return best


@njit(cache=True, parallel=True, nogil=True)
def masked_bounded_assign_accumulate(X0, M, w, centers, centers_t, centers_sq_t, labels, sq_dist, lower, drift,
                                     gamma, center_norm, fresh, sums, weight_sums, slab_bounds, update, changed):
    """Assign each row to the center nearest over its observed entries; accumulate per-feature sums.

    Over row i's observed entries, ``|x - c_j|^2 = sum_f m_f x_f^2 + sum_f m_f (c_jf^2 - 2 x_f c_jf)``;
    the first term is the same for every center, so the nearest center minimises the second,
    computed here vectorised over the centers for each observed feature (gaps cost nothing),
    first index on ties. Its distance is then recomputed exactly (direct differences, float64).
    A row whose bounds prove its label keeps it without these scores (see the module doc); a
    ``fresh`` pass scores every row.

    IN     X0           (n, d) rows, float32 or float64, gaps as 0
    IN     M            (n, d) uint8, 1 where observed
    IN     w            (n,) sample weights, or (1,): one weight for every row
    IN     centers      (k, d) X0's dtype
    IN     centers_t    (d, k) the centers transposed, X0's dtype
    IN     centers_sq_t (d, k) ``centers_t ** 2``
    INOUT  labels       (n,) int32 label of each row (read unless ``fresh``)
    OUT    sq_dist      (n,) float64 partial squared distance to the row's center
    INOUT  lower        (n,) float64 lower bound on the partial distance to every other center
    IN     drift        (k,) float64 distance each center moved since the last pass (full space)
    IN     gamma        float, relative rounding error of a score (see the module doc)
    IN     center_norm  (k,) float64 norm of each center
    IN     fresh        bool: labels and bounds are not valid, every row gets the scores
    INOUT  sums         (S, k, d) float64: slab s adds ``w_i x_if`` over its observed entries
    INOUT  weight_sums  (S, k, d) float64: slab s adds ``w_i`` over its observed entries
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs
    IN     update       bool: accumulate (else ``sums`` and ``weight_sums`` are not read)
    OUT    changed      (S,) int64 labels each slab changed
    """
    n_clusters = centers.shape[0]
    norm_max = 0.0
    for j in range(n_clusters):
        norm_max = max(norm_max, center_norm[j])
    top1, top1_index, top2 = _two_largest(drift)
    for s in prange(slab_bounds.shape[0] - 1):
        scores = np.empty(n_clusters, dtype=X0.dtype)
        n_changed = 0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            x, m = X0[i], M[i]
            if not fresh:
                a = labels[i]
                sq = _masked_sq(x, m, centers[a])
                # |x| over the observed entries is at most u + |c_a|.
                scale = np.sqrt(sq) + center_norm[a] + norm_max
                bound = lower[i] - (top2 if a == top1_index else top1)
                if bound > 0 and bound * bound - sq > gamma * scale * scale:
                    lower[i] = bound
                    _record(w, i, x, m, a, sq, labels, sq_dist, sums[s], weight_sums[s], update)
                    continue
            best = _scores_argmin(x, m, centers_t, centers_sq_t, scores)
            second = np.inf
            for j in range(n_clusters):
                if j != best and scores[j] < second:
                    second = np.float64(scores[j])
            x_sq = 0.0
            for f in range(x.shape[0]):
                if m[f]:
                    x_sq += np.float64(x[f]) * np.float64(x[f])
            scale = np.sqrt(x_sq) + norm_max
            lower[i] = np.sqrt(max(second + x_sq - gamma * scale * scale, 0.0))
            n_changed += labels[i] != best
            _record(w, i, x, m, best, _masked_sq(x, m, centers[best]), labels, sq_dist, sums[s], weight_sums[s],
                    update)
        changed[s] = n_changed


@njit(cache=True, nogil=True, inline="always")
def _record(w, i, x, m, best, best_d, labels, sq_dist, sums_s, weight_sums_s, update):
    """Write row i's label and distance; add its observed entries to its cluster's slab sums."""
    labels[i] = best
    sq_dist[i] = best_d
    if update:
        wi = np.float64(row_weight(w, i))
        for f in range(x.shape[0]):
            if m[f]:
                sums_s[best, f] += wi * np.float64(x[f])
                weight_sums_s[best, f] += wi


@njit(cache=True, parallel=True, nogil=True)
def masked_assign_from_dots(X0, M, w, centers, mask_dots, x_dots, labels, sq_dist, sums, weight_sums,
                            slab_bounds, update):
    """As a fresh pass of :func:`masked_bounded_assign_accumulate`, the arg-min from two matrix products of the block.

    Over row i's observed entries, ``|x - c_j|^2 = sum_f m_f x_f^2 + mask_dots[i, j] - 2 x_dots[i, j]``;
    the first term is the same for every center, so the nearest center minimises
    ``mask_dots[i, j] - 2 x_dots[i, j]`` (first index on ties). Its distance is then recomputed
    exactly (direct differences, float64).

    IN   mask_dots  (b, k) ``M @ (centers ** 2).T`` for this block, X0's dtype
    IN   x_dots     (b, k) ``X0 @ centers.T`` for this block, X0's dtype
    (all other arguments as in :func:`masked_bounded_assign_accumulate`, for the b rows of the block)
    """
    n_clusters = centers.shape[0]
    for s in prange(slab_bounds.shape[0] - 1):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best = 0
            best_score = mask_dots[i, 0] - 2 * x_dots[i, 0]
            for j in range(1, n_clusters):
                score = mask_dots[i, j] - 2 * x_dots[i, j]
                if score < best_score:
                    best_score = score
                    best = j
            x, m = X0[i], M[i]
            _record(w, i, x, m, best, _masked_sq(x, m, centers[best]), labels, sq_dist, sums[s], weight_sums[s],
                    update)


@njit(cache=True, parallel=True, nogil=True)
def masked_label_distances(X0, M, centers, labels, out):
    """Partial squared distance of each row to its labelled center.

    IN   X0 (n, d), M (n, d) uint8, centers (k, d) X0's dtype, labels (n,) int32
    OUT  out (n,) float64
    """
    for i in prange(X0.shape[0]):
        out[i] = _masked_sq(X0[i], M[i], centers[labels[i]])


@njit(cache=True, parallel=True, nogil=True)
def masked_sq_distances(X0, M, centers, out):
    """Partial squared distance of every row to every center.

    IN   X0 (n, d), M (n, d) uint8, centers (k, d) X0's dtype
    OUT  out (n, k) float64 or X0's dtype
    """
    for i in prange(X0.shape[0]):
        for j in range(centers.shape[0]):
            out[i, j] = _masked_sq(X0[i], M[i], centers[j])


@njit(cache=True, parallel=True, nogil=True)
def masked_candidate_potentials(X0, M, w, row_scale, closest, candidates, slab_bounds, dist, out):
    """Seeding candidates' scaled partial distances and per-slab potentials, in one pass.

    IN   X0 (n, d), M (n, d) uint8, w (n,) or (1,) (one weight for every row)
    IN   row_scale   (n,) float64 factor of each row's partial distance
    IN   closest     (n,) float64 each row's (scaled) distance to its nearest chosen center
    IN   candidates  (t, d) X0's dtype
    IN   slab_bounds (S + 1,) int64
    OUT  dist        (n, t) float64 ``row_scale_i * sum_f m_if (x_if - c_tf)^2``
    OUT  out         (S, t) float64 sum over the slab, in row order, of ``w_i min(closest_i, dist_it)``
    """
    n_candidates = candidates.shape[0]
    for s in prange(slab_bounds.shape[0] - 1):
        acc = np.zeros(n_candidates)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            wi = np.float64(row_weight(w, i))
            for t in range(n_candidates):
                value = _masked_sq(X0[i], M[i], candidates[t]) * row_scale[i]
                dist[i, t] = value
                acc[t] += wi * min(value, closest[i])
        for t in range(n_candidates):
            out[s, t] = acc[t]
