"""Spherical K-Means pieces for the one convergence loop: unit rows, the cosine step, seeding.

X's rows are seen as normalised rows (:class:`UnitRows`: X itself plus each
row's inverse norm, so X is never copied, normalised in memory or densified).
:class:`SphericalStep` assigns each row to the center of largest cosine and
forms each center as its cluster's normalised weighted mean direction;
:func:`spherical_plusplus_rows` is greedy k-means++ on the normalised rows.
"""

import numpy as np
import scipy.sparse as sp

from kmeanskit._algorithms.init import greedy_plusplus
from kmeanskit._algorithms.lloyd import CHUNK_ROWS, Assignment, SlabSums, dots_block_rows, kernel_path
from kmeanskit._algorithms.relocation import movable_distances, relocate
from kmeanskit._algorithms.step import Step
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.blas import matmul_into
from kmeanskit._engine.serial import sized
from kmeanskit._engine.spherical import (
    assign_cos_chunked_gemm,
    assign_cos_csr,
    assign_cos_direct,
    assign_cos_from_dots,
    weighted_cos_distances_csr,
    weighted_cos_distances_dense,
)

__all__ = ["BLOCK_ROWS", "SphericalStep", "UnitRows", "center_inverse_norms", "spherical_plusplus_rows"]

BLOCK_ROWS = 1 << 16  # rows per block of the seeding products


def center_inverse_norms(centers):
    """1 / |c| of each center, float64."""
    c64 = centers.astype(np.float64)
    return 1.0 / np.sqrt(np.einsum("ij,ij->i", c64, c64))


class UnitRows:
    """Rows of X seen as normalised rows: X itself plus each row's inverse norm.

    Offers what seeding and the loop use (``n``, ``d``, ``dtype``, ``w``,
    ``sparse``, ``blocks()``, ``take()``) without copying or densifying X.
    """

    def __init__(self, X, sample_weight, inv_norm):
        self.X = X
        self.w = sample_weight
        self.inv_norm = inv_norm
        self.sparse = sp.issparse(X)
        self.n, self.d = X.shape
        self.dtype = X.dtype

    def blocks(self, block_rows):
        """Yield ``(start, stop, X_block)`` (X itself when one block holds every row)."""
        if block_rows >= self.n:
            yield 0, self.n, self.X
            return
        for start in range(0, self.n, block_rows):
            stop = min(start + block_rows, self.n)
            yield start, stop, self.X[start:stop]

    def take64(self, indices):
        """Normalised rows ``indices``, float64, dense (len(indices), d)."""
        indices = np.asarray(indices)
        rows = self.X[indices]
        rows = rows.toarray() if self.sparse else rows
        return rows.astype(np.float64) * self.inv_norm[indices, None]

    def take(self, indices):
        """Normalised rows ``indices`` in X's dtype."""
        return self.take64(indices).astype(self.dtype)


class _CosineScorer:
    """k-means++ scorer on the sphere: distances are ``|x/|x| - c|^2 = 2 - 2 cos``
    for unit ``c``, the squared Euclidean distance between normalised rows.

    One product ``X @ candidates.T`` per round (BLAS for dense rows, SciPy's
    sparse product for CSR) and NumPy reductions in a fixed order: no parallel
    region per round, which costs more than the work on a busy machine. The
    candidates' distances (n x t float64) are kept, so the winner updates
    ``closest`` (INOUT) without another product.
    """

    def __init__(self, rows, closest, n_candidates):
        self.rows = rows
        self.closest = closest
        self.w64 = rows.w.astype(np.float64)
        self.sq_dist = np.empty((rows.n, n_candidates))

    def _sq_dists(self, centers):
        """(n, len(centers)) view of ``self.sq_dist`` holding 2 - 2 cos (clipped at 0)."""
        rows = self.rows
        out = self.sq_dist[:, : centers.shape[0]]
        c64 = centers.astype(np.float64)
        c_sq = np.einsum("ij,ij->i", c64, c64)
        centers_t = np.ascontiguousarray(centers.T, dtype=rows.dtype)
        # A thin product (t is about 2 + ln k) is memory bound: threaded BLAS
        # gains little and its start-up dominates on small data.
        with single_threaded_blas():
            for start, stop, Xb in rows.blocks(BLOCK_ROWS):
                block = out[start:stop]
                block[:] = np.asarray(Xb @ centers_t)  # sparse @ dense is dense
                block *= -2.0 * rows.inv_norm[start:stop, None]
                block += 1.0 + c_sq
                np.maximum(block, 0.0, out=block)
        return out

    def potentials(self, candidates):
        d2 = self._sq_dists(candidates)
        np.minimum(d2, self.closest[:, None], out=d2)
        return np.einsum("i,ij->j", self.w64, d2)

    def update(self, center, candidate=None):
        if candidate is None:
            d2 = self._sq_dists(center[None, :])
            np.minimum(self.closest, d2[:, 0], out=self.closest)
        else:  # potentials() left min(closest, d2) in the winner's column
            self.closest[:] = self.sq_dist[:, candidate]


def spherical_plusplus_rows(rows, n_clusters, random_state, n_local_trials=None):
    """Greedy k-means++ on the normalised rows (see :func:`greedy_plusplus`).

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), unit rows in X's dtype
    indices : ndarray of shape (n_clusters,), int64
    """
    return greedy_plusplus(rows, n_clusters, random_state, _CosineScorer, n_local_trials)


class SphericalStep(SlabSums, Step):
    """Assignment by largest cosine (+ accumulation of normalised rows), for the loop.

    The dense kernel is chosen from the shape as :class:`LloydStep` does (the
    same thresholds): dots computed directly for small ``d``, BLAS on 256-row
    chunks inside each slab for moderate ``d * k``, one BLAS call per large
    block for large ``d * k``. CSR rows are read against dense centers, and
    their cluster sums come from one sparse product (see :meth:`_csr_sums`).

    Parameters
    ----------
    rows : UnitRows
    n_clusters : int
    """

    def __init__(self, rows, n_clusters):
        k = n_clusters
        path = kernel_path(rows, k)
        block_rows = dots_block_rows(k) if path == "blocks" else rows.n
        # Per-slab sums on the dense paths only (CSR sums come from one product).
        self._start_slabs(rows, k, path, block_rows, 0 if rows.sparse else 8 * k * rows.d)
        self.dist = np.empty(rows.n)
        self._dots = np.empty((self.block_rows if self.path == "blocks" else 0, k), dtype=rows.dtype)
        eps = np.finfo(rows.dtype).eps
        # Cosine distances at rounding level: a row on its own center.
        self.dist_noise = 16 * (eps * eps + np.finfo(np.float64).eps)

    def __call__(self, centers, labels, update=True):
        """Assign rows to the center of largest cosine (writes ``labels`` and ``self.dist``).

        Returns an :class:`Assignment`: ``inertia`` is ``sum_i w_i (1 - cos)``,
        ``sums`` the per-cluster sums of ``w_i x_i / |x_i|`` (float64) and
        ``weights`` the per-cluster sums of ``w_i``.
        """
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        centers_t = np.ascontiguousarray(centers.T)
        center_inv = center_inverse_norms(centers)
        if update and not rows.sparse:
            self._reset_sums()
        for start, stop, Xb in rows.blocks(self.block_rows):
            bounds = self._slabs(stop - start)
            wb, ib = rows.w[start:stop], rows.inv_norm[start:stop]
            lb, db = labels[start:stop], self.dist[start:stop]
            args = (self._sums, self._weight_sums, bounds, update)
            if self.path == "csr":
                sized(assign_cos_csr, Xb.nnz)(Xb.data, Xb.indices, Xb.indptr, ib, centers_t, center_inv, lb, db, bounds)
            elif self.path == "blocks":
                dots = self._dots[: stop - start]
                matmul_into(Xb, centers_t, dots)
                sized(assign_cos_from_dots, Xb.size)(Xb, wb, ib, dots, centers, center_inv, lb, db, *args)
            elif self.path == "chunked":
                with single_threaded_blas():
                    sized(assign_cos_chunked_gemm, Xb.size)(
                        Xb, wb, ib, centers, centers_t, center_inv, lb, db, self._sums, self._weight_sums,
                        bounds, CHUNK_ROWS, update,
                    )
            else:
                sized(assign_cos_direct, Xb.size)(Xb, wb, ib, centers, centers_t, center_inv, lb, db, *args)
        # einsum sums in a fixed order: deterministic.
        inertia = float(np.einsum("i,i->", self.dist, rows.w))
        if not update:
            return Assignment(inertia, None, None)
        if rows.sparse:
            return Assignment(inertia, *self._csr_sums(labels))
        # Slabs merged in index order (numpy reduces the outer axis sequentially).
        return Assignment(inertia, self._sums.sum(axis=0), self._weight_sums.sum(axis=0))

    def _csr_sums(self, labels):
        """Per-cluster sums of w_i x_i / |x_i| (float64, dense) and of w_i, for CSR rows.

        One product ``M @ X`` with ``M`` the (k, n) sparse matrix of the
        labels weighted by ``w_i / |x_i|``: SciPy walks each cluster's rows in
        order into one dense accumulator (sequential, so deterministic).
        """
        rows, k = self.rows, self.n_clusters
        w64 = rows.w.astype(np.float64)
        M = sp.csr_matrix((w64 * rows.inv_norm, (labels, np.arange(rows.n))), shape=(k, rows.n))
        sums = np.asarray((M @ rows.X).toarray(), dtype=np.float64)
        return sums, np.bincount(labels, weights=w64, minlength=k)

    def update_centers(self, centers, labels, assignment):
        """Normalised weighted mean direction of each cluster, empty clusters relocated.

        Relocation follows :mod:`~kmeanskit._algorithms.relocation` with cosine
        distances: an empty cluster takes the row of positive weight that fits
        its center worst, which leaves its old cluster's sum. A cluster left
        with no weight, or whose rows sum to the zero vector (the mean
        direction is undefined), keeps its previous center (never NaN).

        Returns
        -------
        new_centers : ndarray of shape (n_clusters, n_features), unit rows in X's dtype
        n_relocated : int
        """
        rows = self.rows
        sums, weights = assignment.sums, assignment.weights
        positive = rows.w > 0
        counts = np.bincount(labels[positive], minlength=self.n_clusters)
        empty = np.flatnonzero(weights == 0)
        n_relocated = 0
        if empty.size:
            moves = relocate(
                empty, movable_distances(self.dist, self.dist_noise, rows.w), labels,
                lambda i: (rows.take64([i])[0], float(rows.w[i])), sums, weights, counts,
            )
            n_relocated = len(moves)
        norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
        filled = (counts > 0) & (norms > 0)
        new_centers = np.array(centers, dtype=rows.dtype, copy=True)
        new_centers[filled] = sums[filled] / norms[filled, None]
        return new_centers, n_relocated

    def inertia(self, centers, labels):
        """``sum_i w_i (1 - cos(x_i, c_{l_i}))`` of a given labelling, without reassigning."""
        rows = self.rows
        centers = np.ascontiguousarray(centers, dtype=rows.dtype)
        center_inv = center_inverse_norms(centers)
        total = 0.0
        for start, stop, Xb in rows.blocks(self.block_rows):
            bounds = self._slabs(stop - start)
            out = np.empty(bounds.shape[0] - 1)
            wb, ib, lb = rows.w[start:stop], rows.inv_norm[start:stop], labels[start:stop]
            if rows.sparse:
                sized(weighted_cos_distances_csr, Xb.nnz)(Xb.data, Xb.indices, Xb.indptr, wb, ib, centers, center_inv, lb, bounds, out)
            else:
                sized(weighted_cos_distances_dense, Xb.size)(Xb, wb, ib, centers, center_inv, lb, bounds, out)
            total += float(out.sum())
        return total
