"""Writing the rows of a text table back with columns added, every cell as the file writes it.

Commands that give a table back (``kmeanskit predict``, ``fit --labels``)
promise that nothing the user gave is modified: a number read from a text
file and written again would not be the same text (``44643.30`` would come
back as ``44643.3``, the ZIP code ``02134`` as ``2134``, ``1,234.50`` read with
``--thousands ,`` as ``1234.5``, a decimal comma as a point). So the rows are
not written from the values read: :func:`write_text_back` reads the file once
more, chunk by chunk, every cell as text (no marker read as missing, no
number parsed), with the same parser and options as the table was read with
(so its rows are the same rows), and writes each chunk beside the matching
rows of the added columns. The memory it takes is one chunk of text.

What is kept, and how:

- every cell of every input column (or of the columns asked for): its text,
  character for character, as a CSV reader gives it back (a quoted field is
  its text without the quotes; a field is quoted in the output where it must
  be: when it holds the separator, a quote or a line break);
- the header line's names as written (pandas would rename a repeated name
  ``a.1``); a file without one gets ``column_1``, ``column_2``... as its
  columns are named when read;
- the separator, the decimal mark and the encoding of the file
  (:func:`text_output`): a decimal-comma ``;`` file stays one, and the added
  numbers (``distance``) are written with its decimal mark. An output whose
  name asks for another kind of text (``.csv`` or ``.tsv`` from a file of
  another suffix) gets that separator, and the change is said
  (:attr:`TextOutput.changes`); a file separated by runs of spaces is written
  with one space.

Lines before the table (``skip_rows``) and comments are not part of the table
and are not written; lines end with ``\\n``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kmeanskit._io.atomic import atomic_write
from kmeanskit._io.table_rules import (
    TextLayout,
    base_suffix,
    check_selection,
    damaged_archive,
    delimiter,
    file_kind,
    header_names,
)
from kmeanskit._io.tables import column_names, compression_options, read_text_cells

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_CHUNK_ROWS", "TextOutput", "is_text_table", "text_output", "write_text_back"]

#: Rows of text read and written at a time (as ``fit --out-of-core``'s chunks).
DEFAULT_CHUNK_ROWS = 65536

# The separators an output's name asks for, and how they are named.
_NAMED_SEPARATORS = {".csv": ",", ".tsv": "\t"}
_SEPARATOR_WORDS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar", " ": "space"}


@dataclass(frozen=True)
class TextOutput:
    """How a table is written back as text.

    Attributes
    ----------
    sep : str
        The field separator (one character).
    decimal : str
        The decimal mark of the added numbers.
    encoding : str
        The text encoding of an output file (a stream keeps its own).
    changes : tuple of str
        What differs from the input's layout, in words, for the user (empty
        when the output is written as the input is).
    """

    sep: str
    decimal: str
    encoding: str
    changes: tuple[str, ...] = ()


def is_text_table(path: str | os.PathLike | None) -> bool:
    """Whether `path` names a delimited text file (its cells have a text to write back); False for None."""
    return path is not None and file_kind(Path(path)) == "csv"


def text_output(data: str | os.PathLike, layout: TextLayout | None = None,
                output: str | os.PathLike | None = None, *, decimals: bool = True) -> TextOutput:
    """The layout of the text written back from `data` to `output`: `data`'s own, unless `output`'s name asks.

    Parameters
    ----------
    data : str or path-like
        The delimited text file read (see :func:`is_text_table`).
    layout : TextLayout, optional
        The options it was read with.
    output : str or path-like, optional
        The file to write; None for a stream (standard output), which gets
        `data`'s layout.
    decimals : bool, default=True
        Whether the added columns hold numbers with a decimal point (floats):
        only then is a change of their decimal mark said.

    Returns
    -------
    TextOutput
        `data`'s separator (a single space for runs of whitespace), decimal
        mark and encoding; the separator of a ``.csv`` (comma) or ``.tsv``
        (tab) `output` when `data`'s suffix is another (with the change
        said), and then a decimal point for the added numbers if `data`'s
        decimal mark is that separator.
    """
    shown = Path(str(data)).name  # as the caller names it (a table saved from a stream: as the user gave it)
    data = Path(data)
    layout = TextLayout() if layout is None else layout
    read_sep = delimiter(data, layout)
    sep = " " if read_sep == r"\s+" else read_sep
    changes = []
    if output is not None:
        asked = _NAMED_SEPARATORS.get(base_suffix(Path(output)))
        if asked is not None and base_suffix(Path(output)) != base_suffix(data) and asked != sep:
            changes.append(f"{_SEPARATOR_WORDS[asked]}-separated as its name says "
                           f"('{shown}' is {_separator_words(read_sep)}-separated)")
            sep = asked
    decimal = layout.decimal
    if decimal == sep:
        decimal = "."
        if decimals:
            changes.append(f"added numbers with a decimal point ('{shown}' has decimal commas)")
    return TextOutput(sep, decimal, layout.encoding, tuple(changes))


def write_text_back(
    data: str | os.PathLike,
    added: pd.DataFrame,
    output: str | os.PathLike | TextIO,
    *,
    layout: TextLayout | None = None,
    columns: Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> TextOutput:
    """Write the rows of the text table `data`, each cell as written there, followed by the columns of `added`.

    Parameters
    ----------
    data : str or path-like
        A delimited text file (``.csv``, ``.tsv``, ``.txt``, optionally
        compressed), already read as a table with `layout` (its field counts
        checked): the rows written are the rows of that table, in order.
    added : pandas.DataFrame of shape (n_samples, n_added)
        The columns to write after `data`'s, one row per row of `data`
        (its index is not used). Numbers are written as pandas writes them,
        with the output's decimal mark; missing values as empty cells.
    output : str, path-like or text stream
        A file, replaced atomically, in the layout of :func:`text_output`
        (compressed as its name says: ``.gz``, ``.bz2``, ``.zip``, ...); or an
        open text stream (standard output), written in `data`'s layout.
    layout : TextLayout, optional
        The options `data` was read with.
    columns : sequence of str, optional
        `data`'s columns to write, in this order (names as read: a repeated
        name is ``a.1``); all by default; ``[]`` writes `added` alone.
    chunk_rows : int, default=65536
        Rows of text read and written at a time (the memory this takes).

    Returns
    -------
    TextOutput
        How the text was written (for a file: what differs from `data`).

    Raises
    ------
    ValueError
        If `columns` is not ``[]``, does not
        have ``len(added)`` rows (it changed since it was read), or a column
        of `columns` is not in it. A file `output` is then left as it was.
    """
    import pandas as pd

    layout = TextLayout() if layout is None else layout
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    stream = hasattr(output, "write")
    how = text_output(data, layout, None if stream else output,
                      decimals=any(pd.api.types.is_float_dtype(dtype) for dtype in added.dtypes))
    data = Path(data)
    added = added.reset_index(drop=True)
    pieces = _text_chunks(data, layout, columns, chunk_rows, len(added)) if columns != [] else iter([(None, None)])
    options = {"index": False, "sep": how.sep, "decimal": how.decimal, "lineterminator": "\n",
               "quoting": csv.QUOTE_MINIMAL}

    def write(handle):
        start = stop = 0
        header = True
        for names, text in pieces:
            stop = start + (len(added) if text is None else len(text))
            if stop > len(added):
                break
            chunk = added.iloc[start:stop].reset_index(drop=True)
            if text is not None:
                chunk = pd.concat([text.reset_index(drop=True), chunk], axis=1, ignore_index=True)
                chunk.columns = [*names, *added.columns]
            chunk.to_csv(handle, header=header, **options)
            start, header = stop, False
        if stop != len(added):
            raise ValueError(f"'{data}' has {'more' if stop > len(added) else 'fewer'} rows now than the "
                             f"{len(added)} it had: it changed while it was read; run the command again")

    if stream:
        write(output)
        return how
    output = Path(output)
    with atomic_write(output) as raw:
        handles = pd.io.common.get_handle(raw, "w", encoding=how.encoding, compression=compression_options(output))
        with handles:
            write(handles.handle)
    return how


def _text_chunks(data: Path, layout: TextLayout, columns, chunk_rows: int, n_rows: int):
    """``(names, text)`` of `data` chunk by chunk: the header's names as written, each cell's text (str).

    Read by pandas' parser with `layout`'s options, as the table was read
    (same rows: blank lines and comments skipped the same way), with no cell
    read as missing and every cell kept as text.
    """
    sep = delimiter(data, layout)
    usecols = None
    if columns is not None:
        # The names the table was read with (a repeated name is "a.1"), to find the columns asked for.
        names = column_names(data, sep, layout)
        usecols = [names.index(name) for name in check_selection(names, columns, f"'{data}'")]
    first = True
    with damaged_archive(data), read_text_cells(data, layout, sep, usecols, chunksize=chunk_rows,
                                                header_as_row=True) as reader:
        for text in reader:
            if columns is not None:  # in the order asked (usecols keeps the file's)
                text = text[usecols]
            if first:
                if layout.header:
                    names, text = [str(v) for v in text.iloc[0]], text.iloc[1:]
                else:
                    names = header_names(text.shape[1]) if columns is None else [str(c) for c in columns]
                first = False
            yield names, text
    if first:  # no line at all: the table was read, so this file is another one
        raise ValueError(f"'{data}' has no rows now and had {n_rows}: it changed while it was read; "
                         "run the command again")


def _separator_words(sep: str) -> str:
    return "space" if sep == r"\s+" else _SEPARATOR_WORDS.get(sep, repr(sep))
