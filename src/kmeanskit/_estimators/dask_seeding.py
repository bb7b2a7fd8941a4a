"""Initial centers of a Dask fit: k-means|| over the blocks, or greedy k-means++ on a sample.

k-means|| (Bahmani et al. 2012, algorithm 2) draws candidates in a few rounds,
each one pass over the blocks that returns only the rows drawn; the
candidates, weighted by the rows they attract, are then reclustered in memory
with our weighted k-means++ and Lloyd. The per-block work is in
:mod:`kmeanskit._algorithms.dask_blocks`.
"""

import math
import warnings

import dask
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from kmeanskit._algorithms import dask_blocks as blocks
from kmeanskit._algorithms.init import kmeans_plusplus_rows
from kmeanskit._algorithms.rows import DenseRows
from kmeanskit._estimators.dask_data import compute, persist, tree
from kmeanskit._estimators.kmeans import KMeans as _InMemoryKMeans

__all__ = ["parallel_init", "plusplus_on_sample"]

# k-means|| rounds when init_max_iter is None: round(ln psi), at most this.
_MAX_DEFAULT_ROUNDS = 5
# More rounds allowed while fewer than n_clusters candidates were drawn.
_EXTRA_ROUNDS = 20
# init='k-means++' runs on a uniform sample of about this many rows (or 50 per cluster).
_PLUSPLUS_SAMPLE_ROWS = 20_000


def _first_candidate(data, random_state):
    """One row drawn with probability proportional to its weight (mapped, (1, d))."""
    b = data.blocks
    if data.weighted:
        totals = np.asarray(compute(*b.map(blocks.weight_total)), dtype=np.float64)
    else:
        totals = b.sizes.astype(np.float64)
    cumulative = np.cumsum(totals)
    target = random_state.uniform() * cumulative[-1]
    i = int(min(np.searchsorted(cumulative, target, side="right"), len(b) - 1))
    while totals[i] <= 0:
        i -= 1
    local = target - (cumulative[i - 1] if i else 0.0)
    task = dask.delayed(blocks.pick_row, pure=False)(b.x[i], b.w[i], local, *data.mapping)
    return compute(task)[0]

def parallel_init(data, n_clusters, oversampling_factor, init_max_iter, random_state):
    """k-means|| (Bahmani et al. 2012, algorithm 2), then weighted reclustering in memory."""
    b, k = data.blocks, n_clusters
    mapping, n_threads = data.mapping, data.n_threads
    oversampling = float(oversampling_factor) * k
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    candidates = [_first_candidate(data, random_state)]
    n_candidates = 1
    states = persist(*b.map(blocks.parallel_init_start, candidates[0], *mapping, n_threads))
    phi = _phi(states)
    if init_max_iter is not None:
        rounds = init_max_iter
    else:
        rounds = int(min(_MAX_DEFAULT_ROUNDS, max(1, round(math.log(phi)) if phi > 1 else 1)))
    done = 0
    while phi > 0 and (done < rounds or (n_candidates < k and done < rounds + _EXTRA_ROUNDS)):
        sample = dask.delayed(blocks.parallel_init_sample, pure=False)
        draws = [
            sample(state, x, w, phi, oversampling, (seed, done, i), *mapping)
            for i, (state, x, w) in enumerate(zip(states, b.x, b.w, strict=True))
        ]
        new = [part for part in compute(*draws) if part.shape[0]]
        done += 1
        if not new:
            continue
        new = np.concatenate(new)
        update = dask.delayed(blocks.parallel_init_update, pure=False)
        states = persist(*[
            update(state, x, w, new, n_candidates, *mapping, n_threads)
            for state, x, w in zip(states, b.x, b.w, strict=True)
        ])
        candidates.append(new)
        n_candidates += new.shape[0]
        phi = _phi(states)
    candidates = np.concatenate(candidates)
    count = dask.delayed(blocks.parallel_init_counts, pure=False)
    counts = compute(tree(
        [count(state, x, w, n_candidates) for state, x, w in zip(states, b.x, b.w, strict=True)],
        blocks.add_arrays,
    ))[0]
    del states
    return _recluster(candidates, counts, k, random_state)

def _phi(states):
    phi = dask.delayed(blocks.parallel_init_phi, pure=False)
    return float(compute(tree([phi(state) for state in states], blocks.add_arrays))[0])

def _recluster(candidates, counts, k, random_state):
    """``k`` centers from weighted candidates (in-memory weighted KMeans)."""
    positive = counts > 0
    candidates, counts = candidates[positive], counts[positive]
    if candidates.shape[0] <= k:
        # Fewer distinct candidates than clusters (few distinct rows): all of
        # them, then the heaviest again; Lloyd reports the duplicates.
        order = np.argsort(-counts, kind="stable")
        extra = order[np.arange(k - candidates.shape[0]) % max(1, order.size)]
        return np.concatenate([candidates, candidates[extra]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        inner = _InMemoryKMeans(
            k, init="k-means++", n_init=1, random_state=random_state.randint(np.iinfo(np.int32).max),
        ).fit(candidates, sample_weight=counts)
    return inner.cluster_centers_

def plusplus_on_sample(data, n_clusters, random_state):
    """Greedy k-means++ on a uniform sample of the rows (their weights kept)."""
    size = max(_PLUSPLUS_SAMPLE_ROWS, 50 * n_clusters)
    probability = min(1.0, size / data.n_samples)
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    b = data.blocks
    parts = b.map(blocks.bernoulli_sample, probability, extra=[((seed, i), *data.mapping) for i in range(len(b))])
    parts = compute(*parts)
    sample = np.concatenate([p[0] for p in parts])
    weights = np.concatenate([p[1] for p in parts])
    if np.count_nonzero(weights) < n_clusters:
        raise ValueError(
            f"init='k-means++' drew a sample with {np.count_nonzero(weights)} rows of positive "
            f"weight, fewer than n_clusters={n_clusters}; use init='k-means||'."
        )
    rows = DenseRows(np.ascontiguousarray(sample), np.ascontiguousarray(weights, dtype=sample.dtype))
    return kmeans_plusplus_rows(rows, n_clusters, random_state)[0]
