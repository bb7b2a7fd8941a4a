"""Numba kernels for K-Medians: L1 (Manhattan) assignment, seeding and weighted medians.

As in :mod:`kmeanskit._engine.assign`, row kernels split the rows into fixed
slabs (``slab_bounds``, chosen from the number of rows only); slab ``s`` is
processed by one thread in row order and writes only its own outputs, and any
per-slab partial sums are merged by the caller in slab order. Results are
therefore bitwise identical whatever the number of threads.

All distances are computed in float64 from the data's dtype (float32 or
float64): ``sum_f |x_f - c_f|``.

The weighted median of values ``v`` with non-negative weights ``u`` (total
``W > 0``) is the *lower* weighted median: the smallest value ``m`` such that
the total weight of the values ``<= m`` reaches ``W / 2``. With unit weights
and an even count it is the lower of the two middle values; equal values
(ties) are one value whatever their order; values of zero weight are never
chosen unless they equal the chosen value. Any weighted median minimises
``sum_i u_i |v_i - m|``; this rule picks one deterministically.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.numpy_twins import slab_sums_in_order, sum_in_order
from kmeanskit._engine.serial import numpy_twin
from kmeanskit._engine.sorting import stable_argsort

__all__ = [
    "assign_l1",
    "l1_distances",
    "weighted_l1_distances",
    "update_closest_l1",
    "candidate_potentials_l1",
    "weighted_medians",
]


@njit(cache=True, nogil=True, inline="always")
def _l1(x, c):
    """|x - c|_1 in float64, with four partial sums in a fixed order."""
    d = x.shape[0]
    d4 = d - d % 4
    a0 = a1 = a2 = a3 = 0.0
    for f in range(0, d4, 4):
        a0 += abs(np.float64(x[f]) - np.float64(c[f]))
        a1 += abs(np.float64(x[f + 1]) - np.float64(c[f + 1]))
        a2 += abs(np.float64(x[f + 2]) - np.float64(c[f + 2]))
        a3 += abs(np.float64(x[f + 3]) - np.float64(c[f + 3]))
    for f in range(d4, d):
        a0 += abs(np.float64(x[f]) - np.float64(c[f]))
    return (a0 + a1) + (a2 + a3)


def _l1_numpy(X64, C64):
    """:func:`_l1` of float64 rows broadcast against each other (features last), the
    same four partial sums in the same order."""
    d = X64.shape[-1]
    d4 = d - d % 4
    shape = np.broadcast_shapes(X64.shape[:-1], C64.shape[:-1])
    parts = [np.zeros(shape) for _ in range(4)]
    for f in range(0, d4, 4):
        for q in range(4):
            parts[q] += np.abs(X64[..., f + q] - C64[..., f + q])
    for f in range(d4, d):
        parts[0] += np.abs(X64[..., f] - C64[..., f])
    return (parts[0] + parts[1]) + (parts[2] + parts[3])


@njit(cache=True, parallel=True, nogil=True)
def assign_l1(X, centers, labels, l1_dist, slab_bounds):
    """Assign each row to its nearest center in L1 distance.

    IN   X            (n, d) rows, float32 or float64
    IN   centers      (k, d) centers, X's dtype
    OUT  labels       (n,) int32 index of the nearest center (first on ties)
    OUT  l1_dist      (n,) float64 L1 distance to that center
    IN   slab_bounds  (S + 1,) int64 row bounds of the slabs
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters = centers.shape[0]
    for s in prange(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best = 0
            best_d = _l1(X[i], centers[0])
            for j in range(1, n_clusters):
                dj = _l1(X[i], centers[j])
                if dj < best_d:  # strict: the first index wins ties
                    best_d = dj
                    best = j
            labels[i] = best
            l1_dist[i] = best_d


@numpy_twin(assign_l1)
def assign_l1_numpy(X, centers, labels, l1_dist, slab_bounds):
    """:func:`assign_l1` in NumPy (same bits)."""
    dist = _l1_numpy(X.astype(np.float64)[:, None, :], centers.astype(np.float64)[None])
    best = np.argmin(dist, axis=1)  # the first index on ties, as the kernel's strict <
    labels[:] = best
    l1_dist[:] = np.take_along_axis(dist, best[:, None], axis=1)[:, 0]


@njit(cache=True, parallel=True, nogil=True)
def l1_distances(X, centers, slab_bounds, out):
    """L1 distance of every row to every center.

    IN   X (n, d), centers (k, d) of X's dtype; slab_bounds (S + 1,) int64
    OUT  out (n, k) float64 (or X's dtype): out[i, j] = |x_i - c_j|_1
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters = centers.shape[0]
    for s in prange(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            for j in range(n_clusters):
                out[i, j] = _l1(X[i], centers[j])


@numpy_twin(l1_distances)
def l1_distances_numpy(X, centers, slab_bounds, out):
    """:func:`l1_distances` in NumPy (same bits)."""
    out[:] = _l1_numpy(X.astype(np.float64)[:, None, :], centers.astype(np.float64)[None])


@njit(cache=True, parallel=True, nogil=True)
def weighted_l1_distances(X, w, centers, labels, slab_bounds, out):
    """Per-slab L1 inertia of a given labelling.

    IN   X (n, d), w (n,), centers (k, d), labels (n,) int32
    IN   slab_bounds (S + 1,) int64
    OUT  out (S,) float64: sum over the slab of w_i |x_i - c_{l_i}|_1
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            acc += np.float64(w[i]) * _l1(X[i], centers[labels[i]])
        out[s] = acc


@numpy_twin(weighted_l1_distances)
def weighted_l1_distances_numpy(X, w, centers, labels, slab_bounds, out):
    """:func:`weighted_l1_distances` in NumPy (same bits)."""
    dist = _l1_numpy(X.astype(np.float64), centers.astype(np.float64)[labels])
    out[:] = slab_sums_in_order(w.astype(np.float64) * dist, slab_bounds)


@njit(cache=True, parallel=True, nogil=True)
def update_closest_l1(X, w, center, closest, slab_bounds, slab_sums):
    """Lower each row's distance to its closest chosen center with a new center.

    IN     X (n, d), w (n,), center (d,) of X's dtype; slab_bounds (S + 1,) int64
    INOUT  closest (n,) float64: min(closest_i, |x_i - center|_1)
    OUT    slab_sums (S,) float64: sum over the slab, in row order, of
           ``w_i closest_i`` after lowering (what seeding draws from)
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            ci = min(closest[i], _l1(X[i], center))
            closest[i] = ci
            acc += np.float64(w[i]) * ci
        slab_sums[s] = acc


@numpy_twin(update_closest_l1)
def update_closest_l1_numpy(X, w, center, closest, slab_bounds, slab_sums):
    """:func:`update_closest_l1` in NumPy (same bits)."""
    np.minimum(closest, _l1_numpy(X.astype(np.float64), center.astype(np.float64)), out=closest)
    slab_sums[:] = slab_sums_in_order(w.astype(np.float64) * closest, slab_bounds)


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_l1(X, w, closest, candidates, slab_bounds, out):
    """Per-slab potential left by each seeding candidate (L1, D^1 sampling).

    IN   X (n, d), w (n,), candidates (t, d) of X's dtype
    IN   closest (n,) float64 L1 distance of each row to its closest chosen center
    IN   slab_bounds (S + 1,) int64
    OUT  out (S, t) float64: sum over the slab of w_i min(closest_i, |x_i - c|_1)
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_candidates = candidates.shape[0]
    for s in prange(n_slabs):
        for t in range(n_candidates):
            out[s, t] = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            wi = np.float64(w[i])
            for t in range(n_candidates):
                out[s, t] += wi * min(closest[i], _l1(X[i], candidates[t]))


@numpy_twin(candidate_potentials_l1)
def candidate_potentials_l1_numpy(X, w, closest, candidates, slab_bounds, out):
    """:func:`candidate_potentials_l1` in NumPy (same bits)."""
    dist = _l1_numpy(X.astype(np.float64)[:, None, :], candidates.astype(np.float64)[None])
    np.minimum(closest[:, None], dist, out=dist)
    out[:] = slab_sums_in_order(w.astype(np.float64)[:, None] * dist, slab_bounds)


# Below this many candidates the selection finishes with an insertion sort.
_SMALL = 16
# Above this many candidates a round takes its pivots from a sample.
_SAMPLED = 1000


@njit(cache=True, nogil=True)
def _sorted_lower_median(values, weights, lo, hi, below, half):
    """Lower weighted median of ``values[lo:hi]`` by sorting that range.

    ``below`` is the weight of the values known to lie below the whole range.
    Sorts ``values[lo:hi]`` (and ``weights`` alongside) in place: insertion
    sort for short ranges, else a stable argsort. Returns the first value, in
    increasing order, at which ``below`` plus the cumulative weight reaches
    ``half``; the range's largest value if it never does (rounding).
    """
    m = hi - lo
    if m <= _SMALL:
        for p in range(lo + 1, hi):
            v = values[p]
            u = weights[p]
            q = p - 1
            while q >= lo and values[q] > v:
                values[q + 1] = values[q]
                weights[q + 1] = weights[q]
                q -= 1
            values[q + 1] = v
            weights[q + 1] = u
        cumulative = below
        for p in range(lo, hi):
            cumulative += weights[p]
            if cumulative >= half:
                return values[p]
        return values[hi - 1]
    ranked = stable_argsort(values[lo:hi])
    cumulative = below
    for p in range(m):
        cumulative += weights[lo + ranked[p]]
        if cumulative >= half:
            return values[lo + ranked[p]]
    return values[lo + ranked[m - 1]]


@njit(cache=True, nogil=True, inline="always")
def _weights_below(values, weights, lo, hi, low, high, pick):
    """Weights of the candidates in [lo, hi) that are ``< low`` and ``<= high``.

    ``pick`` is a 2-element float64 scratch with ``pick[0] == 0``; indexing it
    by the comparison keeps the loop free of unpredictable branches.
    """
    w_lt = 0.0
    w_le = 0.0
    for p in range(lo, hi):
        v = values[p]
        pick[1] = weights[p]
        w_lt += pick[np.int64(v < low)]
        w_le += pick[np.int64(v <= high)]
    return w_lt, w_le


@njit(cache=True, nogil=True, inline="always")
def _keep(values, weights, lo, hi, low, high):
    """Move the candidates with ``low <= value <= high`` to the front of [lo, hi).

    Keeps their order; returns the end of the kept part. Branch-free stores.
    """
    out = lo
    for p in range(lo, hi):
        v = values[p]
        values[out] = v
        weights[out] = weights[p]
        out += np.int64(v >= low) & np.int64(v <= high)
    return out


@njit(cache=True, nogil=True)
def _weighted_select(values, weights, half):
    """Lower weighted median of (value, weight) pairs by weighted selection.

    IN     half     half the total weight (positive)
    INOUT  values   (m,) m >= 1, scratch: reordered and overwritten
    INOUT  weights  (m,) float64 non-negative, scratch: likewise

    Returns the smallest value ``v`` such that the weight of the values
    ``<= v`` reaches ``half`` (the largest value if rounding never lets it).

    Each round brackets the answer by two pivots ``low <= high`` taken from
    the candidates [lo, hi), weighs the candidates ``< low`` and ``<= high``
    (``below`` carries the weight of the values under every candidate), and
    keeps only the part that holds the answer: ``< low``, ``[low, high]`` or
    ``> high``. A part of equal values is settled at once (``low == high``).
    Large ranges (Floyd-Rivest style) take ``low`` and ``high`` from a
    sorted, evenly spaced sample of the candidates, around the sample's
    weighted quantile of the target, so that most rounds keep a small middle
    part; smaller ones use the median of the first, middle and last candidates
    as both pivots. Pivots are deterministic (no RNG); expected O(m). After
    ``2 log2(m) + 8`` rounds the remaining range is sorted instead, which
    bounds the worst case at O(m log m); ranges of at most ``_SMALL``
    candidates are finished by insertion sort.
    """
    lo = 0
    hi = values.shape[0]
    below = 0.0  # weight of the values below every candidate in [lo, hi)
    range_weight = 2.0 * half  # weight of the candidates in [lo, hi), for sampling
    budget = 8
    size = hi
    while size > 1:
        budget += 2
        size >>= 1
    pick = np.zeros(2)
    sample_v = np.empty(0, dtype=values.dtype)
    sample_w = np.empty(0, dtype=np.float64)
    while hi - lo > _SMALL:
        if budget == 0:
            return _sorted_lower_median(values, weights, lo, hi, below, half)
        budget -= 1
        n = hi - lo
        if n > _SAMPLED:
            s = int(n**0.6)
            if sample_v.shape[0] < s:
                sample_v = np.empty(s, dtype=values.dtype)
                sample_w = np.empty(s, dtype=np.float64)
            sample_weight = 0.0
            for t in range(s):
                q = lo + (t * n) // s
                sample_v[t] = values[q]
                sample_w[t] = weights[q]
                sample_weight += weights[q]
            ranked = stable_argsort(sample_v[:s])
            rank = s // 2
            if sample_weight > 0.0 and range_weight > 0.0:
                target = (half - below) / range_weight * sample_weight
                cumulative = 0.0
                for t in range(s):
                    cumulative += sample_w[ranked[t]]
                    if cumulative >= target:
                        rank = t
                        break
            delta = int(2.5 * np.sqrt(s)) + 1
            low = sample_v[ranked[max(rank - delta, 0)]]
            high = sample_v[ranked[min(rank + delta, s - 1)]]
        else:
            # Median of three, as both pivots.
            a = values[lo]
            b = values[(lo + hi - 1) >> 1]
            c = values[hi - 1]
            if a > b:
                a, b = b, a
            if b > c:
                b = c
                if a > b:
                    b = a
            low = b
            high = b
        w_lt, w_le = _weights_below(values, weights, lo, hi, low, high, pick)
        if below + w_lt >= half:
            # The answer is below ``low``; ``-inf`` is below every value.
            hi = _keep(values, weights, lo, hi, -np.inf, np.nextafter(low, -np.inf))
            range_weight = w_lt
            if hi == lo:  # only rounding gets here
                return low
        elif below + w_le >= half:
            if low == high:
                return low
            hi = _keep(values, weights, lo, hi, low, high)
            below += w_lt
            range_weight = w_le - w_lt
        else:
            new_hi = _keep(values, weights, lo, hi, np.nextafter(high, np.inf), np.inf)
            if new_hi == lo:  # nothing above ``high``: only rounding gets here
                return high
            hi = new_hi
            range_weight -= w_le
            below += w_le
    return _sorted_lower_median(values, weights, lo, hi, below, half)


@njit(cache=True, parallel=True, nogil=True)
def weighted_medians(X, w, order, starts, centers, filled):
    """Coordinate-wise lower weighted median of every cluster.

    Parallel over (cluster, feature) pairs; each pair is computed by one thread
    from the same inputs, with its own scratch copy of the cluster's (value,
    weight) pairs for that feature and a deterministic weighted quickselect
    (:func:`_weighted_select`, expected O(m) for m rows), so the result does
    not depend on the thread count.

    IN     X        (n, d) rows, float32 or float64
    IN     w        (n,) non-negative sample weights, X's dtype
    IN     order    (n,) int64 row indices grouped by cluster: cluster j's rows
                    are ``order[starts[j]:starts[j + 1]]``
    IN     starts   (k + 1,) int64 offsets into ``order``
    INOUT  centers  (k, d) X's dtype; row j is overwritten with cluster j's
                    median when its total weight is positive, else left as is
    OUT    filled   (k,) bool, whether cluster j had positive total weight

    ``centers[j, f]`` is the lower weighted median defined in the module
    docstring. Half the total weight is summed in ``order``; the weight below
    a candidate is summed in the selection's order, so a median may differ
    from a sort-based one only when a cumulative weight equals half the total
    up to rounding. When the median is zero, the zero returned (+0.0 or -0.0)
    is the one a stable sort of the column would reach first.
    """
    n_clusters = starts.shape[0] - 1
    n_features = X.shape[1]
    # The weights in ``order`` (float64) and each cluster's total, once.
    ordered_w = np.empty(order.shape[0], dtype=np.float64)
    totals = np.empty(n_clusters, dtype=np.float64)
    for j in prange(n_clusters):
        total = 0.0
        for p in range(starts[j], starts[j + 1]):
            ordered_w[p] = np.float64(w[order[p]])
            total += ordered_w[p]
        totals[j] = total
        filled[j] = total > 0.0
    for task in prange(n_clusters * n_features):
        j = task // n_features
        f = task % n_features
        if not filled[j]:
            continue
        lo, hi = starts[j], starts[j + 1]
        m = hi - lo
        values = np.empty(m, dtype=X.dtype)
        for p in range(m):
            values[p] = X[order[lo + p], f]
        weights = ordered_w[lo:hi].copy()
        half = 0.5 * totals[j]
        median = _weighted_select(values, weights, half)
        if median == 0.0:
            # +0.0 and -0.0 are one value; return the sign a stable sort would.
            below = 0.0
            for p in range(m):
                i = order[lo + p]
                if X[i, f] < median:
                    below += np.float64(w[i])
            cumulative = below
            for p in range(m):
                i = order[lo + p]
                if X[i, f] == median:
                    cumulative += np.float64(w[i])
                    median = X[i, f]
                    if cumulative >= half:
                        break
        centers[j, f] = median


def _prefix_sums(start, values):
    """``start + values[0]``, ``start + values[0] + values[1]``, ... (float64, in order)."""
    return np.cumsum(np.concatenate(([start], values)))[1:]


def _sorted_lower_median_numpy(values, weights, below, half):
    """:func:`_sorted_lower_median` of the candidates ``values`` (a stable sort, as
    both the insertion sort and :func:`stable_argsort` are)."""
    ranked = np.argsort(values, kind="stable")
    hit = np.flatnonzero(_prefix_sums(below, weights[ranked]) >= half)
    return values[ranked[hit[0] if hit.size else -1]]


def _weighted_select_numpy(values, weights, half):
    """:func:`_weighted_select` in NumPy: the same rounds, pivots and sums.

    The candidates are kept compacted (the kernel keeps them at the front of its
    scratch, in their order); each round is vectorised over them.
    """
    below = 0.0
    range_weight = 2.0 * half
    budget = 8
    size = values.shape[0]
    while size > 1:
        budget += 2
        size >>= 1
    while values.shape[0] > _SMALL:
        if budget == 0:
            return _sorted_lower_median_numpy(values, weights, below, half)
        budget -= 1
        n = values.shape[0]
        if n > _SAMPLED:
            s = int(n**0.6)
            picked = (np.arange(s) * n) // s
            sample_v = values[picked]
            sample_w = weights[picked]
            sample_weight = sum_in_order(sample_w)
            ranked = np.argsort(sample_v, kind="stable")
            rank = s // 2
            if sample_weight > 0.0 and range_weight > 0.0:
                target = (half - below) / range_weight * sample_weight
                hit = np.flatnonzero(_prefix_sums(0.0, sample_w[ranked]) >= target)
                if hit.size:
                    rank = int(hit[0])
            delta = int(2.5 * np.sqrt(s)) + 1
            low = sample_v[ranked[max(rank - delta, 0)]]
            high = sample_v[ranked[min(rank + delta, s - 1)]]
        else:
            # The median of three, as both pivots (equal values: the same value, or a zero
            # whose sign the caller settles).
            low = high = np.sort(values[[0, (n - 1) >> 1, n - 1]])[1]
        w_lt = sum_in_order(np.where(values < low, weights, 0.0))
        w_le = sum_in_order(np.where(values <= high, weights, 0.0))
        # The kernel's bounds np.nextafter(low, -inf) and np.nextafter(high, inf) are float64.
        if below + w_lt >= half:
            keep = values <= np.nextafter(np.float64(low), -np.inf)
            range_weight = w_lt
            if not keep.any():
                return low
        elif below + w_le >= half:
            if low == high:
                return low
            keep = (values >= low) & (values <= high)
            below += w_lt
            range_weight = w_le - w_lt
        else:
            keep = values >= np.nextafter(np.float64(high), np.inf)
            if not keep.any():
                return high
            range_weight -= w_le
            below += w_le
        values, weights = values[keep], weights[keep]
    return _sorted_lower_median_numpy(values, weights, below, half)


@numpy_twin(weighted_medians)
def weighted_medians_numpy(X, w, order, starts, centers, filled):
    """:func:`weighted_medians` in NumPy (same bits): one selection per (cluster,
    feature), each vectorised over the cluster's rows."""
    for j in range(starts.shape[0] - 1):
        rows = order[starts[j] : starts[j + 1]]
        weights = w[rows].astype(np.float64)
        total = sum_in_order(weights)
        filled[j] = total > 0.0
        if not filled[j]:
            continue
        half = 0.5 * total
        if total <= 2.0**53 and np.array_equal(weights, np.floor(weights)):
            # Whole weights (unit ones among them): every sum is exact, whatever its
            # order, so the selection's answer is the stable sort's, for all features at once.
            values = X[rows]
            ranked = np.argsort(values, axis=0, kind="stable")
            reached = np.cumsum(weights[ranked], axis=0) >= half
            features = np.arange(X.shape[1])
            centers[j] = values[ranked[reached.argmax(axis=0), features], features]
            continue
        for f in range(X.shape[1]):
            column = X[rows, f]
            median = _weighted_select_numpy(column, weights, half)
            if median == 0.0:
                # +0.0 and -0.0 are one value; the sign a stable sort reaches first.
                below = sum_in_order(weights[column < median])
                zeros = np.flatnonzero(column == median)
                hit = np.flatnonzero(_prefix_sums(below, weights[zeros]) >= half)
                median = column[zeros[hit[0] if hit.size else -1]]
            centers[j, f] = median
