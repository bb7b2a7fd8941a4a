"""K-Prototypes and K-Modes pieces for the one convergence loop: mixed rows, the
mixed step and its seeders.

The cost of a row to a center is Huang's (1997, 1998): the squared Euclidean
distance over the numeric columns plus ``gamma`` times the number of
categorical columns whose code differs from the center's mode (see
:mod:`kmeanskit._engine.mixed`). K-Modes is the case without numeric columns
and ``gamma = 1`` (the Hamming distance).

Centers travel through the loop as one float64 array of shape ``(k, p + q)``:
the ``p`` numeric coordinates, then the ``q`` modes as float codes (exact: codes
are small integers). Seeders return that layout too; rows' :meth:`MixedRows.take`
gives rows in it.

Rows may have gaps (``KPrototypes(missing="ignore")``): a numeric NaN or a
categorical ``MISSING_CODE`` contributes nothing to the cost (the objective
over the observed entries, as k-POD's for K-Means); a center's numeric
coordinate is the weighted mean of its rows' observed values and its mode the
level of largest weighted count over its rows' observed categories; a
coordinate or mode without any observed entry in its cluster keeps its
previous value. Where a row is drawn as a center, its gaps take the column's
weighted mean or mode over the observed entries (:attr:`MixedRows.fill`).
"""

import numpy as np

from kmeanskit._algorithms.init import greedy_plusplus
from kmeanskit._algorithms.lloyd import Assignment
from kmeanskit._algorithms.relocation import mean_centers, movable_distances, relocate
from kmeanskit._algorithms.rows import n_slabs, slab_bounds, sum_in_order
from kmeanskit._algorithms.step import Step
from kmeanskit._engine.mixed import (
    MISSING_CODE,
    assign_mixed,
    candidate_potentials_mixed,
    mixed_costs,
    update_closest_mixed,
    weighted_mixed_costs,
)
from kmeanskit._engine.serial import sized

__all__ = ["MISSING_CODE", "MixedRows", "MixedStep", "cao_centers", "costs", "huang_centers", "mixed_plusplus_rows", "weighted_mean_std"]


class MixedRows:
    """Encoded mixed rows: numeric values, categorical codes and weights.

    Parameters
    ----------
    num : ndarray of shape (n, p), float64, C-ordered
        NaN where a value is missing (rows with gaps).
    cat : ndarray of shape (n, q), int32, C-ordered
        Codes; at fit every code of column ``j`` is in ``[0, n_levels[j])``
        or ``MISSING_CODE`` (a missing category).
    sample_weight : ndarray of shape (n,), float64, or None
        None: every weight is 1 (not stored per row; :attr:`w` materialises
        the ones for seeding, until :meth:`forget_w`).
    n_levels : ndarray of shape (q,), int64
        The number of levels of each categorical column.
    gamma : float
        Weight of one mismatched category.
    """

    sparse = False
    dtype = np.dtype(np.float64)

    def __init__(self, num, cat, sample_weight, n_levels, gamma):
        self.num, self.cat = num, cat
        self.sample_weight, self._ones = sample_weight, None
        self.n_levels = np.asarray(n_levels, dtype=np.int64)
        self.level_offsets = np.zeros(self.n_levels.size + 1, dtype=np.int64)
        np.cumsum(self.n_levels, out=self.level_offsets[1:])
        self.gamma = float(gamma)
        self.n, self.p = num.shape
        self.q = cat.shape[1]
        self.d = self.p + self.q
        self.gaps = bool(np.isnan(num).any() or (cat == MISSING_CODE).any())
        self._fill = None

    @property
    def fill(self):
        """(p + q,) float64: each column's weighted mean (numeric) or mode (smallest code on ties)
        over its observed entries, the values a row's gaps take where it is drawn as a center."""
        if self._fill is None:
            fill = np.empty(self.d)
            fill[: self.p] = weighted_mean_std(self.num, self.w)[0]
            for j in range(self.q):
                observed = self.cat[:, j] != MISSING_CODE
                counts = np.bincount(self.cat[observed, j], weights=self.w[observed], minlength=self.n_levels[j])
                fill[self.p + j] = np.argmax(counts)
            self._fill = fill
        return self._fill

    def filled_cat(self):
        """The codes with each missing category replaced by its column's mode (:attr:`fill`)."""
        if not self.gaps:
            return self.cat
        return np.where(self.cat == MISSING_CODE, self.fill[self.p :].astype(np.int32), self.cat)
    @property
    def w(self):
        """(n,) float64 sample weights (unit weights materialised on first access)."""
        if self.sample_weight is not None:
            return self.sample_weight
        if self._ones is None:
            self._ones = np.ones(self.n)
        return self._ones

    def forget_w(self):
        """Free materialised unit weights."""
        self._ones = None

    @property
    def kernel_w(self):
        """The weights as the kernels take them: (n,), or (1,) one 1 for every row."""
        return np.ones(1) if self.sample_weight is None else self.sample_weight

    def take(self, indices):
        """Rows ``indices`` in the centers' layout: (m, p + q) float64, gaps filled with :attr:`fill`."""
        indices = np.asarray(indices, dtype=np.int64)
        taken = np.hstack([self.num[indices], self.cat[indices].astype(np.float64)])
        if self.gaps:
            missing = np.isnan(taken)
            missing[:, self.p :] = self.cat[indices] == MISSING_CODE
            taken = np.where(missing, self.fill, taken)
        return taken

    def split(self, centers):
        """``(numeric (k, p) float64, modes (k, q) int32)``, both C-ordered, of centers in the loop's layout."""
        centers = np.asarray(centers, dtype=np.float64)
        return (
            np.ascontiguousarray(centers[:, : self.p]),
            np.ascontiguousarray(centers[:, self.p :]).astype(np.int32),
        )

    def kernel(self, kernel):
        """``kernel``, or its serial twin for a small input."""
        return sized(kernel, self.n * max(self.d, 1))


def costs(rows, centers):
    """The mixed cost of every row to every center: (n, k) float64."""
    centers_num, modes = rows.split(centers)
    out = np.empty((rows.n, centers_num.shape[0]))
    bounds = slab_bounds(rows.n, n_slabs(rows.n))
    rows.kernel(mixed_costs)(rows.num, rows.cat, centers_num, modes, rows.gamma, bounds, out)
    return out


class MixedStep(Step):
    """Assignment by the mixed cost; means for the numeric part, modes for the categorical part.

    Each pass accumulates, per slab, every cluster's weighted numeric sums and
    weighted level counts; the slabs are merged in order. A mode is the level
    of largest weighted count, the smallest code on ties. Empty clusters are
    relocated by :mod:`~kmeanskit._algorithms.relocation` with the mixed cost:
    the row farthest from its center moves, its values and levels with it;
    a cluster still without weight keeps its center.

    Parameters
    ----------
    rows : MixedRows
    n_clusters : int
    """

    counts_label_changes = True  # each call counts the labels it changed

    def __init__(self, rows, n_clusters):
        self.rows = rows
        self.n_clusters = n_clusters
        # Rows with gaps also count the observed weight of each numeric feature.
        width = rows.p + int(rows.level_offsets[-1]) + (rows.p if rows.gaps else 0)
        # Per-slab accumulators cost S * k * (p + L) float64: fewer slabs when wide.
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n, 8 * n_clusters * (width + 1)))
        n_s = self.bounds.shape[0] - 1
        self.cost = np.empty(rows.n)
        self.slab_cost = np.empty(n_s)
        self.slab_changed = np.empty(n_s, dtype=np.int64)
        self.width = width
        # Allocated by the first pass that accumulates (prediction never does).
        self.slab_acc = np.empty((0, n_clusters, width))
        self.slab_weights = np.empty((0, n_clusters))

    @property
    def sq_dist(self):
        # The loop's generic code names the per-row distance ``sq_dist``.
        return self.cost

    def __call__(self, centers, labels, update=True):
        """Assign rows (writes ``labels`` and each row's cost); with ``update``, accumulate.

        Returns an :class:`Assignment` whose ``sums`` is (k, p + L): the numeric
        sums then the level counts of each cluster.
        """
        rows = self.rows
        centers_num, modes = rows.split(centers)
        if update and self.slab_acc.shape[0] == 0:
            n_s = self.slab_cost.shape[0]
            self.slab_acc = np.empty((n_s, self.n_clusters, self.width))
            self.slab_weights = np.empty((n_s, self.n_clusters))
        rows.kernel(assign_mixed)(
            rows.num, rows.cat, rows.kernel_w, centers_num, modes, rows.gamma, rows.level_offsets, self.bounds,
            update, labels, self.cost, self.slab_cost, self.slab_changed, self.slab_acc, self.slab_weights,
        )
        self.n_changed = int(self.slab_changed.sum())
        inertia = sum_in_order(self.slab_cost)
        if not update:
            return Assignment(inertia, None, None)
        # Merged slab by slab, in order (numpy's reduction over the first axis).
        return Assignment(inertia, self.slab_acc.sum(axis=0), self.slab_weights.sum(axis=0))

    def inertia(self, centers, labels):
        """The mixed cost of a given labelling, without reassigning."""
        rows = self.rows
        centers_num, modes = rows.split(centers)
        out = np.empty(self.bounds.shape[0] - 1)
        rows.kernel(weighted_mixed_costs)(
            rows.num, rows.cat, rows.kernel_w, centers_num, modes, rows.gamma, labels, self.bounds, out
        )
        return sum_in_order(out)

    def _row_vector(self, i):
        """Row ``i`` in the space of the accumulators: numeric values, then one-hot levels."""
        rows = self.rows
        x = np.zeros(self.width)
        observed = rows.cat[i] != MISSING_CODE
        x[rows.p + rows.level_offsets[:-1][observed] + rows.cat[i][observed]] = 1.0
        if rows.gaps:
            numeric = ~np.isnan(rows.num[i])
            x[: rows.p][numeric] = rows.num[i][numeric]
            x[self.width - rows.p :] = numeric
        else:
            x[: rows.p] = rows.num[i]
        return x, float(rows.kernel_w[i if rows.kernel_w.shape[0] > 1 else 0])

    def update_centers(self, centers, labels, assignment):
        """Weighted means and modes of the clusters, empty clusters relocated.

        Returns
        -------
        new_centers : ndarray of shape (n_clusters, p + q), float64
        n_relocated : int
        """
        rows = self.rows
        sums, weights = assignment.sums, assignment.weights
        empty = np.flatnonzero(weights == 0)
        n_relocated = 0
        if empty.size:
            moves = relocate(
                empty, movable_distances(self.cost, 0.0, rows.sample_weight), labels, take=self._row_vector,
                sums=sums, weights=weights,
            )
            n_relocated = len(moves)
        new_centers = np.array(centers, dtype=np.float64, copy=True)
        # With gaps, each numeric coordinate's weight is that of its cluster's observed entries.
        numeric_weights = sums[:, self.width - rows.p :] if rows.gaps else weights
        new_centers[:, : rows.p] = mean_centers(centers[:, : rows.p], sums[:, : rows.p], numeric_weights, np.float64)
        filled = weights > 0
        for j in range(rows.q):
            lo, hi = rows.p + rows.level_offsets[j], rows.p + rows.level_offsets[j + 1]
            # argmax: the first largest count, i.e. the smallest code on ties.
            modes = np.argmax(sums[:, lo:hi], axis=1)
            observed = (sums[:, lo:hi] > 0).any(axis=1) if rows.gaps else filled
            new_centers[observed, rows.p + j] = modes[observed]
        return new_centers, n_relocated

    def center_shift(self, old, new):
        """Squared shift of the numeric centers; infinite when a mode changed
        (a run stops on ``tol`` only once every mode is settled)."""
        p = self.rows.p
        if not np.array_equal(old[:, p:], new[:, p:]):
            return float("inf")
        diff = new[:, :p] - old[:, :p]
        return float(np.einsum("ij,ij->", diff, diff))


class _MixedScorer:
    """Candidate potentials and updates of ``closest`` (INOUT) in the mixed cost."""

    def __init__(self, rows, closest, n_candidates):
        self.rows, self.closest = rows, closest
        self.bounds = slab_bounds(rows.n, n_slabs(rows.n))
        self.out = np.empty((self.bounds.shape[0] - 1, n_candidates))
        self.slab_sums = np.empty(self.bounds.shape[0] - 1)

    def potentials(self, candidates):
        rows = self.rows
        cand_num, cand_cat = rows.split(candidates)
        out = self.out[:, : candidates.shape[0]]
        rows.kernel(candidate_potentials_mixed)(
            rows.num, rows.cat, rows.w, self.closest, cand_num, cand_cat, rows.gamma, self.bounds, out
        )
        return out.sum(axis=0)

    def update(self, center, candidate=None):
        """Lower ``closest`` with a new center; each slab's sum of ``w_i closest_i``."""
        rows = self.rows
        center_num, center_cat = rows.split(center[None, :])
        rows.kernel(update_closest_mixed)(
            rows.num, rows.cat, rows.w, center_num[0], center_cat[0], rows.gamma, self.closest, self.bounds,
            self.slab_sums,
        )
        return self.slab_sums


def mixed_plusplus_rows(rows, n_clusters, random_state, n_local_trials=None):
    """Greedy k-means++ in the mixed cost (D^2 sampling with Huang's cost), see :func:`greedy_plusplus`.

    Returns
    -------
    centers : ndarray of shape (n_clusters, p + q), float64
    indices : ndarray of shape (n_clusters,), int64 row index of each center
    """
    return greedy_plusplus(rows, n_clusters, random_state, _MixedScorer, n_local_trials)


def _mismatches(cat, modes):
    """Number of mismatched categories of every row to one center: (n,) int64."""
    return np.count_nonzero(cat != modes, axis=1)


def weighted_mean_std(num, w):
    """Weighted mean and population standard deviation of each column, float64 (p,) each,
    over the column's observed (non-NaN) entries.

    One column at a time (no (n, p) temporary), with NumPy's pairwise sums
    rather than BLAS dot products: the same bits whatever the number of threads.
    """
    total_w = float(w.sum())
    mean, std = np.empty(num.shape[1]), np.empty(num.shape[1])
    for f in range(num.shape[1]):
        col, wf, total = num[:, f], w, total_w
        observed = ~np.isnan(col)
        if not observed.all():
            col, wf = col[observed], w[observed]
            total = float(wf.sum())
        mean[f] = float((wf * col).sum()) / total
        std[f] = np.sqrt(float((wf * np.square(col - mean[f])).sum()) / total)
    return mean, std


def _numeric_draws(rows, n_clusters, random_state):
    """The numeric part of Huang's and Cao's starts as the ``kmodes`` package draws it:
    the columns' mean plus a standard normal draw times their standard deviation (weighted)."""
    mean, std = weighted_mean_std(rows.num, rows.w)
    return mean + random_state.randn(n_clusters, rows.p) * std


def huang_centers(rows, n_clusters, random_state, numeric=True):
    """Huang's (1997, 1998) initial modes, as ``kmodes.util.init_methods.init_huang`` draws them.

    Each column's mode is drawn from the column's values (sorted, each row once;
    with sample weights, with probability proportional to the weight); then each
    drawn center is replaced by the row nearest to it in the Hamming distance
    that equals no center (kmodes' rule). With ``numeric``, the numeric part
    follows (:func:`_numeric_draws`), drawn after the modes as ``kmodes`` does.

    Returns
    -------
    centers : ndarray of shape (n_clusters, p + q), float64
    """
    cat = rows.filled_cat()
    modes = np.empty((n_clusters, rows.q), dtype=np.int32)
    unit = rows.sample_weight is None
    for j in range(rows.q):
        order = np.argsort(cat[:, j], kind="stable")
        choices = cat[order, j]
        if unit:
            modes[:, j] = random_state.choice(choices, n_clusters)
        else:
            p = rows.w[order] / rows.w.sum()
            modes[:, j] = random_state.choice(choices, n_clusters, p=p)
    for c in range(n_clusters):
        ndx = np.argsort(_mismatches(cat, modes[c]))
        # The first row, nearest first, equal to no center (the last one if all are).
        position = 0
        while position < ndx.size - 1 and (cat[ndx[position]] == modes).all(axis=1).any():
            position += 1
        modes[c] = cat[ndx[position]]
    centers = np.empty((n_clusters, rows.d))
    centers[:, rows.p :] = modes
    centers[:, : rows.p] = _numeric_draws(rows, n_clusters, random_state) if numeric else 0.0
    return centers


def cao_centers(rows, n_clusters, random_state, numeric=True):
    """Cao, Liang and Bai's (2009) initial modes, as ``kmodes.util.init_methods.init_cao`` chooses them.

    Each row's density is the mean, over the columns, of its level's share of
    the rows (weighted); the first center is the densest row; each next one is
    the row of largest ``density * distance`` to its nearest chosen center
    (Hamming distance; the first such row on ties). Deterministic; with
    ``numeric``, the numeric part is drawn as :func:`huang_centers` draws it.

    Returns
    -------
    centers : ndarray of shape (n_clusters, p + q), float64
    """
    cat, w = rows.filled_cat(), rows.w
    total = float(w.sum())
    density = np.zeros(rows.n)
    for j in range(rows.q):
        shares = np.bincount(cat[:, j], weights=w, minlength=rows.n_levels[j]) / total
        density += shares[cat[:, j]] / rows.q
    chosen = [int(np.argmax(density))]
    nearest = np.full(rows.n, np.inf)
    for _ in range(1, n_clusters):
        np.minimum(nearest, _mismatches(cat, cat[chosen[-1]]) * density, out=nearest)
        chosen.append(int(np.argmax(nearest)))
    centers = np.empty((n_clusters, rows.d))
    centers[:, rows.p :] = cat[chosen]
    centers[:, : rows.p] = _numeric_draws(rows, n_clusters, random_state) if numeric else 0.0
    return centers
