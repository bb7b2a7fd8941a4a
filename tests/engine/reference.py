"""Plain NumPy references for the numba kernels (slow, obviously correct)."""

import numpy as np


def assign_accumulate(X, w, centers, slab_bounds):
    """labels, exact squared distances, per-slab sums and weight sums."""
    X64, C64 = np.asarray(X, dtype=np.float64), np.asarray(centers, dtype=np.float64)
    d2 = ((X64[:, None, :] - C64[None, :, :]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1).astype(np.int32)
    sq_dist = d2[np.arange(len(X)), labels]
    k, d = centers.shape
    n_slabs = len(slab_bounds) - 1
    sums, weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k))
    for s in range(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            sums[s, labels[i]] += float(w[i]) * X64[i]
            weights[s, labels[i]] += float(w[i])
    return labels, sq_dist, sums, weights


def candidate_potentials(X, w, closest, candidates):
    """Potential left by each candidate: sum_i w_i min(closest_i, |x_i - c|^2)."""
    X64, C64 = np.asarray(X, dtype=np.float64), np.asarray(candidates, dtype=np.float64)
    d2 = ((X64[:, None, :] - C64[None, :, :]) ** 2).sum(axis=2)
    return (np.asarray(w, dtype=np.float64)[:, None] * np.minimum(closest[:, None], d2)).sum(axis=0)
