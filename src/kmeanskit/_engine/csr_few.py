"""Numba kernels for the assignment step on CSR rows with few clusters (k <= 8).

The general CSR kernel (:func:`~kmeanskit._engine.assign.assign_accumulate_csr`)
loops over the k centers for every stored value, with the scores in memory:
with few clusters that loop and its loads and stores cost more than the
arithmetic. Here a row's 4 or 8 scores are running sums in registers, in one
walk of the row's stored values (centers padded with zero columns to 4 or 8),
with the dot products with every center (up to 4 clusters) or with the
row's previous center, so the distance to the nearest center mostly needs no
second walk.

The arithmetic is the general kernel's, in the same order, so labels and
distances are the same bits: center j's score is ``center_sq[j]`` minus
``2x * c[f, j]`` over the row's stored values in order (data's dtype), the
dot with the nearest center the float64 sum of ``x * c[f, best]`` in order,
and the squared distance ``max(|x|^2 - 2 dot + |c|^2, 0)``.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import _first_argmin

__all__ = ["CSR_FEW_CLUSTERS", "assign_csr_few", "pad_centers"]

# Up to this many clusters the kernels of this module run (timings in
# benchmarks/README.md); more would not fit in registers.
CSR_FEW_CLUSTERS = 8


def pad_centers(centers_t, center_sq):
    """Centers and their squared norms padded with zeros to 4 or 8 clusters.

    Parameters
    ----------
    centers_t : ndarray of shape (n_features, n_clusters), n_clusters <= 8
    center_sq : ndarray of shape (n_clusters,), the same dtype

    Returns
    -------
    padded_t : ndarray of shape (n_features, 4 or 8), C order
    padded_sq : ndarray of shape (4 or 8,)
    """
    n_features, n_clusters = centers_t.shape
    width = 4 if n_clusters <= 4 else 8
    padded_t = np.zeros((n_features, width), dtype=centers_t.dtype)
    padded_t[:, :n_clusters] = centers_t
    padded_sq = np.zeros(width, dtype=center_sq.dtype)
    padded_sq[:n_clusters] = center_sq
    return padded_t, padded_sq


@njit(cache=True, nogil=True, inline="always")
def _nearest(data, indices, lo, hi, centers_t, center_sq, n_clusters, guess, scores, dots):
    """Nearest center of the CSR row ``data[lo:hi]`` and the row's float64 dot with it.

    IN   centers_t (d, 4 or 8), center_sq (4 or 8,): padded (:func:`pad_centers`)
    IN   guess     int, the row's previous label (any value: out of range is ignored)
    OUT  scores (4 or 8,) data's dtype, dots (4,) float64: scratch
    """
    if centers_t.shape[1] == 4:
        s0, s1, s2, s3 = center_sq[0], center_sq[1], center_sq[2], center_sq[3]
        d0 = d1 = d2 = d3 = 0.0
        for p in range(lo, hi):
            x = data[p]
            two_x = x + x
            f = indices[p]
            c0, c1, c2, c3 = centers_t[f, 0], centers_t[f, 1], centers_t[f, 2], centers_t[f, 3]
            s0 -= two_x * c0
            s1 -= two_x * c1
            s2 -= two_x * c2
            s3 -= two_x * c3
            x64 = np.float64(x)
            d0 += x64 * np.float64(c0)
            d1 += x64 * np.float64(c1)
            d2 += x64 * np.float64(c2)
            d3 += x64 * np.float64(c3)
        scores[0], scores[1], scores[2], scores[3] = s0, s1, s2, s3
        dots[0], dots[1], dots[2], dots[3] = d0, d1, d2, d3
        best = _first_argmin(scores[:n_clusters])
        return best, dots[best]
    # The dot with the row's previous center is summed in the same walk: when
    # that center is still the nearest (most rows, after a few passes), the
    # row needs no second walk.
    guess = guess if 0 <= guess < n_clusters else 0
    s0, s1, s2, s3 = center_sq[0], center_sq[1], center_sq[2], center_sq[3]
    s4, s5, s6, s7 = center_sq[4], center_sq[5], center_sq[6], center_sq[7]
    dot_guess = 0.0
    for p in range(lo, hi):
        x = data[p]
        two_x = x + x
        f = indices[p]
        s0 -= two_x * centers_t[f, 0]
        s1 -= two_x * centers_t[f, 1]
        s2 -= two_x * centers_t[f, 2]
        s3 -= two_x * centers_t[f, 3]
        s4 -= two_x * centers_t[f, 4]
        s5 -= two_x * centers_t[f, 5]
        s6 -= two_x * centers_t[f, 6]
        s7 -= two_x * centers_t[f, 7]
        dot_guess += np.float64(x) * np.float64(centers_t[f, guess])
    scores[0], scores[1], scores[2], scores[3] = s0, s1, s2, s3
    scores[4], scores[5], scores[6], scores[7] = s4, s5, s6, s7
    best = _first_argmin(scores[:n_clusters])
    if best == guess:
        return best, dot_guess
    dot = 0.0
    for p in range(lo, hi):
        dot += np.float64(data[p]) * np.float64(centers_t[indices[p], best])
    return best, dot


@njit(cache=True, parallel=True, nogil=True)
def assign_csr_few(data, indices, indptr, row_sq, centers_t, center_sq, n_clusters, labels, sq_dist, slab_bounds):
    """Labels and distances of CSR rows, the bits of ``assign_accumulate_csr(..., update=False)``.

    IN     data, indices, indptr   the CSR arrays (n rows, d columns)
    IN     row_sq       (n,) float64 squared norms of the rows
    IN     centers_t    (d, 4 or 8) centers transposed, data's dtype, padded (:func:`pad_centers`)
    IN     center_sq    (4 or 8,) their squared norms, data's dtype, padded
    IN     n_clusters   int in 1..8, the centers before padding
    INOUT  labels       (n,) int32 nearest center (first on ties); read first as a guess
                        (previous labels spare most rows a second walk; any values do)
    OUT    sq_dist      (n,) float64 squared distance by the GEMM identity, clipped at 0
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs (the unit of parallel work)
    """
    for s in prange(slab_bounds.shape[0] - 1):
        scores = np.empty(centers_t.shape[1], dtype=data.dtype)
        dots = np.empty(4)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best, dot = _nearest(data, indices, indptr[i], indptr[i + 1], centers_t, center_sq, n_clusters, labels[i], scores, dots)
            labels[i] = best
            sq_dist[i] = max(row_sq[i] - 2.0 * dot + np.float64(center_sq[best]), 0.0)
