"""K-Means on tables larger than memory: :func:`fit_out_of_core`.

The file is read in chunks, several times, and never held whole:

1. a *survey* pass counts the rows, checks every value (missing and infinite
   values are counted per column over the whole file and refused as
   :func:`kmeanskit.io.read_table` refuses them), computes the exact mean and
   variance of each feature (per-chunk moments merged with Chan et al.'s
   formula) and draws a uniform reservoir sample of the rows (Vitter's
   Algorithm L, vectorised; the sample does not depend on the chunk size);
2. the initial centers are chosen on the sample (greedy k-means++ by default);
3. exact Lloyd passes: each reads the file once, assigns every row with the
   fused kernels and accumulates per-cluster sums and counts; an empty cluster
   takes the row farthest from its center, found during the same pass (the
   ``n_clusters`` farthest rows are kept as the pass goes). The convergence
   loop is the in-memory one, so from the same initial centers the result is
   the in-memory ``KMeans(algorithm="lloyd")`` fit: same iterations, labels,
   and centers up to rounding. ``tol`` is relative to the mean feature
   variance, computed exactly in the survey pass;
4. or, with ``mini_batch=True``, mini-batch passes: each chunk is shuffled and
   cut into batches of 1024 rows for :class:`MiniBatchKMeans` steps, with its
   early stopping;
5. a final pass labels every row with the fitted model's ``predict``.

Memory holds one chunk (and its float copies), the sample, the centers, and
the labels (4 bytes per row, one array: the Lloyd step counts the labels it
changes instead of the loop keeping a copy). Each pass's chunks are freed
when it ends. The passes need only NumPy, PyArrow (or pandas, for CSV) and
the numba kernels; Parquet columns are copied from their Arrow buffers, since
``pyarrow.Array.to_numpy`` would import pandas. scikit-learn (with SciPy and
pandas, about 100 MB of memory once imported) is imported after the last
pass, once the reader's buffers are given back, so that the two do not add
up; an ``init`` array or ``mini_batch=True`` needs it sooner.

Measured on 4M x 16 float64 in 16 row groups (``python -m benchmarks
out-of-core``): the libraries a fit ends up holding (PyArrow, numba and
LLVM with its kernels, scikit-learn with SciPy and pandas) take about
300 MB together, the labels 16 MB; the Parquet reader about 70 MB during a
pass (each column's dictionary and current page).
"""

from __future__ import annotations

import os
import sys
from numbers import Integral, Real
from pathlib import Path

import numpy as np

__all__ = ["fit_out_of_core"]

_MINI_BATCH_SIZE = 1024
# Parquet is read in Arrow batches of this many rows through a buffer of this
# many bytes. Measured on 4M x 16 float64 (1M-row groups), one pass, RSS
# growth / Arrow pool peak: 8192 rows, 64 KiB: 69 / 36 MB; 65536 rows, 64 KiB:
# 101 / 54 MB; 65536 rows, 1 MiB: 103 / 69 MB; 65536 rows, unbuffered: 276 / 192 MB.
_PARQUET_BATCH_ROWS = 8192
_PARQUET_BUFFER_BYTES = 1 << 16
# Reservoir replacement events are drawn in blocks of this many.
_RESERVOIR_BLOCK = 4096


# ------------------------------------------------------------------ sources
class TableStream:
    """Chunks of the numeric feature columns of a table, in row order.

    Parameters
    ----------
    source : str, path-like, pandas.DataFrame or ndarray of shape (n_samples, n_features)
        A CSV/TSV/TXT (optionally compressed) or Parquet file (or a directory
        of Parquet files), read chunk by chunk; or a table in memory.
    columns : sequence of str or None
        Feature columns, in order; all by default (they must then be numeric).
    chunk_rows : int
        Rows per chunk.
    dtype : float32 or float64
        dtype of the chunks produced.

    Attributes
    ----------
    feature_names : list of str
    n_rows : int or None
        Known upfront for Parquet and tables in memory, else after a pass.
    label : str
        How the source is named in messages.
    """

    def __init__(self, source, columns, chunk_rows, dtype):
        self.chunk_rows = chunk_rows
        self.dtype = np.dtype(dtype)
        self.columns = None if columns is None else columns
        self.n_rows = None
        self._frame = None
        self.has_names = True
        if isinstance(source, (str, os.PathLike)):
            self._open_file(Path(source))
        else:
            self._open_memory(source)

    # -- files
    def _open_file(self, path):
        from kmeanskit.io import _file_kind

        if not path.exists():
            raise FileNotFoundError(f"no such file: '{path}'")
        self.path = path
        self.label = f"'{path}'"
        self.kind = _file_kind(path)
        if self.kind == "parquet":
            self._open_parquet(path)
        else:
            if path.is_dir():
                raise ValueError(f"'{path}' is a directory, not a csv file")
            self._open_csv(path)

    def _open_parquet(self, path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if path.is_dir():
                self._files = sorted(pq.ParquetDataset(path).files)
                schema = pq.ParquetDataset(path).schema
            else:
                self._files = [str(path)]
                schema = pq.read_schema(path)
            self.n_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in self._files)
        except (pa.ArrowInvalid, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise ValueError(f"could not read '{path}' as Parquet: {_one_line(exc)}") from exc
        meta = schema.pandas_metadata or {}
        # A pandas index stored as a column is not data to cluster.
        index_columns = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
        self._select([n for n in schema.names if n not in index_columns])

    def _open_csv(self, path):
        import pandas as pd

        from kmeanskit.io import _COMPRESSION_SUFFIXES, CSV_SUFFIXES, _sniff_delimiter

        suffixes = [s.lower() for s in path.suffixes]
        base = suffixes[-2] if suffixes[-1] in _COMPRESSION_SUFFIXES else suffixes[-1]
        sep = CSV_SUFFIXES[base]
        self._sep = _sniff_delimiter(path) if sep is None else sep
        try:
            header = pd.read_csv(path, sep=self._sep, nrows=0)
        except pd.errors.EmptyDataError:
            raise ValueError(f"'{path}' is empty: it has no header and no columns") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"could not parse '{path}' as CSV: {_one_line(exc)}") from exc
        self._select([str(c) for c in header.columns])

    # -- memory
    def _open_memory(self, source):
        import pandas as pd

        self.label = "the data"
        self.has_names = isinstance(source, pd.DataFrame) and all(isinstance(c, str) for c in source.columns)
        if not isinstance(source, pd.DataFrame):
            array = np.asarray(source)
            if array.ndim != 2:
                raise ValueError(f"source must be a file path or a 2-dimensional table, got shape {array.shape}")
            source = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        self._frame = source
        self.kind = "memory"
        self.n_rows = len(source)
        self._select([str(c) for c in source.columns])

    def _select(self, names):
        from kmeanskit.io import _UNNAMED, _check_selection, _names

        if not names:
            raise ValueError(f"{self.label} has no columns")
        if self.columns is None:
            unnamed = [n for n in names if _UNNAMED.match(n)]
            if unnamed:
                raise ValueError(
                    f"{self.label} has columns with no name in the header ({_names(unnamed)}), "
                    "often an index saved with the data; choose the feature columns "
                    "with --columns (columns=)"
                )
            self.feature_names = list(names)
        else:
            self.feature_names = [str(c) for c in _check_selection(names, self.columns, self.label)]

    # -- reading
    def frames(self):
        """Yield the selected columns chunk by chunk as pandas DataFrames."""
        if self.kind == "parquet":
            yield from self._parquet_frames()
        elif self.kind == "csv":
            yield from self._csv_frames()
        else:
            frame = self._frame
            names = list(frame.columns) if self.columns is None else list(self.columns)
            for start in range(0, len(frame), self.chunk_rows):
                yield frame.iloc[start:start + self.chunk_rows][names]

    def _parquet_batches(self, batch_size=None):
        import pyarrow as pa
        import pyarrow.parquet as pq

        for name in self._files:
            try:
                # Small buffered reads on one thread; see _PARQUET_BATCH_ROWS.
                handle = pq.ParquetFile(name, pre_buffer=False, buffer_size=_PARQUET_BUFFER_BYTES)
                yield from handle.iter_batches(
                    batch_size=batch_size or self.chunk_rows, columns=self.feature_names, use_threads=False
                )
            except (pa.ArrowInvalid, OSError) as exc:
                raise ValueError(f"could not read {self.label} as Parquet: {_one_line(exc)}") from exc

    def _parquet_frames(self):
        import pandas as pd

        for batch in self._parquet_batches():
            yield batch.to_pandas(types_mapper=pd.ArrowDtype)

    def _parquet_chunks(self):
        """Arrow columns cast straight into float chunks (nulls become NaN), no pandas.

        Arrow batches are smaller than chunks and copied into them as they come.
        """
        import pyarrow as pa

        target = pa.from_numpy_dtype(self.dtype)
        d, rows = len(self.feature_names), self.chunk_rows
        out, fill, start, checked = np.empty((rows, d), dtype=self.dtype), 0, 0, False
        for batch in self._parquet_batches(min(rows, _PARQUET_BATCH_ROWS)):
            if not checked:
                self._check_arrow_types(batch)
                checked = True
            columns = [self._arrow_values(column, target) for column in batch.columns]
            offset = 0
            while offset < batch.num_rows:
                take = min(rows - fill, batch.num_rows - offset)
                for j in range(d):
                    out[fill:fill + take, j] = columns[j][offset:offset + take]
                fill, offset = fill + take, offset + take
                if fill == rows:
                    yield start, out
                    out, fill, start = np.empty((rows, d), dtype=self.dtype), 0, start + rows
        if fill:
            yield start, out[:fill]

    def _arrow_values(self, column, target):
        """The values of an Arrow array of ``target`` type as a NumPy view; others cast, nulls as NaN.

        ``Array.to_numpy`` would import pandas (about 45 MB) on first use; the
        values buffer of a primitive array is read directly instead, and
        ``pyarrow.compute`` is imported only when a cast or a null needs it.
        """
        if column.type != target or column.null_count:
            import pyarrow.compute as pc

            if column.type != target:
                # Unchecked, as NumPy's astype: integers beyond 2**53 (2**24 for
                # float32) round instead of raising ArrowInvalid.
                column = pc.cast(column, target, safe=False)
            if column.null_count:
                column = pc.fill_null(column, np.nan)
        size = self.dtype.itemsize
        return np.frombuffer(column.buffers()[1], dtype=self.dtype, count=len(column), offset=column.offset * size)

    def _check_arrow_types(self, batch):
        import pyarrow.types as pat

        from kmeanskit.io import _refuse_non_numeric

        for field in batch.schema:
            t = field.type
            if not (pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t) or pat.is_decimal(t)):
                # read_table's message, with an example value.
                frame = next(self._parquet_frames()).set_axis(self.feature_names, axis=1)
                _refuse_non_numeric(frame, self.label, all_columns=self.columns is None)
                raise ValueError(f"{self.label} has a column of type {t} ('{field.name}'), which is not numeric")

    def _csv_frames(self):
        import pandas as pd

        try:
            reader = pd.read_csv(
                self.path, sep=self._sep, usecols=self.feature_names, chunksize=self.chunk_rows,
                dtype_backend="pyarrow",
            )
            with reader:
                for frame in reader:
                    yield frame[self.feature_names]
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"could not parse {self.label} as CSV: {_one_line(exc)}") from exc

    def chunks(self):
        """Yield ``(start_row, X_chunk)``; X_chunk is a new C-ordered array of ``dtype``.

        Non-numeric columns are refused on sight (as by ``read_table``);
        missing and infinite values become NaN and inf here and are counted by
        the survey pass.
        """
        from kmeanskit.io import _refuse_non_numeric

        if self.kind == "parquet":
            yield from self._parquet_chunks()
            return
        start = 0
        for frame in self.frames():
            frame = frame.set_axis(self.feature_names, axis=1)
            _refuse_non_numeric(frame, self.label, all_columns=self.columns is None)
            out = np.empty((len(frame), len(self.feature_names)), dtype=self.dtype)
            for j in range(out.shape[1]):
                out[:, j] = frame.iloc[:, j].to_numpy(dtype=self.dtype, na_value=np.nan)
            yield start, out
            start += len(frame)


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


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
        self.sample = np.empty((size, n_features), dtype=dtype)
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
                "drop or impute them first"
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
class _Progress:
    """One tqdm bar per pass over the data, or nothing."""

    def __init__(self, progress):
        if progress is None:
            progress = sys.stderr.isatty()
        self.enabled = bool(progress)

    def passes(self, stream, desc, total):
        if not self.enabled:
            yield from stream.chunks()
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, unit="rows", unit_scale=True, leave=False, file=sys.stderr) as bar:
            for start, chunk in stream.chunks():
                yield start, chunk
                bar.update(chunk.shape[0])


# ------------------------------------------------------------- Lloyd passes
class _StreamRows:
    """What the convergence loop needs to know of the rows (no data)."""

    sparse = False

    def __init__(self, n, d, dtype):
        self.n, self.d, self.dtype = n, d, np.dtype(dtype)


class StreamLloydStep:
    """The Lloyd step (:class:`~kmeanskit._algorithms.lloyd.LloydStep` interface) over a stream.

    Each call reads the source once; each chunk is mapped to ``(x - shift) *
    scale`` and assigned by a ``LloydStep`` of its own, whose sums are added
    in chunk order (deterministic). The ``n_clusters`` farthest rows of the
    pass (by the rule of :func:`~kmeanskit._algorithms.lloyd.mean_update`)
    are kept, so that empty clusters are relocated as in memory.

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
            chunk -= self.shift
            if self.scale != 1.0:
                chunk *= chunk.dtype.type(self.scale)
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
        from kmeanskit._algorithms.lloyd import mean_update

        far = self._far
        return mean_update(far.as_rows(), centers, far.labels, far.sq_dist, assignment)

    def inertia(self, centers, labels):
        from kmeanskit._algorithms.lloyd import LloydStep

        total = 0.0
        for start, rows in self.mapped_chunks("inertia"):
            total += LloydStep(rows, self.n_clusters).inertia(centers, labels[start:start + rows.n])
        return total


class _FarthestRows:
    """The ``size`` rows of a pass farthest from their center, in row order.

    The key is ``mean_update``'s: the squared distance, or -inf at rounding
    level (duplicates of their center); ties go to the earlier row.
    """

    def __init__(self, size, d, dtype):
        self.size = size
        self.X = np.empty((0, d), dtype=dtype)
        self.labels = np.empty(0, dtype=np.int32)
        self.sq_dist = np.empty(0)
        self.key = np.empty(0)
        self.index = np.empty(0, dtype=np.int64)

    def add(self, rows, centers, labels, sq_dist, start):
        centers64 = centers.astype(np.float64)
        center_sq = np.einsum("ij,ij->i", centers64, centers64)
        noise = rows.sq_dist_rel_noise * (rows.x_sq + center_sq[labels])
        key = np.where(sq_dist > noise, sq_dist, -np.inf)
        m = min(self.size, key.size)
        top = np.argpartition(-key, m - 1)[:m] if m < key.size else np.arange(key.size)
        X = np.concatenate((self.X, rows.X[top]))
        lab = np.concatenate((self.labels, labels[top]))
        sq = np.concatenate((self.sq_dist, sq_dist[top]))
        keys = np.concatenate((self.key, key[top]))
        index = np.concatenate((self.index, start + top))
        order = np.lexsort((index, -keys))[: self.size]
        order = order[np.argsort(index[order])]  # back to row order
        self.X, self.labels, self.sq_dist = X[order], lab[order], sq[order]
        self.key, self.index = keys[order], index[order]

    def as_rows(self):
        from kmeanskit._algorithms.rows import DenseRows

        return DenseRows(np.ascontiguousarray(self.X), np.ones(self.X.shape[0], dtype=self.X.dtype))


# ------------------------------------------------------------------- public
def fit_out_of_core(
    source,
    n_clusters,
    *,
    columns=None,
    chunk_rows=65536,
    init="k-means++",
    sample_size=None,
    max_iter=300,
    tol=1e-4,
    mini_batch=False,
    random_state=None,
    progress=None,
    dtype=np.float64,
):
    """Fit K-Means to a CSV or Parquet file without reading it whole into memory.

    Parameters
    ----------
    source : str, path-like, pandas.DataFrame or ndarray of shape (n_samples, n_features)
        A ``.csv``/``.tsv``/``.txt`` file (optionally compressed, as
        :func:`kmeanskit.io.read_table` reads them) or a ``.parquet``/``.pq``
        file or directory; or a table already in memory (read chunk by chunk
        the same way). Columns follow ``read_table``'s rules: numeric or
        boolean only, no missing or infinite values, refused with the same
        messages.
    n_clusters : int
        Number of clusters.
    columns : sequence of str, optional
        Feature columns, in order; all by default.
    chunk_rows : int, default=65536
        Rows read at a time; memory use grows with it, not with the file.
    init : {'k-means++', 'random'} or array-like of shape (n_clusters, n_features), \
            default='k-means++'
        Greedy k-means++ or random rows on the reservoir sample, or the
        initial centers (in the units of the data).
    sample_size : int, optional
        Rows of the uniform sample used to seed the centers; by default
        ``max(65536, 64 * n_clusters)`` (all rows when the source is smaller).
    max_iter : int, default=300
        Maximum number of Lloyd passes (or of mini-batch passes).
    tol : float, default=1e-4
        Convergence tolerance on the squared shift of the centers relative to
        the mean feature variance, as in :class:`kmeanskit.KMeans` (the
        variance is computed exactly in the first pass).
    mini_batch : bool, default=False
        Mini-batch passes (faster on big data, slightly higher inertia)
        instead of exact Lloyd passes; returns a ``MiniBatchKMeans``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sample, the seeding and (mini-batch) the shuffling.
    progress : bool or None, default=None
        A progress bar per pass on stderr; None shows it when stderr is a
        terminal.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Precision of the computation and of the centers.

    Returns
    -------
    KMeans or MiniBatchKMeans
        Fitted, as if fitted in memory: ``cluster_centers_``, ``labels_``
        (one per row, in file order, what ``predict`` returns), ``inertia_``,
        ``n_iter_``, ``n_features_in_``, ``feature_names_in_``; ``predict``
        and ``transform`` work on arrays and DataFrames in memory.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a parameter is out of range, or the data are refused (see ``source``).

    Examples
    --------
    >>> from kmeanskit.streaming import fit_out_of_core
    >>> km = fit_out_of_core("events.parquet", 8, columns=["x", "y"], random_state=0)  # doctest: +SKIP
    >>> km.predict(new_rows)  # doctest: +SKIP
    """
    n_clusters, chunk_rows, max_iter = _check_counts(n_clusters=n_clusters, chunk_rows=chunk_rows, max_iter=max_iter)
    if sample_size is not None:
        (sample_size,) = _check_counts(sample_size=sample_size)
    if not isinstance(tol, Real) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    stream = TableStream(source, columns, chunk_rows, dtype)
    return _fit_stream(
        stream, n_clusters, init=init, sample_size=sample_size, max_iter=max_iter, tol=tol,
        mini_batch=mini_batch, random_state=random_state, progress=_Progress(progress),
    )


def _check_counts(**values):
    out = []
    for name, value in values.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
        out.append(int(value))
    return out


def _validated_init(init, n_clusters, n_features, dtype):
    if isinstance(init, str) or callable(init):
        if callable(init) or init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++', 'random' or an array of centers, got {init!r}")
        return None
    from sklearn.utils.validation import check_array

    centers = check_array(init, dtype=dtype, copy=True, order="C", input_name="init")
    if centers.shape != (n_clusters, n_features):
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match n_clusters={n_clusters} "
            f"and n_features={n_features}; expected {(n_clusters, n_features)}."
        )
    return centers


def _check_random_state(seed):
    """:func:`sklearn.utils.check_random_state`, without importing scikit-learn."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, Integral):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")


def _release_reader_memory():
    """Give freed memory back to the system before the next step allocates more
    (after a pass, or after the silhouette's distance blocks).

    Arrow's allocator keeps the reader's freed buffers for reuse, and glibc's
    malloc the freed chunks inside its heap; both are otherwise counted in
    the process's memory while scikit-learn is imported and labels are kept.
    """
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (AttributeError, OSError):  # not glibc (e.g. musl)
            pass


def _fit_stream(stream, n_clusters, *, init, sample_size, max_iter, tol, mini_batch, random_state, progress):
    """Survey, seed, then Lloyd or mini-batch passes over ``stream``; a fitted estimator.

    The passes run in helper functions so that each pass's chunks (and the
    seeding's copies of the sample) are freed when it ends, not kept to the
    end of the fit.
    """
    from kmeanskit._algorithms.rows import pow2_scale

    d, dtype = len(stream.feature_names), stream.dtype
    init_array = _validated_init(init, n_clusters, d, dtype)
    rs = _check_random_state(random_state)
    if sample_size is None:
        sample_size = max(65536, 64 * n_clusters)

    survey = _survey(stream, sample_size, rs, progress, "survey (pass 0)")
    survey.check(n_clusters)
    n = survey.n
    _release_reader_memory()

    # Rows are centered on the exact mean (as KMeans centers them in memory)
    # and, if huge, scaled by a power of two.
    scale = pow2_scale(survey.abs_max, dtype)
    shift = survey.mean.astype(dtype)
    tol_abs = float(np.mean(survey.variance) * tol) * scale * scale
    if init_array is not None:
        centers = (init_array - shift) * dtype.type(scale)
    else:
        centers = _seed_centers(survey.reservoir.rows(), shift, scale, n_clusters, init, rs)
    del survey  # the sample: the passes need only the centers

    if mini_batch:
        est = _mini_batch_passes(
            stream, n, centers, shift, scale, tol_abs, max_iter, init, tol, random_state, rs, progress
        )
        labels, inertia = _mini_batch_labels(est, stream, n, progress)
    else:
        est = _lloyd_passes(stream, n, centers, shift, scale, tol_abs, max_iter, init, tol, random_state, progress)
        labels, inertia = est.labels_, est.inertia_
    est.n_features_in_ = d
    if stream.has_names:
        est.feature_names_in_ = np.asarray(stream.feature_names, dtype=object)
    est.labels_ = labels
    est.inertia_ = float(inertia)
    return est


def _survey(stream, sample_size, random_state, progress, desc):
    """The :class:`Survey` of one pass over ``stream`` (its chunks are freed on return)."""
    survey = Survey(stream, sample_size, random_state)
    for _, chunk in progress.passes(stream, desc, stream.n_rows):
        survey.add(chunk)
    return survey


def _seed_centers(sample, shift, scale, n_clusters, init, rs):
    """Initial centers chosen on the mapped ``sample`` (whose copies are freed on return)."""
    from kmeanskit._algorithms.init import kmeans_plusplus_rows, random_rows
    from kmeanskit._algorithms.rows import DenseRows

    mapped = (sample - shift) * sample.dtype.type(scale)
    rows = DenseRows(np.ascontiguousarray(mapped), np.ones(sample.shape[0], dtype=sample.dtype))
    if init == "random":
        return random_rows(rows, n_clusters, rs)
    return kmeans_plusplus_rows(rows, n_clusters, rs)[0]


def _mini_batch_labels(est, stream, n, progress):
    """The final pass of a mini-batch fit: ``predict``'s labels and the inertia."""
    labels, inertia = np.empty(n, dtype=np.int32), 0.0
    for start, chunk in progress.passes(stream, "labels (last pass)", n):
        lb, part = est._assign(chunk)
        labels[start:start + chunk.shape[0]] = lb
        inertia += part
    return labels, inertia


def _lloyd_passes(stream, n, centers, shift, scale, tol_abs, max_iter, init, tol, random_state, progress):
    """Lloyd passes, then the final labelling pass; the fitted ``KMeans``.

    scikit-learn (the ``KMeans`` class) is imported only after the last pass,
    once the reader's memory is given back.
    """
    from kmeanskit._algorithms.loop import run_kmeans

    step = StreamLloydStep(stream, n, centers.shape[0], shift, scale, progress)
    run = run_kmeans(step, centers, max_iter=max_iter, tol=tol_abs)
    del step
    cluster_centers = run.centers / stream.dtype.type(scale) + shift
    # The final labels are predict's, chunk by chunk (into the Lloyd labels' array).
    labels = run.labels
    inertia = _predict_pass(stream, n, cluster_centers, shift, labels, progress)
    _release_reader_memory()
    from kmeanskit._kmeans import KMeans

    est = KMeans(
        centers.shape[0], init=init if isinstance(init, str) else np.asarray(init), n_init=1,
        max_iter=max_iter, tol=tol, random_state=random_state,
    )
    est.cluster_centers_ = cluster_centers
    est._X_mean = shift
    est._n_features_out = centers.shape[0]
    est.n_iter_ = run.n_iter
    est.labels_, est.inertia_ = labels, inertia
    est.inertia_history_ = run.inertia_history / scale / scale
    return est


def _predict_pass(stream, n, centers, shift, labels, progress):
    """The final pass: ``predict``'s labels into ``labels``; the inertia."""
    inertia = 0.0
    for start, chunk in progress.passes(stream, "labels (last pass)", n):
        inertia += _predict_into(chunk, centers, shift, labels[start:start + chunk.shape[0]])
    return inertia


def _predict_into(X, centers, shift, out):
    """What ``KMeans._assign(X)`` does for a model fitted with ``cluster_centers_=centers``
    and ``_X_mean=shift``, without the class (scikit-learn): labels into ``out``; the inertia.

    The mapping is ``KMeans``'s (``prediction_rows``), so the labels are ``predict``'s.
    """
    from kmeanskit._algorithms.lloyd import LloydStep
    from kmeanskit._algorithms.rows import prediction_rows

    rows, mapped, scale = prediction_rows(X, np.ones(X.shape[0], dtype=X.dtype), centers, shift)
    return LloydStep(rows, centers.shape[0])(mapped, out, update=False).inertia / scale / scale


def _mini_batch_passes(stream, n, centers, shift, scale, tol_abs, max_iter, init, tol, random_state, rs, progress):
    from kmeanskit._algorithms.threads import single_threaded_blas
    from kmeanskit._minibatch import BatchStep, MiniBatchKMeans, serial_kernels

    k, d, dtype = centers.shape[0], centers.shape[1], stream.dtype
    est = MiniBatchKMeans(
        k, init=init if isinstance(init, str) else np.asarray(init), max_iter=max_iter,
        batch_size=_MINI_BATCH_SIZE, random_state=random_state, tol=tol,
    )
    b = min(_MINI_BATCH_SIZE, n)
    est._batch_size = b
    est._X_mean, est._scale, est._tol = shift, scale, tol_abs
    est._counts = np.zeros(k)
    est._n_since_last_reassign = 0
    est._reset_convergence()
    step = BatchStep(k, d, dtype, False, est.reassignment_ratio)
    weights = np.ones(b, dtype=dtype)
    n_steps_max = (max_iter * n) // b
    i, converged, passes = 0, False, 0
    carry = np.empty((0, d), dtype=dtype)  # mapped rows short of a batch, for the next chunk
    with single_threaded_blas(), serial_kernels(b * k * d):
        while passes < max_iter and not converged:
            passes += 1
            for _, chunk in progress.passes(stream, f"mini-batch (pass {passes})", n):
                chunk -= shift
                if scale != 1.0:
                    chunk *= dtype.type(scale)
                if carry.shape[0]:
                    chunk = np.concatenate((carry, chunk))
                # Files are often sorted: shuffle each chunk before cutting batches.
                chunk = chunk[rs.permutation(chunk.shape[0])]
                full = chunk.shape[0] - chunk.shape[0] % b
                carry = chunk[full:]
                for lo in range(0, full, b):
                    batch_inertia, centers, sq_shift = step(
                        chunk[lo:lo + b], weights, centers, est._counts, random_state=rs,
                        reassign=est._random_reassign(),
                    )
                    converged = est._mini_batch_convergence(i, n_steps_max, n, sq_shift if tol_abs > 0 else 0,
                                                            batch_inertia)
                    i += 1
                    if converged:
                        break
                if converged:
                    break
    est.cluster_centers_ = np.ascontiguousarray(centers / dtype.type(scale) + shift, dtype=dtype)
    est._n_features_out = k
    est.n_steps_ = i
    est.n_iter_ = passes
    return est


# ------------------------------------------------------- the CLI's workflow
# The keys of kmeanskit._workflow.SCALINGS (a test pins them equal); that
# module imports scikit-learn, which the passes do without.
_SCALINGS = ("standard", "minmax", "none")


class _Scaling:
    """The scaler of ``scale``, fitted on a :class:`Survey` of the raw rows, without scikit-learn.

    Its attributes are those that ``StandardScaler`` or ``MinMaxScaler``
    ``partial_fit`` would set chunk by chunk: the mean and variance are the
    survey's exact moments (equal up to rounding), the range is exact, and
    near-constant features keep a scale of 1 by scikit-learn's rules.
    :meth:`transform` does what the scaler's ``transform`` does, bit for bit,
    in place; :meth:`estimator` is the fitted scikit-learn scaler.
    """

    def __init__(self, scale, survey):
        self.scale = scale
        n, eps = survey.n, np.finfo(np.float64).eps
        if scale == "standard":
            mean, var = survey.mean.copy(), survey.variance
            # sklearn.preprocessing._data._is_constant_feature: zero up to the rounding of the variance.
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.attributes = {
                "mean_": mean, "var_": var, "scale_": np.where(constant, 1.0, np.sqrt(var)),
                "n_samples_seen_": np.float64(n),
            }
        elif scale == "minmax":
            low, high = survey.data_min.copy(), survey.data_max.copy()
            data_range = high - low
            # sklearn.preprocessing._data._handle_zeros_in_scale: a range near zero scales by 1.
            factor = 1.0 / np.where(data_range < 10 * eps, 1.0, data_range)
            self.attributes = {
                "min_": 0.0 - low * factor, "scale_": factor, "data_min_": low, "data_max_": high,
                "data_range_": data_range, "n_samples_seen_": n,
            }
        else:
            self.attributes = None

    def transform(self, chunk):
        """Scale ``chunk`` (float64, C-ordered) in place, as the scaler's ``transform`` does."""
        a = self.attributes
        if self.scale == "standard":
            chunk -= a["mean_"]
            chunk /= a["scale_"]
        elif self.scale == "minmax":
            chunk *= a["scale_"]
            chunk += a["min_"]
        return chunk

    def estimator(self, names):
        """The fitted ``StandardScaler`` or ``MinMaxScaler`` (``"passthrough"`` for no scaling)."""
        from kmeanskit._workflow import _make_scaler

        scaler = _make_scaler(self.scale)
        if self.attributes is not None:
            for name, value in self.attributes.items():
                setattr(scaler, name, value)
            scaler.n_features_in_ = len(names)
            scaler.feature_names_in_ = np.asarray(names, dtype=object)
        return scaler


class _ScaledStream:
    """A stream whose chunks go through a fitted :class:`_Scaling`."""

    kind = "scaled"
    has_names = False  # the scaler hands arrays on, as in a Pipeline

    def __init__(self, stream, scaling):
        self.stream, self.scaling = stream, scaling
        self.feature_names, self.dtype = stream.feature_names, stream.dtype
        self.n_rows, self.label = stream.n_rows, stream.label

    def chunks(self):
        for start, chunk in self.stream.chunks():
            yield start, self.scaling.transform(chunk)


def fit_clusters_out_of_core(
    source, n_clusters, *, columns=None, scale="standard", chunk_rows=65536, mini_batch=False,
    random_state=None, max_iter=300, tol=1e-4, progress=None, silhouette_sample_size=10_000,
):
    """:func:`kmeanskit._workflow.fit_clusters`, streaming: the file is never read whole.

    A first pass checks the values, computes the scaler's statistics (exact
    moments and range) and draws a uniform sample of ``silhouette_sample_size``
    rows for the silhouette; :func:`fit_out_of_core` then clusters the scaled
    stream, and its final labelling pass gives the cluster sizes.

    Parameters
    ----------
    source : str, path-like or pandas.DataFrame
        As for :func:`fit_out_of_core`.
    n_clusters : int
    columns : sequence of str, optional
    scale : {"standard", "minmax", "none"}, default="standard"
    chunk_rows : int, default=65536
    mini_batch : bool, default=False
    random_state : int or None, default=None
    max_iter : int, default=300
    tol : float, default=1e-4
    progress : bool or None, default=None
    silhouette_sample_size : int, default=10000

    Returns
    -------
    kmeanskit._workflow.FitResult
        As from ``fit_clusters``; ``pipeline`` ends in the fitted ``KMeans``
        (or ``MiniBatchKMeans``), ``labels`` come from the final pass.
    """
    import time

    if scale not in _SCALINGS:
        raise ValueError(f"scale must be one of {', '.join(map(repr, _SCALINGS))}; got {scale!r}")
    (n_clusters,) = _check_counts(n_clusters=n_clusters)
    (chunk_rows,) = _check_counts(chunk_rows=chunk_rows)
    (silhouette_sample_size,) = _check_counts(silhouette_sample_size=silhouette_sample_size)
    progress = _Progress(progress)
    start_time = time.perf_counter()
    stream = TableStream(source, columns, chunk_rows, np.float64)
    names = stream.feature_names
    survey = _survey(stream, silhouette_sample_size, _check_random_state(random_state), progress, "scaling (pass 0)")
    survey.check()
    if n_clusters > survey.n:
        raise ValueError(
            f"the number of clusters (k, n_clusters) is {n_clusters}, more than the number of rows "
            f"({survey.n}): every cluster needs at least one row"
        )
    scaling = _Scaling(scale, survey)
    fitted = stream if scale == "none" else _ScaledStream(stream, scaling)
    fitted.n_rows = survey.n
    km = _fit_stream(
        fitted, n_clusters, init="k-means++", sample_size=None, max_iter=max_iter, tol=tol,
        mini_batch=mini_batch, random_state=random_state, progress=progress,
    )
    fit_seconds = time.perf_counter() - start_time

    import pandas as pd
    from sklearn.pipeline import Pipeline

    from kmeanskit._workflow import _fit_result, _silhouette

    scaler = scaling.estimator(names)
    sample = pd.DataFrame(survey.reservoir.rows(), columns=names)
    scaled_sample = sample.to_numpy() if isinstance(scaler, str) else scaler.transform(sample)
    labels = km.labels_
    sample_labels = km.predict(sample if isinstance(scaler, str) else scaled_sample)
    silhouette, note = _silhouette(scaled_sample, sample_labels, None, random_state)
    # Its distance blocks (16 MB) stay in malloc's heap otherwise, under what comes next (saving the model).
    _release_reader_memory()
    if survey.n > sample.shape[0] and silhouette is not None:
        note = f"estimated on a random sample of {sample.shape[0]} of {survey.n} rows"
    elif survey.n > sample.shape[0]:
        note = f"undefined on a random sample of {sample.shape[0]} of {survey.n} rows"

    centers_scaled = np.asarray(km.cluster_centers_)
    centers_original = centers_scaled if isinstance(scaler, str) else scaler.inverse_transform(centers_scaled)
    return _fit_result(
        Pipeline([("scale", scaler), ("kmeans", km)]), labels, centers_original, list(names), fit_seconds,
        silhouette, note, scale=scale, random_state=random_state,
    )
