"""The rules every table reader of kmeanskit applies, in one place.

:func:`kmeanskit._io.tables.read_table` (a whole table) and
:class:`kmeanskit._io.chunked.TableStream` (a table chunk by chunk) read the
same formats, select columns the same way and refuse the same tables with the
same messages, because both take these rules from here: which file suffixes
mean which format, the delimiter of a text file, which columns are data, and
which selections and column types are refused, and how faults of the file
itself are told (a broken link, a truncated or damaged archive, integers
beyond int64, text too long to quote in full).

pandas is imported only where a rule needs it, so that a streamed Parquet
read can use these rules through Arrow alone.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "COMPRESSION_SUFFIXES",
    "CSV_SUFFIXES",
    "MISSING_VALUES_REMEDY",
    "PARQUET_SUFFIXES",
    "base_suffix",
    "check_exists",
    "check_rereadable",
    "check_selection",
    "damaged_archive",
    "data_columns",
    "delimiter",
    "excerpt",
    "file_kind",
    "is_number",
    "listing",
    "one_line",
    "quote_names",
    "TextLayout",
    "check_field_counts",
    "check_field_counts_fast",
    "header_names",
    "refuse_data_as_header",
    "refuse_metadata_header",
    "encoding_hint",
    "refuse_one_column",
    "refuse_text_options",
    "refuse_non_numeric",
    "refuse_unnamed",
    "wide_integer_columns",
]

#: What a message refusing missing values tells the user to do (in memory and out of core alike).
MISSING_VALUES_REMEDY = (
    "drop or impute them first, or use --missing drop (leave those rows out) "
    "or --missing ignore (cluster on the observed values)"
)
#: Delimited-text suffixes and their separators; ``None`` means detected.
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
#: Parquet suffixes (a file, or a directory of Parquet files).
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Compressions pandas infers from the name; read only after ``.csv`` and
#: ``.tsv``, since ``.txt`` needs a look at the raw text to pick its delimiter.
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")

# pandas names header cells left empty "Unnamed: <i>"; the usual cause is an
# index saved by DataFrame.to_csv, which must not become a feature unasked.
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")

# Text from the file quoted in a message (a name, a value, a parser's
# message) is cut to these many characters: a file of one huge line must not
# make a huge message.
_NAME_CHARS = 60
_MESSAGE_CHARS = 200


def check_exists(path: Path) -> None:
    """Raise FileNotFoundError if `path` does not exist, saying so of a broken link and its target."""
    if path.exists():
        return
    if path.is_symlink():
        raise FileNotFoundError(f"'{path}' is a link to '{os.readlink(path)}', which does not exist")
    raise FileNotFoundError(f"no such file: '{path}'")


def check_rereadable(path: str | os.PathLike, why: str) -> None:
    """Refuse a `path` that is not a regular file (a named pipe, a device): its text cannot be read again.

    `why` says what would read it a second time (``"it is read once per pass"``). A file that does not
    exist passes (the readers say so). The command line never gives one: it saves a stream to a
    temporary file first (``_io/spool.py``).

    Raises
    ------
    ValueError
        Naming the file, `why`, and what to do.
    """
    path = Path(path)
    if path.exists() and not (path.is_dir() or path.is_file()):
        raise ValueError(f"'{path}' is not a regular file (a pipe or a device): {why}; save it to a file first")


@contextmanager
def damaged_archive(path: Path) -> Iterator[None]:
    """Turn the errors of a decompressor reading `path` into a ValueError naming the file.

    A truncated ``.gz``, ``.bz2`` or ``.xz`` ends early (EOFError), and a
    damaged one, or a damaged ``.zip`` or ``.zst``, fails in its codec's own
    terms (``BadGzipFile``, ``BadZipFile``, ``LZMAError``, ``zlib.error``...).
    Other errors pass through, and all errors of a file not compressed (by
    its suffix), as do OSErrors that carry an errno: they come from the
    system (permissions, a missing file). A ``.zst`` file without the
    ``zstandard`` package is a ValueError that says what to install.
    """
    try:
        yield
    except Exception as exc:
        if isinstance(exc, ImportError) and path.name.lower().endswith(".zst"):
            raise ValueError(
                f"'{path}' is compressed with Zstandard (.zst), which needs the zstandard package: "
                "pip install zstandard (or decompress the file first)"
            ) from exc
        if not (path.name.lower().endswith(COMPRESSION_SUFFIXES) and _is_codec_error(exc)):
            raise
        raise ValueError(
            f"'{path}' is truncated or damaged: could not decompress it ({one_line(exc)})"
        ) from exc


def _is_codec_error(exc: BaseException) -> bool:
    import lzma
    import zipfile
    import zlib

    codec_errors = [EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error]
    zstandard = sys.modules.get("zstandard")  # imported by pandas for .zst, if installed
    if zstandard is not None:
        codec_errors.append(zstandard.ZstdError)
    if isinstance(exc, tuple(codec_errors)):
        return True
    # gzip.BadGzipFile and bz2's "Invalid data stream" are errno-less OSErrors.
    return type(exc) is not FileNotFoundError and isinstance(exc, OSError) and exc.errno is None


def wide_integer_columns(path: Path, source: str, **read_options) -> list:
    """The columns of a delimited file holding integers beyond int64 and uint64, to be read as float64.

    pandas' Arrow backend raises OverflowError on such a column (its values
    come as Python ints); read as ``float64``, the column is what pandas makes
    of a float column. Scanned in chunks with NumPy dtypes, which keep the
    Python ints, using `read_options` (those of ``pandas.read_csv`` for the
    table), so that the labels are the ones of the table read with them.

    Raises
    ------
    ValueError
        If a column holds an integer beyond the float64 range: it would be
        read as infinite, so it is refused as infinite values are, by column.
    """
    import pandas as pd

    wide = {}
    with pd.read_csv(path, chunksize=1 << 16, **read_options) as reader:
        for frame in reader:
            for label, column in frame.items():
                if column.dtype != object:
                    continue
                values = column.dropna()
                # The C parser gives Python ints only to an all-integer column.
                if not len(values) or not all(isinstance(v, int) for v in values):
                    continue
                wide.setdefault(label, None)
                huge = next((v for v in values if not is_number(v)), None)
                if huge is not None:
                    digits = len(str(abs(huge)))
                    raise ValueError(
                        f"{source} has integers beyond the float64 range (about 1.8e308) in column "
                        f"{quote_names([str(label)])}, e.g. {excerpt(str(huge), 20)} ({digits} digits): "
                        "they would be infinite; drop or rescale them first"
                    )
    return list(wide)


def file_kind(path: Path) -> str:
    """Return ``"csv"`` or ``"parquet"`` from the suffix of `path`, or raise ValueError."""
    suffixes = [s.lower() for s in path.suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in PARQUET_SUFFIXES:
        return "parquet"
    if last in CSV_SUFFIXES:
        return "csv"
    if last in COMPRESSION_SUFFIXES and len(suffixes) > 1 and suffixes[-2] in (".csv", ".tsv"):
        return "csv"
    allowed = ", ".join([*CSV_SUFFIXES, *PARQUET_SUFFIXES])
    shown = last or "(none)"
    raise ValueError(
        f"cannot read '{path}': unsupported file extension {shown}; "
        f"supported: {allowed} (.csv and .tsv may be compressed: "
        f"{', '.join(COMPRESSION_SUFFIXES)})"
    )


def delimiter(path: Path, layout: TextLayout | None = None) -> str:
    """The delimiter of a delimited-text file (:func:`file_kind` ``"csv"``), as pandas takes it.

    The layout's ``sep`` when given; else from the suffix (``.csv`` comma,
    ``.tsv`` tab, before any compression suffix); for ``.txt``, picked from the
    first lines among comma, tab, semicolon, ``|`` and runs of whitespace
    (``r"\\s+"``).

    Raises
    ------
    ValueError
        If the separator is the layout's decimal mark.
    """
    layout = TextLayout() if layout is None else layout
    if layout.sep is not None:
        return layout.sep
    sep = CSV_SUFFIXES[base_suffix(path)]
    sep = _sniff_delimiter(path, layout.encoding) if sep is None else sep
    if sep == layout.decimal:
        raise ValueError(
            f"'{path}' has {_SEPARATOR_NAMES.get(sep, repr(sep))} as its separator, which cannot also be the "
            "decimal mark: give the separator of a file with decimal commas, e.g. --sep ';' (sep=';')"
        )
    return sep


def base_suffix(path: Path) -> str:
    """The suffix that says what kind of text `path` holds (lower case), before any compression suffix;
    ``""`` without one."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


_SEPARATOR_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "bars", r"\s+": "spaces"}


def _sniff_delimiter(path: Path, encoding: str = "utf-8") -> str:
    with open(path, newline="", encoding=encoding, errors="replace") as handle:
        sample = handle.read(64 * 1024)
    try:
        found = csv.Sniffer().sniff(sample, delimiters=",\t;| ").delimiter
    except csv.Error:
        # The sniffer wants the same count per line, which runs of spaces
        # (aligned columns) break; a single column has no delimiter at all.
        header = sample.splitlines()[0] if sample else ""
        found = " " if len(header.split()) > 1 else ","
    return r"\s+" if found == " " else found


def refuse_one_column(names: Sequence[str], first_value, source: str, sep: str) -> None:
    """Refuse a table whose header holds another separator more often than it has columns,
    or read as one column of numbers separated by spaces.

    A file separated by semicolons, tabs, bars or spaces, read with commas, is
    one column of text (or a few, split at the commas inside names or decimal
    commas); said with the option that reads it.
    """
    names = [str(n) for n in names]
    other = next((c for c in ";\t|" if c != sep and sum(n.count(c) for n in names) >= len(names)), None)
    if other is None:
        fields = str(first_value).split()
        if len(names) != 1 or sep == r"\s+" or len(fields) < 2 or not all(is_number(f) for f in fields):
            return
        other = r"\s+"
    option = {"\t": "\\t", r"\s+": " "}.get(other, other)
    raise ValueError(
        f"{source} was read with {_SEPARATOR_NAMES.get(sep, repr(sep))} as the separator into "
        f"{len(names)} column{'s' if len(names) > 1 else ''}, but its first lines are separated by "
        f"{_SEPARATOR_NAMES[other]}: pass --sep '{option}' (sep={_python(other)})"
    )


def _python(sep: str) -> str:
    """How a separator is written in Python: ``r'\\s+'`` as a raw string."""
    return f"r'{sep}'" if "\\" in sep else repr(sep)


@dataclass(frozen=True)
class TextLayout:
    """How a delimited-text file is written: where its table starts and how its values are spelled.

    The one home of the reading options of text files, which the whole-table
    and the chunked readers apply alike (``pandas.read_csv`` options through
    :meth:`pandas_options`, the separator through :func:`delimiter`, the field
    count check through the same options).

    skip_rows : int
        Lines before the table (metadata, titles), skipped unread.
    header : bool
        Whether the first line of the table names its columns. Without one the
        columns are named ``column_1``, ``column_2``...
    sep : str or None
        The field separator (``","``, ``";"``, ``"\\t"``, ``"|"``, or
        ``r"\\s+"`` for runs of whitespace); None takes it from the suffix
        (``.csv`` comma, ``.tsv`` tab) or, for ``.txt``, detects it.
    decimal : str
        The decimal mark of numbers (``"."`` or ``","``).
    thousands : str or None
        The thousands separator of numbers (``","``, ``"."``, ``" "``, ``"'"``),
        None for none. When given, text amounts such as ``$77,714.41`` or
        ``1.234,5 EUR`` are read as numbers too (see :func:`parse_amounts`).
    encoding : str
        The text encoding (any Python codec name).
    comment : str or None
        A character that starts a comment: the rest of its line is ignored,
        and a line starting with it is skipped.
    na_values : tuple of str or None
        The cells read as missing besides empty ones (which always are): the
        markers of missing values, e.g. ``("NA", "n/a")``; ``()`` for empty
        cells only. None takes pandas' list (``NA``, ``N/A``, ``n/a``,
        ``NaN``, ``nan``, ``null``, ``NULL``, ``None``, ``#N/A``, ``<NA>``,
        ...: :data:`pandas._libs.parsers.STR_NA_VALUES`). A marker is missing
        in every column, text columns included; which cells were read as
        missing is known (:class:`kmeanskit._io.markers.MissingMarkers`).
    """

    skip_rows: int = 0
    header: bool = True
    sep: str | None = None
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    comment: str | None = None
    na_values: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.na_values is not None:
            markers = self.na_values
            if isinstance(markers, str) or not hasattr(markers, "__iter__") or not all(
                    isinstance(m, str) for m in markers):
                raise ValueError(f"na_values must be None or a sequence of strings such as ('NA', 'n/a'), "
                                 f"got {markers!r}")
            object.__setattr__(self, "na_values", tuple(dict.fromkeys(m for m in markers if m)))
        if isinstance(self.skip_rows, bool) or not isinstance(self.skip_rows, int) or self.skip_rows < 0:
            raise ValueError(f"skip_rows must be a non-negative int, got {self.skip_rows!r}")
        if not isinstance(self.header, bool):
            raise TypeError(f"header must be True or False, got {self.header!r}")
        if self.sep is not None and (not isinstance(self.sep, str) or not self.sep or "\n" in self.sep):
            raise ValueError(f"sep must be None or a non-empty separator such as ',', ';' or '\\t', got {self.sep!r}")
        for name in ("decimal", "thousands", "comment"):
            value = getattr(self, name)
            if (value is not None or name == "decimal") and (
                not isinstance(value, str) or len(value) != 1 or value in "\r\n\"0123456789"
            ):
                raise ValueError(f"{name} must be one character (not a digit, quote or newline), got {value!r}")
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(
                f"thousands and decimal must differ, got {self.thousands!r} for both "
                "(for '1.234,5' pass decimal=',' and thousands='.')"
            )
        if self.sep is not None and self.sep == self.decimal:
            raise ValueError(
                f"sep and decimal must differ, got {self.sep!r} for both: files with decimal commas "
                "separate their fields with ';' or tabs (pass that as the separator)"
            )
        if self.comment is not None and self.comment in (self.sep, self.decimal, self.thousands):
            raise ValueError(f"comment must differ from the separator, decimal and thousands marks, got {self.comment!r}")
        try:
            codecs.lookup(self.encoding)
        except (LookupError, TypeError):
            raise ValueError(f"encoding must be a text encoding such as 'utf-8' or 'latin-1', got {self.encoding!r}") from None

    @property
    def first_line(self) -> int:
        """The 1-based number of the table's first line in the file."""
        return self.skip_rows + 1

    def pandas_options(self) -> dict:
        """The matching ``pandas.read_csv`` options (all but the separator: see :func:`delimiter`)."""
        options = {
            "skiprows": self.skip_rows, "header": 0 if self.header else None, "decimal": self.decimal,
            "thousands": self.thousands, "encoding": self.encoding, "comment": self.comment,
        }
        if self.na_values is not None:  # (else pandas' own list, as pandas reads by default)
            options.update(keep_default_na=False, na_values=["", *self.na_values])
        return options


def refuse_text_options(path: Path, layout: TextLayout) -> None:
    """Refuse the reading options of text files (other than their defaults) for a Parquet file."""
    if layout != TextLayout():
        raise ValueError(
            f"'{path}' is a Parquet file: skipping lines, --no-header and the other options of text files "
            "(separator, decimal and thousands marks, encoding, comments, missing-value markers) apply to text "
            "files only (Parquet holds real missing values, and its text is kept as it is)"
        )


def header_names(n_columns: int) -> list[str]:
    """The names given to the columns of a table read without a header line."""
    return [f"column_{i + 1}" for i in range(n_columns)]


def is_number(value: str | int) -> bool:
    """Whether ``float(value)`` is a float: a text that reads as a number, an int within the float range."""
    try:
        float(value)
    except (ValueError, OverflowError):
        return False
    return True


def refuse_data_as_header(names: Sequence[str], source: str, layout: TextLayout) -> None:
    """Refuse a header line whose every field is a number: it is a row of data.

    Read as a header, that row would be lost and its values would name the
    columns (pandas makes repeated names unique with a ``.1`` suffix, still a
    number).
    """
    if names and all(is_number(str(name).strip()) for name in names):
        raise ValueError(
            f"line {layout.first_line} of {source} looks like data, not a header: every field is a number "
            f"({quote_names([str(n) for n in names], limit=5)}); if the file has no header line, pass "
            "--no-header (header=False) and the columns are named column_1, column_2, ..."
        )


def refuse_metadata_header(names: Sequence[str], source: str, layout: TextLayout) -> None:
    """Refuse a header line that is a line of metadata: a count of rows, a count of
    features and class names, as scikit-learn's bundled CSVs start (``150,4,setosa,versicolor,virginica``).

    Read as a header, its counts would name two feature columns and the class
    column, named after a class, would be clustered.
    """
    names = [str(n).strip() for n in names]
    if (
        len(names) >= 3
        and all(n.isdigit() for n in names[:2])
        and int(names[0]) > 0
        and not any(is_number(n) for n in names[2:])
    ):
        raise ValueError(
            f"line {layout.first_line} of {source} looks like a line of metadata, not a header: it starts with "
            f"two counts ({names[0]} rows, {names[1]} features?) followed by names ({quote_names(names[2:], limit=5)}), "
            f"as scikit-learn's bundled CSVs do; skip it with --skip-rows {layout.first_line} "
            f"(skip_rows={layout.first_line}) and add --no-header (header=False) if the table has no header line"
        )


def encoding_hint(exc: UnicodeDecodeError, source: str, layout: TextLayout) -> ValueError:
    """The error for a file that is not text in the layout's encoding, naming --encoding."""
    return ValueError(
        f"could not read {source} as {layout.encoding} text ({one_line(exc)}); "
        "give its encoding with --encoding, e.g. --encoding latin-1 (encoding='latin-1')"
    )


def check_field_counts(path: Path, sep: str, layout: TextLayout) -> None:
    """Refuse a delimited file whose lines do not all have as many fields as its first.

    pandas reads such files without a word: a line with more fields than the
    header shifts every value of its row (or turns the first columns into an
    index), a shorter one is padded with missing values. The first line of
    another length is named with both counts.
    """
    import pandas as pd

    with (
        damaged_archive(path),
        pd.io.common.get_handle(path, "r", compression="infer", encoding=layout.encoding, errors="replace") as handles,
    ):
        lines = handles.handle if layout.comment is None else _uncommented(handles.handle, layout.comment)
        try:
            _check_lines(path, lines, sep, layout)
        except csv.Error as exc:  # e.g. a quote never closed makes a field too long for the reader
            raise ValueError(f"could not parse '{path}' as CSV: {one_line(exc)}") from exc


def _uncommented(lines, comment):
    """The lines with what follows `comment` cut (as pandas cuts it), fully commented lines left blank."""
    for line in lines:
        cut = line.find(comment)
        yield line if cut < 0 else line[:cut] + "\n"


def _check_lines(path, lines, sep, layout):
    """:func:`check_field_counts` on the open text `lines` of `path`."""
    lines = iter(lines)
    for _ in range(layout.skip_rows):
        if not next(lines, ""):
            return
    if sep == r"\s+":
        records = ((number, line.split()) for number, line in enumerate(lines, start=layout.first_line))
    else:
        reader = csv.reader(lines, delimiter=sep)
        records = ((layout.skip_rows + reader.line_num, fields) for fields in reader)
    # Blank lines are skipped by the readers too.
    records = ((number, fields) for number, fields in records if fields and (len(fields) > 1 or fields[0].strip()))
    first, expected = next(records, (None, None))
    if first is None:
        return
    expected = len(expected)
    for number, fields in records:
        if len(fields) != expected:
            after = next(records, (None, ()))[1]
            _refuse_ragged(path, layout, first, expected, number, len(fields), len(after) == len(fields))


def check_field_counts_fast(path: Path, sep: str, layout: TextLayout) -> None:
    """:func:`check_field_counts` for large files: Arrow's multithreaded parser counts the
    fields, and only a file that fails is read again line by line for the message.

    For a file read in several passes, where a line-by-line read would cost
    more than a pass. Separators Arrow cannot parse (runs of whitespace) and
    compressions it cannot read (``.zip``, ``.xz``) take the line-by-line read.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    suffix = path.suffix.lower()
    if sep == r"\s+" or len(sep) != 1 or suffix in (".zip", ".xz") or layout.comment is not None:
        check_field_counts(path, sep, layout)
        return
    bad = []

    def count(row):
        bad.append(row)
        return "skip"

    try:
        reader = pacsv.open_csv(
            pa.input_stream(str(path), compression="detect"),
            read_options=pacsv.ReadOptions(
                skip_rows=layout.skip_rows, autogenerate_column_names=True, encoding=layout.encoding
            ),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=count),
            convert_options=pacsv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.string()}),
        )
        for _ in reader:
            if bad:
                break
    except (pa.ArrowInvalid, OSError):
        bad.append(None)  # let the line-by-line read find it, or pandas say what it is
    if bad:
        check_field_counts(path, sep, layout)


def _refuse_ragged(path, layout, first, expected, line, found, next_alike):
    what = "the header" if layout.header else "the first line"
    message = (
        f"line {line} of '{path}' has {found} fields but {what} (line {first}) has {expected}: "
        "its values would be read into the wrong columns or lost"
    )
    if line == first + 1 and next_alike:
        message += (
            f"; if line {first} is not part of the table (scikit-learn's bundled CSVs start with a line of "
            f"counts and class names), skip it with --skip-rows {first} (skip_rows={first}), and add "
            "--no-header if the table has no header line"
        )
    raise ValueError(message)


def data_columns(schema: pa.Schema) -> list[str]:
    """The column names of a Parquet schema, without the pandas index stored as columns."""
    meta = schema.pandas_metadata or {}
    index_columns = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    return [n for n in schema.names if n not in index_columns]


def refuse_unnamed(names: Sequence[str], source: str) -> None:
    """Refuse columns with an empty header (``Unnamed: 0``) when every column is taken as a feature."""
    unnamed = [str(n) for n in names if _UNNAMED.match(str(n))]
    if unnamed:
        raise ValueError(
            f"{source} has columns with no name in the header ({quote_names(unnamed)}), "
            "often an index saved with the data; choose the feature columns "
            "with --columns (the columns argument in Python)"
        )


def check_selection(available, columns: Sequence[str], source: str) -> list[str]:
    """``columns`` as a list, checked against the table's column labels ``available``.

    Raises
    ------
    TypeError
        If `columns` is a single string.
    ValueError
        If `columns` is empty, repeats a name or names a column not in `available`.
    """
    if isinstance(columns, str):
        raise TypeError(f"columns must be a list of column names, got the string {columns!r}")
    columns = list(columns)
    if not columns:
        raise ValueError("no columns selected: give at least one column name")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(f"column selected more than once: {quote_names(repeated)}")
    unknown = [c for c in columns if c not in available]
    if unknown:
        noun = "column" if len(unknown) == 1 else "columns"
        raise ValueError(
            f"unknown {noun} {quote_names(unknown)} in {source}; "
            f"available columns: {quote_names([str(c) for c in available])}"
        )
    return columns


def refuse_non_numeric(frame: pd.DataFrame, source: str, *, all_columns: bool) -> None:
    """Refuse the non-numeric columns of `frame` (booleans count as numbers), naming each with an example.

    `all_columns` says whether the user took every column (then the advice is
    to choose numeric ones) or named them (then to encode them as numbers).
    """
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
                else f", e.g. {excerpt(value)!r}"
                if isinstance(value, str)
                else f", e.g. {excerpt(str(value))}"
            )
            bad.append(f"'{excerpt(str(name))}' ({_type_name(column.dtype)}{hint})")
    if bad:
        noun = "column" if len(bad) == 1 else "columns"
        advice = (
            "choose numeric columns with --columns (the columns argument in Python)"
            if all_columns
            else "encode them as numbers or leave them out"
        )
        raise ValueError(
            f"{source} has non-numeric {noun}: {listing(bad)}; "
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


def quote_names(names: Sequence[str], limit: int = 20) -> str:
    """``'a', 'b' and 3 more``: column names for a message, at most `limit` of them, each cut by :func:`excerpt`."""
    return listing([f"'{excerpt(str(n))}'" for n in names], limit)


def listing(items: Sequence[str], limit: int = 20) -> str:
    """``a, b and 3 more``: the first `limit` of `items`, joined for a message."""
    extra = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {extra} more" if extra > 0 else "")


def one_line(exc: BaseException) -> str:
    """The message of `exc` on one line (a parser's message can span several), cut to a short excerpt."""
    return excerpt(" ".join(str(exc).split()), _MESSAGE_CHARS) or type(exc).__name__


def excerpt(text: str, limit: int = _NAME_CHARS) -> str:
    """`text` if it has at most `limit` characters, else its start and ``...`` in `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
