"""Views of validated data as the kernels want it: blocks of rows, split into slabs.

``DenseRows`` and ``CsrRows`` share one small interface (``n``, ``d``, ``dtype``,
``w``, ``x_sq``, ``blocks()``, ``take()``, ``row()``), so that seeding, the
assignment step and the convergence loop are written once for both.
"""

import numpy as np
import scipy.sparse as sp

from kmeanskit._algorithms.mapping import DataMapping
from kmeanskit._engine.seeding import weighted_slab_sums
from kmeanskit._engine.serial import sized

__all__ = ["DenseRows", "CsrRows", "as_rows", "slab_bounds", "n_slabs", "n_csr_sum_slabs", "prediction_rows"]

# A slab is the unit of parallel work; its row range is fixed by the block size
# alone (never by the thread count), which is what keeps results deterministic.
MIN_SLAB_ROWS = 256
MAX_SLABS = 64
# Per-slab partial sums cost n_slabs * k * d float64; keep them bounded.
SLAB_BUFFER_BYTES = 64 << 20
# CSR center sums keep the bits of per-slab sums merged in slab order; each
# slab's merge adds k x d values, while a pass's own work is about nnz x k, so
# slabs are at most nnz / (CSR_SUM_SHARE x d): the merge stays below about
# 1/CSR_SUM_SHARE of the pass (benchmarks/README.md).
CSR_SUM_SHARE = 32


def n_slabs(n_rows, row_bytes=0):
    """Number of slabs for a block of ``n_rows`` rows.

    ``row_bytes`` is the size of one slab's private buffer (for example
    ``8 * k * d`` for per-slab center sums); slabs are fewer when it is large.
    """
    by_rows = -(-n_rows // MIN_SLAB_ROWS)
    by_memory = SLAB_BUFFER_BYTES // row_bytes if row_bytes else MAX_SLABS
    return int(max(1, min(MAX_SLABS, by_rows, by_memory)))


def n_csr_sum_slabs(n_rows, nnz, n_features):
    """Number of slabs whose merged sums give the bits of CSR rows' center sums.

    It depends on the data's shape alone (``n_rows``, its ``nnz`` stored values,
    ``n_features``), never on the thread count nor on the clusters: at most
    ``nnz / (CSR_SUM_SHARE * n_features)``, at most :func:`n_slabs` of the rows,
    and at least one.
    """
    by_work = nnz // (CSR_SUM_SHARE * n_features)
    return int(max(1, min(n_slabs(n_rows), by_work)))


def slab_bounds(n_rows, slabs):
    """Row bounds of ``slabs`` near-equal slabs over ``n_rows`` rows, int64."""
    return (np.arange(slabs + 1, dtype=np.int64) * n_rows) // slabs


def sum_in_order(values):
    """The sum of a short float64 array, first to last (a fixed order, unlike numpy's pairwise sum)."""
    total = 0.0
    for value in values.tolist():
        total += value
    return total


def prediction_rows(X, sample_weight, centers, shift):
    """Dense rows and centers mapped as a fit centered on ``shift`` (None: not centered) maps them.

    Rows become ``(x - shift) * scale`` block by block (X is not copied), with
    the power-of-two ``scale`` of :meth:`DataMapping.for_prediction`. Returns
    the rows, the mapped centers and the scale (distances in the mapped space
    are ``scale`` times the true ones).
    """
    mapping = DataMapping.for_prediction(X, centers, shift)
    rows = DenseRows(X, sample_weight, shift=mapping.shift, scale=mapping.scale)
    return rows, mapping.map_centers(centers, X.dtype), mapping.scale


class _Rows:
    """What both row views share: blocks of rows, single dense rows, and the weights.

    Unit weights (``sample_weight=None``) are not stored per row: the kernels
    of the assignment step read one weight for all rows (``kernel_w``), and
    :attr:`w` materialises the ones only for the code that wants n of them
    (seeding), until :meth:`forget_w`.
    """

    def _init_weights(self, sample_weight):
        self._w = sample_weight  # None: every weight is 1
        self._ones = None  # materialised unit weights, while someone needs them
        self._unit = np.ones(1, dtype=self.dtype)

    @property
    def unit_weights(self):
        """Whether every weight is 1 (no per-row weights stored)."""
        return self._w is None

    @property
    def w(self):
        """(n,) sample weights, X's dtype.

        Unit weights are materialised on first access and kept until
        :meth:`forget_w` (8 or 4 bytes a row): a fit drops them after seeding.
        """
        if self._w is not None:
            return self._w
        if self._ones is None:
            self._ones = np.ones(self.n, dtype=self.dtype)
        return self._ones

    def forget_w(self):
        """Free materialised unit weights (no-op for given weights)."""
        self._ones = None

    def kernel_w(self, start=0, stop=None):
        """Weights of rows ``start:stop`` as the assignment kernels take them.

        The slice of the given weights, or for unit weights a single 1 that the
        kernels read for every row (``_engine.assign.row_weight``).
        """
        if self._w is None:
            return self._unit
        return self._w[start:stop]

    def weight(self, i):
        """Weight of row ``i`` as a float."""
        return 1.0 if self._w is None else float(self._w[i])

    def weighted_sum(self, values):
        """``sum_i w_i values_i`` (values: (n,) float64), in a fixed order.

        Each slab (:func:`n_slabs` of n rows) adds its rows in order, then the
        slabs are added in order: the same bits for any thread count, and for
        unit weights (one 1 read for every row) as for given weights of 1.
        Every step's inertia is this sum, so all steps agree bit for bit.
        """
        bounds = self.sum_slabs()
        out = np.empty(bounds.shape[0] - 1)
        sized(weighted_slab_sums, self.n)(self.kernel_w(), values, bounds, out)
        return sum_in_order(out)

    def sum_slabs(self):
        """The slab bounds of :meth:`weighted_sum` (a kernel that adds in them
        in row order, and :func:`sum_in_order`, gives its bits); made once."""
        bounds = getattr(self, "_sum_slabs", None)
        if bounds is None:
            bounds = self._sum_slabs = slab_bounds(self.n, n_slabs(self.n))
        return bounds

    def blocks(self, block_rows):
        """Yield ``(start, stop, X_block)`` over all rows."""
        for start in range(0, self.n, block_rows):
            stop = min(start + block_rows, self.n)
            yield start, stop, self.block(start, stop)

    def row(self, i):
        """Row ``i`` as a dense float64 vector."""
        return self.take([i])[0].astype(np.float64)


class DenseRows(_Rows):
    """C-contiguous dense rows, optionally mapped to ``(x - shift) * scale`` per block.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64, C order
        Ready to use (no shift, scale 1), or raw data to map block by block.
    sample_weight : ndarray of shape (n_samples,), X's dtype, or None
        None: every weight is 1, with no per-row array (see :class:`_Rows`).
    shift : ndarray of shape (n_features,) or None
        Subtracted from each block as it is produced (prediction on new data
        with the training mean), so the whole of X is never copied.
    scale : float, default=1.0
        A power of two (exact) that keeps squared distances from overflowing.
    """

    sparse = False

    def __init__(self, X, sample_weight, shift=None, scale=1.0):
        # Exact squared distances of X's dtype: duplicates sit at eps**2 level.
        self.sq_dist_rel_noise = 16 * np.finfo(X.dtype).eps ** 2
        self.X = X
        self.shift = shift
        self.scale = scale
        self.n, self.d = X.shape
        self.dtype = X.dtype
        self._init_weights(sample_weight)
        self._x_sq = None

    @property
    def is_view(self):
        """Whether blocks are views of X (no per-block copy)."""
        return self.shift is None and self.scale == 1.0

    def _map(self, rows):
        if self.is_view:  # no mapping object on every pass over unmapped rows
            return rows
        return DataMapping(self.shift, self.scale).map_rows(rows)

    def block(self, start, stop):
        return self._map(self.X[start:stop])

    @property
    def x_sq(self):
        """Squared norms of the (shifted) rows, float64."""
        if self._x_sq is None:
            out = np.empty(self.n, dtype=np.float64)
            # Blocks of float64 copies of about 4 MB: a small, fixed overhead.
            for start, stop, Xb in self.blocks(max(1, (1 << 19) // self.d)):
                Xb64 = Xb.astype(np.float64, copy=False)
                out[start:stop] = np.einsum("ij,ij->i", Xb64, Xb64)
            self._x_sq = out
        return self._x_sq

    def forget_x_sq(self):
        """Free the cached squared norms (recomputed if read again): of a
        dense fit, only seeding and empty-cluster relocation read them."""
        self._x_sq = None

    def take(self, indices):
        """Rows ``indices`` as a dense (len(indices), d) array of X's dtype."""
        return self._map(self.X[indices])


class CsrRows(_Rows):
    """CSR rows (never centered: that would densify them)."""

    sparse = True
    is_view = True

    def __init__(self, X, sample_weight):
        # Squared distances by the GEMM identity in float64: eps-level noise.
        self.sq_dist_rel_noise = 16 * max(np.finfo(X.dtype).eps ** 2, np.finfo(np.float64).eps)
        self.X = X
        self.n, self.d = X.shape
        self.dtype = X.dtype
        self._init_weights(sample_weight)
        self._x_sq = None

    def block(self, start, stop):
        if start == 0 and stop == self.n:
            return self.X  # scipy copies even a whole-range slice
        return self.X[start:stop]

    @property
    def x_sq(self):
        if self._x_sq is None:
            X = self.X
            sq = sp.csr_matrix((X.data.astype(np.float64) ** 2, X.indices, X.indptr), shape=X.shape)
            self._x_sq = np.asarray(sq.sum(axis=1)).ravel()
        return self._x_sq

    def take(self, indices):
        return self.X[indices].toarray()

    def center_sum_slabs(self):
        """The slab bounds whose merged sums give the bits of a pass's center sums
        (:func:`n_csr_sum_slabs` of the shape; see ``_engine.assign.accumulate_csr``); made once."""
        bounds = getattr(self, "_center_sum_slabs", None)
        if bounds is None:
            slabs = n_csr_sum_slabs(self.n, self.X.nnz, self.d)
            bounds = self._center_sum_slabs = slab_bounds(self.n, slabs)
        return bounds


def as_rows(X, sample_weight, shift=None, scale=1.0):
    """Wrap validated X (dense C-ordered or CSR) and weights (None: all 1) for the algorithms."""
    if sp.issparse(X):
        return CsrRows(X, sample_weight)
    return DenseRows(X, sample_weight, shift, scale)
