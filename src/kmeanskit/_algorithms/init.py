"""Initial centers: greedy k-means++ and random sampling.

Both consume ``random_state`` exactly as scikit-learn does (same calls, same
order), so the same seed draws the same candidates.
"""

import numpy as np

from .._engine.seeding import candidate_potentials_from_dots, update_closest_from_dots
from .rows import n_slabs, slab_bounds

__all__ = ["kmeans_plusplus_rows", "random_rows"]

# Rows per block for the thin (b, t) candidate products.
SEEDING_BLOCK_ROWS = 1 << 16


def _update_closest(rows, center, closest):
    c_sq = float(np.dot(center.astype(np.float64), center.astype(np.float64)))
    x_sq = rows.x_sq
    for start, stop, Xb in rows.blocks(SEEDING_BLOCK_ROWS):
        dots = np.asarray(Xb @ center).ravel()
        update_closest_from_dots(x_sq[start:stop], dots, c_sq, closest[start:stop])


def _candidate_potentials(rows, candidates, closest):
    cand64 = candidates.astype(np.float64)
    cand_sq = np.einsum("ij,ij->i", cand64, cand64)
    cand_t = np.ascontiguousarray(candidates.T)
    x_sq = rows.x_sq
    total = np.zeros(candidates.shape[0])
    for start, stop, Xb in rows.blocks(SEEDING_BLOCK_ROWS):
        bounds = slab_bounds(stop - start, n_slabs(stop - start))
        out = np.empty((bounds.shape[0] - 1, candidates.shape[0]))
        dots = np.ascontiguousarray(Xb @ cand_t)
        candidate_potentials_from_dots(
            x_sq[start:stop], rows.w[start:stop], closest[start:stop], dots, cand_sq, bounds, out
        )
        total += out.sum(axis=0)
    return total


def kmeans_plusplus_rows(rows, n_clusters, random_state, n_local_trials=None):
    """Greedy k-means++ (Arthur & Vassilvitskii 2007; greedy as in scikit-learn).

    Each round samples ``n_local_trials`` candidates with probability
    proportional to ``w_i * D(x_i)^2`` and keeps the one that lowers the
    potential most.

    Parameters
    ----------
    rows : DenseRows or CsrRows
    n_clusters : int
    random_state : numpy.random.RandomState
    n_local_trials : int or None, default ``2 + int(ln k)``

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), rows' dtype
    indices : ndarray of shape (n_clusters,), int64 row index of each center
    """
    n, w = rows.n, rows.w
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, rows.d), dtype=rows.dtype)
    indices = np.full(n_clusters, -1, dtype=np.int64)

    w64 = w.astype(np.float64)
    first = random_state.choice(n, p=w64 / w64.sum())
    centers[0] = rows.take([first])[0]
    indices[0] = first
    closest = np.full(n, np.inf)
    _update_closest(rows, centers[0], closest)
    current_pot = float(np.sum(closest * w64))
    cumulative = np.empty(n)

    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        np.multiply(w64, closest, out=cumulative)
        np.cumsum(cumulative, out=cumulative)
        candidate_ids = np.searchsorted(cumulative, rand_vals)
        # Rounding can put a draw past the last cumulative value.
        np.clip(candidate_ids, None, n - 1, out=candidate_ids)
        candidates = rows.take(candidate_ids)
        pots = _candidate_potentials(rows, candidates, closest)
        best = int(np.argmin(pots))
        current_pot = float(pots[best])
        centers[c] = candidates[best]
        indices[c] = candidate_ids[best]
        _update_closest(rows, centers[c], closest)
    return centers, indices


def random_rows(rows, n_clusters, random_state):
    """``n_clusters`` distinct rows drawn with probability proportional to weight."""
    w64 = rows.w.astype(np.float64)
    seeds = random_state.choice(rows.n, size=n_clusters, replace=False, p=w64 / w64.sum())
    return rows.take(seeds)
