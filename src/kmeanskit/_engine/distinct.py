"""Numba kernels for fits on data with repeated rows (image pixels, rounded values).

Identical rows get identical labels and distances in Lloyd's arithmetic, so
the assignment needs each distinct row once; the sums that move the centers
are still added over every row, in the slabs and row order of the Lloyd step,
so that the centers keep their bits.

``distinct_index`` finds the distinct rows by their bit patterns (a row with
-0.0 where another has 0.0 counts as another row: a finer split, still exact)
with an open-addressing hash table. ``expand_accumulate`` copies the distinct
rows' labels to every row and adds the rows (and their distances) up per cluster.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import row_weight

__all__ = ["distinct_index", "expand_accumulate", "indexed_slab_sums"]

# 64-bit odd constants (the fractional parts of pi and of the golden ratio):
# each feature's bits are mixed in by xor and a multiplication, whose top bits
# depend on every bit below them; the table is indexed by the top bits.
_SEED = np.uint64(0x243F6A8885A308D3)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def distinct_index(bits, max_distinct, index, first):
    """Number each distinct row in order of first appearance; -1 past ``max_distinct``.

    IN   bits          (n, d) uint64 or uint32: the rows' values viewed as integers
    IN   max_distinct  int >= 1, give up (return -1) when the rows hold more
    OUT  index         (n,) int32 the number of each row's distinct row
    OUT  first         (max_distinct,) int64 the first row of each distinct row

    Returns the number of distinct rows, or -1 (``index`` and ``first`` are then
    partly written). One pass; the table (int32, a power of two at least twice
    ``max_distinct``) stays at most half full, so probes stay short.
    """
    n, d = bits.shape
    size_log2 = 1
    while (1 << size_log2) < 2 * max_distinct:
        size_log2 += 1
    mask = (1 << size_log2) - 1
    shift = np.uint64(64 - size_log2)
    table = np.full(1 << size_log2, -1, dtype=np.int32)
    n_distinct = 0
    for i in range(n):
        h = _SEED
        for f in range(d):
            h = (h ^ np.uint64(bits[i, f])) * _MULTIPLIER
        slot = np.int64(h >> shift)
        while True:
            j = table[slot]
            if j < 0:
                if n_distinct == max_distinct:
                    return -1
                table[slot] = n_distinct
                first[n_distinct] = i
                index[i] = n_distinct
                n_distinct += 1
                break
            r = first[j]
            same = True
            for f in range(d):
                if bits[r, f] != bits[i, f]:
                    same = False
                    break
            if same:
                index[i] = j
                break
            slot = (slot + 1) & mask
    return n_distinct


@njit(cache=True, nogil=True, inline="always")
def _add_padded(padded, label, X, i, wi):
    """``padded[label, :d] += wi * x`` and ``padded[label, d] += wi``: the bits of ``assign._add_row``.

    One row of ``padded`` holds a cluster's sums and weight side by side, and
    the adds of up to three features are written out: faster than ``_add_row``
    into the (k, d) sums and (k,) weights (per-feature loop, two arrays) on
    few features, such as pixels.
    """
    d = X.shape[1]
    # Constant indices, the weight's too: the four adds of a row become one
    # vector add (the same operations, element by element).
    if d == 3:
        padded[label, 0] += wi * np.float64(X[i, 0])
        padded[label, 1] += wi * np.float64(X[i, 1])
        padded[label, 2] += wi * np.float64(X[i, 2])
        padded[label, 3] += wi
    elif d == 2:
        padded[label, 0] += wi * np.float64(X[i, 0])
        padded[label, 1] += wi * np.float64(X[i, 1])
        padded[label, 2] += wi
    elif d == 1:
        padded[label, 0] += wi * np.float64(X[i, 0])
        padded[label, 1] += wi
    else:
        for f in range(d):
            padded[label, f] += wi * np.float64(X[i, f])
        padded[label, d] += wi


@njit(cache=True, parallel=True, nogil=True)
def expand_accumulate(X, w, index, distinct_labels, distinct_sq_dist, labels, sums, weight_sums,
                      slab_bounds, update, changed, weighted_sq_dist):
    """Give every row its distinct row's label; add rows to their clusters (and their distances).

    IN     X                 (b, d) block of rows, float32 or float64
    IN     w                 (b,) sample weights, X's dtype, or (1,): one weight for every row
    IN     index             (b,) int32 each row's distinct row
    IN     distinct_labels   (m,) int32 label of each distinct row
    IN     distinct_sq_dist  (m,) float64 its squared distance to its center
    INOUT  labels            (b,) int32 each row's label (the old one is compared)
    INOUT  sums              (S, k, d) float64 per-slab weighted sums of rows
    INOUT  weight_sums       (S, k) float64 per-slab sums of weights
    IN     slab_bounds       (S + 1,) int64 row bounds of the slabs in this block
    IN     update            bool, accumulate sums
    OUT    changed           (S,) int64 rows per slab whose label changed
    OUT    weighted_sq_dist  (S,) float64 each slab's sum of ``w_i sq_dist_i`` in row
                             order (``seeding.weighted_slab_sums``'s bits), or (0,): not wanted

    Slab ``s`` adds its rows in row order onto ``sums[s]``, as the Lloyd step's
    kernels do: the same sums, bit for bit. The rows' distances are not
    written: the step gives them on demand (``distinct_sq_dist[index]``).
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters, n_features = sums.shape[1], X.shape[1]
    want_sum = weighted_sq_dist.shape[0] > 0
    for s in prange(n_slabs):
        # The slab's sums and weights, side by side (see _add_padded).
        padded = np.empty((n_clusters if update else 0, n_features + 1))
        for c in range(padded.shape[0]):
            for f in range(n_features):
                padded[c, f] = sums[s, c, f]
            padded[c, n_features] = weight_sums[s, c]
        n_changed = 0
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            j = index[i]
            label = distinct_labels[j]
            n_changed += labels[i] != label
            labels[i] = label
            wi = np.float64(row_weight(w, i))
            if want_sum:
                acc += wi * distinct_sq_dist[j]
            if update:
                _add_padded(padded, label, X, i, wi)
        changed[s] = n_changed
        if want_sum:
            weighted_sq_dist[s] = acc
        for c in range(padded.shape[0]):
            for f in range(n_features):
                sums[s, c, f] = padded[c, f]
            weight_sums[s, c] = padded[c, n_features]


@njit(cache=True, parallel=True, nogil=True)
def indexed_slab_sums(w, index, distinct_values, slab_bounds, slab_sums):
    """Each slab's sum, in row order, of ``w_i distinct_values[index_i]``.

    IN   w                (n,) sample weights
    IN   index            (n,) int32 each row's distinct row
    IN   distinct_values  (m,) float64 a value per distinct row (seeding's distances)
    IN   slab_bounds      (S + 1,) int64
    OUT  slab_sums        (S,) float64: the bits of ``seeding.weighted_slab_sums`` on
                          ``distinct_values[index]``, without that n-long array
    """
    for s in prange(slab_bounds.shape[0] - 1):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            acc += np.float64(w[i]) * distinct_values[index[i]]
        slab_sums[s] = acc
