"""Numba kernel for the group-bounded assignment step (Yinyang k-means, exact).

Ding et al. (2015): the centers are split into ``t`` groups, and each row keeps
one lower bound per group on its distance to the group's centers (its own
center left out), besides the global lower bound of Hamerly's step. After the
centers move, a group's bound drops by the largest drift in the group. A row
keeps its label without looking at any other center when its global bound
proves it (the test of ``bounds.bounded_assign_accumulate``); otherwise only
the centers of the groups whose bound does not prove them farther are scored
(the group filter), with the row's own center. No k x k table is made: a pass
costs O(k d) besides the rows.

Group bounds are brought up to date lazily: a row's bounds hold at the pass
it last had them set (``stamps``); ``cum_drift[p, g]`` is the sum of group g's
largest drifts over passes 1..p, so the bounds at pass ``now`` are at least the
stored ones less ``cum_drift[now] - cum_drift[stamp]`` (a sum of largest drifts
bounds the largest drift of the sum). Rows the global bound keeps do not touch
their group bounds.

Exactness is the bounded step's: a group is left out only when its bound beats
the row's own center by more than twice a score's rounding error, so Lloyd's
arg-min is among the scored centers, and those are scored with Lloyd's
arithmetic (``|c_j|^2 - 2 x.c_j`` in X's dtype, feature by feature), ties going
to the lowest index. Sums are added per slab in row order: labels, centers and
inertia are those of the Lloyd step.
"""

import numpy as np
from numba import njit, prange

from kmeanskit._engine.assign import _add_row, row_weight
from kmeanskit._engine.bounds import (
    _WIDER,
    _argmin_and_second,
    _bound_below,
    _fold,
    _sq_dist_and_norm,
    _sq_dist_vectorised,
    _two_largest,
)

__all__ = ["group_half_sep", "yinyang_assign_accumulate"]

# Absolute widening of a difference of cumulative drifts, relative to the
# larger one (covers the rounding of the running sums).
_CUM_SLACK = 2.0**-48
_NARROWER = 1.0 - 2.0**-40


@njit(cache=True, nogil=True, inline="always")
def _score(x, j, centers, center_sq):
    """Lloyd's score of center j for row x, ``|c_j|^2 - 2 x.c_j`` in X's dtype and order."""
    score = center_sq[j]
    for f in range(x.shape[0]):
        score -= (x[f] + x[f]) * centers[j, f]
    return score


@njit(cache=True, nogil=True, inline="always")
def _scored(x, j, centers, center_sq, scores, best, best_score, second):
    """Score center j into ``scores[j]`` and fold it into (best, best score, second) (none yet: best < 0)."""
    score = _score(x, j, centers, center_sq)
    scores[j] = score
    if best < 0:
        return j, score, second
    return _fold(j, score, best, best_score, second)


@njit(cache=True, nogil=True)
def group_half_sep(centers, members, group_starts, group_of, half_sep):
    """A lower bound on half the distance from each center to its nearest other one.

    Exact within a center's group; another group g is at least
    ``|c_a - m_g| - r_g`` away (``m_g`` the group's mean, ``r_g`` its largest
    distance from it), so no k x k table is made: O(k (k / t + t) d).

    IN   centers       (k, d) float64 centers
    IN   members, group_starts, group_of  the groups (see ``yinyang_assign_accumulate``)
    OUT  half_sep      (k,) float64, inf when k = 1
    """
    n_clusters, n_features = centers.shape
    n_groups = group_starts.shape[0] - 1
    means = np.zeros((n_groups, n_features))
    radius = np.zeros(n_groups)
    for g in range(n_groups):
        size = group_starts[g + 1] - group_starts[g]
        for q in range(group_starts[g], group_starts[g + 1]):
            for f in range(n_features):
                means[g, f] += centers[members[q], f]
        for f in range(n_features):
            means[g, f] /= size
        for q in range(group_starts[g], group_starts[g + 1]):
            total = 0.0
            for f in range(n_features):
                e = centers[members[q], f] - means[g, f]
                total += e * e
            radius[g] = max(radius[g], np.sqrt(total))
    for a in range(n_clusters):
        own = group_of[a]
        nearest = np.inf
        for q in range(group_starts[own], group_starts[own + 1]):
            j = members[q]
            if j != a:
                total = 0.0
                for f in range(n_features):
                    e = centers[a, f] - centers[j, f]
                    total += e * e
                nearest = min(nearest, np.sqrt(total))
        for g in range(n_groups):
            if g != own:
                total = 0.0
                for f in range(n_features):
                    e = centers[a, f] - means[g, f]
                    total += e * e
                nearest = min(nearest, np.sqrt(total) - radius[g])
        # (Widened past the rounding of these few float64 operations.)
        half_sep[a] = 0.5 * max(nearest, 0.0) * _NARROWER


@njit(cache=True, parallel=True, nogil=True)
def yinyang_assign_accumulate(
    X, w, centers, centers_t, center_sq, labels, sq_dist, lower, group_lower, stamps, now, cum_drift, drift, half_sep,
    members, group_starts, group_of, gamma, center_norm, center_norm_max, fresh, sums, weight_sums,
    slab_bounds, update, recomputed, changed,
):
    """Assign rows, scoring only the groups of centers the bounds do not rule out.

    X, w, centers, centers_t, center_sq, labels (read unless ``fresh``), sq_dist, lower
    (INOUT: the distance to every other center): as in ``bounds.bounded_assign_accumulate``
    INOUT  group_lower  (b, t) float32 lower bound on the distance to the centers of
                        each group (the row's own center left out), as of pass ``stamps``
    INOUT  stamps       (b,) int32 the pass at which each row's group bounds were set
    IN     now          int, this pass's number (the last row of ``cum_drift``)
    IN     cum_drift    (now + 1, t) float64 cumulative largest drift of each group
    IN     drift        (k,) float64 distance each center moved since the last pass
    IN     half_sep     (k,) float64 at most half the distance to the nearest other center
    IN     members      (k,) int64 the centers, group after group (each group in index order)
    IN     group_starts (t + 1,) int64 bounds of each group in ``members``
    IN     group_of     (k,) int64 the group of each center
    IN     gamma        float, relative rounding error of a score (see ``bounds``)
    IN     center_norm  (k,) float64 norm of each center
    IN     center_norm_max  float, largest center norm
    IN     fresh        bool, labels and bounds are not valid: score every center
    INOUT  sums         (S, k, d) float64 per-slab weighted sums of rows
    INOUT  weight_sums  (S, k) float64 per-slab sums of weights
    IN     slab_bounds  (S + 1,) int64 row bounds of the slabs in this block
    IN     update       bool, accumulate sums
    OUT    recomputed   (S,) int64 rows per slab that the global bound did not keep
    OUT    changed      (S,) int64 rows per slab whose label this call changed
    """
    n_slabs = slab_bounds.shape[0] - 1
    n_features = X.shape[1]
    n_clusters = centers.shape[0]
    n_groups = group_starts.shape[0] - 1
    top1, top1_index, top2 = _two_largest(drift)
    for s in prange(n_slabs):
        scores = np.empty(n_clusters, dtype=X.dtype)
        squares = np.empty((2, n_features))
        group_bound = np.empty(n_groups)
        scored = np.empty(n_groups, dtype=np.bool_)
        count = 0
        n_changed = 0
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            x = X[i]
            a = -1
            u = 0.0
            sq = 0.0
            margin = 0.0
            best = -1
            best_score = center_sq[0]  # any value of X's dtype: replaced by the first score
            second = np.inf  # (unused: the bounds are made per group below)
            if fresh:
                # Every center, in the Lloyd direct kernel's loop (the same scores).
                for j in range(n_clusters):
                    scores[j] = center_sq[j]
                for f in range(n_features):
                    two_x = x[f] + x[f]
                    for j in range(n_clusters):
                        scores[j] -= two_x * centers_t[f, j]
                best, second = _argmin_and_second(scores)
                scored[:] = True
            else:
                a = labels[i]
                sq = _sq_dist_vectorised(x, centers[a], squares[0])
                u = np.sqrt(sq)
                # Every other center is at least this far: Hamerly's bound, and
                # |x - c_j| >= |c_a - c_j| - u >= 2 half_sep[a] - u.
                hamerly = max(np.float64(lower[i]) - (top2 if a == top1_index else top1), 2.0 * half_sep[a] - u)
                # |x| <= u + |c_a|: a margin at least as wide as with |x| itself.
                scale = u + center_norm[a] + center_norm_max
                margin = gamma * scale * scale
                keep = hamerly > u and hamerly * hamerly - sq > margin
                glob = hamerly
                if not keep:
                    # Each group's bound now: the stored one less its largest drifts since.
                    stamp = stamps[i]
                    nearest_group = np.inf
                    for g in range(n_groups):
                        gone = cum_drift[now, g] - cum_drift[stamp, g]
                        bound = np.float64(group_lower[i, g]) - (gone * _WIDER + cum_drift[now, g] * _CUM_SLACK)
                        group_bound[g] = bound
                        nearest_group = min(nearest_group, bound)
                    glob = max(hamerly, nearest_group)
                    keep = glob > u and glob * glob - sq > margin
                if keep:
                    # (The group bounds stay as stored: still valid at their stamp.)
                    sq_dist[i] = sq
                    lower[i] = _bound_below(glob)
                    if update:
                        _add_row(x, row_weight(w, i), a, sums[s], weight_sums[s])
                    continue
                # The group filter: score the groups whose bound does not prove them farther.
                for g in range(n_groups):
                    bound = max(group_bound[g], hamerly)
                    group_bound[g] = bound
                    if bound > u and bound * bound - sq > margin:
                        scored[g] = False
                        continue
                    scored[g] = True
                    for q in range(group_starts[g], group_starts[g + 1]):
                        best, best_score, second = _scored(x, members[q], centers, center_sq, scores,
                                                           best, best_score, second)
            count += 1
            own_apart = a >= 0 and not scored[group_of[a]]
            if own_apart:  # the row's own center is always scored
                best, best_score, second = _scored(x, a, centers, center_sq, scores, best, best_score, second)
            n_changed += labels[i] != best
            labels[i] = best
            sq, x_sq = _sq_dist_and_norm(x, centers[best], squares)
            sq_dist[i] = sq
            scale = np.sqrt(x_sq) + center_norm_max
            slack = x_sq - gamma * scale * scale
            nearest_other = np.inf
            for g in range(n_groups):
                if scored[g]:
                    smallest = np.inf
                    for q in range(group_starts[g], group_starts[g + 1]):
                        j = members[q]
                        if j != best:
                            smallest = min(smallest, np.float64(scores[j]))
                    bound = np.sqrt(max(smallest + slack, 0.0))
                else:
                    bound = group_bound[g]
                    if own_apart and g == group_of[a] and a != best:
                        bound = min(bound, np.sqrt(max(np.float64(scores[a]) + slack, 0.0)))
                bound = max(bound, 0.0)
                nearest_other = min(nearest_other, bound)
                group_lower[i, g] = _bound_below(bound)
            lower[i] = _bound_below(nearest_other)
            stamps[i] = now
            if update:
                _add_row(x, row_weight(w, i), best, sums[s], weight_sums[s])
        recomputed[s] = count
        changed[s] = n_changed
