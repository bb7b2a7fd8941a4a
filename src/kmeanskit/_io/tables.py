"""Read tabular data for clustering.

The readers here return a :class:`pandas.DataFrame` whose columns are the
features to cluster, each of a plain NumPy numeric dtype, with no missing or
infinite values. Anything that would make the clustering silently wrong is
refused with a :class:`ValueError` that names the offending columns and says
what to do, rather than being dropped or coerced behind the user's back.

Type rules
----------
- Integer and floating columns are kept (float32 stays float32).
- Boolean columns are accepted as 0/1 indicators and converted to float64, so
  a cluster's center in such a column is the share of ``True`` in the cluster.
- Decimal columns (Parquet) are converted to float64.
- Everything else (strings, categories, dates, durations, complex numbers) is
  refused; select numeric columns with ``columns=``.
- A CSV column with an empty header (pandas calls it ``Unnamed: 0``) is
  usually an index saved with the data, so it is refused unless selected.

Files are only read, never written.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# pandas (about 45 MB once imported) is imported where a table is built or
# checked, not here: the out-of-core fit uses this module's name and file
# helpers while streaming Parquet through Arrow alone.

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "one_line", "read_raw_table", "read_table", "select_features"]

#: Delimited-text suffixes and their separators; ``None`` means detected.
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
#: Parquet suffixes (a file, or a directory of Parquet files).
PARQUET_SUFFIXES = (".parquet", ".pq")
# pandas infers these from the name; only for .csv and .tsv, since .txt needs
# a look at the raw text to pick the delimiter.
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")

# pandas names header cells left empty "Unnamed: <i>"; the usual cause is an
# index saved by DataFrame.to_csv, which must not become a feature unasked.
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")


def read_table(path: str | os.PathLike, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file into a numeric feature table.

    Parameters
    ----------
    path : str or path-like
        The file to read. The format follows the suffix: ``.csv`` (comma),
        ``.tsv`` (tab), both optionally compressed (``.gz``, ``.bz2``, ``.xz``,
        ``.zip``, ``.zst``); ``.txt`` (delimiter detected among comma, tab,
        semicolon, ``|`` and whitespace); ``.parquet`` or ``.pq`` (a file or a
        directory of Parquet files). Delimited files must start with a header.
    columns : sequence of str, optional
        Names of the feature columns, in the order wanted. By default every
        column is used, and all of them must then be numeric.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, n_features)
        The selected columns with NumPy numeric dtypes and a default
        ``RangeIndex`` (rows in file order). See the module notes for types.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the suffix is not supported, the file cannot be parsed, it has no
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
    return select_features(read_raw_table(path, columns), columns, source=f"'{path}'")


def read_raw_table(path: str | os.PathLike, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file as it is: same formats as :func:`read_table`,
    but no column is checked or converted (text columns included).

    For commands that give the table back with columns added (``predict``),
    which must keep the user's other columns exactly.

    Parameters
    ----------
    path : str or path-like
    columns : sequence of str, optional
        Parquet only: read just these columns.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: '{path}'")
    kind = _file_kind(path)
    if kind == "parquet":
        return _read_parquet(path, columns)
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not a {kind} file")
    return _read_delimited(path, kind)


def select_features(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    source: str = "the data",
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
        unnamed = [str(c) for c in frame.columns if _UNNAMED.match(str(c))]
        if unnamed:
            raise ValueError(
                f"{source} has columns with no name in the header ({_names(unnamed)}), "
                "often an index saved with the data; choose the feature columns "
                "with --columns (columns=)"
            )
        selected = frame
    else:
        selected = frame[_check_selection(frame.columns, columns, source)]
    if len(selected) == 0:
        raise ValueError(f"{source} has no rows")
    _refuse_non_numeric(selected, source, all_columns=columns is None)
    _refuse_missing(selected, source)
    selected = _to_numpy_dtypes(selected)
    _refuse_infinite(selected, source)
    return selected.reset_index(drop=True)


def _file_kind(path: Path) -> str:
    """Return ``"csv"`` or ``"parquet"`` from the suffix, or raise."""
    suffixes = [s.lower() for s in path.suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in PARQUET_SUFFIXES:
        return "parquet"
    if last in CSV_SUFFIXES:
        return "csv"
    if last in _COMPRESSION_SUFFIXES and len(suffixes) > 1 and suffixes[-2] in (".csv", ".tsv"):
        return "csv"
    allowed = ", ".join([*CSV_SUFFIXES, *PARQUET_SUFFIXES])
    shown = last or "(none)"
    raise ValueError(
        f"cannot read '{path}': unsupported file extension {shown}; "
        f"supported: {allowed} (.csv and .tsv may be compressed: "
        f"{', '.join(_COMPRESSION_SUFFIXES)})"
    )


def _read_delimited(path: Path, kind: str) -> pd.DataFrame:
    suffixes = [s.lower() for s in path.suffixes]
    base = suffixes[-2] if suffixes[-1] in _COMPRESSION_SUFFIXES else suffixes[-1]
    sep = CSV_SUFFIXES[base]
    if sep is None:
        sep = _sniff_delimiter(path)
    import pandas as pd

    try:
        # The pyarrow backend keeps integers and booleans with gaps as such
        # (numpy would turn them into float / object), so missing values are
        # reported as missing instead of a column looking non-numeric.
        return pd.read_csv(path, sep=sep, dtype_backend="pyarrow")
    except pd.errors.EmptyDataError:
        raise ValueError(f"'{path}' is empty: it has no header and no columns") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"could not parse '{path}' as {kind.upper()}: {one_line(exc)}") from exc


def _sniff_delimiter(path: Path) -> str:
    """Pick the delimiter of a ``.txt`` file from its first lines."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        sample = handle.read(64 * 1024)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;| ").delimiter
    except csv.Error:
        # The sniffer wants the same count per line, which runs of spaces
        # (aligned columns) break; a single column has no delimiter at all.
        header = sample.splitlines()[0] if sample else ""
        delimiter = " " if len(header.split()) > 1 else ","
    return r"\s+" if delimiter == " " else delimiter


def _read_parquet(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetDataset(path).schema
        meta = schema.pandas_metadata or {}
        # A pandas index stored as a column is not data to cluster.
        index_columns = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
        names = [n for n in schema.names if n not in index_columns]
        if columns is not None:
            names = _check_selection(names, columns, f"'{path}'")  # early, before reading
        table = pq.read_table(path, columns=names)
    except (pa.ArrowInvalid, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"could not read '{path}' as Parquet: {one_line(exc)}") from exc
    return table.to_pandas(types_mapper=pd.ArrowDtype).reset_index(drop=True)


def _check_selection(available, columns: Sequence[str], source: str) -> list[str]:
    """``columns`` as a list, checked against the table's column labels ``available``."""
    if isinstance(columns, str):
        raise TypeError(f"columns must be a list of column names, got the string {columns!r}")
    columns = list(columns)
    if not columns:
        raise ValueError("no columns selected: give at least one column name")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(f"column selected more than once: {_names(repeated)}")
    unknown = [c for c in columns if c not in available]
    if unknown:
        noun = "column" if len(unknown) == 1 else "columns"
        raise ValueError(
            f"unknown {noun} {_names(unknown)} in {source}; available columns: {_names([str(c) for c in available])}"
        )
    return columns


def _refuse_non_numeric(frame: pd.DataFrame, source: str, *, all_columns: bool) -> None:
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

    bad = []
    for name, column in frame.items():
        if is_bool_dtype(column.dtype):
            continue
        if not is_numeric_dtype(column.dtype) or is_complex_dtype(column.dtype):
            example = column.dropna()
            value = example.iloc[0] if len(example) else None
            hint = (
                ""
                if value is None
                else f", e.g. {value!r}"
                if isinstance(value, str)
                else f", e.g. {value}"
            )
            bad.append(f"'{name}' ({_type_name(column.dtype)}{hint})")
    if bad:
        noun = "column" if len(bad) == 1 else "columns"
        advice = (
            "choose numeric columns with --columns (columns=)"
            if all_columns
            else "encode them as numbers or leave them out"
        )
        raise ValueError(
            f"{source} has non-numeric {noun}: {', '.join(bad)}; "
            f"K-Means needs numeric features: {advice}"
        )


def _type_name(dtype) -> str:
    """A readable name for a refused dtype (Arrow names are noisy)."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return "object"  # text or mixed values
    kind = getattr(dtype, "kind", "O")
    names = {"U": "text", "S": "text", "M": "date/time", "m": "duration", "c": "complex"}
    return names.get(kind, str(dtype))


def _refuse_missing(frame: pd.DataFrame, source: str) -> None:
    counts = frame.isna().sum()
    counts = counts[counts > 0]
    if len(counts):
        detail = ", ".join(f"'{name}' ({n} missing)" for name, n in counts.items())
        raise ValueError(
            f"{source} has missing values in {len(counts)} of {frame.shape[1]} columns: "
            f"{detail}; drop or impute them first"
        )


def _refuse_infinite(frame: pd.DataFrame, source: str) -> None:
    bad = []
    for name, column in frame.items():
        values = column.to_numpy()
        if values.dtype.kind == "f":
            n_inf = int(np.isinf(values).sum())
            if n_inf:
                bad.append(f"'{name}' ({n_inf} infinite)")
    if bad:
        raise ValueError(
            f"{source} has infinite values: {', '.join(bad)}; drop or clip them first"
        )


def _to_numpy_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every (checked, gap-free) column a plain NumPy numeric dtype."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype

    arrays = []
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if is_bool_dtype(column.dtype):
            target = np.dtype(np.float64)
        else:
            target = getattr(column.dtype, "numpy_dtype", column.dtype)  # Arrow / nullable
            if not isinstance(target, np.dtype) or target.kind not in "iuf":
                target = np.dtype(np.float64)  # e.g. decimals
        arrays.append(np.array(column.to_numpy(dtype=target), copy=True))
    # Positional keys keep repeated names (possible in memory) apart, and the
    # copies make sure the result never shares memory with the caller's frame.
    out = pd.DataFrame(dict(enumerate(arrays)), index=frame.index)
    out.columns = frame.columns
    return out


def _names(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    extra = len(names) - limit
    return shown + (f" and {extra} more" if extra > 0 else "")


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
