"""Numba kernels for k-means++ seeding: candidate potentials from BLAS dot products.

Greedy k-means++ scores t candidate centers per round. The caller computes
``dots = X_block @ candidates.T`` with BLAS (a thin (b, t) product) and these
kernels reduce it, per slab of rows, to the potential each candidate would
leave: ``sum_i w_i min(closest_i, |x_i - c|^2)``. No (n, t) matrix is kept.
Slabs follow the same fixed partition as the assignment kernels, so the result
does not depend on the number of threads.
"""

import numpy as np
from numba import njit, prange

__all__ = ["candidate_potentials_from_dots", "update_closest_from_dots"]


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_from_dot(x_sq, c_sq, dot):
    return max(x_sq + c_sq - 2.0 * np.float64(dot), 0.0)


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_from_dots(x_sq, w, closest, dots, cand_sq, slab_bounds, out):
    """Per-slab potential of each candidate.

    IN   x_sq         (b,) float64 squared norms of the (centered) rows
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
        for c in range(n_cand):
            out[s, c] = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            wi = np.float64(w[i])
            for c in range(n_cand):
                d2 = _sq_dist_from_dot(x_sq[i], cand_sq[c], dots[i, c])
                out[s, c] += wi * min(closest[i], d2)


@njit(cache=True, parallel=True, nogil=True)
def update_closest_from_dots(x_sq, dots, c_sq, closest):
    """Lower ``closest`` to the distance from each row to a new center.

    IN     x_sq     (b,) float64 squared row norms
    IN     dots     (b,) ``X_block @ center``
    IN     c_sq     float64 squared norm of the new center
    INOUT  closest  (b,) float64
    """
    for i in prange(x_sq.shape[0]):
        d2 = _sq_dist_from_dot(x_sq[i], c_sq, dots[i])
        if d2 < closest[i]:
            closest[i] = d2
