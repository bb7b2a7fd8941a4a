"""Numba kernels for spherical K-Means: cosine similarity to unit-norm centers.

Rows are never normalised in memory. Each row's norm is computed once
(:func:`row_norms_dense`, :func:`row_norms_csr`) and its inverse, float64, is
applied on the fly: the center of largest cosine for row ``x`` is the arg-max
of ``x . c_j`` over the (unit-norm) centers, because a positive factor per row
changes no arg-max, and the row enters its cluster's sum as ``w_i x_i / |x_i|``.

As in :mod:`kmeanskit._engine.assign`, every kernel splits its block of rows
into fixed slabs (``slab_bounds``); slab ``s`` is processed by one thread in
row order and (dense kernels) adds into ``sums[s]`` / ``weight_sums[s]``,
which the caller merges in index order, so results do not depend on the
number of threads.

The arg-max uses dot products in the data's dtype (from BLAS or computed
here); the cosine distance of the chosen center, which feeds the inertia and
the empty-cluster relocation, is then recomputed in float64:
``1 - (x . c) / (|x| |c|)``, clipped to [0, 2].

Naming follows ``assign.py``: ``*_direct`` computes the dots itself (small d),
``*_chunked_gemm`` calls BLAS on small chunks inside each slab (moderate
d·k), ``*_from_dots`` is given ``X_block @ centers.T`` from one large BLAS call
(large d·k), ``*_csr`` reads CSR rows against dense centers.
"""

import math

import numpy as np
from numba import njit, prange

from kmeanskit._engine.numpy_twins import chunked_dots, slab_sums_in_order
from kmeanskit._engine.serial import numpy_twin

__all__ = [
    "row_norms_dense",
    "row_norms_csr",
    "assign_cos_direct",
    "assign_cos_chunked_gemm",
    "assign_cos_from_dots",
    "assign_cos_csr",
    "weighted_cos_distances_dense",
    "weighted_cos_distances_csr",
]


# ------------------------------------------------------------------ row norms
@njit(cache=True, nogil=True, inline="always")
def _norm(v):
    """Euclidean norm of a 1-D vector in float64, without overflow or underflow.

    The values are scaled by the power of two of their largest magnitude
    (exact), so squares neither overflow (values near 1e308) nor vanish
    (subnormal values); the result itself may still be inf or 0.
    """
    m = 0.0
    for f in range(v.shape[0]):
        a = abs(np.float64(v[f]))
        if a > m:
            m = a
    if m == 0.0:
        return 0.0
    e = math.frexp(m)[1]
    s = 0.0
    if e > -1000:
        scale = math.ldexp(1.0, -e)  # finite: 2**1000 at most
        for f in range(v.shape[0]):
            t = np.float64(v[f]) * scale
            s += t * t
    else:
        for f in range(v.shape[0]):
            t = math.ldexp(np.float64(v[f]), -e)
            s += t * t
    return math.ldexp(math.sqrt(s), e)


@njit(cache=True, parallel=True, nogil=True)
def row_norms_dense(X, slab_bounds, out):
    """Euclidean norm of every row.

    IN   X            (n, d) rows, float32 or float64
    IN   slab_bounds  (S + 1,) int64 row bounds of the slabs
    OUT  out          (n,) float64 norms (0 for a row of zeros; inf if the
                      norm exceeds float64's range)
    """
    for s in prange(slab_bounds.shape[0] - 1):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            out[i] = _norm(X[i])


@numpy_twin(row_norms_dense)
def row_norms_dense_numpy(X, slab_bounds, out):
    """:func:`row_norms_dense` in NumPy (same bits): :func:`_norm`'s scaling and
    sum, feature after feature, vectorised over the rows."""
    V = X.astype(np.float64)
    largest = np.zeros(X.shape[0])
    for f in range(X.shape[1]):
        np.maximum(largest, np.abs(V[:, f]), out=largest)
    e = np.frexp(largest)[1]
    near_zero = e <= -1000
    scale = np.ldexp(1.0, np.where(near_zero, 0, -e))
    s = np.zeros(X.shape[0])
    for f in range(X.shape[1]):
        t = np.where(near_zero, np.ldexp(V[:, f], -e), V[:, f] * scale)
        s += t * t
    out[:] = np.where(largest == 0.0, 0.0, np.ldexp(np.sqrt(s), e))


@njit(cache=True, parallel=True, nogil=True)
def row_norms_csr(data, indptr, slab_bounds, out):
    """As :func:`row_norms_dense` for CSR rows (no duplicate entries).

    IN   data, indptr  CSR arrays (n rows)
    IN   slab_bounds   (S + 1,) int64
    OUT  out           (n,) float64
    """
    for s in prange(slab_bounds.shape[0] - 1):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            out[i] = _norm(data[indptr[i] : indptr[i + 1]])


# ---------------------------------------------------------------- assignment
@njit(cache=True, nogil=True, inline="always")
def _first_argmax(scores):
    """First index of the maximum of a finite vector (eight running maxima)."""
    k = scores.shape[0]
    k8 = k - k % 8
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = scores[0]
    for j in range(0, k8, 8):
        m0 = max(m0, scores[j])
        m1 = max(m1, scores[j + 1])
        m2 = max(m2, scores[j + 2])
        m3 = max(m3, scores[j + 3])
        m4 = max(m4, scores[j + 4])
        m5 = max(m5, scores[j + 5])
        m6 = max(m6, scores[j + 6])
        m7 = max(m7, scores[j + 7])
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    for j in range(k8, k):
        m = max(m, scores[j])
    for j in range(k):
        if scores[j] == m:
            return j
    return 0


@njit(cache=True, nogil=True, inline="always")
def _dot64(x, c):
    """x . c in float64 with four partial sums (summed in a fixed order)."""
    d = x.shape[0]
    d4 = d - d % 4
    a0 = a1 = a2 = a3 = 0.0
    for f in range(0, d4, 4):
        a0 += np.float64(x[f]) * np.float64(c[f])
        a1 += np.float64(x[f + 1]) * np.float64(c[f + 1])
        a2 += np.float64(x[f + 2]) * np.float64(c[f + 2])
        a3 += np.float64(x[f + 3]) * np.float64(c[f + 3])
    for f in range(d4, d):
        a0 += np.float64(x[f]) * np.float64(c[f])
    return (a0 + a1) + (a2 + a3)


def _dot64_numpy(X, C):
    """:func:`_dot64` of rows ``X`` and ``C`` (same shape), the same four partial sums."""
    X64, C64 = X.astype(np.float64), C.astype(np.float64)
    d = X.shape[1]
    d4 = d - d % 4
    parts = [np.zeros(X.shape[0]) for _ in range(4)]
    for f in range(0, d4, 4):
        for q in range(4):
            parts[q] += X64[:, f + q] * C64[:, f + q]
    for f in range(d4, d):
        parts[0] += X64[:, f] * C64[:, f]
    return (parts[0] + parts[1]) + (parts[2] + parts[3])


@njit(cache=True, nogil=True, inline="always")
def _cos_distance(dot, inv_x, inv_c):
    return min(max(1.0 - dot * inv_x * inv_c, 0.0), 2.0)


@njit(cache=True, nogil=True, inline="always")
def _record(X, w, inv_norm, i, best, centers, center_inv, labels, dist, sums_s, wsums_s, update):
    """Store row i's label and cosine distance; add w_i x_i / |x_i| to its slab's sums."""
    labels[i] = best
    dist[i] = _cos_distance(_dot64(X[i], centers[best]), inv_norm[i], center_inv[best])
    if update:
        a = np.float64(w[i]) * inv_norm[i]
        for f in range(X.shape[1]):
            sums_s[best, f] += a * np.float64(X[i, f])
        wsums_s[best] += np.float64(w[i])


def _cos_distance_numpy(dot, inv_x, inv_c):
    return np.minimum(np.maximum(1.0 - dot * inv_x * inv_c, 0.0), 2.0)


def _record_numpy(X, w, inv_norm, best, centers, center_inv, labels, dist, sums, wsums, slab_bounds, update):
    """:func:`_record` of every row of the slabs, rows added in order (``np.add.at``)."""
    labels[:] = best
    dist[:] = _cos_distance_numpy(_dot64_numpy(X, centers[best]), inv_norm, center_inv[best])
    if update:
        n_slabs, k = wsums.shape
        # Slab s's sums are rows s * k .. s * k + k - 1 of the flattened buffers.
        target = np.repeat(np.arange(n_slabs) * k, np.diff(slab_bounds)) + best
        w64 = w.astype(np.float64)
        np.add.at(sums.reshape(n_slabs * k, X.shape[1]), target, (w64 * inv_norm)[:, None] * X.astype(np.float64))
        np.add.at(wsums.reshape(n_slabs * k), target, w64)


@njit(cache=True, parallel=True, nogil=True)
def assign_cos_direct(
    X, w, inv_norm, centers, centers_t, center_inv, labels, dist, sums, weight_sums, slab_bounds, update
):
    """Assign each row to the center of largest cosine; accumulate per slab.

    IN     X            (b, d) block of rows (not normalised), float32 or float64
    IN     w            (b,) sample weights, X's dtype
    IN     inv_norm     (b,) float64 inverse Euclidean norm of each row
    IN     centers      (k, d) unit-norm centers, X's dtype
    IN     centers_t    (d, k) the same centers transposed
    IN     center_inv   (k,) float64 inverse norm of each center (1 up to rounding)
    OUT    labels       (b,) int32 index of the center of largest x . c (first on ties)
    OUT    dist         (b,) float64 cosine distance to that center, in [0, 2]
    INOUT  sums         (S, k, d) float64 per-slab sums of w_i x_i / |x_i|
    INOUT  weight_sums  (S, k) float64 per-slab sums of w_i
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs in this block
    IN     update       bool, accumulate sums (False: labels and distances only)
    """
    n_clusters = centers.shape[0]
    for s in prange(slab_bounds.shape[0] - 1):
        scores = np.empty(n_clusters, dtype=X.dtype)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            scores[:] = 0
            for f in range(X.shape[1]):
                x = X[i, f]
                for j in range(n_clusters):
                    scores[j] += x * centers_t[f, j]
            best = _first_argmax(scores)
            _record(X, w, inv_norm, i, best, centers, center_inv, labels, dist, sums[s], weight_sums[s], update)


@numpy_twin(assign_cos_direct)
def assign_cos_direct_numpy(
    X, w, inv_norm, centers, centers_t, center_inv, labels, dist, sums, weight_sums, slab_bounds, update
):
    """:func:`assign_cos_direct` in NumPy (same bits)."""
    scores = np.zeros((X.shape[0], centers.shape[0]), dtype=X.dtype)
    for f in range(X.shape[1]):
        scores += X[:, f, None] * centers_t[f]
    best = np.argmax(scores, axis=1)  # the first of equal maxima, as _first_argmax
    _record_numpy(X, w, inv_norm, best, centers, center_inv, labels, dist, sums, weight_sums, slab_bounds, update)


@njit(cache=True, parallel=True, nogil=True)
def assign_cos_chunked_gemm(
    X, w, inv_norm, centers, centers_t, center_inv, labels, dist, sums, weight_sums,
    slab_bounds, chunk_rows, update,
):
    """As :func:`assign_cos_direct`, with BLAS dots on chunks of each slab.

    Call with BLAS limited to one thread (each numba thread makes its calls).

    IN     chunk_rows   int, rows per BLAS call
    (all other arguments as in :func:`assign_cos_direct`)
    """
    n_clusters = centers.shape[0]
    for s in prange(slab_bounds.shape[0] - 1):
        buffer = np.empty((chunk_rows, n_clusters), dtype=X.dtype)
        for start in range(slab_bounds[s], slab_bounds[s + 1], chunk_rows):
            stop = min(start + chunk_rows, slab_bounds[s + 1])
            dots = buffer[: stop - start]
            np.dot(X[start:stop], centers_t, dots)
            for r in range(stop - start):
                best = _first_argmax(dots[r])
                _record(
                    X, w, inv_norm, start + r, best, centers, center_inv, labels, dist,
                    sums[s], weight_sums[s], update,
                )


@numpy_twin(assign_cos_chunked_gemm)
def assign_cos_chunked_gemm_numpy(
    X, w, inv_norm, centers, centers_t, center_inv, labels, dist, sums, weight_sums,
    slab_bounds, chunk_rows, update,
):
    """:func:`assign_cos_chunked_gemm` in NumPy (same bits: the same BLAS calls)."""
    best = np.empty(X.shape[0], dtype=np.int64)
    best[slab_bounds[0] : slab_bounds[-1]] = np.argmax(chunked_dots(X, centers_t, slab_bounds, chunk_rows), axis=1)
    _record_numpy(X, w, inv_norm, best, centers, center_inv, labels, dist, sums, weight_sums, slab_bounds, update)


@njit(cache=True, parallel=True, nogil=True)
def assign_cos_from_dots(
    X, w, inv_norm, dots, centers, center_inv, labels, dist, sums, weight_sums, slab_bounds, update
):
    """As :func:`assign_cos_direct`, with the dot products given.

    IN     dots         (b, k) ``X_block @ centers.T``, X's dtype
    (all other arguments as in :func:`assign_cos_direct`)
    """
    for s in prange(slab_bounds.shape[0] - 1):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best = _first_argmax(dots[i])
            _record(X, w, inv_norm, i, best, centers, center_inv, labels, dist, sums[s], weight_sums[s], update)


@numpy_twin(assign_cos_from_dots)
def assign_cos_from_dots_numpy(
    X, w, inv_norm, dots, centers, center_inv, labels, dist, sums, weight_sums, slab_bounds, update
):
    """:func:`assign_cos_from_dots` in NumPy (same bits)."""
    best = np.argmax(dots, axis=1)
    _record_numpy(X, w, inv_norm, best, centers, center_inv, labels, dist, sums, weight_sums, slab_bounds, update)


@njit(cache=True, parallel=True, nogil=True)
def assign_cos_csr(data, indices, indptr, inv_norm, centers_t, center_inv, labels, dist, slab_bounds):
    """Assign CSR rows to the center of largest cosine: sparse rows against dense centers.

    The dots are accumulated in float64 (the loop is bound by fetching rows
    of ``centers_t`` at random, not by arithmetic), so the chosen center's dot
    needs no second pass. No accumulation here: for CSR rows the caller gets
    the cluster sums from one sparse product, which reads X in order (faster
    than per-slab scatter-adds into (S, k, d) buffers that do not fit in cache).

    IN     data, indices, indptr   CSR arrays of the block (b rows, d columns)
    IN     inv_norm     (b,) float64 inverse Euclidean norm of each row
    IN     centers_t    (d, k) unit-norm centers transposed, data's dtype
    IN     center_inv   (k,) float64 inverse norm of each center
    OUT    labels       (b,) int32 index of the center of largest x . c (first on ties)
    OUT    dist         (b,) float64 cosine distance to that center, in [0, 2]
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs in this block
    """
    n_clusters = centers_t.shape[1]
    for s in prange(slab_bounds.shape[0] - 1):
        scores = np.empty(n_clusters, dtype=np.float64)
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            scores[:] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                x = np.float64(data[p])
                f = indices[p]
                for j in range(n_clusters):
                    scores[j] += x * np.float64(centers_t[f, j])
            best = _first_argmax(scores)
            labels[i] = best
            dist[i] = _cos_distance(scores[best], inv_norm[i], center_inv[best])


# ------------------------------------------------------------------- inertia
@njit(cache=True, parallel=True, nogil=True)
def weighted_cos_distances_dense(X, w, inv_norm, centers, center_inv, labels, slab_bounds, out):
    """Per-slab cosine inertia of a given labelling.

    IN   X (b, d), w (b,), inv_norm (b,) float64, centers (k, d),
         center_inv (k,) float64, labels (b,) int32, slab_bounds (S + 1,) int64
    OUT  out (S,) float64: sum over the slab of w_i (1 - cos(x_i, c_{l_i}))
    """
    for s in prange(slab_bounds.shape[0] - 1):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            c = labels[i]
            acc += np.float64(w[i]) * _cos_distance(_dot64(X[i], centers[c]), inv_norm[i], center_inv[c])
        out[s] = acc


@numpy_twin(weighted_cos_distances_dense)
def weighted_cos_distances_dense_numpy(X, w, inv_norm, centers, center_inv, labels, slab_bounds, out):
    """:func:`weighted_cos_distances_dense` in NumPy (same bits)."""
    dist = _cos_distance_numpy(_dot64_numpy(X, centers[labels]), inv_norm, center_inv[labels])
    out[:] = slab_sums_in_order(w.astype(np.float64) * dist, slab_bounds)


@njit(cache=True, parallel=True, nogil=True)
def weighted_cos_distances_csr(data, indices, indptr, w, inv_norm, centers, center_inv, labels, slab_bounds, out):
    """As :func:`weighted_cos_distances_dense` for CSR rows."""
    for s in prange(slab_bounds.shape[0] - 1):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            c = labels[i]
            dot = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                dot += np.float64(data[p]) * np.float64(centers[c, indices[p]])
            acc += np.float64(w[i]) * _cos_distance(dot, inv_norm[i], center_inv[c])
        out[s] = acc
