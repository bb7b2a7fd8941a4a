"""Numba kernels for k-means++ seeding: candidate potentials and nearest-center distances.

Greedy k-means++ scores t candidate centers per round: the potential each
would leave, ``sum_i w_i min(closest_i, |x_i - c|^2)``. The dense kernel walks
each slab of rows in small chunks, gets the chunk's (chunk, t) dot products
from BLAS (or computes them itself when d is small) and reduces them at once:
no (n, t) matrix is kept. Slabs follow the same fixed partition as the
assignment kernels, so results do not depend on the number of threads.
"""

import numpy as np
from numba import njit, prange

__all__ = [
    "candidate_potentials_dense",
    "candidate_potentials_from_dots",
    "lower_closest",
    "update_closest_dense",
    "update_closest_from_dots",
]


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_from_dot(x_sq, c_sq, dot):
    return max(x_sq + c_sq - 2.0 * np.float64(dot), 0.0)


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_dense(
    X, x_sq, w, closest, candidates_t, cand_sq, slab_bounds, chunk_rows, use_blas, out, kept_dots
):
    """Per-slab potential of each candidate, dense rows.

    IN   X             (n, d) centered rows, float32 or float64
    IN   x_sq          (n,) float64 squared norms of the rows
    IN   w             (n,) sample weights
    IN   closest       (n,) float64 squared distance to the nearest chosen center
    IN   candidates_t  (d, t) candidates transposed, X's dtype
    IN   cand_sq       (t,) float64 squared norms of the candidates
    IN   slab_bounds   (S + 1,) int64 row bounds of the slabs
    IN   chunk_rows    int, rows per dot-product chunk
    IN   use_blas      bool, dots by BLAS (call with BLAS on one thread) or by hand
    OUT  out           (S, t) float64 sum over the slab of w_i min(closest_i, d2_ic)
    OUT  kept_dots     (n, t) X's dtype: x_i . c_c, from which :func:`lower_closest`
                       gives the winner's distances without reading X again (the
                       same float64 arithmetic); or (0, t) to skip
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_features, n_cand = candidates_t.shape
    keep = kept_dots.shape[0] > 0
    for s in prange(n_slabs):
        acc = np.zeros(n_cand)
        buffer = np.empty((chunk_rows, n_cand), dtype=X.dtype)
        for start in range(slab_bounds[s], slab_bounds[s + 1], chunk_rows):
            stop = min(start + chunk_rows, slab_bounds[s + 1])
            dots = buffer[: stop - start]
            if use_blas:
                np.dot(X[start:stop], candidates_t, dots)
            else:
                dots[:] = 0
                for r in range(stop - start):
                    for f in range(n_features):
                        xf = X[start + r, f]
                        for c in range(n_cand):
                            dots[r, c] += xf * candidates_t[f, c]
            for r in range(stop - start):
                i = start + r
                wi = np.float64(w[i])
                for c in range(n_cand):
                    d2 = _sq_dist_from_dot(x_sq[i], cand_sq[c], dots[r, c])
                    acc[c] += wi * min(closest[i], d2)
                    if keep:
                        kept_dots[i, c] = dots[r, c]
        for c in range(n_cand):
            out[s, c] = acc[c]


@njit(cache=True, parallel=True, nogil=True)
def lower_closest(kept_dots, column, x_sq, c_sq, closest, slab_bounds):
    """``closest = min(closest, d2)`` for the candidate in ``column``.

    IN     kept_dots (n, t) X's dtype, from :func:`candidate_potentials_dense`
    IN     column   int, the chosen candidate
    IN     x_sq     (n,) float64 squared row norms
    IN     c_sq     float64 squared norm of the chosen candidate
    INOUT  closest  (n,) float64
    IN     slab_bounds (S + 1,) int64
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            d2 = _sq_dist_from_dot(x_sq[i], c_sq, kept_dots[i, column])
            if d2 < closest[i]:
                closest[i] = d2


@njit(cache=True, parallel=True, nogil=True)
def update_closest_dense(X, x_sq, center, c_sq, closest, slab_bounds):
    """Lower ``closest`` to the squared distance from each row to a new center.

    IN     X        (n, d) centered rows
    IN     x_sq     (n,) float64 squared row norms
    IN     center   (d,) X's dtype
    IN     c_sq     float64 squared norm of the center
    INOUT  closest  (n,) float64
    IN     slab_bounds (S + 1,) int64
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            dot = X.dtype.type(0)
            for f in range(X.shape[1]):
                dot += X[i, f] * center[f]
            d2 = _sq_dist_from_dot(x_sq[i], c_sq, dot)
            if d2 < closest[i]:
                closest[i] = d2


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
