"""Initial centers: greedy k-means++ and random sampling.

Both consume ``random_state`` exactly as scikit-learn does (same calls, same
order), so the same seed draws the same candidates.
"""

import numpy as np

from .._engine.seeding import (
    candidate_potentials_dense,
    candidate_potentials_from_dots,
    lower_closest,
    update_closest_dense,
    update_closest_from_dots,
)
from .._engine.serial import sized
from .rows import n_slabs, slab_bounds
from .threads import single_threaded_blas

__all__ = ["greedy_plusplus", "kmeans_plusplus_rows", "random_rows"]

# Dense rows: dots by BLAS on chunks of this many rows from this many features
# on, by hand below. Measured (k-means++ seconds, BLAS vs by hand): 200k x 32,
# k=100: 1.6 vs 2.2; 300k x 64, k=128: 3.1 vs 7.6; china.jpg pixels (d=3):
# by hand, where a BLAS call costs more than the 21 multiply-adds it replaces.
SEEDING_CHUNK_ROWS = 256
SEEDING_BLAS_MIN_FEATURES = 16
# Largest share of X's memory the kept candidate dots (t values per row, X's
# dtype) may take. Recomputing the winner's distances instead reads X once
# more per center: k-means++ took 1.05 -> 1.40 s on 200k x 32 float64, k=100,
# and 1.79 -> 2.94 s on 300k x 64 float32, k=128.
KEEP_SHARE = 0.25
# CSR rows: rows per block of the sparse (b, t) products.
SPARSE_BLOCK_ROWS = 1 << 16


class _DenseScorer:
    """Candidate potentials and updates of ``closest`` (INOUT) over all dense rows.

    With BLAS dots (larger d), the candidates' dot products are kept (n x t,
    X's dtype) so that the winner updates ``closest`` without reading X again,
    as long as they take at most ``KEEP_SHARE`` of X's memory; otherwise, and
    with few features, the winner's distances are recomputed (one more pass
    over X per center).
    """

    def __init__(self, rows, closest, n_candidates):
        self.closest = closest
        # Mapped rows (prediction-style shift/scale) are materialised once.
        self.X = rows.X if rows.is_view else rows.block(0, rows.n)
        self.x_sq, self.w = rows.x_sq, rows.w
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n))
        self.use_blas = rows.d >= SEEDING_BLAS_MIN_FEATURES
        keep = self.use_blas and n_candidates <= KEEP_SHARE * rows.d
        self.kept_dots = np.empty((rows.n if keep else 0, n_candidates), dtype=rows.dtype)

    def potentials(self, candidates):
        cand64 = candidates.astype(np.float64)
        out = np.empty((self.bounds.shape[0] - 1, candidates.shape[0]))
        with single_threaded_blas():
            sized(candidate_potentials_dense, self.X.size)(
                self.X, self.x_sq, self.w, self.closest, np.ascontiguousarray(candidates.T),
                np.einsum("ij,ij->i", cand64, cand64), self.bounds, SEEDING_CHUNK_ROWS,
                self.use_blas, out, self.kept_dots[:, : candidates.shape[0]],
            )
        return out.sum(axis=0)

    def update(self, center, candidate=None):
        """Lower ``closest`` with a new center (``candidate``: its index in the last scoring)."""
        c64 = center.astype(np.float64)
        if candidate is not None and self.kept_dots.shape[0]:
            sized(lower_closest, self.X.size)(self.kept_dots, candidate, self.x_sq, float(c64 @ c64), self.closest,
                                              self.bounds)
            return
        sized(update_closest_dense, self.X.size)(self.X, self.x_sq, center, float(c64 @ c64), self.closest, self.bounds)


class _CsrScorer:
    """The same for CSR rows, from sparse-dense products per block."""

    def __init__(self, rows, closest, n_candidates):
        self.rows = rows
        self.closest = closest

    def potentials(self, candidates):
        rows = self.rows
        cand64 = candidates.astype(np.float64)
        cand_sq = np.einsum("ij,ij->i", cand64, cand64)
        cand_t = np.ascontiguousarray(candidates.T)
        total = np.zeros(candidates.shape[0])
        for start, stop, Xb in rows.blocks(SPARSE_BLOCK_ROWS):
            bounds = slab_bounds(stop - start, n_slabs(stop - start))
            out = np.empty((bounds.shape[0] - 1, candidates.shape[0]))
            dots = np.ascontiguousarray(Xb @ cand_t)
            sized(candidate_potentials_from_dots, Xb.nnz)(
                rows.x_sq[start:stop], rows.w[start:stop], self.closest[start:stop], dots,
                cand_sq, bounds, out,
            )
            total += out.sum(axis=0)
        return total

    def update(self, center, candidate=None):
        rows = self.rows
        c64 = center.astype(np.float64)
        for start, stop, Xb in rows.blocks(SPARSE_BLOCK_ROWS):
            dots = np.asarray(Xb @ center).ravel()
            update_closest_from_dots(rows.x_sq[start:stop], dots, float(c64 @ c64), self.closest[start:stop])


def greedy_plusplus(rows, n_clusters, random_state, make_scorer, n_local_trials=None):
    """Greedy ++ seeding, whatever the distance: the round loop, written once.

    Each round samples ``n_local_trials`` candidates with probability
    proportional to ``w_i * closest_i`` (``closest``: the scorer's distance to
    the nearest chosen center, squared Euclidean for k-means++, L1 for
    K-Medians) and keeps the one that lowers the potential ``sum_i w_i
    closest_i`` most. ``random_state`` is consumed as scikit-learn does.

    Parameters
    ----------
    rows : DenseRows or CsrRows
    n_clusters : int
    random_state : numpy.random.RandomState
    make_scorer : callable ``(rows, closest, n_candidates) -> scorer``
        The scorer's ``potentials(candidates)`` returns each candidate's
        potential; ``update(center, candidate=None)`` lowers ``closest``
        (INOUT, float64, n) with a chosen center.
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

    w64 = np.asarray(w, dtype=np.float64)  # no copy for float64 weights
    first = random_state.choice(n, p=w64 / w64.sum())
    centers[0] = rows.take([first])[0]
    indices[0] = first
    closest = np.full(n, np.inf)
    scorer = make_scorer(rows, closest, n_local_trials)
    scorer.update(centers[0])
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
        pots = scorer.potentials(candidates)
        best = int(np.argmin(pots))
        current_pot = float(pots[best])
        centers[c] = candidates[best]
        indices[c] = candidate_ids[best]
        scorer.update(centers[c], best)
    return centers, indices


def kmeans_plusplus_rows(rows, n_clusters, random_state, n_local_trials=None):
    """Greedy k-means++ (Arthur & Vassilvitskii 2007; greedy as in scikit-learn).

    See :func:`greedy_plusplus`; ``closest`` is the squared Euclidean distance.
    """
    scorer = _CsrScorer if rows.sparse else _DenseScorer
    return greedy_plusplus(rows, n_clusters, random_state, scorer, n_local_trials)


def random_rows(rows, n_clusters, random_state):
    """``n_clusters`` distinct rows drawn with probability proportional to weight."""
    w64 = rows.w.astype(np.float64)
    seeds = random_state.choice(rows.n, size=n_clusters, replace=False, p=w64 / w64.sum())
    return rows.take(seeds)
