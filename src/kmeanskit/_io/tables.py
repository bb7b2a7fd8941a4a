"""Read tabular data for clustering, and write tables back.

The readers here return a :class:`pandas.DataFrame` whose columns are the
features to cluster, each of a plain NumPy numeric dtype, with no missing or
infinite values. Anything that would make the clustering silently wrong is
refused with a :class:`ValueError` that names the offending columns and says
what to do, rather than being dropped or coerced behind the user's back.

Type rules
----------
- Integer and floating columns are kept (float32 stays float32).
- A column of integers beyond int64 and uint64 (10**30 written in full) is
  read as float64, as pandas reads a float column; one with integers beyond
  the float64 range is refused by column, as infinite values are.
- Boolean columns are accepted as 0/1 indicators and converted to float64, so
  a cluster's center in such a column is the share of ``True`` in the cluster.
- Decimal columns (Parquet) are converted to float64.
- Everything else (strings, categories, dates, durations, complex numbers) is
  refused; select numeric columns with ``columns=``.
- A CSV column with an empty header (pandas calls it ``Unnamed: 0``) is
  usually an index saved with the data, so it is refused unless selected.

Format rules (suffixes, delimiters, column selection, refusals) are those of
:mod:`kmeanskit._io.table_rules`, which the chunked reader shares. Tables are
written (:func:`write_table`) atomically, as every file kmeanskit writes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from kmeanskit._io.atomic import atomic_write
from kmeanskit._io.markers import NA_VALUES_HINT, MissingMarkers, markers_text
from kmeanskit._io.table_rules import (
    MISSING_VALUES_REMEDY,
    PARQUET_SUFFIXES,
    TextLayout,
    check_exists,
    check_field_counts,
    check_selection,
    damaged_archive,
    data_columns,
    delimiter,
    encoding_hint,
    excerpt,
    file_kind,
    header_names,
    listing,
    one_line,
    refuse_data_as_header,
    refuse_metadata_header,
    refuse_non_numeric,
    refuse_one_column,
    refuse_text_options,
    refuse_unnamed,
    wide_integer_columns,
)

# pandas (a large import) is imported where a table is built, checked or
# written, not here, so that importing this module stays cheap.

__all__ = ["column_names", "compression_options", "read_raw_table", "read_text_cells", "read_table", "select_features", "write_delimited", "write_table"]

# The compression pandas infers from a file name (pandas.io.common's table, in
# its order): the table is written to a temporary file, whose name says nothing.
_WRITE_COMPRESSIONS = {".tar": "tar", ".tar.gz": "tar", ".tar.bz2": "tar", ".tar.xz": "tar", ".gz": "gzip",
                       ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}


def read_table(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    *,
    layout: TextLayout | None = None,
    allow_missing: bool = False,
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a numeric feature table.

    Parameters
    ----------
    path : str or path-like
        The file to read. The format follows the suffix: ``.csv`` (comma),
        ``.tsv`` (tab), both optionally compressed (``.gz``, ``.bz2``, ``.xz``,
        ``.zip``, ``.zst``); ``.txt`` (delimiter detected among comma, tab,
        semicolon, ``|`` and whitespace); ``.parquet`` or ``.pq`` (a file or a
        directory of Parquet files). Delimited files start with a header line
        (see `layout`); every line must have as many fields as it.
    columns : sequence of str, optional
        Names of the feature columns, in the order wanted. By default every
        column is used, and all of them must then be numeric.
    layout : TextLayout, optional
        Delimited files only: lines to skip before the table, and whether it
        has a header line. By default the first line is the header.
    allow_missing : bool, default=False
        Keep missing values (as NaN) instead of refusing them.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, n_features)
        The selected columns with NumPy numeric dtypes and a default
        ``RangeIndex`` (rows in file order). See the module notes for types.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist (or is a link to a file that does not).
    ValueError
        If the suffix is not supported, the file cannot be parsed or
        decompressed (truncated or damaged), it has no
        columns or no rows, a selected column does not exist, or a feature
        column is non-numeric, unnamed (when not selected) or has missing or
        infinite values.
    TypeError
        If `columns` is a single string rather than a list of names.

    Examples
    --------
    >>> from kmeanskit._io.tables import read_table
    >>> X = read_table("customers.csv", columns=["age", "income"])  # doctest: +SKIP
    """
    path = Path(path)
    # (The selection is checked there, once.)
    if allow_missing:
        frame, markers = read_raw_table(path, columns, layout=layout), None
    else:  # the cells read as missing for their text, named if missing values are refused
        frame, markers = read_raw_table(path, columns, layout=layout, return_markers=True)
    if columns is None:
        return select_features(frame, None, source=f"'{path}'", allow_missing=allow_missing, markers=markers)
    return _numeric_features(frame, f"'{path}'", all_columns=False, allow_missing=allow_missing, markers=markers)


def read_raw_table(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    *,
    layout: TextLayout | None = None,
    n_rows: int | None = None,
    return_markers: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, MissingMarkers]:
    """Read a CSV or Parquet file as it is: same formats as :func:`read_table`,
    but no column is checked or converted (text columns included).

    For commands that give the table back with columns added (``predict``),
    which must keep the user's other columns exactly, and for deciding the
    roles of a file's columns from its first rows before it is streamed
    (`n_rows`; the field counts of the whole file are then checked by the stream).

    Parameters
    ----------
    path : str or path-like
    columns : sequence of str, optional
        Read just these columns, in this order (Parquet files and text files
        with a header read only these).
    layout : TextLayout, optional
        Delimited files only, as for :func:`read_table`; a Parquet file refuses
        any option other than the defaults.
    n_rows : int, optional
        Read only the first `n_rows` rows (at least 1); all by default.
    return_markers : bool, default=False
        Also return which cells were read as missing for their text (a
        missing-value marker such as ``NA``: the layout's ``na_values``), and
        that text. The columns that have missing values are then read a second
        time, as text; Parquet files have no markers (see
        :mod:`kmeanskit._io.markers`).

    Returns
    -------
    frame : pandas.DataFrame of shape (n_samples, n_columns)
        With a default ``RangeIndex``; at most `n_rows` rows.
    markers : MissingMarkers
        Only with `return_markers`.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        As :func:`read_table`, for the file and the selection of `columns`;
        ValueError if `n_rows` is not a positive integer. A text `path` with
        missing values is read a second time (field counts, markers): it
        must be a regular file (the command line saves a pipe to one first).
    """
    if n_rows is not None and (isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 1):
        raise ValueError(f"n_rows must be None or a positive integer, got {n_rows!r}")
    path = Path(path)
    check_exists(path)
    kind = file_kind(path)
    layout = TextLayout() if layout is None else layout
    if kind == "parquet":
        refuse_text_options(path, layout)
        frame = _read_parquet(path, columns, n_rows)
        return (frame, MissingMarkers()) if return_markers else frame
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not a {kind} file")
    frame, sep, positions = _read_delimited(path, kind, layout, columns=columns, n_rows=n_rows)
    if not return_markers:
        return frame
    return frame, _markers(path, frame, sep, positions, layout, n_rows)


def select_features(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    source: str = "the data",
    allow_missing: bool = False,
    markers: MissingMarkers | None = None,
) -> pd.DataFrame:
    """Pick and check the feature columns of a table already in memory.

    Applies the same rules as :func:`read_table`; the input is not modified.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    columns : sequence of str, optional
        Names of the feature columns, in the order wanted; all by default.
    source : str, default="the data"
        How to name the table in error messages, e.g. a quoted file name.
    allow_missing : bool, default=False
        Keep missing values (as NaN, in float64 columns) instead of refusing them.
    markers : MissingMarkers, optional
        The cells of `frame` read as missing for their text (a marker such as
        ``NA``): a message refusing missing values names them.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, n_features)
        A new table of the selected columns with NumPy numeric dtypes and a
        default ``RangeIndex``.

    Raises
    ------
    ValueError
        If the table has no columns or no rows, `columns` is empty, repeats or
        misses a name, or a feature column is non-numeric, unnamed (when not
        selected) or has missing or infinite values.
    TypeError
        If `columns` is a single string rather than a list of names.
    """
    if frame.shape[1] == 0:
        raise ValueError(f"{source} has no columns")
    if columns is None:
        refuse_unnamed(frame.columns, source)
        selected = frame
    else:
        selected = frame[check_selection(frame.columns, columns, source)]
    return _numeric_features(selected, source, all_columns=columns is None, allow_missing=allow_missing,
                             markers=markers)


def _numeric_features(selected: pd.DataFrame, source: str, *, all_columns: bool, allow_missing: bool,
                      markers: MissingMarkers | None = None) -> pd.DataFrame:
    """:func:`select_features` on columns already selected: the rules of the values."""
    if len(selected) == 0:
        raise ValueError(f"{source} has no rows")
    refuse_non_numeric(selected, source, all_columns=all_columns)
    if not allow_missing:
        _refuse_missing(selected, source, MissingMarkers() if markers is None else markers)
    selected = _to_numpy_dtypes(selected)
    _refuse_infinite(selected, source)
    return selected.reset_index(drop=True)


def _read_delimited(
    path: Path, kind: str, layout: TextLayout, *, columns=None, n_rows=None,
) -> tuple[pd.DataFrame, str, dict[str, int]]:
    sep = delimiter(path, layout)
    import warnings

    import pandas as pd

    # index_col=False: a line with more fields than the header never turns the
    # first columns into an index; pandas warns instead, and the warning is an
    # error here (the field count check names the line).
    options = {"sep": sep, "index_col": False, "nrows": n_rows, **layout.pandas_options()}
    names = None
    if columns is not None and layout.header:
        # Only these columns are kept in memory (a streamed file's id column).
        names = column_names(path, sep, layout)
        columns = options["usecols"] = check_selection(names, columns, f"'{path}'")
    try:
        with warnings.catch_warnings(), damaged_archive(path):
            warnings.filterwarnings("error", "Length of header or names does not match", pd.errors.ParserWarning)
            try:
                # The pyarrow backend keeps integers and booleans with gaps as
                # such (numpy would turn them into float / object), so missing
                # values are reported as missing instead of a column looking
                # non-numeric.
                frame = pd.read_csv(path, dtype_backend="pyarrow", **options)
            except OverflowError:
                wide = wide_integer_columns(path, f"'{path}'", **options)
                frame = pd.read_csv(path, dtype_backend="pyarrow", dtype=dict.fromkeys(wide, "float64"), **options)
    except pd.errors.EmptyDataError:
        raise ValueError(f"'{path}' is empty: it has no header and no columns") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        with damaged_archive(path):  # (the line at fault is found by reading the file again)
            header = pd.read_csv(path, sep=sep, nrows=0, **layout.pandas_options())
        refuse_one_column(list(header.columns), None, f"'{path}'", sep)
        check_field_counts(path, sep, layout)
        raise ValueError(f"could not parse '{path}' as {kind.upper()}: {one_line(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise encoding_hint(exc, f"'{path}'", layout) from exc
    first_value = frame.iloc[0, 0] if frame.shape[1] == 1 and len(frame) else None
    if columns is None:
        refuse_one_column(list(frame.columns), first_value, f"'{path}'", sep)
    if layout.header:
        refuse_data_as_header([str(c) for c in frame.columns], f"'{path}'", layout)
        refuse_metadata_header([str(c) for c in frame.columns], f"'{path}'", layout)
    else:
        frame.columns = header_names(frame.shape[1])
    if n_rows is None and frame.isna().to_numpy().any():
        # A short line is padded with missing values: tell it from a gap.
        check_field_counts(path, sep, layout)
    # Each column's position in the file (for a second read of some of them).
    positions = {str(name): i for i, name in enumerate(frame.columns if names is None else names)}
    if columns is not None:  # (in the order asked; checked above when the file names its columns)
        frame = frame[columns if layout.header else check_selection(frame.columns, columns, f"'{path}'")]
    return frame, sep, positions


def _markers(path: Path, frame: pd.DataFrame, sep: str, positions: dict, layout: TextLayout,
             n_rows: int | None) -> MissingMarkers:
    """The cells of `frame` (read from `path`) that are missing but not empty in the file: its markers.

    The columns with missing values are read again as text, every cell as it
    is written (no marker applied), from the same lines.
    """
    gaps = [name for name in frame.columns if frame[name].hasnans]
    if not gaps:
        return MissingMarkers()
    wanted = sorted(positions[str(name)] for name in gaps)
    with damaged_archive(path):
        text = read_text_cells(path, layout, sep, wanted, nrows=n_rows)
    if len(text) != len(frame):  # cannot happen: the same lines, read with the same options
        raise RuntimeError(f"'{path}' gave {len(text)} rows read as text and {len(frame)} read as values")
    cells = {}
    for name in gaps:
        missing = frame[name].isna().to_numpy(dtype=bool)
        written = text.iloc[:, wanted.index(positions[str(name)])].to_numpy(dtype=object)[missing]
        marked = written != ""
        if marked.any():
            cells[str(name)] = (np.flatnonzero(missing)[marked].astype(np.int64), written[marked])
    return MissingMarkers(cells)


def column_names(path: Path, sep: str, layout: TextLayout) -> list[str]:
    """The names of the columns of the text table `path` as it is read: its header's (a repeated name is
    ``a.1``), or ``column_1``, ``column_2``... without a header line."""
    import pandas as pd

    with damaged_archive(path):
        read = pd.read_csv(path, sep=sep, nrows=0, **layout.pandas_options()).columns
    return [str(name) for name in read] if layout.header else header_names(len(read))


def read_text_cells(path: Path, layout: TextLayout, sep: str, usecols: Sequence[int] | None = None, *,
                    nrows: int | None = None, chunksize: int | None = None, header_as_row: bool = False):
    """The cells of the text table `path` as written: every cell a str, no marker read as missing.

    Read by pandas' parser with `layout`'s options, as the table is read (the
    same lines: blank lines and comments skipped alike): the columns at the
    positions `usecols` (in the file's order), the first `nrows` rows.
    `header_as_row` gives the header line (a layout's) as the first row,
    with each name as written. Returns a DataFrame, or with `chunksize` a
    reader of chunks (a context manager). Reads go in
    :func:`~kmeanskit._io.table_rules.damaged_archive`.
    """
    import pandas as pd

    options = {k: v for k, v in layout.pandas_options().items() if k not in ("keep_default_na", "na_values")}
    if header_as_row:
        options["header"] = None
    return pd.read_csv(path, sep=sep, index_col=False, usecols=usecols, nrows=nrows, chunksize=chunksize,
                       dtype=object, na_filter=False, **options)


def _read_parquet(path: Path, columns: Sequence[str] | None, n_rows: int | None = None) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        # As pyarrow.parquet.read_table opens it (hive partitions, their values as dictionaries).
        dataset = ds.dataset(path, format="parquet", partitioning=ds.HivePartitioning.discover(infer_dictionary=True))
        names = data_columns(dataset.schema)
        if columns is not None:
            names = check_selection(names, columns, f"'{path}'")  # early, before reading
        table = dataset.to_table(columns=names) if n_rows is None else dataset.head(n_rows, columns=names)
    except (pa.ArrowInvalid, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"could not read '{path}' as Parquet: {one_line(exc)}") from exc
    return table.to_pandas(types_mapper=pd.ArrowDtype).reset_index(drop=True)


def _refuse_missing(frame: pd.DataFrame, source: str, markers: MissingMarkers) -> None:
    counts = frame.isna().sum()
    counts = counts[counts > 0]
    if len(counts):
        said = {name: markers.counts(str(name)) for name in counts.index}
        detail = listing([f"'{excerpt(str(name))}' ({n} missing{'; ' + markers_text(said[name]) if said[name] else ''})"
                          for name, n in counts.items()])
        hint = f" ({NA_VALUES_HINT})" if any(said.values()) else ""
        raise ValueError(
            f"{source} has missing values in {len(counts)} of {frame.shape[1]} columns: "
            f"{detail}{hint}; {MISSING_VALUES_REMEDY}"
        )


def _refuse_infinite(frame: pd.DataFrame, source: str) -> None:
    bad = []
    for name, column in frame.items():
        values = column.to_numpy()
        if values.dtype.kind == "f":
            n_inf = int(np.isinf(values).sum())
            if n_inf:
                bad.append(f"'{excerpt(str(name))}' ({n_inf} infinite)")
    if bad:
        raise ValueError(
            f"{source} has infinite values: {listing(bad)}; drop or clip them first"
        )


def _to_numpy_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every (checked) column a plain NumPy numeric dtype; a column with gaps becomes float64 with NaN."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype

    arrays = []
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if is_bool_dtype(column.dtype) or column.hasnans:
            target = np.dtype(np.float64)
        else:
            target = getattr(column.dtype, "numpy_dtype", column.dtype)  # Arrow / nullable
            if not isinstance(target, np.dtype) or target.kind not in "iuf":
                target = np.dtype(np.float64)  # e.g. decimals
        arrays.append(np.array(column.to_numpy(dtype=target, na_value=np.nan), copy=True))
    # Positional keys keep repeated names (possible in memory) apart, and the
    # copies make sure the result never shares memory with the caller's frame.
    out = pd.DataFrame(dict(enumerate(arrays)), index=frame.index)
    out.columns = frame.columns
    return out


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a table to Parquet (``.parquet``, ``.pq``) or else delimited text, atomically.

    ``.tsv`` (optionally compressed) gets tabs, anything else commas; the text
    is compressed as pandas infers from the name (``.gz``, ``.bz2``, ``.zip``,
    ...). The index is not written.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or path-like
        Replaced only once the new table is complete.
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in PARQUET_SUFFIXES:
        with atomic_write(path) as handle:
            frame.to_parquet(handle, index=False)
    else:
        write_delimited(frame, path, sep="\t" if ".tsv" in suffixes[-2:] else ",")


def write_delimited(frame: pd.DataFrame, path: str | os.PathLike, *, sep: str = ",") -> None:
    """Write a table as delimited text (compressed as pandas infers from the name), atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or path-like
        Replaced only once the new table is complete.
    sep : str, default=","
    """
    path = Path(path)
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False, sep=sep, compression=compression_options(path))


def compression_options(path: Path) -> dict | None:
    """pandas' ``compression="infer"`` for `path`, spelled out for a file handle.

    The names pandas takes from the path are given explicitly, so that the
    file is the one pandas writes to `path` itself: the original name in the
    gzip header, the member name of a zip or tar archive, the tar compression.
    """
    name = path.name.lower()
    method = next((m for suffix, m in _WRITE_COMPRESSIONS.items() if name.endswith(suffix)), None)
    if method == "gzip":
        return {"method": "gzip", "filename": os.fspath(path)}
    if method == "tar":
        return {"method": "tar", "name": os.fspath(path)}
    if method == "zip":
        return {"method": "zip", "archive_name": path.stem if path.suffix == ".zip" else path.name}
    return None if method is None else {"method": method}
