"""Reading a table in chunks: :class:`TableStream`, for passes over files larger than memory.

CSV (and its compressed forms) through pandas' chunked reader, Parquet through
PyArrow's batches copied from their Arrow buffers (``pyarrow.Array.to_numpy``
would import pandas), and in-memory arrays cut into slices. The values are
checked by the rules :func:`kmeanskit._io.tables.read_table` applies
(:mod:`kmeanskit._io.table_rules`), with the same messages.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from kmeanskit._io import table_rules as rules

__all__ = ["TableStream"]

# Parquet is read in Arrow batches of this many rows through a buffer of this
# many bytes: small batches through a small buffer keep a pass's memory low at
# no cost in speed (benchmarks/README.md, "Input and output").
_PARQUET_BATCH_ROWS = 8192
_PARQUET_BUFFER_BYTES = 1 << 16


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
    layout : TextLayout, optional
        Delimited files only: lines to skip before the table, and whether it
        has a header line (by default the first line is the header).

    Attributes
    ----------
    feature_names : list of str
    n_rows : int or None
        Known upfront for Parquet and tables in memory, else after a pass.
    label : str
        How the source is named in messages.

    Notes
    -----
    A fit reads a file several times, and must never return a result computed
    from a file that changed between (or during) its passes. The first complete
    pass (the survey) records the identity of every file read (device, inode,
    size, modification time in ns), the row count and a CRC-32 of the values
    read; every later pass re-checks the identity before it starts and when it
    ends, the row count as soon as it is exceeded and at the end, the checksum
    at the end, and that every value is finite (the survey refuses non-finite
    values with counts over the whole file). A difference is a ``ValueError``
    naming the file, the pass and what changed. A file touched but identical
    is refused too (its modification time changed): the safe default, since
    only a full pass could tell. The checks read each chunk's values once more,
    a small part of a pass (measured in benchmarks/README.md, "Input and output").
    """

    def __init__(self, source, columns, chunk_rows, dtype, layout=None):
        self.layout = rules.TextLayout() if layout is None else layout
        self.chunk_rows = chunk_rows
        self.dtype = np.dtype(dtype)
        self.columns = None if columns is None else columns
        self.n_rows = None
        self._frame = None
        self.has_names = True
        self._survey = None  # (identity, n_rows, crc32) of the first complete pass
        self._rows_read = 0  # rows of the last complete pass
        if isinstance(source, (str, os.PathLike)):
            self._open_file(Path(source))
        else:
            self._open_memory(source)

    # -- files
    def _open_file(self, path):
        rules.check_exists(path)
        rules.check_rereadable(path, "it is read once per pass")
        self.path = path
        self.label = f"'{path}'"
        self.kind = rules.file_kind(path)
        if self.kind == "parquet":
            rules.refuse_text_options(path, self.layout)
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
            raise ValueError(f"could not read '{path}' as Parquet: {rules.one_line(exc)}") from exc
        self._select(rules.data_columns(schema))

    def _open_csv(self, path):
        import pandas as pd

        self._sep = rules.delimiter(path, self.layout)
        self._wide = []  # columns of integers beyond int64, read as float64 (found by a pass)
        try:
            with rules.damaged_archive(path):
                header = pd.read_csv(path, sep=self._sep, nrows=1, **self.layout.pandas_options())
        except pd.errors.EmptyDataError:
            raise ValueError(f"'{path}' is empty: it has no header and no columns") from None
        except UnicodeDecodeError as exc:
            raise rules.encoding_hint(exc, self.label, self.layout) from exc
        except pd.errors.ParserError as exc:
            raise ValueError(f"could not parse '{path}' as CSV: {rules.one_line(exc)}") from exc
        first_value = header.iloc[0, 0] if header.shape[1] == 1 and len(header) else None
        rules.refuse_one_column([str(c) for c in header.columns], first_value, self.label, self._sep)
        if self.layout.header:
            names = [str(c) for c in header.columns]
            rules.refuse_data_as_header(names, self.label, self.layout)
            self._names = None
        else:
            names = self._names = rules.header_names(header.shape[1])
        # Every line must have the header's fields: pandas would shift or pad
        # the values of one that does not, and the chunks read only some columns.
        rules.check_field_counts_fast(path, self._sep, self.layout)
        if self.layout.header:
            rules.refuse_metadata_header(names, self.label, self.layout)
        self._select(names)

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
        if not names:
            raise ValueError(f"{self.label} has no columns")
        if self.columns is None:
            rules.refuse_unnamed(names, self.label)
            self.feature_names = list(names)
        else:
            self.feature_names = [str(c) for c in rules.check_selection(names, self.columns, self.label)]

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
                raise ValueError(f"could not read {self.label} as Parquet: {rules.one_line(exc)}") from exc

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

        for field in batch.schema:
            t = field.type
            if not (pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t) or pat.is_decimal(t)):
                # read_table's message, with an example value.
                frame = next(self._parquet_frames()).set_axis(self.feature_names, axis=1)
                rules.refuse_non_numeric(frame, self.label, all_columns=self.columns is None)
                raise ValueError(f"{self.label} has a column of type {t} ('{field.name}'), which is not numeric")

    def _csv_frames(self):
        import pandas as pd

        options = {"sep": self._sep, "usecols": self.feature_names, "names": self._names,
                   **self.layout.pandas_options()}
        given = 0  # rows yielded in this pass, a multiple of chunk_rows until the last chunk
        try:
            with rules.damaged_archive(self.path):
                while True:
                    try:
                        reader = pd.read_csv(
                            self.path, chunksize=self.chunk_rows, dtype_backend="pyarrow",
                            dtype=dict.fromkeys(self._wide, "float64"), **options,
                        )
                        with reader:
                            for seen, frame in enumerate(reader):
                                if seen * self.chunk_rows >= given:
                                    given += len(frame)
                                    yield frame[self.feature_names]
                        return
                    except OverflowError:
                        if self._wide:
                            raise
                        # Integers beyond int64 (as read_table reads them): the pass
                        # goes on from the chunk that overflowed, and the next ones
                        # read these columns as float64 from the start.
                        self._wide = rules.wide_integer_columns(self.path, self.label, **options)
                        if not self._wide:
                            raise
        except UnicodeDecodeError as exc:
            raise rules.encoding_hint(exc, self.label, self.layout) from exc
        except pd.errors.ParserError as exc:
            raise ValueError(f"could not parse {self.label} as CSV: {rules.one_line(exc)}") from exc

    def chunks(self, name="a pass"):
        """Yield ``(start_row, X_chunk)``; X_chunk is a new C-ordered array of ``dtype``.

        Non-numeric columns are refused on sight (as by ``read_table``);
        missing and infinite values become NaN and inf here and are counted by
        the survey pass. After the first complete pass, a pass over a file
        that changed is refused (see Notes); ``name`` names the pass in the
        message ("Lloyd pass 3").
        """
        if self.kind == "memory":
            # A table in memory is the caller's object, held by the stream:
            # nothing outside the process can change it, and its values are the
            # caller's to keep (as for any estimator's fit). Only its length is
            # checked, since the labels of a pass are written by row position.
            yield from self._checked_rows(self._read_chunks(), name)
            if self._survey is None:
                self._survey = (None, self._rows_read, None)
            return
        identity = self._identity(name)
        survey = self._survey
        if survey is not None and identity != survey[0]:
            self._changed(name, _what_changed(survey[0], identity))
        crc = 0
        for start, chunk in self._checked_rows(self._read_chunks(), name):
            if survey is not None and not np.isfinite(chunk).all():
                row = start + int(np.flatnonzero(~np.isfinite(chunk).all(axis=1))[0])
                self._changed(name, f"row {row} (from 0) has a missing or infinite value, which the survey did not find")
            crc = zlib.crc32(chunk, crc)  # before the caller maps the chunk in place
            yield start, chunk
        after = self._identity(name)
        if after != identity:
            self._changed(name, _what_changed(identity, after))
        if survey is None:
            self._survey = (identity, self._rows_read, crc)
        elif crc != survey[2]:
            self._changed(name, "its contents differ from the survey's (their checksum)")

    def _checked_rows(self, chunks, name):
        """``chunks``, refused as soon as they hold more rows than the first complete pass, or fewer at its end."""
        expected = None if self._survey is None else self._survey[1]
        rows = 0
        for start, chunk in chunks:
            rows += chunk.shape[0]
            if expected is not None and rows > expected:
                self._changed(name, f"it has more than the {expected} rows of the survey")
            yield start, chunk
        if expected is not None and rows != expected:
            self._changed(name, f"it has {rows} rows, not the {expected} of the survey")
        self._rows_read = rows

    def _identity(self, name):
        """(device, inode, size, modification time in ns) of every file read."""
        files = self._files if self.kind == "parquet" else [self.path]
        try:
            return tuple((f, *_stat_identity(os.stat(f))) for f in map(str, files))
        except FileNotFoundError:
            self._changed(name, "it was removed")

    def _changed(self, name, what):
        noun = "table" if self.kind == "memory" else "file"
        raise ValueError(
            f"{self.label} changed during the fit ({name}): {what}; the {noun} must not change while it is fitted"
        )

    def _read_chunks(self):
        if self.kind == "parquet":
            yield from self._parquet_chunks()
            return
        start = 0
        for frame in self.frames():
            frame = frame.set_axis(self.feature_names, axis=1)
            rules.refuse_non_numeric(frame, self.label, all_columns=self.columns is None)
            out = np.empty((len(frame), len(self.feature_names)), dtype=self.dtype)
            for j in range(out.shape[1]):
                out[:, j] = frame.iloc[:, j].to_numpy(dtype=self.dtype, na_value=np.nan)
            yield start, out
            start += len(frame)


def _stat_identity(st):
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _what_changed(before, after):
    """What differs between two identities of the same files, in words."""
    if len(before) != len(after):
        return "its files changed"
    changes = []
    for (_, dev, ino, size, mtime), (_, dev2, ino2, size2, mtime2) in zip(before, after, strict=True):
        if (dev, ino) != (dev2, ino2):
            changes.append("it was replaced by another file")
        if size != size2:
            changes.append(f"its size changed ({size} -> {size2} bytes)")
        if mtime != mtime2:
            changes.append("its modification time changed")
    return ", ".join(dict.fromkeys(changes))
