"""Initial centers: greedy k-means++ and random sampling.

Both consume ``random_state`` exactly as scikit-learn does (same calls, same
order), so the same seed draws the same candidates.
"""

import numpy as np

from kmeanskit._algorithms.rows import DenseRows, n_slabs, slab_bounds
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.distinct import indexed_slab_sums
from kmeanskit._engine.seeding import (
    GROUP,
    candidate_potentials_dense,
    candidate_potentials_direct,
    candidate_potentials_from_dots,
    draw_rows,
    draw_rows_indexed,
    greedy_rounds_dense,
    greedy_rounds_direct,
    lower_closest,
    update_closest_direct,
    update_closest_from_dots,
    weighted_slab_sums,
)
from kmeanskit._engine.serial import SERIAL_MAX_VALUES, sized

__all__ = ["greedy_plusplus", "kmeans_plusplus_rows", "random_rows", "scores_directly"]

# Dense rows: distances from BLAS dot products (on chunks of this many rows)
# from this many features on, by direct differences below (which need no
# squared row norms) and on small inputs (``scores_directly``); where the two
# cross and which chunk size wins were measured (benchmarks/README.md).
SEEDING_CHUNK_ROWS = 4096
SEEDING_BLAS_MIN_FEATURES = 4
# Small inputs (below SERIAL_MAX_VALUES values: every round in one kernel call)
# are scored by direct differences up to this many features.
SMALL_DIRECT_MAX_FEATURES = 24
# Direct differences: rows per chunk, about this many bytes of X (stays in L1
# while each group of candidates reads it).
DIRECT_CHUNK_BYTES = 1 << 15
# Largest share of X's memory that seeding's own arrays (``closest``, the
# squared row norms and the kept candidate dots) may take. Dots are kept for as
# many rows as fit; the winner's distances are recomputed from X for the
# others (one more read of those rows, several times slower than reading
# the kept dots).
KEEP_SHARE = 0.2
# Values a row that lowering from kept dots reads: the dot, the squared norm, the distance and the weight.
LOWER_KEPT_VALUES_PER_ROW = 4
# CSR rows: rows per block of the sparse (b, t) products.
SPARSE_BLOCK_ROWS = 1 << 16


def scores_directly(n, d, n_candidates):
    """Whether seeding scores ``n`` dense rows of ``d`` features by direct differences (else by BLAS dots).

    Direct below ``SEEDING_BLAS_MIN_FEATURES`` features, and on small inputs
    (whose rounds run in one kernel call, ``n_candidates >= 2``) up to
    ``SMALL_DIRECT_MAX_FEATURES``: there BLAS's calls per chunk cost more than
    the arithmetic (benchmarks/README.md).
    """
    if d < SEEDING_BLAS_MIN_FEATURES:
        return True
    return _rounds_in_one_call(n, d, n_candidates) and d <= SMALL_DIRECT_MAX_FEATURES


def _rounds_in_one_call(n, d, n_candidates):
    """Whether seeding runs every round after the first center in one kernel call
    (``greedy_rounds_direct`` or ``greedy_rounds_dense``): small inputs, whose rounds
    cost more in Python than in the kernels. Its sum of the slabs' potentials is
    numpy's for two candidates or more."""
    return n * d < SERIAL_MAX_VALUES and n_candidates >= 2


class _DenseScorer:
    """Candidate potentials and updates of ``closest`` (INOUT) over all dense rows.

    Few features: direct float64 differences, nothing kept. More features:
    BLAS dot products; the candidates' dots are kept (t x m, X's dtype) for the
    first m rows that fit in ``KEEP_SHARE`` of X's memory, so that the winner
    lowers ``closest`` there without reading X again. ``update`` returns each
    slab's sum of ``w_i closest_i`` (for :func:`draw_rows`) over ``bounds``.
    """

    def __init__(self, rows, closest, n_candidates, nearest=None):
        self.closest = closest
        # Each row's nearest center, if asked for (the first Lloyd pass's labels).
        self.nearest = np.empty(0, dtype=np.int32) if nearest is None else nearest
        self.n_chosen = 0
        # Mapped rows (prediction-style shift/scale) are materialised once.
        self.X = rows.X if rows.is_view else rows.block(0, rows.n)
        self.w = rows.w
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n))
        self.slab_sums = np.empty(self.bounds.shape[0] - 1)
        # Each round's per-slab potentials (a round scores n_candidates candidates).
        self.out = np.empty((self.bounds.shape[0] - 1, n_candidates))
        self.direct = scores_directly(rows.n, rows.d, n_candidates)
        if _rounds_in_one_call(rows.n, rows.d, n_candidates):
            self.run_rounds = self._run_rounds
        # The kernels for this size, chosen once (the size does not change from round to round).
        # The round-at-a-time ones are built even when the rounds run in one call: a subclass
        # may set ``run_rounds`` to None (tests/algorithms/test_init.py's ``_NoSums``).
        if self.direct:
            self.chunk_rows = max(1, DIRECT_CHUNK_BYTES // (rows.d * rows.dtype.itemsize))
            self._score = sized(candidate_potentials_direct, self.X.size)
            self._lower = sized(update_closest_direct, self.X.size)
            # Candidates transposed, padded to whole groups with zero columns that are scored and ignored.
            self.cand_t = np.zeros((rows.d, -(-n_candidates // GROUP) * GROUP))
            return
        self._score = sized(candidate_potentials_dense, self.X.size)
        self._lower = sized(lower_closest, self.X.size)
        self.cand_t = np.empty((rows.d, n_candidates), dtype=rows.dtype)
        self.x_sq = rows.x_sq
        budget = KEEP_SHARE * rows.X.nbytes - closest.nbytes - self.x_sq.nbytes - self.nearest.nbytes
        n_kept = int(min(rows.n, max(0, budget // (n_candidates * rows.dtype.itemsize))))
        self.kept_dots_t = np.empty((n_candidates, n_kept), dtype=rows.dtype)
        # Lowering from dots kept for every row reads LOWER_KEPT_VALUES_PER_ROW values a row, not
        # the row: sized by those (serially below SERIAL_MAX_VALUES of them, where a parallel region a
        # round spares less than it costs on a busy machine, waiting for a core; the same bits).
        self._lower_kept = (
            sized(lower_closest, LOWER_KEPT_VALUES_PER_ROW * rows.n) if n_kept == rows.n else self._lower
        )

    run_rounds = None  # or a callable: see greedy_plusplus

    def _run_rounds(self, uniforms, potential, centers, indices):
        """Rounds 1 .. k - 1 in one kernel call (``greedy_rounds_direct`` or ``greedy_rounds_dense``)."""
        if self.direct:
            sized(greedy_rounds_direct, self.X.size)(
                self.X, self.w, self.closest, self.nearest, self.bounds, self.slab_sums, uniforms, potential,
                centers, indices,
            )
        else:
            sized(greedy_rounds_dense, self.X.size)(
                self.X, self.x_sq, self.w, self.closest, self.nearest, self.bounds, self.slab_sums,
                SEEDING_CHUNK_ROWS, self.kept_dots_t, uniforms, potential, centers, indices,
            )
        self.n_chosen = centers.shape[0]

    def potentials(self, candidates):
        """Each candidate's potential ((t,) float64) for candidates ((t, d), X's dtype)."""
        out = self.out[:, : candidates.shape[0]]
        if self.direct:
            self.cand_t[:, : candidates.shape[0]] = candidates.T
            self._score(self.X, self.w, self.closest, self.cand_t, self.bounds, self.chunk_rows, out)
            return out.sum(axis=0)
        cand_t = self.cand_t  # a round scores exactly n_candidates candidates
        cand_t[...] = candidates.T
        cand64 = candidates.astype(np.float64)
        # BLAS is on one thread (kmeans_plusplus_rows): the parallel kernel calls it from each of its threads.
        self._score(
            self.X, self.x_sq, self.w, self.closest, cand_t, np.einsum("ij,ij->i", cand64, cand64), self.bounds,
            SEEDING_CHUNK_ROWS, out, self.kept_dots_t[: candidates.shape[0]],
        )
        return out.sum(axis=0)

    def update(self, center, candidate=None):
        """Lower ``closest`` with a new center (``candidate``: its index in the last scoring).

        Returns each slab's sum of ``w_i closest_i`` after the update.
        """
        index = self.n_chosen
        self.n_chosen += 1
        c64 = center.astype(np.float64)
        if self.direct:
            self._lower(self.X, self.w, c64, self.closest, index, self.nearest, self.bounds, self.slab_sums)
            return self.slab_sums
        kept = self.kept_dots_t[0 if candidate is None else candidate]
        lower = self._lower_kept
        if candidate is None:
            kept, lower = kept[:0], self._lower
        lower(
            self.X, self.w, self.x_sq, np.ascontiguousarray(center, dtype=self.X.dtype), float(c64 @ c64),
            kept, self.closest, index, self.nearest, self.bounds, self.slab_sums,
        )
        return self.slab_sums


class _DistinctScorer:
    """The dense scorer run on the distinct rows of data with repeats.

    A distinct row stands for its rows with their total weight, so each
    candidate's potential is scored once per distinct row (china.jpg has
    2.8 times fewer distinct rows than rows). The distances stay per distinct row: the slab sums add
    every row's (the same bits as its own would be) in row order, and the
    draws read them through the row's distinct row, so the draws of
    :func:`draw_rows` are the rows scikit-learn draws. ``closest`` is left
    alone; ``nearest`` is given to every row by :meth:`finish`.
    """

    def __init__(self, rows, closest, n_candidates, distinct, nearest=None):
        self.nearest = nearest
        self.index = distinct.index
        self.w = rows.w
        # Total weight of each distinct row, float64 (counts are exact).
        weights = np.bincount(distinct.index, weights=None if rows.unit_weights else rows.w, minlength=distinct.n)
        self.distinct_closest = np.full(distinct.n, np.inf)
        self.inner = _DenseScorer(
            DenseRows(distinct.X, weights.astype(np.float64)), self.distinct_closest, n_candidates,
            None if nearest is None else np.empty(distinct.n, dtype=np.int32),
        )
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n))
        self.slab_sums = np.empty(self.bounds.shape[0] - 1)

    def potentials(self, candidates):
        return self.inner.potentials(candidates)

    def update(self, center, candidate=None):
        self.inner.update(center, candidate)
        sized(indexed_slab_sums, self.index.shape[0])(
            self.w, self.index, self.distinct_closest, self.bounds, self.slab_sums
        )
        return self.slab_sums

    def draw(self, rand_vals, out):
        """:func:`draw_rows` over every row, the distances read through the distinct rows."""
        draw_rows_indexed(self.w, self.index, self.distinct_closest, self.bounds, self.slab_sums, rand_vals, out)

    def finish(self):
        """Give every row its distinct row's nearest center (when kept)."""
        if self.nearest is not None:
            np.take(self.inner.nearest, self.index, out=self.nearest)


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
            sized(update_closest_from_dots, Xb.nnz)(
                rows.x_sq[start:stop], dots, float(c64 @ c64), self.closest[start:stop]
            )


def _slab_sums(scorer, rows, closest, sums):
    """``(bounds, sums)``: the slabs and their sums of ``w_i closest_i``.

    From the scorer's ``update`` when it returns them (over ``scorer.bounds``),
    else computed here.
    """
    if sums is not None:
        return scorer.bounds, sums
    bounds = slab_bounds(rows.n, n_slabs(rows.n))
    sums = np.empty(bounds.shape[0] - 1)
    sized(weighted_slab_sums, rows.n)(rows.w, closest, bounds, sums)
    return bounds, sums


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
        (INOUT, float64, n) with a chosen center and returns either None or
        each slab's sum of ``w_i closest_i`` in row order over the slabs
        ``scorer.bounds`` (which saves a pass over ``closest``). A scorer with
        a ``draw(rand_vals, out)`` method draws the candidates itself (from
        distances it keeps elsewhere than in ``closest``, with those sums).
        A scorer whose ``run_rounds`` is not None runs every round after the
        first center itself: ``run_rounds(uniforms, potential, centers,
        indices)`` with each round's ``random_state.uniform`` draws
        ((k - 1, n_local_trials)) and the potential after the first center
        writes rows 1 .. k - 1 of ``centers`` and ``indices``.
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
    del w64
    centers[0] = rows.take([first])[0]
    indices[0] = first
    closest = np.full(n, np.inf)
    scorer = make_scorer(rows, closest, n_local_trials)
    bounds, sums = _slab_sums(scorer, rows, closest, scorer.update(centers[0]))
    current_pot = 0.0
    for value in sums:  # in the order draw_rows adds them
        current_pot += float(value)
    run_rounds = getattr(scorer, "run_rounds", None)
    if run_rounds is not None and n_clusters > 1:
        # The draws of every round at once: the numbers of one uniform(size=n_local_trials) a round.
        run_rounds(random_state.uniform(size=(n_clusters - 1, n_local_trials)), current_pot, centers, indices)
        return centers, indices
    candidate_ids = np.empty(n_local_trials, dtype=np.int64)
    draw = getattr(scorer, "draw", None)

    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        # np.searchsorted(np.cumsum(w * closest), rand_vals), clipped to n - 1,
        # without the n-long cumulative sum.
        if draw is None:
            sized(draw_rows, n)(w, closest, bounds, sums, rand_vals, candidate_ids)
        else:
            draw(rand_vals, candidate_ids)
        candidates = rows.take(candidate_ids)
        pots = scorer.potentials(candidates)
        best = int(np.argmin(pots))
        current_pot = float(pots[best])
        centers[c] = candidates[best]
        indices[c] = candidate_ids[best]
        bounds, sums = _slab_sums(scorer, rows, closest, scorer.update(centers[c], best))
    return centers, indices


def kmeans_plusplus_rows(rows, n_clusters, random_state, n_local_trials=None, nearest=None, distinct=None):
    """Greedy k-means++ (Arthur & Vassilvitskii 2007; greedy as in scikit-learn).

    See :func:`greedy_plusplus`; ``closest`` is the squared Euclidean distance.
    ``nearest`` (dense rows only: (n,) int32, OUT) receives each row's nearest
    center by seeding's own distances, counted in seeding's memory budget.
    ``distinct`` (a ``Distinct`` of dense rows that are a view of X, or None):
    score candidates on the distinct rows only; the same draws.
    """
    if rows.sparse:
        return greedy_plusplus(rows, n_clusters, random_state, _CsrScorer, n_local_trials)

    made = []

    def scorer(rows, closest, n_candidates):
        if distinct is not None:
            made.append(_DistinctScorer(rows, closest, n_candidates, distinct, nearest))
            return made[-1]
        return _DenseScorer(rows, closest, n_candidates, nearest)

    # The parallel scoring kernel calls BLAS from each of its threads, and a BLAS
    # call's bits depend on BLAS's thread count: BLAS on one thread for the whole
    # seeding (set once, not once a round).
    with single_threaded_blas():
        result = greedy_plusplus(rows, n_clusters, random_state, scorer, n_local_trials)
    for distinct_scorer in made:
        distinct_scorer.finish()
    return result


def random_rows(rows, n_clusters, random_state):
    """``n_clusters`` distinct rows drawn with probability proportional to weight."""
    w64 = rows.w.astype(np.float64)
    seeds = random_state.choice(rows.n, size=n_clusters, replace=False, p=w64 / w64.sum())
    return rows.take(seeds)
