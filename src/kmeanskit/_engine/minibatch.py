"""Numba kernels for mini-batch K-Means: gathering a batch, the center update.

The assignment of a batch (labels, exact distances, per-slab weighted sums) is
done by the fused kernels of :mod:`kmeanskit._engine.assign`; what is
specific to mini-batches is here:

- ``gather_rows``: copy the sampled rows of a batch, mapped to ``(x - shift) * scale``
  (the centering that keeps float32 accurate far from the origin), in one pass.
- ``minibatch_update``: merge the per-slab sums in slab order and move each
  center towards the mean of its batch points with the learning rate of
  scikit-learn's MiniBatchKMeans (Sculley 2010, with weights):
  ``v_j <- v_j + (xbar_j - v_j) * b_j / (N_j + b_j)``, where ``b_j`` is the
  batch weight of center j and ``N_j`` the weight it has seen before.

Both are serial: a batch is small (1024 rows by default) and a parallel launch
would cost more than the work. Results do not depend on the thread count.
"""

import numpy as np
from numba import njit

from kmeanskit._engine.numpy_twins import sum_in_order
from kmeanskit._engine.serial import numpy_twin

__all__ = ["gather_rows", "minibatch_update"]


@njit(cache=True, nogil=True)
def gather_rows(X, indices, shift, scale, out):
    """``out[r] = (X[indices[r]] - shift) * scale`` in X's dtype, computed as ``X * scale - shift * scale``
    (the same bits, the scale being a power of two, and no overflow for rows near the dtype's limit).

    IN   X        (n, d) float32 or float64, C order
    IN   indices  (b,) int64 row indices into X (repeats allowed)
    IN   shift    (d,) X's dtype
    IN   scale    float, a power of two (exact)
    OUT  out      (b, d) X's dtype
    """
    s = X.dtype.type(scale)
    for r in range(indices.shape[0]):
        i = indices[r]
        for f in range(X.shape[1]):
            out[r, f] = X[i, f] * s - shift[f] * s


@numpy_twin(gather_rows)
def gather_rows_numpy(X, indices, shift, scale, out):
    """:func:`gather_rows` in NumPy (same bits)."""
    s = X.dtype.type(scale)
    np.multiply(X[indices], s, out=out)
    out -= shift * s


@njit(cache=True, nogil=True)
def minibatch_update(centers, counts, sums, weight_sums, centers_new):
    """One mini-batch update of the centers; returns the squared center shift.

    A center that received no weight in this batch is copied unchanged. The
    update is computed in float64 and rounded once to the centers' dtype.

    IN     centers      (k, d) centers before the batch, float32 or float64
    INOUT  counts       (k,) float64 weight seen by each center so far (N_j)
    IN     sums         (S, k, d) float64 per-slab weighted sums of the batch rows
    IN     weight_sums  (S, k) float64 per-slab batch weight of each center
    OUT    centers_new  (k, d) centers' dtype (may not alias ``centers``)

    Returns
    -------
    float
        ``sum_j |centers_new[j] - centers[j]|^2`` in float64.
    """
    n_clusters, n_features = centers.shape
    n_slabs = sums.shape[0]
    row = np.empty(n_features)
    total = 0.0
    for j in range(n_clusters):
        b = 0.0
        for s in range(n_slabs):
            b += weight_sums[s, j]
        if b > 0.0:
            for f in range(n_features):
                row[f] = 0.0
            for s in range(n_slabs):  # slab order: deterministic
                for f in range(n_features):
                    row[f] += sums[s, j, f]
            n_new = counts[j] + b
            eta = b / n_new
            for f in range(n_features):
                v = np.float64(centers[j, f])
                centers_new[j, f] = v + (row[f] / b - v) * eta
                diff = np.float64(centers_new[j, f]) - v
                total += diff * diff
            counts[j] = n_new
        else:
            for f in range(n_features):
                centers_new[j, f] = centers[j, f]
    return total


@numpy_twin(minibatch_update)
def minibatch_update_numpy(centers, counts, sums, weight_sums, centers_new):
    """:func:`minibatch_update` in NumPy (same bits)."""
    b = sum_in_order(weight_sums)  # (k,), each center's slabs in order
    moved = b > 0.0
    centers_new[~moved] = centers[~moved]
    if not moved.any():
        return 0.0
    row = sum_in_order(sums[:, moved])  # (m, d)
    b = b[moved][:, None]
    n_new = counts[moved][:, None] + b
    eta = b / n_new
    v = centers[moved].astype(np.float64)
    new = (v + (row / b - v) * eta).astype(centers.dtype)
    centers_new[moved] = new
    diff = new.astype(np.float64) - v
    counts[moved] = n_new[:, 0]
    # The kernel adds the squared shifts center after center, feature after feature.
    return float(sum_in_order((diff * diff).ravel()))
