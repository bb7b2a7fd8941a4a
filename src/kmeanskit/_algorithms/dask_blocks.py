"""Per-block work of :mod:`kmeanskit.dask`: plain functions of NumPy blocks.

Dask runs each function as one task on one block of rows (and its weights).
Every function runs kmeanskit's numba kernels (``LloydStep`` on a ``DenseRows``
view of the block) and returns a small summary: per-cluster sums and weights,
a few rows, scalars. Per-row arrays never travel, except the k-means|| state
(distance of each row to the candidates), which is persisted where it was made.

Nothing here imports dask: the functions are plain NumPy in, NumPy out, so
they are tested directly and pickled by reference to worker processes.

Mapping: blocks are used as ``(x - shift) * scale`` (``shift`` the training
mean, ``scale`` a power of two, see :class:`~kmeanskit._algorithms.rows.DenseRows`),
either on the fly (``shift`` given) or already mapped (``shift`` None).
"""

import threading
from contextlib import contextmanager, nullcontext

import numba
import numpy as np
from numba import njit
from sklearn.metrics.pairwise import euclidean_distances

from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.relocation import farthest, movable_distances
from kmeanskit._algorithms.rows import DenseRows, prediction_rows

__all__ = [
    "column_moments", "block_stats", "combine_stats", "map_block", "add_partials", "far_rows",
    "weight_total", "pick_row", "bernoulli_sample", "parallel_init_start", "parallel_init_update",
    "parallel_init_sample", "parallel_init_phi", "parallel_init_counts", "predict_block",
    "transform_block", "inertia_block", "BlockGroup", "make_group", "group_lloyd",
]

# Rows per piece of a block's statistics (a piece stays in cache for its second pass).
_STATS_PIECE_ROWS = 2048
_WORKQUEUE_LOCK = threading.Lock()


def _layer_is_workqueue():
    try:
        return numba.threading_layer() == "workqueue"
    except ValueError:  # no parallel kernel has run in this process yet: not known
        return None


@contextmanager
def kernel_threads(n_threads):
    """numba threads for the kernels of this task (the caller's count is restored).

    Dask runs several tasks at once (one per worker thread), so each task's
    kernels get a share of the cores, not all of them. numba's workqueue
    layer cannot run kernels from two threads at once: there, kernels take
    turns (under a lock, also taken until the layer is known).
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    workqueue = _layer_is_workqueue()
    try:
        with _WORKQUEUE_LOCK if workqueue in (None, True) else nullcontext():
            yield
    finally:
        numba.set_num_threads(previous)


def _weights(wb, Xb):
    if wb is None:
        return np.ones(Xb.shape[0], dtype=Xb.dtype)
    return np.ascontiguousarray(wb, dtype=Xb.dtype)


def _rows(Xb, wb, shift, scale):
    return DenseRows(np.ascontiguousarray(Xb), _weights(wb, Xb), shift=shift, scale=scale)


# --------------------------------------------------------------- statistics
@njit(cache=True, nogil=True)
def column_moments(X, piece_rows, mean, m2):
    """Mean and sum of squared deviations of each column, in one read of X.

    Each piece of ``piece_rows`` rows (small enough to stay in cache) gets an
    exact two-pass mean and deviation sum; pieces are merged in order with
    Chan et al.'s update, which keeps the variance accurate far from the origin.
    A piece holding a NaN or infinity is counted and left out.

    IN   X           (b, d) float32 or float64
    IN   piece_rows  int
    OUT  mean        (d,) float64
    OUT  m2          (d,) float64, sum over rows of (x - mean)^2
    Returns ``(rows used, non-finite values, largest absolute value)``.
    """
    n, d = X.shape
    count = 0
    nonfinite = 0
    abs_max = 0.0
    piece_mean = np.empty(d)
    piece_m2 = np.empty(d)
    mean[:] = 0.0
    m2[:] = 0.0
    for start in range(0, n, piece_rows):
        stop = min(start + piece_rows, n)
        bad = 0
        piece_mean[:] = 0.0
        for i in range(start, stop):
            for f in range(d):
                v = np.float64(X[i, f])
                if np.isfinite(v):
                    piece_mean[f] += v
                    abs_max = max(abs_max, abs(v))
                else:
                    bad += 1
        if bad:
            nonfinite += bad
            continue
        rows = stop - start
        piece_m2[:] = 0.0
        for f in range(d):
            piece_mean[f] /= rows
        for i in range(start, stop):
            for f in range(d):
                e = np.float64(X[i, f]) - piece_mean[f]
                piece_m2[f] += e * e
        total = count + rows
        for f in range(d):
            delta = piece_mean[f] - mean[f]
            mean[f] += delta * (rows / total)
            m2[f] += piece_m2[f] + delta * delta * (count * rows / total)
        count = total
    return count, nonfinite, abs_max


def block_stats(Xb, wb):
    """Counts, mean and sum of squared deviations of one block, and input checks.

    Returns
    -------
    dict with ``n`` (rows), ``mean`` and ``m2`` (float64, (d,)), ``abs_max``,
    ``nonfinite`` (count of NaN/inf values), and for the weights ``w_sum``,
    ``w_negative``, ``w_nonfinite`` (counts).
    """
    d = Xb.shape[1]
    mean, m2 = np.zeros(d), np.zeros(d)
    n, nonfinite, abs_max = column_moments(np.ascontiguousarray(Xb), _STATS_PIECE_ROWS, mean, m2)
    stats = {"n": n, "mean": mean, "m2": m2, "abs_max": abs_max, "nonfinite": nonfinite}
    if wb is None:
        stats.update(w_sum=float(Xb.shape[0]), w_negative=0, w_nonfinite=0)
    else:
        w = np.asarray(wb, dtype=np.float64)
        finite = np.isfinite(w)
        stats.update(
            w_sum=float(w[finite].sum()), w_negative=int(np.count_nonzero(w < 0)),
            w_nonfinite=int(w.size - np.count_nonzero(finite)),
        )
    return stats


def _merge_moments(a, b):
    """Chan et al.'s pairwise update of (n, mean, m2), plus the other fields."""
    n = a["n"] + b["n"]
    out = dict(a)
    out["n"] = n
    out["nonfinite"] = a["nonfinite"] + b["nonfinite"]
    out["abs_max"] = max(a["abs_max"], b["abs_max"])
    if b["n"] and a["n"]:
        delta = b["mean"] - a["mean"]
        out["mean"] = a["mean"] + delta * (b["n"] / n)
        out["m2"] = a["m2"] + b["m2"] + delta * delta * (a["n"] * b["n"] / n)
    elif b["n"]:
        out["mean"], out["m2"] = b["mean"], b["m2"]
    return out


def combine_stats(*parts):
    """Merge :func:`block_stats` results, in the order given."""
    total = parts[0]
    for part in parts[1:]:
        weights = {key: total[key] + part[key] for key in ("w_sum", "w_negative", "w_nonfinite")}
        total = _merge_moments(total, part)
        total.update(weights)
    return total


def map_block(Xb, shift, scale):
    """``(Xb - shift) * scale`` in Xb's dtype (what ``DenseRows`` does to each block)."""
    return _rows(Xb, None, shift, scale).block(0, Xb.shape[0])


# ------------------------------------------------------------------- Lloyd
def add_partials(*parts):
    """Sum ``(sums, weights, inertia)`` partials of blocks, in the order given (deterministic)."""
    sums, weights, inertia = parts[0]
    if sums is not None:
        sums, weights = sums.copy(), weights.copy()
    for s, w, i in parts[1:]:
        if sums is not None:
            sums += s
            weights += w
        inertia += i
    return sums, weights, inertia


class BlockGroup:
    """Some blocks of one worker, with their labels and bounds kept between Lloyd passes.

    Each block gets a :class:`~kmeanskit._algorithms.bounded.BoundedStep`, so
    from the second pass on most rows skip the arg-min. The group is made once
    per fit, persisted where its blocks live, and each pass updates it in
    place. That is safe with dask's copies and retries: a copy (pickled to
    move it) or a recomputed group starts afresh from its blocks, and a
    block's bounds always refer to the centers stored next to them, so every
    pass returns exactly the Lloyd partial sums of its blocks.
    """

    def __init__(self, parts, shift, scale, n_clusters):
        self._args = (parts, shift, scale, n_clusters)
        self.steps = []
        for Xb, wb in parts:
            rows = _rows(Xb, wb, shift, scale)
            self.steps.append((BoundedStep(rows, n_clusters), np.zeros(rows.n, dtype=np.int32)))

    def __reduce__(self):
        # A copy (dask moving the group to another worker) starts afresh from
        # its blocks: no bounds to ship, and no compiled kernels in the pickle.
        return BlockGroup, self._args

    def __sizeof__(self):
        # dask sizes persisted data with sys.getsizeof: count the blocks, so the
        # scheduler sees a group as costly to move and runs its passes in place.
        total = object.__sizeof__(self)
        for step, labels in self.steps:
            rows = step.rows
            # The blocks, weights and labels; the bounds (float32) and distances
            # (float64) the first pass allocates.
            total += rows.X.nbytes + rows.w.nbytes + labels.nbytes + 12 * rows.n
        return total


def make_group(n_clusters, shift, scale, *flat_parts):
    """A :class:`BlockGroup` of the blocks ``flat_parts = (X_0, w_0, X_1, w_1, ...)``."""
    parts = list(zip(flat_parts[0::2], flat_parts[1::2], strict=True))
    return BlockGroup(parts, shift, scale, n_clusters)


def group_lloyd(group, centers, n_threads, update=True):
    """One Lloyd pass over each block of ``group``: its partials, one per block, in group order.

    Returns
    -------
    list of (sums, weights, inertia)
        Per block: per-cluster sums (n_clusters, n_features) and weights
        (n_clusters,), float64 (None if not ``update``), and its inertia.
        They are those of a Lloyd pass over the block (the bounded step
        reproduces Lloyd's, bit for bit).
    """
    out = []
    with kernel_threads(n_threads):
        for step, labels in group.steps:
            assignment = step(centers, labels, update=update)
            out.append((assignment.sums, assignment.weights, assignment.inertia))
    return out


def far_rows(Xb, wb, centers, shift, scale, n_threads, offset, n_rows):
    """The ``n_rows`` movable rows of the block farthest from their nearest center.

    The candidates for empty clusters, by the rule of
    :mod:`~kmeanskit._algorithms.relocation`: rows of positive weight whose
    distance is above rounding level, farthest first, ties by row index
    (``offset`` + index in the block).

    Returns
    -------
    dist, index, label, rows (n', d) float64 in the mapped space, weight; n' <= n_rows
    """
    rows = _rows(Xb, wb, shift, scale)
    labels = np.empty(rows.n, dtype=np.int32)
    step = LloydStep(rows, centers.shape[0])
    with kernel_threads(n_threads):
        step(centers, labels, update=False)
    centers64 = centers.astype(np.float64)
    center_sq = np.einsum("ij,ij->i", centers64, centers64)
    noise = rows.sq_dist_rel_noise * (rows.x_sq + center_sq[labels])
    key = movable_distances(step.sq_dist, noise, rows.w)
    far = farthest(key, n_rows)
    return (
        key[far], far.astype(np.int64) + offset, labels[far],
        rows.take(far).astype(np.float64), rows.w[far].astype(np.float64),
    )


# ------------------------------------------------- sampling and k-means||
def weight_total(Xb, wb):
    """Total weight of a block (its row count without weights)."""
    return float(Xb.shape[0]) if wb is None else float(np.asarray(wb, dtype=np.float64).sum())


def pick_row(Xb, wb, target, shift, scale):
    """The row where the block's cumulative weight passes ``target`` (mapped, (1, d))."""
    rows = _rows(Xb, wb, shift, scale)
    cumulative = np.cumsum(rows.w, dtype=np.float64)
    i = int(np.searchsorted(cumulative, target, side="right"))
    i = min(i, rows.n - 1)
    while rows.w[i] <= 0 and i > 0:  # rounding put the draw on a zero-weight row
        i -= 1
    return rows.take([i])


def bernoulli_sample(Xb, wb, probability, seed, shift, scale):
    """Each row independently with ``probability``: (mapped rows, their weights)."""
    rows = _rows(Xb, wb, shift, scale)
    picked = np.flatnonzero(np.random.default_rng(seed).random(rows.n) < probability)
    return rows.take(picked), rows.w[picked]


def _closest_to(rows, candidates, n_threads):
    labels = np.empty(rows.n, dtype=np.int32)
    step = LloydStep(rows, candidates.shape[0])
    with kernel_threads(n_threads):
        step(candidates, labels, update=False)
    return step.sq_dist, labels


def parallel_init_start(Xb, wb, first, shift, scale, n_threads):
    """k-means|| state of a block for the first candidate ``first`` ((1, d), mapped).

    Returns
    -------
    state : tuple ``(closest, nearest, phi)``: squared distance of each row to its
        nearest candidate (float64), that candidate's index (int32), and the
        block's weighted cost ``phi = sum w * closest``.
    """
    rows = _rows(Xb, wb, shift, scale)
    closest, _ = _closest_to(rows, first, n_threads)
    return closest.copy(), np.zeros(rows.n, dtype=np.int32), float(np.dot(closest, rows.w.astype(np.float64)))


def parallel_init_update(state, Xb, wb, new, first_index, shift, scale, n_threads):
    """The state after adding candidates ``new`` (numbered from ``first_index``)."""
    rows = _rows(Xb, wb, shift, scale)
    closest, nearest = state[0].copy(), state[1].copy()  # a persisted state is shared: never write to it
    sq_dist, labels = _closest_to(rows, new, n_threads)
    better = sq_dist < closest
    closest[better] = sq_dist[better]
    nearest[better] = labels[better] + first_index
    return closest, nearest, float(np.dot(closest, rows.w.astype(np.float64)))


def parallel_init_phi(state):
    """The block's cost ``phi`` in a state."""
    return state[2]


def parallel_init_sample(state, Xb, wb, phi, oversampling, seed, shift, scale):
    """Rows drawn independently with probability ``min(1, l w d^2 / phi)`` (mapped, (p, d))."""
    rows = _rows(Xb, wb, shift, scale)
    probability = oversampling * rows.w.astype(np.float64) * state[0] / phi
    picked = np.flatnonzero(np.random.default_rng(seed).random(rows.n) < probability)
    return rows.take(picked)


def parallel_init_counts(state, Xb, wb, n_candidates):
    """Total weight of the rows nearest to each candidate, float64 (n_candidates,)."""
    w = _weights(wb, Xb).astype(np.float64)
    return np.bincount(state[1], weights=w, minlength=n_candidates)


def add_arrays(*parts):
    """Sum arrays or scalars in the order given."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


# --------------------------------------------------------------- inference
def _check_finite(Xb):
    if not np.isfinite(Xb).all():
        raise ValueError(
            "Input X contains NaN or infinity (found while computing a block of rows); "
            "every value must be finite."
        )


def _prediction_rows(Xb, wb, centers, shift):
    """Rows and centers mapped as ``KMeans`` predicts (per-block power-of-two scale)."""
    Xb = np.ascontiguousarray(Xb, dtype=centers.dtype)
    _check_finite(Xb)
    return prediction_rows(Xb, _weights(wb, Xb), centers, shift)


def predict_block(Xb, centers, shift, n_threads):
    """Index of the nearest center of each row, int32 (b,)."""
    if Xb.shape[0] == 0:
        return np.empty(0, dtype=np.int32)
    rows, mapped, _ = _prediction_rows(Xb, None, centers, shift)
    labels = np.empty(rows.n, dtype=np.int32)
    with kernel_threads(n_threads):
        LloydStep(rows, centers.shape[0])(mapped, labels, update=False)
    return labels


def transform_block(Xb, centers, shift, n_threads):
    """Euclidean distance of each row to every center, (b, k) in the centers' dtype."""
    if Xb.shape[0] == 0:
        return np.empty((0, centers.shape[0]), dtype=centers.dtype)
    rows, mapped, scale = _prediction_rows(Xb, None, centers, shift)
    out = euclidean_distances(rows.block(0, rows.n), mapped)
    if scale != 1.0:
        out /= out.dtype.type(scale)
    return out


def inertia_block(Xb, wb, centers, shift, n_threads):
    """Weighted sum of squared distances of the rows to their nearest center."""
    if Xb.shape[0] == 0:
        return 0.0
    rows, mapped, scale = _prediction_rows(Xb, wb, centers, shift)
    labels = np.empty(rows.n, dtype=np.int32)
    with kernel_threads(n_threads):
        inertia = LloydStep(rows, centers.shape[0])(mapped, labels, update=False).inertia
    return inertia / scale / scale
