"""Numba kernels for K-Prototypes and K-Modes: the mixed cost of Huang (1997, 1998).

A row has ``p`` numeric values (float64, NaN where missing) and ``q``
categorical codes (int32, ``0 <= code < n_levels`` of its column, ``-1`` for a
category never seen at fit, which matches no center, or ``MISSING_CODE`` for a
missing category). A center has ``p`` numeric coordinates and ``q`` modes
(int32 codes), all present. The cost of a row to a center is

    sum_{f observed} (x_f - c_f)^2  +  gamma * #{j observed : code_j != mode_j}

in float64: the numeric part added feature by feature, then the count of
mismatches times ``gamma``; a missing entry contributes nothing (on complete
rows, Huang's cost). K-Modes is the case ``p = 0``, ``gamma = 1``.

As in :mod:`kmeanskit._engine.assign`, row kernels split the rows into fixed
slabs (``slab_bounds``, chosen from the number of rows, never the thread
count); slab ``s`` is processed by one thread in row order and writes only its
own outputs; per-slab partial sums are merged by the caller in slab order.
Results are therefore bitwise identical whatever the number of threads.

The per-cluster accumulation of a pass is one vector of ``p + L`` values per
cluster (``L`` the total number of levels over the categorical columns): the
weighted sums of the numeric values, then the weighted count of each level of
each column, column ``j``'s levels at ``p + level_offsets[j] + code``. Rows
with gaps need one more block of ``p`` values: the weight of the observed
entries of each numeric feature, at ``p + L + f`` (an accumulator of width
``p + L`` means complete rows).
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import row_weight

# The code of a missing category: it matches every mode (no cost) and counts towards none.
MISSING_CODE = -2

__all__ = ["MISSING_CODE", "assign_mixed", "mixed_costs", "weighted_mixed_costs", "update_closest_mixed", "candidate_potentials_mixed"]


@njit(cache=True, nogil=True, inline="always")
def _cost(xn, xc, cn, cc, gamma):
    """Mixed cost of one row to one center, float64 (numeric part, then mismatches); missing
    entries (NaN, ``MISSING_CODE``) are skipped."""
    acc = 0.0
    for f in range(xn.shape[0]):
        diff = xn[f] - cn[f]
        if diff == diff:  # (NaN: a missing value)
            acc += diff * diff
    mismatches = 0
    for j in range(xc.shape[0]):
        mismatches += np.int64(xc[j] != cc[j] and xc[j] != MISSING_CODE)
    return acc + gamma * mismatches


@njit(cache=True, parallel=True, nogil=True)
def assign_mixed(num, cat, w, centers_num, modes, gamma, level_offsets, slab_bounds, update,
                 labels, cost, slab_cost, slab_changed, slab_acc, slab_weights):
    """Assign each row to the center of least mixed cost; optionally accumulate.

    IN     num            (n, p) float64 numeric values, NaN where missing
    IN     cat            (n, q) int32 codes, every one in [0, n_levels) or MISSING_CODE
    IN     w              (n,) float64 sample weights, or (1,) one weight for every row
    IN     centers_num    (k, p) float64
    IN     modes          (k, q) int32
    IN     gamma          float, weight of one mismatched category
    IN     level_offsets  (q + 1,) int64 start of each column's levels (L at the end)
    IN     slab_bounds    (S + 1,) int64 row bounds of the slabs
    IN     update         bool: also fill ``slab_acc`` and ``slab_weights``
    INOUT  labels         (n,) int32: the nearest center (first on ties)
    OUT    cost           (n,) float64 cost of each row to its center
    OUT    slab_cost      (S,) float64 sum over the slab, in row order, of w_i cost_i
    OUT    slab_changed   (S,) int64 labels the slab changed
    OUT    slab_acc       (S, k, p + L) or (S, k, 2p + L) float64 (with ``update``):
                          per-slab weighted numeric sums and level counts of each
                          cluster, then (rows with gaps) the weights of the observed
                          numeric entries
    OUT    slab_weights   (S, k) float64 (with ``update``): per-slab cluster weights
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters = centers_num.shape[0]
    p = num.shape[1]
    q = cat.shape[1]
    gaps = slab_acc.shape[2] > p + level_offsets[q]
    observed_at = p + level_offsets[q]
    for s in prange(n_slabs):
        if update:
            slab_acc[s] = 0.0
            slab_weights[s] = 0.0
        total = 0.0
        changed = 0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            best = 0
            best_c = _cost(num[i], cat[i], centers_num[0], modes[0], gamma)
            for j in range(1, n_clusters):
                cj = _cost(num[i], cat[i], centers_num[j], modes[j], gamma)
                if cj < best_c:  # strict: the first index wins ties
                    best_c = cj
                    best = j
            changed += np.int64(labels[i] != best)
            labels[i] = best
            cost[i] = best_c
            wi = row_weight(w, i)
            total += wi * best_c
            if update:
                slab_weights[s, best] += wi
                for f in range(p):
                    value = num[i, f]
                    if value == value:
                        slab_acc[s, best, f] += wi * value
                        if gaps:
                            slab_acc[s, best, observed_at + f] += wi
                for j in range(q):
                    if cat[i, j] != MISSING_CODE:
                        slab_acc[s, best, p + level_offsets[j] + cat[i, j]] += wi
        slab_cost[s] = total
        slab_changed[s] = changed


@njit(cache=True, parallel=True, nogil=True)
def mixed_costs(num, cat, centers_num, modes, gamma, slab_bounds, out):
    """Mixed cost of every row to every center.

    IN   num (n, p) float64, cat (n, q) int32 (-1: unseen), centers_num (k, p) float64,
         modes (k, q) int32, gamma float, slab_bounds (S + 1,) int64
    OUT  out (n, k) float64
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_clusters = centers_num.shape[0]
    for s in prange(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            for j in range(n_clusters):
                out[i, j] = _cost(num[i], cat[i], centers_num[j], modes[j], gamma)


@njit(cache=True, parallel=True, nogil=True)
def weighted_mixed_costs(num, cat, w, centers_num, modes, gamma, labels, slab_bounds, out):
    """Per-slab cost of a given labelling.

    IN   num (n, p), cat (n, q), w (n,) or (1,) (one weight for every row),
         centers_num (k, p), modes (k, q), gamma, labels (n,) int32, slab_bounds (S + 1,) int64
    OUT  out (S,) float64: sum over the slab, in row order, of w_i cost(x_i, c_{l_i})
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            j = labels[i]
            acc += row_weight(w, i) * _cost(num[i], cat[i], centers_num[j], modes[j], gamma)
        out[s] = acc


@njit(cache=True, parallel=True, nogil=True)
def update_closest_mixed(num, cat, w, center_num, center_cat, gamma, closest, slab_bounds, slab_sums):
    """Lower each row's cost to its closest chosen center with a new center (seeding).

    IN     num (n, p), cat (n, q), w (n,), center_num (p,) float64, center_cat (q,) int32,
           gamma, slab_bounds (S + 1,) int64
    INOUT  closest (n,) float64: min(closest_i, cost(x_i, center))
    OUT    slab_sums (S,) float64: sum over the slab, in row order, of w_i closest_i
    """
    n_slabs = slab_bounds.shape[0] - 1
    for s in prange(n_slabs):
        acc = 0.0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            ci = min(closest[i], _cost(num[i], cat[i], center_num, center_cat, gamma))
            closest[i] = ci
            acc += w[i] * ci
        slab_sums[s] = acc


@njit(cache=True, parallel=True, nogil=True)
def candidate_potentials_mixed(num, cat, w, closest, cand_num, cand_cat, gamma, slab_bounds, out):
    """Per-slab potential left by each seeding candidate (D^2 sampling in the mixed cost).

    IN   num (n, p), cat (n, q), w (n,), closest (n,) float64,
         cand_num (t, p) float64, cand_cat (t, q) int32, gamma, slab_bounds (S + 1,) int64
    OUT  out (S, t) float64: sum over the slab, in row order, of w_i min(closest_i, cost(x_i, c))
    """
    for s in prange(slab_bounds.shape[0] - 1):
        acc = np.zeros(cand_num.shape[0])  # this slab's potentials, added in row order
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            for t in range(acc.shape[0]):
                acc[t] += w[i] * min(closest[i], _cost(num[i], cat[i], cand_num[t], cand_cat[t], gamma))
        for t in range(acc.shape[0]):  # not `out[s] = acc`: an array stored into a row compiles for seconds
            out[s, t] = acc[t]
