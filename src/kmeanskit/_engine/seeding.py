"""Numba kernels for k-means++ seeding: candidate potentials, nearest-center
distances, and the draw of candidates.

Greedy k-means++ scores t candidate centers per round: the potential each
would leave, ``sum_i w_i min(closest_i, |x_i - c|^2)``. Rows are split into
the same fixed slabs as the assignment kernels; every sum runs over one slab
in row order, so results do not depend on the number of threads. Two ways:

- *direct* (few features): each (row, candidate) distance is computed as
  ``sum_f (x_f - c_f)^2`` in float64, eight candidates at a time in registers;
  nothing is written per row.
- *dots* (more features): BLAS gives each chunk's (chunk, t) dot products and
  the distance is ``|x|^2 + |c|^2 - 2 x.c``; the dots may be kept so that the
  winner lowers ``closest`` without reading X again.

The kernels that lower ``closest`` also return each slab's sum of
``w_i closest_i``, from which :func:`draw_rows` samples rows with probability
proportional to ``w_i closest_i`` without an n-long cumulative sum.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import row_weight, row_weights
from kmeanskit._engine.numpy_twins import chunked_dots, slab_sums_in_order
from kmeanskit._engine.serial import numpy_twin

__all__ = [
    "GROUP",
    "SLAB_LANES",
    "candidate_potentials_dense",
    "candidate_potentials_dense_numpy",
    "candidate_potentials_direct",
    "candidate_potentials_direct_numpy",
    "candidate_potentials_from_dots",
    "draw_rows",
    "draw_rows_indexed",
    "draw_rows_numpy",
    "greedy_rounds_dense",
    "greedy_rounds_dense_numpy",
    "greedy_rounds_direct",
    "greedy_rounds_direct_numpy",
    "lower_closest",
    "lower_closest_numpy",
    "update_closest_direct",
    "update_closest_direct_numpy",
    "update_closest_from_dots",
    "weighted_slab_sums",
    "weighted_slab_sums_interleaved",
    "weighted_slab_sums_numpy",
]

# Candidates scored together by the direct kernel (one register each; 8
# beat 4, see benchmarks/README.md).
GROUP = 8


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_from_dot(x_sq, c_sq, dot):
    return max(x_sq + c_sq - 2.0 * np.float64(dot), 0.0)


@njit(cache=True, nogil=True, inline="always")
def _group_sq_dists(x, candidates_t, g):
    """Squared distances (float64) from row ``x`` to candidates ``g`` to
    ``g + GROUP - 1`` of ``candidates_t`` ((d, T) float64, transposed), each
    summed over the features in order. One candidate a vector lane; eight
    named sums stay in registers (an array would not: 60% slower, k-means||)."""
    d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = 0.0
    for f in range(x.shape[0]):
        xf = np.float64(x[f])
        c = candidates_t[f]
        e0 = xf - c[g]
        e1 = xf - c[g + 1]
        e2 = xf - c[g + 2]
        e3 = xf - c[g + 3]
        e4 = xf - c[g + 4]
        e5 = xf - c[g + 5]
        e6 = xf - c[g + 6]
        e7 = xf - c[g + 7]
        d0 += e0 * e0
        d1 += e1 * e1
        d2 += e2 * e2
        d3 += e3 * e3
        d4 += e4 * e4
        d5 += e5 * e5
        d6 += e6 * e6
        d7 += e7 * e7
    return d0, d1, d2, d3, d4, d5, d6, d7


@njit(cache=True, nogil=True, inline="always")
def _lower(closest, nearest, keep, i, d2, index):
    """Row i's ``closest`` lowered to ``d2`` (and its nearest center set to
    ``index``, when kept) if the new center comes strictly closer; the new value.

    With selects, not a branch: whether a row comes closer is as good as
    random, and a mispredicted branch a row costs more than the rest of the
    update."""
    ci = closest[i]
    closer = d2 < ci
    if keep:
        nearest[i] = index if closer else nearest[i]
    ci = d2 if closer else ci
    closest[i] = ci
    return ci


@njit(cache=True, nogil=True, inline="always")
def _group(values, g):
    """``values[g:g + GROUP]`` as a tuple: eight named values that stay in registers."""
    return (values[g], values[g + 1], values[g + 2], values[g + 3],
            values[g + 4], values[g + 5], values[g + 6], values[g + 7])


@njit(cache=True, nogil=True, inline="always")
def _store_group(values, g, group):
    for j in range(GROUP):
        values[g + j] = group[j]


@njit(cache=True, nogil=True, inline="always")
def _add_potentials(acc, wi, ci, d):
    """Each candidate's running potential plus ``wi * min(ci, d_j)``."""
    return (acc[0] + wi * min(ci, d[0]), acc[1] + wi * min(ci, d[1]),
            acc[2] + wi * min(ci, d[2]), acc[3] + wi * min(ci, d[3]),
            acc[4] + wi * min(ci, d[4]), acc[5] + wi * min(ci, d[5]),
            acc[6] + wi * min(ci, d[6]), acc[7] + wi * min(ci, d[7]))


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_3(x0, x1, x2, c0, c1, c2):
    """|x - c|^2 over three features; the bits of the general loop's
    ``0.0 + e0^2 + e1^2 + e2^2`` (adding 0.0 to a square changes nothing)."""
    return (x0 - c0) * (x0 - c0) + (x1 - c1) * (x1 - c1) + (x2 - c2) * (x2 - c2)


@njit(cache=True, nogil=True, inline="always")
def _group_potentials(X, w, closest, candidates_t, g, start, stop, acc):
    """``acc[g:g + GROUP] += w_i min(closest_i, |x_i - c|^2)`` over rows ``start .. stop - 1``, in row order.

    Three features (RGB pixels) get their own loop, with the 24 coordinates
    in registers for every row where the general loop loads them for each
    row: faster, with the same bits.
    """
    a = _group(acc, g)
    if X.shape[1] == 3:
        p, q, r = _group(candidates_t[0], g), _group(candidates_t[1], g), _group(candidates_t[2], g)
        for i in range(start, stop):
            x0, x1, x2 = np.float64(X[i, 0]), np.float64(X[i, 1]), np.float64(X[i, 2])
            d = (_sq_dist_3(x0, x1, x2, p[0], q[0], r[0]), _sq_dist_3(x0, x1, x2, p[1], q[1], r[1]),
                 _sq_dist_3(x0, x1, x2, p[2], q[2], r[2]), _sq_dist_3(x0, x1, x2, p[3], q[3], r[3]),
                 _sq_dist_3(x0, x1, x2, p[4], q[4], r[4]), _sq_dist_3(x0, x1, x2, p[5], q[5], r[5]),
                 _sq_dist_3(x0, x1, x2, p[6], q[6], r[6]), _sq_dist_3(x0, x1, x2, p[7], q[7], r[7]))
            a = _add_potentials(a, np.float64(w[i]), closest[i], d)
    else:
        for i in range(start, stop):
            a = _add_potentials(a, np.float64(w[i]), closest[i], _group_sq_dists(X[i], candidates_t, g))
    _store_group(acc, g, a)


@njit(cache=True, nogil=True)
def _direct_slab_potentials(X, w, closest, candidates_t, first, last, chunk_rows, out):
    """:func:`candidate_potentials_direct` on one slab (rows ``first .. last - 1``): ``out`` (t,) its potentials."""
    n_cand = out.shape[0]
    n_groups = (n_cand + GROUP - 1) // GROUP
    acc = np.zeros(n_groups * GROUP)
    for start in range(first, last, chunk_rows):
        stop = min(start + chunk_rows, last)
        for g in range(0, n_groups * GROUP, GROUP):
            _group_potentials(X, w, closest, candidates_t, g, start, stop, acc)
    for c in range(n_cand):
        out[c] = acc[c]


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_direct(X, w, closest, candidates_t, slab_bounds, chunk_rows, out):
    """Per-slab potential of each candidate from direct float64 differences (few features).

    IN   X             (n, d) rows, float32 or float64
    IN   w             (n,) sample weights
    IN   closest       (n,) float64 squared distance to the nearest chosen center
    IN   candidates_t  (d, T) float64 candidates transposed, T a multiple of
                       ``GROUP`` >= t (the padding columns are ignored)
    IN   slab_bounds   (S + 1,) int64 row bounds of the slabs
    IN   chunk_rows    int, rows per chunk (read once per group of candidates
                       while they sit in cache)
    OUT  out           (S, t) float64 sum over the slab, in row order, of
                       ``w_i min(closest_i, sum_f (x_if - c_f)^2)``; the
                       distance is the one :func:`update_closest_direct` computes
    """
    for s in prange(slab_bounds.shape[0] - 1):
        _direct_slab_potentials(X, w, closest, candidates_t, slab_bounds[s], slab_bounds[s + 1], chunk_rows, out[s])



def _direct_sq_dists(X, points_t):
    """(n, t) float64 ``sum_f (x_if - c_f)^2``, each summed from 0.0 over the features in order
    (``points_t``: (d, t) float64, transposed), as the direct kernels sum them."""
    out = np.zeros((X.shape[0], points_t.shape[1]))
    for f in range(X.shape[1]):
        e = X[:, f, None].astype(np.float64) - points_t[f]
        out += e * e
    return out


def _lower_numpy(closest, nearest, index, start, stop, d2):
    """``_lower`` of rows ``start .. stop - 1`` at once: where ``d2`` is strictly smaller."""
    lower = np.flatnonzero(d2 < closest[start:stop]) + start
    closest[lower] = d2[lower - start]
    if nearest.shape[0] > 0:
        nearest[lower] = index


@numpy_twin(candidate_potentials_direct)
def candidate_potentials_direct_numpy(X, w, closest, candidates_t, slab_bounds, chunk_rows, out):
    """:func:`candidate_potentials_direct` in NumPy, with the same bits (its NumPy twin)."""
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    d2 = _direct_sq_dists(X[start:stop], candidates_t[:, : out.shape[1]])
    potentials = w[start:stop, None].astype(np.float64) * np.minimum(closest[start:stop, None], d2)
    out[:] = slab_sums_in_order(potentials, slab_bounds)


@njit(cache=True, nogil=True)
def _direct_slab_lower(X, w, center, closest, index, nearest, first, last):
    """:func:`update_closest_direct` on one slab (rows ``first .. last - 1``); its sum of ``w_i closest_i``."""
    keep = nearest.shape[0] > 0
    acc = 0.0
    for i in range(first, last):
        d2 = 0.0
        for f in range(X.shape[1]):
            e = np.float64(X[i, f]) - center[f]
            d2 += e * e
        acc += np.float64(w[i]) * _lower(closest, nearest, keep, i, d2, index)
    return acc


@njit(cache=True, parallel=True, nogil=True)
def update_closest_direct(X, w, center, closest, index, nearest, slab_bounds, slab_sums):
    """Lower ``closest`` to each row's distance to a new center (direct differences).

    IN     X          (n, d) rows
    IN     w          (n,) sample weights
    IN     center     (d,) float64
    INOUT  closest    (n,) float64
    IN     index      int, the new center's index
    INOUT  nearest    (n,) int32: set to ``index`` where the center comes strictly
                      closer (each row's nearest center so far), or (0,): not kept
    IN     slab_bounds (S + 1,) int64
    OUT    slab_sums  (S,) float64 sum over the slab, in row order, of
                      ``w_i closest_i`` (after lowering)
    """
    for s in prange(slab_bounds.shape[0] - 1):
        slab_sums[s] = _direct_slab_lower(X, w, center, closest, index, nearest, slab_bounds[s], slab_bounds[s + 1])



@numpy_twin(update_closest_direct)
def update_closest_direct_numpy(X, w, center, closest, index, nearest, slab_bounds, slab_sums):
    """:func:`update_closest_direct` in NumPy, with the same bits (its NumPy twin)."""
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    _lower_numpy(closest, nearest, index, start, stop, _direct_sq_dists(X[start:stop], center[:, None])[:, 0])
    slab_sums[:] = slab_sums_in_order(w[start:stop].astype(np.float64) * closest[start:stop], slab_bounds)


@njit(cache=True, nogil=True)
def _dense_slab_potentials(X, x_sq, w, closest, candidates_t, cand_sq, first, last, buffer, out, kept_dots_t):
    """:func:`candidate_potentials_dense` on one slab (rows ``first .. last - 1``): ``out`` (t,) its
    potentials, the dots of chunks of ``buffer.shape[0]`` rows (``buffer``: scratch)."""
    n_cand = candidates_t.shape[1]
    n_kept = kept_dots_t.shape[1]
    chunk_rows = buffer.shape[0]
    acc = np.zeros(n_cand)
    for start in range(first, last, chunk_rows):
        stop = min(start + chunk_rows, last)
        dots = buffer[: stop - start]
        np.dot(X[start:stop], candidates_t, dots)
        for r in range(stop - start):
            i = start + r
            wi = np.float64(w[i])
            xi_sq = x_sq[i]
            ci = closest[i]
            for c in range(n_cand):
                acc[c] += wi * min(ci, _sq_dist_from_dot(xi_sq, cand_sq[c], dots[r, c]))
        for i in range(start, min(stop, n_kept)):
            for c in range(n_cand):
                kept_dots_t[c, i] = dots[i - start, c]
    for c in range(n_cand):
        out[c] = acc[c]


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_dense(
    X, x_sq, w, closest, candidates_t, cand_sq, slab_bounds, chunk_rows, out, kept_dots_t
):
    """Per-slab potential of each candidate from BLAS dot products (more features).

    IN   X             (n, d) rows, float32 or float64
    IN   x_sq          (n,) float64 squared norms of the rows
    IN   w             (n,) sample weights
    IN   closest       (n,) float64 squared distance to the nearest chosen center
    IN   candidates_t  (d, t) candidates transposed, X's dtype
    IN   cand_sq       (t,) float64 squared norms of the candidates
    IN   slab_bounds   (S + 1,) int64 row bounds of the slabs
    IN   chunk_rows    int, rows per BLAS call (call with BLAS on one thread)
    OUT  out           (S, t) float64 sum over the slab, in row order, of
                       ``w_i min(closest_i, |x_i|^2 + |c|^2 - 2 x_i.c)`` (at least 0)
    OUT  kept_dots_t   (t, m) X's dtype: ``x_i . c`` of the first m rows (m may
                       be 0), from which :func:`lower_closest` lowers
                       ``closest`` with the same float64 arithmetic
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        buffer = np.empty((chunk_rows, candidates_t.shape[1]), dtype=X.dtype)
        _dense_slab_potentials(
            X, x_sq, w, closest, candidates_t, cand_sq, slab_bounds[s], slab_bounds[s + 1], buffer, out[s],
            kept_dots_t,
        )



def _sq_dists_from_dots(x_sq, c_sq, dots):
    """``_sq_dist_from_dot`` elementwise: ``max(x_sq + c_sq - 2 dot, 0)`` in float64."""
    return np.maximum((x_sq + c_sq) - 2.0 * dots.astype(np.float64), 0.0)


@numpy_twin(candidate_potentials_dense)
def candidate_potentials_dense_numpy(
    X, x_sq, w, closest, candidates_t, cand_sq, slab_bounds, chunk_rows, out, kept_dots_t
):
    """:func:`candidate_potentials_dense` in NumPy, with the same bits (its NumPy twin).

    The dots come from the same BLAS calls (one per chunk of each slab, as
    the kernel makes them), through :func:`~kmeanskit._engine.numpy_twins.chunked_dots`.
    """
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    dots = chunked_dots(X, candidates_t, slab_bounds, chunk_rows)
    d2 = _sq_dists_from_dots(x_sq[start:stop, None], cand_sq, dots)
    potentials = w[start:stop, None].astype(np.float64) * np.minimum(closest[start:stop, None], d2)
    out[:] = slab_sums_in_order(potentials, slab_bounds)
    n_kept = min(kept_dots_t.shape[1], stop)
    if n_kept > start:
        kept_dots_t[:, start:n_kept] = dots[: n_kept - start].T


@njit(cache=True, nogil=True)
def _dense_slab_lower(X, w, x_sq, center, c_sq, kept_dots, closest, index, nearest, first, last):
    """:func:`lower_closest` on one slab (rows ``first .. last - 1``); its sum of ``w_i closest_i``."""
    n_kept = kept_dots.shape[0]
    keep = nearest.shape[0] > 0
    n_features = X.shape[1]
    acc = 0.0
    for i in range(first, last):
        if i < n_kept:
            dot = kept_dots[i]
        else:
            # Four partial sums: the dependency chain is a quarter as long.
            p0 = p1 = p2 = p3 = X.dtype.type(0)
            f = 0
            while f + 4 <= n_features:
                p0 += X[i, f] * center[f]
                p1 += X[i, f + 1] * center[f + 1]
                p2 += X[i, f + 2] * center[f + 2]
                p3 += X[i, f + 3] * center[f + 3]
                f += 4
            while f < n_features:
                p0 += X[i, f] * center[f]
                f += 1
            dot = (p0 + p1) + (p2 + p3)
        d2 = _sq_dist_from_dot(x_sq[i], c_sq, dot)
        acc += np.float64(w[i]) * _lower(closest, nearest, keep, i, d2, index)
    return acc


@njit(cache=True, parallel=True, nogil=True)
def lower_closest(X, w, x_sq, center, c_sq, kept_dots, closest, index, nearest, slab_bounds, slab_sums):
    """``closest = min(closest, d2)`` for a new center, from kept dots where there are.

    IN     X          (n, d) rows
    IN     w          (n,) sample weights
    IN     x_sq       (n,) float64 squared row norms
    IN     center     (d,) X's dtype
    IN     c_sq       float64 squared norm of the center
    IN     kept_dots  (m,) X's dtype ``x_i . center`` of the first m rows
                      (m may be 0): a row of the ``kept_dots_t`` of
                      :func:`candidate_potentials_dense`; later rows'
                      dots are computed here
    INOUT  closest    (n,) float64
    IN     index      int, the new center's index
    INOUT  nearest    (n,) int32: set to ``index`` where the center comes strictly
                      closer (each row's nearest center so far), or (0,): not kept
    IN     slab_bounds (S + 1,) int64
    OUT    slab_sums  (S,) float64 sum over the slab, in row order, of
                      ``w_i closest_i`` (after lowering)
    """
    for s in prange(slab_bounds.shape[0] - 1):
        slab_sums[s] = _dense_slab_lower(
            X, w, x_sq, center, c_sq, kept_dots, closest, index, nearest, slab_bounds[s], slab_bounds[s + 1]
        )



@numpy_twin(lower_closest)
def lower_closest_numpy(X, w, x_sq, center, c_sq, kept_dots, closest, index, nearest, slab_bounds, slab_sums):
    """:func:`lower_closest` in NumPy, with the same bits (its NumPy twin).

    Rows past the kept dots get theirs from four partial sums in X's dtype,
    feature by feature, as the kernel adds them.
    """
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    n_features = X.shape[1]
    d4 = n_features - n_features % 4
    first = min(max(kept_dots.shape[0], start), stop)  # the first row without a kept dot
    dots = np.empty(stop - start, dtype=X.dtype)
    dots[: first - start] = kept_dots[start:first]
    lanes = np.zeros((4, stop - first), dtype=X.dtype)
    for f in range(n_features):
        lanes[f % 4 if f < d4 else 0] += X[first:stop, f] * center[f]
    dots[first - start :] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    _lower_numpy(closest, nearest, index, start, stop, _sq_dists_from_dots(x_sq[start:stop], c_sq, dots))
    slab_sums[:] = slab_sums_in_order(w[start:stop].astype(np.float64) * closest[start:stop], slab_bounds)


@njit(cache=True, nogil=True)
def greedy_rounds_dense(
    X, x_sq, w, closest, nearest, slab_bounds, slab_sums, chunk_rows, kept_dots_t, uniforms, potential,
    centers, indices,
):
    """Rounds 1 .. k - 1 of greedy k-means++ on dense rows (BLAS dots), in one call.

    Each round is the one ``greedy_plusplus`` makes with the dense scorer, with
    the same arithmetic: draw ``t`` rows with probability proportional to
    ``w_i closest_i`` (:func:`draw_rows`, from ``uniforms[c - 1] * potential``),
    score them (:func:`candidate_potentials_dense`, the candidates' squared
    norms read from ``x_sq``; the slabs' potentials added first slab to last),
    keep the first of least potential, and lower ``closest`` with it
    (:func:`lower_closest`, from the kept dots). For small inputs, whose rounds
    cost more in Python than in the kernels.

    IN     X            (n, d) rows, float32 or float64
    IN     x_sq         (n,) float64 squared norms of the rows
    IN     w            (n,) sample weights
    INOUT  closest      (n,) float64 squared distance to the nearest chosen center
    INOUT  nearest      (n,) int32 each row's nearest center so far, or (0,): not kept
    IN     slab_bounds  (S + 1,) int64
    INOUT  slab_sums    (S,) float64 each slab's sum of ``w_i closest_i``, in row
                        order: after center 0 on entry, after the last center on exit
    IN     chunk_rows   int, rows per BLAS call
    OUT    kept_dots_t  (t, m) X's dtype scratch: the candidates' dots with the
                        first m rows (as :func:`candidate_potentials_dense` keeps them)
    IN     uniforms     (k - 1, t) float64, ``random_state.uniform(size=t)`` of each round, t >= 2
    IN     potential    float64 ``sum_i w_i closest_i`` after center 0 (the slab sums added in order)
    INOUT  centers      (k, d) X's dtype: row 0 given, rows 1 .. k - 1 written
    INOUT  indices      (k,) int64: index 0 given, 1 .. k - 1 written
    """
    n, d = X.shape
    n_slabs = slab_bounds.shape[0] - 1
    t = uniforms.shape[1]
    ids = np.empty(t, dtype=np.int64)
    candidates_t = np.empty((d, t), dtype=X.dtype)
    cand_sq = np.empty(t)
    out = np.empty((n_slabs, t))
    pots = np.empty(t)
    buffer = np.empty((chunk_rows, t), dtype=X.dtype)
    center = np.empty(d, dtype=X.dtype)
    c64 = np.empty(d)
    no_index = np.empty(0, dtype=np.int32)
    for c in range(1, centers.shape[0]):
        rand_vals = uniforms[c - 1] * potential
        _draw(n, w, closest, no_index, False, slab_bounds, slab_sums, rand_vals, ids)
        for j in range(t):
            cand_sq[j] = x_sq[ids[j]]
            for f in range(d):
                candidates_t[f, j] = X[ids[j], f]
        for s in range(n_slabs):
            _dense_slab_potentials(
                X, x_sq, w, closest, candidates_t, cand_sq, slab_bounds[s], slab_bounds[s + 1], buffer, out[s],
                kept_dots_t,
            )
        _sum_slabs(out, pots)
        best = np.argmin(pots)  # the first minimum, or the first NaN, as NumPy's
        potential = pots[best]
        indices[c] = ids[best]
        for f in range(d):
            center[f] = candidates_t[f, best]
            c64[f] = np.float64(center[f])
            centers[c, f] = center[f]
        c_sq = np.dot(c64, c64)
        kept = kept_dots_t[best]
        for s in range(n_slabs):
            slab_sums[s] = _dense_slab_lower(
                X, w, x_sq, center, c_sq, kept, closest, c, nearest, slab_bounds[s], slab_bounds[s + 1]
            )


@numpy_twin(greedy_rounds_dense)
def greedy_rounds_dense_numpy(
    X, x_sq, w, closest, nearest, slab_bounds, slab_sums, chunk_rows, kept_dots_t, uniforms, potential,
    centers, indices,
):
    """:func:`greedy_rounds_dense` in NumPy, with the same bits (its NumPy twin): each round
    through the twins of the kernels it fuses."""
    out = np.empty((slab_bounds.shape[0] - 1, uniforms.shape[1]))
    ids = np.empty(uniforms.shape[1], dtype=np.int64)
    for c in range(1, centers.shape[0]):
        draw_rows_numpy(w, closest, slab_bounds, slab_sums, uniforms[c - 1] * potential, ids)
        candidates = X[ids]
        candidate_potentials_dense_numpy(
            X, x_sq, w, closest, np.ascontiguousarray(candidates.T), x_sq[ids], slab_bounds, chunk_rows, out,
            kept_dots_t,
        )
        pots = out.sum(axis=0)  # t >= 2: the slabs added first to last, as the kernel adds them
        best = int(np.argmin(pots))
        potential = float(pots[best])
        centers[c] = candidates[best]
        indices[c] = ids[best]
        c64 = candidates[best].astype(np.float64)
        lower_closest_numpy(
            X, w, x_sq, candidates[best], float(np.dot(c64, c64)), kept_dots_t[best], closest, c, nearest,
            slab_bounds, slab_sums,
        )


@njit(cache=True, nogil=True, inline="always")
def _sum_slabs(out, pots):
    """``pots[:] = out.sum(axis=0)`` for (S, t) ``out`` with t >= 2: numpy adds the slabs first to last."""
    for j in range(out.shape[1]):
        acc = out[0, j]
        for s in range(1, out.shape[0]):
            acc += out[s, j]
        pots[j] = acc


# Rows per tile of greedy_rounds_direct: a tile's squared distances to each
# candidate (float64) stay in L1 between their sum over the features and
# their sum into the potentials.
ROUNDS_TILE_ROWS = 256
# Candidates whose potentials (a chain of dependent additions each) advance together.
ROUNDS_LANES = 4


@njit(cache=True, nogil=True, inline="always")
def _tile_sq_dists(xt, points, j, start, m, out):
    """``out[r] = sum_f (xt[f, start + r] - points[j, f])^2`` for r < m, from 0.0 in feature order.

    The bits of :func:`_group_sq_dists` and :func:`_direct_slab_lower` (a
    square is never -0.0, so ``0.0 + e0^2`` is ``e0^2``); the loop over the
    rows is the innermost (vectorised: the rows are sliced first, so that
    their indices are known not to be negative).
    """
    c = points[j, 0]
    x = xt[0, start:start + m]
    for r in range(m):
        e = x[r] - c
        out[r] = e * e
    for f in range(1, xt.shape[0]):
        c = points[j, f]
        x = xt[f, start:start + m]
        for r in range(m):
            e = x[r] - c
            out[r] += e * e


@njit(cache=True, nogil=True)
def greedy_rounds_direct(X, w, closest, nearest, slab_bounds, slab_sums, uniforms, potential, centers, indices):
    """Rounds 1 .. k - 1 of greedy k-means++ on dense rows of few features (direct differences), in one call.

    :func:`greedy_rounds_dense` for the direct scorer, with the arithmetic of
    :func:`candidate_potentials_direct` (each distance summed from 0.0 over
    the features in order, in float64; each candidate's potential
    ``sum_i w_i min(closest_i, d_i)`` over a slab in row order) and of
    :func:`update_closest_direct` for the winner. The rows are copied once,
    transposed, in float64, so that a tile's distances to a candidate are
    computed across rows (vectorised); then ``ROUNDS_LANES`` candidates'
    potentials advance together, row by row.

    IN     X            (n, d) rows, float32 or float64
    IN     w            (n,) sample weights
    INOUT  closest      (n,) float64
    INOUT  nearest      (n,) int32, or (0,): not kept
    IN     slab_bounds  (S + 1,) int64
    INOUT  slab_sums    (S,) float64 (after center 0 on entry, after the last on exit)
    IN     uniforms     (k - 1, t) float64, each round's ``random_state.uniform(size=t)``, t >= 2
    IN     potential    float64 ``sum_i w_i closest_i`` after center 0
    INOUT  centers      (k, d) X's dtype: row 0 given, rows 1 .. k - 1 written
    INOUT  indices      (k,) int64: index 0 given, 1 .. k - 1 written
    """
    n, d = X.shape
    n_slabs = slab_bounds.shape[0] - 1
    t = uniforms.shape[1]
    lanes = -(-t // ROUNDS_LANES) * ROUNDS_LANES
    xt = np.empty((d, n))
    for i in range(n):
        for f in range(d):
            xt[f, i] = np.float64(X[i, f])
    ids = np.empty(t, dtype=np.int64)
    candidates = np.empty((t, d))
    # Padding candidates' distances stay 0.0: their potentials are computed and ignored.
    dists = np.zeros((lanes, ROUNDS_TILE_ROWS))
    acc = np.empty(lanes)
    out = np.empty((n_slabs, t))
    pots = np.empty(t)
    keep = nearest.shape[0] > 0
    no_index = np.empty(0, dtype=np.int32)
    for c in range(1, centers.shape[0]):
        _draw(n, w, closest, no_index, False, slab_bounds, slab_sums, uniforms[c - 1] * potential, ids)
        for j in range(t):
            for f in range(d):
                candidates[j, f] = xt[f, ids[j]]
        for s in range(n_slabs):
            acc[:] = 0.0
            for start in range(slab_bounds[s], slab_bounds[s + 1], ROUNDS_TILE_ROWS):
                m = min(ROUNDS_TILE_ROWS, slab_bounds[s + 1] - start)
                for j in range(t):
                    _tile_sq_dists(xt, candidates, j, start, m, dists[j])
                for g in range(0, lanes, ROUNDS_LANES):
                    a0, a1, a2, a3 = acc[g], acc[g + 1], acc[g + 2], acc[g + 3]
                    e0, e1, e2, e3 = dists[g], dists[g + 1], dists[g + 2], dists[g + 3]
                    for r in range(m):
                        wi = np.float64(w[start + r])
                        ci = closest[start + r]
                        a0 += wi * min(ci, e0[r])
                        a1 += wi * min(ci, e1[r])
                        a2 += wi * min(ci, e2[r])
                        a3 += wi * min(ci, e3[r])
                    acc[g], acc[g + 1], acc[g + 2], acc[g + 3] = a0, a1, a2, a3
            for j in range(t):
                out[s, j] = acc[j]
        _sum_slabs(out, pots)
        best = np.argmin(pots)  # the first minimum, or the first NaN, as NumPy's
        potential = pots[best]
        indices[c] = ids[best]
        for f in range(d):
            centers[c, f] = X[ids[best], f]
        # The winner's distances again (the bits of its scoring), lowering ``closest`` by :func:`_lower`'s
        # rule in a loop of its own: calling ``_lower`` here (on the tile's slices or on the whole arrays)
        # made whole calls 1.5-2.5x slower (measured: 1000 x 4 and 5000 x 8, k = 10).
        winner = dists[0]
        for s in range(n_slabs):
            total = 0.0
            for start in range(slab_bounds[s], slab_bounds[s + 1], ROUNDS_TILE_ROWS):
                m = min(ROUNDS_TILE_ROWS, slab_bounds[s + 1] - start)
                _tile_sq_dists(xt, candidates, best, start, m, winner)
                tile_closest = closest[start:start + m]
                tile_w = w[start:start + m]
                for r in range(m):
                    d2 = winner[r]
                    ci = tile_closest[r]
                    closer = d2 < ci
                    if keep:
                        nearest[start + r] = c if closer else nearest[start + r]
                    ci = d2 if closer else ci
                    tile_closest[r] = ci
                    total += np.float64(tile_w[r]) * ci
            slab_sums[s] = total


@numpy_twin(greedy_rounds_direct)
def greedy_rounds_direct_numpy(X, w, closest, nearest, slab_bounds, slab_sums, uniforms, potential, centers, indices):
    """:func:`greedy_rounds_direct` in NumPy, with the same bits (its NumPy twin): each round
    through the twins of the kernels it fuses."""
    t = uniforms.shape[1]
    out = np.empty((slab_bounds.shape[0] - 1, t))
    ids = np.empty(t, dtype=np.int64)
    candidates_t = np.zeros((X.shape[1], -(-t // GROUP) * GROUP))
    for c in range(1, centers.shape[0]):
        draw_rows_numpy(w, closest, slab_bounds, slab_sums, uniforms[c - 1] * potential, ids)
        candidates = X[ids]
        candidates_t[:, :t] = candidates.T
        candidate_potentials_direct_numpy(X, w, closest, candidates_t, slab_bounds, 1, out)  # chunks: any
        pots = out.sum(axis=0)  # t >= 2: the slabs added first to last, as the kernel adds them
        best = int(np.argmin(pots))
        potential = float(pots[best])
        centers[c] = candidates[best]
        indices[c] = ids[best]
        update_closest_direct_numpy(X, w, candidates[best].astype(np.float64), closest, c, nearest, slab_bounds,
                                    slab_sums)


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_from_dots(x_sq, w, closest, dots, cand_sq, slab_bounds, out):
    """Per-slab potential of each candidate from given dot products (CSR rows).

    IN   x_sq         (b,) float64 squared norms of the rows
    IN   w            (b,) sample weights
    IN   closest      (b,) float64 squared distance to the nearest chosen center
    IN   dots         (b, t) ``X_block @ candidates.T``
    IN   cand_sq      (t,) float64 squared norms of the candidates
    IN   slab_bounds  (S + 1,) int64 row bounds of the slabs
    OUT  out          (S, t) float64 sum over the slab of w_i min(closest_i, d2_ic)
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_cand = dots.shape[1]
    for s in prange(n_slabs):
        acc = np.zeros(n_cand)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            wi = np.float64(w[i])
            for c in range(n_cand):
                d2 = _sq_dist_from_dot(x_sq[i], cand_sq[c], dots[i, c])
                acc[c] += wi * min(closest[i], d2)
        for c in range(n_cand):
            out[s, c] = acc[c]


@njit(cache=True, parallel=True, nogil=True)
def update_closest_from_dots(x_sq, dots, c_sq, closest):
    """Lower ``closest`` to the distance from each row to a new center (CSR rows).

    IN     x_sq     (b,) float64 squared row norms
    IN     dots     (b,) ``X_block @ center``
    IN     c_sq     float64 squared norm of the new center
    INOUT  closest  (b,) float64
    """
    for i in prange(x_sq.shape[0]):
        d2 = _sq_dist_from_dot(x_sq[i], c_sq, dots[i])
        if d2 < closest[i]:
            closest[i] = d2


# Slabs whose running sums advance together: each sum is a chain of dependent
# additions, and four chains overlap in the CPU (each slab still adds its rows
# in order, from 0.0).
SLAB_LANES = 4


@njit(cache=True, nogil=True, inline="always")
def weighted_slab_sums_interleaved(w, values, bounds, first, out):
    """``out[t] = sum_i w_i values_i`` over slab t's rows in row order from 0.0, for the
    (at most) ``SLAB_LANES`` slabs from ``first``, their additions interleaved."""
    last = min(bounds.shape[0] - 1, first + SLAB_LANES)
    if last - first < SLAB_LANES:
        for t in range(first, last):
            acc = 0.0
            for i in range(bounds[t], bounds[t + 1]):
                acc += np.float64(row_weight(w, i)) * values[i]
            out[t] = acc
        return
    s0, s1, s2, s3 = bounds[first], bounds[first + 1], bounds[first + 2], bounds[first + 3]
    n0, n1, n2, n3 = s1 - s0, s2 - s1, s3 - s2, bounds[first + 4] - s3
    common = min(min(n0, n1), min(n2, n3))
    a0 = a1 = a2 = a3 = 0.0
    if w.shape[0] == 1:  # one weight for every row
        w0 = np.float64(w[0])
        for r in range(common):
            a0 += w0 * values[s0 + r]
            a1 += w0 * values[s1 + r]
            a2 += w0 * values[s2 + r]
            a3 += w0 * values[s3 + r]
    else:
        for r in range(common):
            a0 += np.float64(w[s0 + r]) * values[s0 + r]
            a1 += np.float64(w[s1 + r]) * values[s1 + r]
            a2 += np.float64(w[s2 + r]) * values[s2 + r]
            a3 += np.float64(w[s3 + r]) * values[s3 + r]
    for r in range(common, n0):
        a0 += np.float64(row_weight(w, s0 + r)) * values[s0 + r]
    for r in range(common, n1):
        a1 += np.float64(row_weight(w, s1 + r)) * values[s1 + r]
    for r in range(common, n2):
        a2 += np.float64(row_weight(w, s2 + r)) * values[s2 + r]
    for r in range(common, n3):
        a3 += np.float64(row_weight(w, s3 + r)) * values[s3 + r]
    out[first], out[first + 1], out[first + 2], out[first + 3] = a0, a1, a2, a3


@njit(cache=True, parallel=True, nogil=True)
def weighted_slab_sums(w, closest, slab_bounds, out):
    """Each slab's sum of ``w_i closest_i``, in row order from 0.0 (``SLAB_LANES``
    slabs at a time, :func:`weighted_slab_sums_interleaved`).

    IN   w            (n,) sample weights, or (1,): one weight for every row
    IN   closest      (n,) float64
    IN   slab_bounds  (S + 1,) int64
    OUT  out          (S,) float64
    """
    n_slabs = slab_bounds.shape[0] - 1
    for g in prange((n_slabs + SLAB_LANES - 1) // SLAB_LANES):
        weighted_slab_sums_interleaved(w, closest, slab_bounds, g * SLAB_LANES, out)



@numpy_twin(weighted_slab_sums)
def weighted_slab_sums_numpy(w, closest, slab_bounds, out):
    """:func:`weighted_slab_sums` in NumPy, with the same bits (its NumPy twin)."""
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    out[:] = slab_sums_in_order(row_weights(w, start, stop) * closest[start:stop], slab_bounds)


@njit(cache=True, nogil=True, inline="always")
def _draw(n, w, closest, index, indexed, slab_bounds, slab_sums, rand_vals, out):
    """:func:`draw_rows` over ``n`` rows; row i's distance is ``closest[index[i]]`` if ``indexed``."""
    n_slabs = slab_sums.shape[0]
    running = np.empty(n_slabs)
    total = 0.0
    for s in range(n_slabs):
        total += slab_sums[s]
        running[s] = total
    for j in range(rand_vals.shape[0]):
        v = rand_vals[j]
        # np.searchsorted(running, v) for a number v (no NaN): the first s with running[s] >= v.
        # Written out: numba's searchsorted compiles comparisons for every kind of value, seconds on a first call.
        s, hi = 0, n_slabs
        while s < hi:
            mid = (s + hi) // 2
            if running[mid] < v:
                s = mid + 1
            else:
                hi = mid
        if s == n_slabs:
            out[j] = n - 1
            continue
        target = v - running[s - 1] if s > 0 else v
        start, stop = slab_bounds[s], slab_bounds[s + 1]
        out[j] = -1
        acc = 0.0
        last_positive = stop - 1
        for i in range(start, stop):
            p = np.float64(w[i]) * (closest[index[i]] if indexed else closest[i])
            acc += p
            if p > 0.0:
                last_positive = i
            if acc >= target:
                out[j] = i
                break
        if out[j] < 0:
            # The subtraction above rounded the target past the slab's sum.
            out[j] = last_positive


@njit(cache=True, nogil=True)
def draw_rows(w, closest, slab_bounds, slab_sums, rand_vals, out):
    """Rows drawn with probability proportional to ``w_i closest_i``, in two levels.

    Draw ``v`` goes to the first row whose running sum of ``w_i closest_i``
    reaches ``v`` (``np.searchsorted(np.cumsum(w * closest), v)``): first the
    slab, by the running total of ``slab_sums``, then the row, by a scan of
    that slab that adds ``w_i closest_i`` in the order ``np.cumsum`` does
    (with one slab the two agree bit for bit). A draw past the total, which
    rounding can give, goes to the last row, as scikit-learn clips it.

    IN   w            (n,) sample weights
    IN   closest      (n,) float64
    IN   slab_bounds  (S + 1,) int64
    IN   slab_sums    (S,) float64 each slab's sum of ``w_i closest_i`` in row
                      order (as the scan adds them)
    IN   rand_vals    (m,) float64 values in [0, total]
    OUT  out          (m,) int64 row indices
    """
    _draw(closest.shape[0], w, closest, np.empty(0, dtype=np.int32), False, slab_bounds, slab_sums, rand_vals, out)



@numpy_twin(draw_rows)
def draw_rows_numpy(w, closest, slab_bounds, slab_sums, rand_vals, out):
    """:func:`draw_rows` in NumPy, with the same bits (its NumPy twin): a scan of one slab per draw."""
    running = np.add.accumulate(np.concatenate([[0.0], slab_sums]))[1:]
    n_slabs = slab_sums.shape[0]
    for j, v in enumerate(rand_vals.tolist()):
        s = int(np.searchsorted(running, v, side="left"))
        if s == n_slabs:
            out[j] = closest.shape[0] - 1
            continue
        target = v - running[s - 1] if s > 0 else v
        start, stop = int(slab_bounds[s]), int(slab_bounds[s + 1])
        p = w[start:stop].astype(np.float64) * closest[start:stop]
        reached = np.flatnonzero(np.add.accumulate(np.concatenate([[0.0], p]))[1:] >= target)
        if reached.shape[0]:
            out[j] = start + reached[0]
        else:  # the subtraction rounded the target past the slab's sum
            positive = np.flatnonzero(p > 0.0)
            out[j] = start + positive[-1] if positive.shape[0] else stop - 1


@njit(cache=True, nogil=True)
def draw_rows_indexed(w, index, distinct_closest, slab_bounds, slab_sums, rand_vals, out):
    """:func:`draw_rows` where row i's distance is ``distinct_closest[index[i]]``
    (rows that repeat a distinct row: the distances are never copied to every row).

    IN   index             (n,) int32 each row's distinct row
    IN   distinct_closest  (m,) float64
    (the other arguments as for :func:`draw_rows`)
    """
    _draw(index.shape[0], w, distinct_closest, index, True, slab_bounds, slab_sums, rand_vals, out)
