"""k-means|| seeding (Bahmani et al., "Scalable K-Means++", VLDB 2012).

Greedy k-means++ needs ``k - 1`` sequential passes over the rows, each scoring
``2 + ln k`` candidates: a skinny product BLAS runs at a fraction of its speed
(see benchmarks/README.md). k-means|| instead
draws about ``l = OVERSAMPLING * k`` candidates per round, each row
independently with probability ``min(1, l w d^2 / phi)``, for a few rounds:

1. one row drawn by weight; every row's squared distance to it;
2. each round: draw, then lower every row's distance to its nearest candidate
   (first round: one product with all its candidates, BLAS per chunk of rows;
   later rounds: :func:`lower_closest_pruned`, which skips the pairs the
   triangle inequality rules out);
3. weight each candidate by the rows nearest to it, and cluster the weighted
   candidates in memory: ``N_LOCAL_INIT`` runs of greedy k-means++ and exact
   Lloyd iterations, keeping the lowest weighted inertia.

The result is ``k`` centers and each row's nearest candidate mapped to the
center its candidate went to: a guess of the first labels that the bounded
step checks (``BoundedStep.start_from``).

Rounds and oversampling are Spark MLlib's defaults (2 rounds, ``l = 2k``).
Whole fits against greedy k-means++ are in ``python -m benchmarks seeding``
(the table is in benchmarks/README.md). The local restarts matter:
with 3 instead of 10, the final inertia on the 200k x 32 blobs (k=100, seeds
0-4) was 0.88-1.01 of greedy k-means++'s; with 10, 0.88-0.94, every seed at
the lowest inertia seen, in 2 iterations.

Seeding time, 200k x 32 float64, k=100 (ms, one run): first distances 6,
first round 165, second round (pruned) 65, local clustering 30 (about 200
with ``kmeans_plusplus_rows``, whose rounds are Python calls: hence
``greedy_plusplus_small``, all runs in one kernel).
"""

import numpy as np
from scipy.spatial.distance import cdist

from kmeanskit._algorithms.lloyd import CHUNK_ROWS, CHUNKED_MIN_FEATURES, SHIFTED_BLOCK_ROWS, LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.rows import DenseRows, n_slabs, slab_bounds
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.assign import assign_accumulate_chunked_gemm, assign_accumulate_csr, assign_accumulate_direct
from kmeanskit._engine.oversampling import greedy_plusplus_small, lower_closest_pruned
from kmeanskit._engine.seeding import GROUP
from kmeanskit._engine.serial import sized

__all__ = ["kmeans_parallel_rows"]

OVERSAMPLING = 2.0  # l / k: expected candidates per round
N_ROUNDS = 2
# Rounds allowed beyond N_ROUNDS while fewer than k candidates have weight
# (rows concentrated on a few points draw few candidates per round).
EXTRA_ROUNDS = 8
N_LOCAL_INIT = 10
# The weighted clustering of the candidates: scikit-learn's defaults.
LOCAL_MAX_ITER = 300
LOCAL_TOL = 1e-4
# Rows whose uniform draws are made at once (a fixed-size buffer).
DRAW_ROWS = 1 << 16


def _blocks(rows):
    return rows.blocks(rows.n if rows.is_view else SHIFTED_BLOCK_ROWS)


def _assign(rows, candidates, nearest, closest):
    """Every row's nearest candidate and exact squared distance (OUT: nearest, closest)."""
    candidates = np.ascontiguousarray(candidates, dtype=rows.dtype)
    candidates_t = np.ascontiguousarray(candidates.T)
    cand_sq = np.einsum("ij,ij->i", candidates, candidates)
    no_sums = np.zeros((1, 1, 1)), np.zeros((1, 1))
    if rows.sparse:
        bounds = slab_bounds(rows.n, n_slabs(rows.n))
        X = rows.X
        sized(assign_accumulate_csr, X.nnz)(
            X.data, X.indices, X.indptr, rows.x_sq, rows.kernel_w(), candidates_t, cand_sq,
            nearest, closest, *no_sums, bounds, False,
        )
        return
    for start, stop, Xb in _blocks(rows):
        bounds = slab_bounds(stop - start, n_slabs(stop - start))
        args = (
            Xb, rows.kernel_w(start, stop), candidates, candidates_t, cand_sq,
            nearest[start:stop], closest[start:stop], *no_sums, bounds,
        )
        size = (stop - start) * rows.d
        if rows.d < CHUNKED_MIN_FEATURES:
            sized(assign_accumulate_direct, size)(*args, False)
        else:
            # BLAS on one thread per chunk. Large blocks on both threads ran the
            # product faster but left BLAS's threads spinning into the next
            # kernel: the whole seeding was slower (benchmarks/README.md).
            with single_threaded_blas():
                sized(assign_accumulate_chunked_gemm, size)(*args, CHUNK_ROWS, False)


def _lower(rows, earlier, new, first_number, nearest, closest):
    """Lower ``closest``/``nearest`` with candidates ``new``, numbered from
    ``first_number``, against the ``earlier`` ones (numbered from 0)."""
    if rows.sparse:
        # No pruned kernel for CSR rows: every distance, by the GEMM identity.
        labels, sq_dist = np.empty(rows.n, dtype=np.int32), np.empty(rows.n)
        _assign(rows, new, labels, sq_dist)
        closer = sq_dist < closest
        closest[closer] = sq_dist[closer]
        nearest[closer] = labels[closer] + first_number
        return
    gap = cdist(earlier.astype(np.float64), new.astype(np.float64), "sqeuclidean")
    # Candidates near the same earlier one go in the same group: a row then
    # measures few groups (see lower_closest_pruned).
    order = np.argsort(np.argmin(gap, axis=0), kind="stable")
    m = new.shape[0]
    slots = -(-m // GROUP) * GROUP
    new_t = np.full((slots, rows.d), np.inf)
    new_t[:m] = new[order]
    new_t = np.ascontiguousarray(new_t.reshape(slots // GROUP, GROUP, rows.d).transpose(0, 2, 1))
    gap_slots = np.full((earlier.shape[0], slots), np.inf)
    gap_slots[:, :m] = gap[:, order]
    index_of = np.zeros(slots, dtype=np.int32)
    index_of[:m] = first_number + order
    for start, stop, Xb in _blocks(rows):
        bounds = slab_bounds(stop - start, n_slabs(stop - start))
        sized(lower_closest_pruned, (stop - start) * m)(
            Xb, new_t, gap_slots, index_of, closest[start:stop], nearest[start:stop], bounds,
        )


def _cost(rows, closest):
    """``phi = sum_i w_i closest_i`` (a fixed summation order)."""
    return float(closest.sum()) if rows.unit_weights else rows.weighted_sum(closest)


def _draw(rows, closest, phi, oversampling, random_state):
    """Rows drawn independently with probability ``min(1, l w_i closest_i / phi)``."""
    picked = []
    for start in range(0, rows.n, DRAW_ROWS):
        stop = min(start + DRAW_ROWS, rows.n)
        u = random_state.random_sample(stop - start)
        mass = closest[start:stop] if rows.unit_weights else closest[start:stop] * rows.w[start:stop]
        # u < l m / phi, written without the division (u < 1 always passes when l m >= phi).
        picked.append(start + np.flatnonzero(u * phi < oversampling * mass))
    return np.concatenate(picked)


def _first_row(rows, random_state):
    if rows.unit_weights:
        return int(random_state.randint(rows.n))
    w64 = np.asarray(rows.w, dtype=np.float64)
    return int(random_state.choice(rows.n, p=w64 / w64.sum()))


def _local_clustering(candidates, weights, n_clusters, random_state, n_local_init):
    """Best of ``n_local_init`` greedy k-means++ + Lloyd runs on the weighted candidates.

    The seedings run in one kernel (one per thread); each consumes
    ``random_state`` as :func:`greedy_plusplus` does, in run order.
    """
    m = candidates.shape[0]
    n_trials = 2 + int(np.log(n_clusters))
    p = weights / weights.sum()
    firsts = np.empty(n_local_init, dtype=np.int64)
    uniforms = np.empty((n_local_init, n_clusters - 1, n_trials))
    for r in range(n_local_init):
        firsts[r] = random_state.choice(m, p=p)
        uniforms[r] = random_state.uniform(size=(n_clusters - 1, n_trials))
    seeds = np.empty((n_local_init, n_clusters), dtype=np.int64)
    greedy_plusplus_small(candidates, weights, firsts, uniforms, seeds)

    local = DenseRows(candidates, weights.astype(candidates.dtype))
    step = LloydStep(local, n_clusters)
    mean = np.average(candidates, axis=0, weights=weights)
    variance = np.average((candidates - mean) ** 2, axis=0, weights=weights)
    tol = float(np.mean(variance)) * LOCAL_TOL
    best = None
    for r in range(n_local_init):
        run = run_kmeans(step, candidates[seeds[r]], max_iter=LOCAL_MAX_ITER, tol=tol)
        if best is None or run.inertia < best.inertia:
            best = run
    return best


def kmeans_parallel_rows(rows, n_clusters, random_state, nearest, n_local_init=N_LOCAL_INIT):
    """k-means|| seeding (see the module docstring).

    Parameters
    ----------
    rows : DenseRows or CsrRows
    n_clusters : int
    random_state : numpy.random.RandomState
        Consumed in a fixed order: the result does not depend on the thread count.
    nearest : ndarray of shape (n_samples,), int32, OUT
        Each row's nearest candidate's center: a guess of the first labels.
    n_local_init : int
        Restarts of the weighted clustering of the candidates.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), rows' dtype, or None
        None when fewer than ``n_clusters`` distinct candidates were found (few
        distinct rows): the caller seeds otherwise.
    """
    first = _first_row(rows, random_state)
    candidates = [rows.take([first])]
    closest = np.empty(rows.n)
    _assign(rows, candidates[0], nearest, closest)
    oversampling = OVERSAMPLING * n_clusters
    n_candidates, done = 1, 0
    while done < N_ROUNDS or (n_candidates <= n_clusters and done < N_ROUNDS + EXTRA_ROUNDS):
        phi = _cost(rows, closest)
        if not phi > 0.0:  # every row sits on a candidate
            break
        done += 1
        picked = _draw(rows, closest, phi, oversampling, random_state)
        if picked.size == 0:
            continue
        new = rows.take(picked)
        if n_candidates == 1:
            # Every row is far from the one candidate, nothing to prune: one
            # product with all candidates (BLAS does more pairs a second than pruning).
            candidates.append(new)
            _assign(rows, np.concatenate(candidates), nearest, closest)
        else:
            _lower(rows, np.concatenate(candidates), new, n_candidates, nearest, closest)
            candidates.append(new)
        n_candidates += new.shape[0]
    del closest
    candidates = np.concatenate(candidates)
    weights = np.bincount(nearest, weights=None if rows.unit_weights else rows.w, minlength=n_candidates)
    kept = np.flatnonzero(weights > 0)
    if kept.size < n_clusters or np.unique(candidates[kept], axis=0).shape[0] < n_clusters:
        return None
    best = _local_clustering(candidates[kept], weights[kept], n_clusters, random_state, n_local_init)
    center_of = np.zeros(n_candidates, dtype=np.int32)
    center_of[kept] = best.labels
    for start in range(0, rows.n, DRAW_ROWS):
        nearest[start:start + DRAW_ROWS] = center_of[nearest[start:start + DRAW_ROWS]]
    return best.centers
