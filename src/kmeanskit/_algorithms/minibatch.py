"""The mini-batch step: assign a batch, move the centers by per-center learning rates.

scikit-learn's MiniBatchKMeans update on kmeanskit's fused assignment kernels
(:mod:`kmeanskit._engine.assign`) and :func:`kmeanskit._engine.minibatch.minibatch_update`,
with scikit-learn's random reassignment of low-count centers. The estimator
(:class:`kmeanskit.MiniBatchKMeans`) runs the online loop around it: batches,
early stopping on the smoothed batch inertia, the reassignment schedule.
"""

import numpy as np
import scipy.sparse as sp

from kmeanskit._algorithms.lloyd import CHUNK_ROWS, CHUNKED_MIN_FEATURES
from kmeanskit._algorithms.rows import n_slabs, slab_bounds
from kmeanskit._engine.assign import assign_accumulate_chunked_gemm, assign_accumulate_csr, assign_accumulate_direct
from kmeanskit._engine.minibatch import minibatch_update
from kmeanskit._engine.serial import sized

__all__ = ["BatchStep"]


class BatchStep:
    """One mini-batch step on already mapped rows; buffers reused across steps.

    Parameters
    ----------
    n_clusters, n_features : int
    dtype : numpy dtype of the rows and centers
    sparse : bool
        Rows come as CSR batches (never centered).
    reassignment_ratio : float
        See :class:`MiniBatchKMeans`.
    """

    def __init__(self, n_clusters, n_features, dtype, sparse, reassignment_ratio=0.01):
        self.n_clusters, self.n_features, self.dtype = n_clusters, n_features, np.dtype(dtype)
        self.sparse = sparse
        self.reassignment_ratio = reassignment_ratio
        self.path = "csr" if sparse else ("chunked" if n_features >= CHUNKED_MIN_FEATURES else "direct")
        self._buffers = {}

    def _buffers_for(self, b):
        buffers = self._buffers.get(b)
        if buffers is None:
            k, d = self.n_clusters, self.n_features
            bounds = slab_bounds(b, n_slabs(b, 8 * k * d))
            s = bounds.shape[0] - 1
            buffers = self._buffers[b] = (
                bounds, np.zeros((s, k, d)), np.zeros((s, k)), np.empty(b, dtype=np.int32), np.empty(b)
            )
        return buffers

    def __call__(self, Xb, wb, centers, counts, *, row_sq=None, random_state=None, reassign=False, verbose=0):
        """Assign the batch, update the centers, maybe reassign low-count centers.

        Parameters
        ----------
        Xb : ndarray of shape (b, n_features) (mapped, C order) or CSR matrix
        wb : ndarray of shape (b,), Xb's dtype
        centers : ndarray of shape (n_clusters, n_features), mapped, Xb's dtype
        counts : ndarray of shape (n_clusters,), float64, INOUT
        row_sq : ndarray of shape (b,), float64, squared row norms (CSR only)
        random_state : RandomState, used when ``reassign``
        reassign : bool
            Reassign centers whose count is below ``reassignment_ratio`` times
            the largest to random batch rows (scikit-learn's rule).

        Returns
        -------
        inertia : float
            Weighted sum of squared distances of the batch to ``centers``
            (before the update), float64.
        centers_new : ndarray of shape (n_clusters, n_features)
        sq_shift : float
            Squared distance moved by the centers (before reassignment).
        """
        b = Xb.shape[0]
        bounds, sums, weight_sums, labels, sq_dist = self._buffers_for(b)
        sums[:] = 0.0
        weight_sums[:] = 0.0
        centers = np.ascontiguousarray(centers, dtype=self.dtype)
        centers_t = np.ascontiguousarray(centers.T)
        center_sq = np.einsum("ij,ij->i", centers, centers)
        # Small batches run the kernels' serial twins (see _engine/serial.py), as the Lloyd step does.
        if self.path == "csr":
            sized(assign_accumulate_csr, Xb.nnz)(
                Xb.data, Xb.indices, Xb.indptr, row_sq, wb, centers_t, center_sq, labels, sq_dist,
                sums, weight_sums, bounds, True,
            )
        elif self.path == "chunked":
            # The caller holds single_threaded_blas(): each numba thread calls BLAS.
            sized(assign_accumulate_chunked_gemm, Xb.size)(
                Xb, wb, centers, centers_t, center_sq, labels, sq_dist, sums, weight_sums, bounds,
                CHUNK_ROWS, True,
            )
        else:
            sized(assign_accumulate_direct, Xb.size)(
                Xb, wb, centers, centers_t, center_sq, labels, sq_dist, sums, weight_sums, bounds, True,
            )
        inertia = float(np.einsum("i,i->", sq_dist, wb))
        centers_new = np.empty_like(centers)
        sq_shift = sized(minibatch_update, sums.size)(centers, counts, sums, weight_sums, centers_new)
        if reassign and self.reassignment_ratio > 0:
            self._reassign(Xb, centers_new, counts, random_state, verbose)
        return inertia, centers_new, sq_shift

    def _reassign(self, Xb, centers_new, counts, random_state, verbose):
        """scikit-learn's random reassignment of centers with a low count."""
        b = Xb.shape[0]
        to_reassign = counts < self.reassignment_ratio * counts.max()
        # At most half a batch of new centers.
        if to_reassign.sum() > 0.5 * b:
            keep = np.argsort(counts, kind="stable")[int(0.5 * b):]
            to_reassign[keep] = False
        n_reassigns = int(to_reassign.sum())
        if n_reassigns:
            picked = random_state.choice(b, replace=False, size=n_reassigns)
            if verbose:
                print(f"[MiniBatchKMeans] Reassigning {n_reassigns} cluster centers.")
            rows = Xb[picked]
            centers_new[to_reassign] = rows.toarray() if sp.issparse(rows) else rows
        # Reset the counts of reassigned centers, but not so low that they are
        # reassigned again at once (this also sets their learning rate).
        if to_reassign.any() and not to_reassign.all():
            counts[to_reassign] = np.min(counts[~to_reassign])
