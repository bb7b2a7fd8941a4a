"""The passes of an out-of-core fit: the survey (moments and a reservoir sample) and the Lloyd step over a stream."""

from __future__ import annotations

import re
import sys

import numpy as np

from kmeanskit._algorithms.mapping import DataMapping
from kmeanskit._algorithms.relocation import farthest, mean_centers, movable_distances, relocate
from kmeanskit._algorithms.step import Step
from kmeanskit._io.table_rules import MISSING_VALUES_REMEDY

__all__ = ["Progress", "Reservoir", "StreamLloydStep", "Survey", "pass_name"]

_RESERVOIR_BLOCK = 4096


# --------------------------------------------------------------- the survey
class Reservoir:
    """A uniform sample of ``size`` rows of a stream (Vitter's Algorithm L).

    Replacement events (the next row to keep and the slot it replaces) are
    drawn in blocks, vectorised: ``W`` evolves as a cumulative product and the
    skips follow from it. The draws depend on row positions only, so the
    sample does not depend on how the stream is chunked.
    """

    def __init__(self, size, n_features, dtype, random_state):
        self.size = size
        # Grown as rows arrive (doubling): a small source never costs the whole sample's memory.
        self.sample = np.empty((min(size, 1024), n_features), dtype=dtype)
        self.seen = 0
        self._rs = random_state
        self._log_w = None
        self._last = None  # row position of the last event drawn
        self._positions = np.empty(0, dtype=np.int64)
        self._slots = np.empty(0, dtype=np.int64)

    def _draw_events(self):
        rs, k = self._rs, self.size
        u = rs.random_sample(_RESERVOIR_BLOCK)
        v = rs.random_sample(_RESERVOIR_BLOCK)
        slots = rs.randint(0, k, _RESERVOIR_BLOCK).astype(np.int64)
        # W before each event, then after it.
        log_w = self._log_w + np.concatenate(([0.0], np.cumsum(np.log(v[:-1]) / k)))
        self._log_w = log_w[-1] + np.log(v[-1]) / k
        with np.errstate(divide="ignore"):
            skips = np.floor(np.log(u) / np.log1p(-np.exp(log_w))) + 1
        skips = np.minimum(np.nan_to_num(skips, nan=1.0, posinf=2.0**40), 2.0**40).astype(np.int64)
        positions = self._last + np.cumsum(skips)
        self._last = int(positions[-1])
        self._positions = np.concatenate((self._positions, positions))
        self._slots = np.concatenate((self._slots, slots))

    def add(self, chunk):
        """Offer the rows of ``chunk`` (the next rows of the stream)."""
        start, m = self.seen, chunk.shape[0]
        offset = 0
        if start < self.size:
            take = min(self.size - start, m)
            if start + take > self.sample.shape[0]:
                grown = np.empty((min(self.size, max(2 * self.sample.shape[0], start + take)), self.sample.shape[1]),
                                 dtype=self.sample.dtype)
                grown[:start] = self.sample[:start]
                self.sample = grown
            self.sample[start:start + take] = chunk[:take]
            offset = take
            if start + take == self.size:
                self._log_w = np.log(self._rs.random_sample()) / self.size
                self._last = self.size - 1
        self.seen = start + m
        if self._log_w is None or offset == m:
            return
        while self._last < self.seen:
            self._draw_events()
        inside = self._positions < self.seen
        positions, slots = self._positions[inside], self._slots[inside]
        self._positions, self._slots = self._positions[~inside], self._slots[~inside]
        if positions.size:
            # When a slot is replaced twice in this chunk, the later row stays.
            _, last = np.unique(slots[::-1], return_index=True)
            keep = positions.size - 1 - last
            self.sample[slots[keep]] = chunk[positions[keep] - start]

    def rows(self):
        """The sample: all rows seen when there were fewer than ``size``."""
        return self.sample[: min(self.seen, self.size)]


class Survey:
    """What the first pass learns: row count, exact moments and range, value checks, sample."""

    def __init__(self, stream, sample_size, random_state):
        d = len(stream.feature_names)
        self.stream = stream
        self.n = 0
        self.mean = np.zeros(d)
        self.m2 = np.zeros(d)
        self.abs_max = 0.0
        self.data_min = np.full(d, np.inf)
        self.data_max = np.full(d, -np.inf)
        self.missing = np.zeros(d, dtype=np.int64)
        self.infinite = np.zeros(d, dtype=np.int64)
        self.reservoir = Reservoir(sample_size, d, stream.dtype, random_state)
        self._dev = np.empty((0, d))  # reused: one chunk of float64 deviations

    def add(self, chunk):
        nan, inf = np.isnan(chunk), np.isinf(chunk)
        self.missing += nan.sum(axis=0)
        self.infinite += inf.sum(axis=0)
        self.reservoir.add(chunk)
        m = chunk.shape[0]
        if not m or self.missing.any() or self.infinite.any():
            self.n += m
            return
        c64 = chunk.astype(np.float64, copy=False)
        mean_b = c64.mean(axis=0)
        if self._dev.shape != c64.shape:
            self._dev = np.empty_like(c64)
        dev = np.subtract(c64, mean_b, out=self._dev)
        m2_b = np.einsum("ij,ij->j", dev, dev)
        # Chan, Golub & LeVeque: merge (n, mean, M2) of two parts.
        n_a, total = self.n, self.n + m
        delta = mean_b - self.mean
        self.mean += delta * (m / total)
        self.m2 += m2_b + delta * delta * (n_a * m / total)
        self.n = total
        low, high = chunk.min(axis=0), chunk.max(axis=0)
        np.minimum(self.data_min, low, out=self.data_min)
        np.maximum(self.data_max, high, out=self.data_max)
        self.abs_max = max(self.abs_max, float(high.max()), -float(low.min()))

    def check(self, n_clusters=None):
        """Refuse what ``read_table`` refuses, with counts over the whole source (after the pass)."""
        self._dev = np.empty((0, self.m2.size))  # the pass is over: free the scratch chunk
        label, names = self.stream.label, self.stream.feature_names
        if self.n == 0:
            raise ValueError(f"{label} has no rows")
        if self.missing.any():
            bad = np.flatnonzero(self.missing)
            detail = ", ".join(f"'{names[j]}' ({self.missing[j]} missing)" for j in bad)
            raise ValueError(
                f"{label} has missing values in {bad.size} of {len(names)} columns: {detail}; "
                f"{MISSING_VALUES_REMEDY}"
            )
        if self.infinite.any():
            detail = ", ".join(f"'{names[j]}' ({self.infinite[j]} infinite)" for j in np.flatnonzero(self.infinite))
            raise ValueError(f"{label} has infinite values: {detail}; drop or clip them first")
        if n_clusters is not None and self.n < n_clusters:
            raise ValueError(f"n_samples={self.n} should be >= n_clusters={n_clusters}.")

    @property
    def variance(self):
        return self.m2 / self.n


# ---------------------------------------------------------------- progress
class Progress:
    """One tqdm bar per pass over the data, or nothing."""

    def __init__(self, progress):
        if progress is None:
            progress = sys.stderr.isatty()
        self.enabled = bool(progress)

    def passes(self, stream, desc, total):
        """The chunks of one pass over ``stream``, with a bar titled ``desc`` ("Lloyd (pass 3)")."""
        chunks = stream.chunks(pass_name(desc))
        if not self.enabled:
            yield from chunks
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, unit="rows", unit_scale=True, leave=False, file=sys.stderr) as bar:
            for start, chunk in chunks:
                yield start, chunk
                bar.update(chunk.shape[0])


def pass_name(desc):
    """How a pass is named in the stream's errors, from its bar's title:
    "Lloyd (pass 3)" -> "Lloyd pass 3", "labels (last pass)" -> "the final labelling pass"."""
    if desc == "labels (last pass)":
        return "the final labelling pass"
    return re.sub(r" \((pass \d+)\)$", r" \1", desc)


# ------------------------------------------------------------- Lloyd passes
class _StreamRows:
    """What the convergence loop needs to know of the rows (no data)."""

    sparse = False

    def __init__(self, n, d, dtype):
        self.n, self.d, self.dtype = n, d, np.dtype(dtype)


class StreamLloydStep(Step):
    """The Lloyd step (:class:`~kmeanskit._algorithms.lloyd.LloydStep` interface) over a stream.

    Each call reads the source once; each chunk is mapped to ``(x - shift) *
    scale`` and assigned by a ``LloydStep`` of its own, whose sums are added
    in chunk order (deterministic). The ``n_clusters`` farthest movable rows
    of the pass (by the rule of :mod:`~kmeanskit._algorithms.relocation`) are
    kept, so that empty clusters are relocated as in memory.

    Each call counts the labels it changes (``n_changed``), compared chunk by
    chunk, so the convergence loop keeps no copy of the labels.
    """

    counts_label_changes = True

    def __init__(self, stream, n_rows, n_clusters, shift, scale, progress):
        self.stream, self.n_clusters = stream, n_clusters
        self.shift, self.scale = shift, scale
        self.rows = _StreamRows(n_rows, len(stream.feature_names), stream.dtype)
        self.progress = progress
        self.n_passes = 0
        self.n_changed = None
        self._far = None

    def mapped_chunks(self, desc):
        from kmeanskit._algorithms.rows import DenseRows

        self.n_passes += 1
        for start, chunk in self.progress.passes(self.stream, f"{desc} (pass {self.n_passes})", self.rows.n):
            DataMapping(self.shift, self.scale).map_rows(chunk, in_place=True)
            yield start, DenseRows(chunk, np.ones(chunk.shape[0], dtype=chunk.dtype))

    def __call__(self, centers, labels, update=True):
        from kmeanskit._algorithms.lloyd import Assignment, LloydStep

        k, d = self.n_clusters, self.rows.d
        inertia = 0.0
        sums, weights = (np.zeros((k, d)), np.zeros(k)) if update else (None, None)
        far = _FarthestRows(k, d, self.rows.dtype) if update else None
        n_changed = 0
        for start, rows in self.mapped_chunks("Lloyd"):
            step = LloydStep(rows, k)
            lb = labels[start:start + rows.n]
            old = lb.copy()
            assignment = step(centers, lb, update=update)
            n_changed += int(np.count_nonzero(lb != old))
            inertia += assignment.inertia
            if update:
                sums += assignment.sums
                weights += assignment.weights
                far.add(rows, centers, lb, step.sq_dist, start)
        self._far, self.n_changed = far, n_changed
        return Assignment(inertia, sums, weights)

    def update_centers(self, centers, labels, assignment):
        """Means of the sums; an empty cluster takes one of the farthest rows of the pass."""
        sums, weights, far = assignment.sums, assignment.weights, self._far
        empty = np.flatnonzero(weights == 0)
        n_relocated = 0
        if empty.size:
            moves = relocate(
                empty, far.key, far.labels, lambda i: (far.X[i].astype(np.float64), 1.0), sums, weights,
                index=far.index,
            )
            n_relocated = len(moves)
        return mean_centers(centers, sums, weights, self.rows.dtype), n_relocated

    def inertia(self, centers, labels):
        from kmeanskit._algorithms.lloyd import LloydStep

        total = 0.0
        for start, rows in self.mapped_chunks("inertia"):
            total += LloydStep(rows, self.n_clusters).inertia(centers, labels[start:start + rows.n])
        return total


class _FarthestRows:
    """The ``size`` movable rows of a pass farthest from their center (see
    :mod:`~kmeanskit._algorithms.relocation`), with their keys and row indices."""

    def __init__(self, size, d, dtype):
        self.size = size
        self.X = np.empty((0, d), dtype=dtype)
        self.labels = np.empty(0, dtype=np.int32)
        self.key = np.empty(0)
        self.index = np.empty(0, dtype=np.int64)

    def add(self, rows, centers, labels, sq_dist, start):
        """Offer the rows of one chunk (``start``: the row index of its first row)."""
        centers64 = centers.astype(np.float64)
        center_sq = np.einsum("ij,ij->i", centers64, centers64)
        noise = rows.sq_dist_rel_noise * (rows.x_sq + center_sq[labels])
        key = movable_distances(sq_dist, noise)
        top = farthest(key, self.size)
        X = np.concatenate((self.X, rows.X[top]))
        lab = np.concatenate((self.labels, labels[top]))
        keys = np.concatenate((self.key, key[top]))
        index = np.concatenate((self.index, start + top))
        keep = farthest(keys, self.size, index)
        self.X, self.labels, self.key, self.index = X[keep], lab[keep], keys[keep], index[keep]
