"""Numba kernels for k-means|| (oversampled seeding, Bahmani et al. 2012).

- ``lower_closest_pruned``: after its first round, a k-means|| round adds a
  batch of candidates and lowers each row's distance to its nearest candidate.
  Most rows already sit close to a candidate, and the triangle inequality rules
  most new candidates out for them, so the few pairs left are computed
  directly instead of a full product.
- ``greedy_plusplus_small``: greedy k-means++ on the few thousand weighted
  candidates, several runs at once (one Python call instead of one per round).
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.seeding import GROUP, _group_sq_dists

__all__ = ["greedy_plusplus_small", "lower_closest_pruned"]

# The skip test compares squared distances computed in float64 (relative error
# about d * 2**-52); this margin keeps it on the safe side of the inequality.
PRUNE_SLACK = 1.0 + 1e-9


@njit(cache=True, parallel=True, nogil=True)
def lower_closest_pruned(X, new_t, gap, index_of, closest, nearest, slab_bounds):
    """Lower each row's distance to its nearest candidate with new candidates.

    Row ``x`` with nearest earlier candidate ``a`` at squared distance ``r``:
    a new candidate ``c`` with ``|c - a|^2 >= 4 r`` is no closer than ``a``
    (``|x - c| >= |c - a| - |x - a| >= |x - a|``). A group of candidates is
    measured only if one of them passes that test; the caller orders the new
    candidates so that a group's members lie near each other. A measured
    candidate replaces the nearest if strictly closer (groups in order).

    IN     X            (b, d) block of rows, float32 or float64
    IN     new_t        (G, d, GROUP) float64 new candidates by groups, each
                        transposed (a group's values contiguous: 15% faster
                        than one (d, G * GROUP) array); padding holds +inf
    IN     gap          (n_earlier, G * GROUP) float64 squared distance from
                        each earlier candidate to each new one (+inf for padding)
    IN     index_of     (G * GROUP,) int32 candidate number of each slot
    INOUT  closest      (b,) float64 exact squared distance to the nearest candidate
    INOUT  nearest      (b,) int32 number of that candidate (an earlier one on entry)
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs (rows are independent)
    """
    n_groups = new_t.shape[0]
    for s in prange(slab_bounds.shape[0] - 1):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            a = nearest[i]
            best = closest[i]
            reach = 4.0 * best * PRUNE_SLACK
            gap_a = gap[a]
            index = a
            for g in range(n_groups):
                near = 0
                for jj in range(GROUP):
                    near += gap_a[g * GROUP + jj] < reach
                if near == 0:
                    continue
                d2 = _group_sq_dists(X[i], new_t[g], 0)
                for jj in range(GROUP):
                    if d2[jj] < best:
                        best = d2[jj]
                        index = index_of[g * GROUP + jj]
            closest[i] = best
            nearest[i] = index


@njit(cache=True, nogil=True)
def _sq_dists_to(X_t, center, out):
    """``out[i] = |x_i - center|^2`` (float64) with X given transposed ((d, m)):
    the inner loop runs over rows, so it vectorises without reordering sums."""
    out[:] = 0.0
    for f in range(X_t.shape[0]):
        c = np.float64(center[f])
        row = X_t[f]
        for i in range(out.shape[0]):
            e = np.float64(row[i]) - c
            out[i] += e * e


@njit(cache=True, nogil=True)
def _greedy_plusplus_one(X, X_t, w, first, uniforms, n_trials, out):
    m = X.shape[0]
    closest = np.empty(m)
    _sq_dists_to(X_t, X[first], closest)
    out[0] = first
    cumulative = np.empty(m)
    trial = np.empty((n_trials, m))
    pots = np.empty(n_trials)
    ids = np.empty(n_trials, dtype=np.int64)
    for c in range(1, out.shape[0]):
        total = 0.0
        for i in range(m):
            total += w[i] * closest[i]
            cumulative[i] = total
        for t in range(n_trials):
            idx = np.searchsorted(cumulative, uniforms[c - 1, t] * total)
            ids[t] = min(idx, m - 1)
            _sq_dists_to(X_t, X[ids[t]], trial[t])
            pot = 0.0
            for i in range(m):
                pot += w[i] * min(closest[i], trial[t, i])
            pots[t] = pot
        best = np.argmin(pots)
        out[c] = ids[best]
        for i in range(m):
            closest[i] = min(closest[i], trial[best, i])


@njit(cache=True, parallel=True, nogil=True)
def greedy_plusplus_small(X, w, firsts, uniforms, out):
    """Greedy k-means++ on a small weighted set, several independent runs at once.

    Each run: ``firsts[r]`` is the first center; each later round draws
    ``n_trials`` rows by ``searchsorted(cumsum(w * closest), u * total)`` (the
    draws of scikit-learn's ``_kmeans_plusplus`` for the same uniforms) and
    keeps the one that lowers the potential ``sum_i w_i closest_i`` most.
    Runs are independent (one thread each): results do not depend on the
    thread count.

    IN   X         (m, d) rows, float32 or float64
    IN   w         (m,) float64 weights (non-negative, some positive)
    IN   firsts    (R,) int64 first center of each run
    IN   uniforms  (R, k - 1, n_trials) float64 uniform draws in [0, 1)
    OUT  out       (R, k) int64 row index of each center, per run
    """
    X_t = np.ascontiguousarray(X.T)
    n_trials = uniforms.shape[2]
    for r in prange(firsts.shape[0]):
        _greedy_plusplus_one(X, X_t, w, firsts[r], uniforms[r], n_trials, out[r])
