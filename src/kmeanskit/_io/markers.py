"""Missing-value markers: which cells of a table were read as missing for their text, and that text.

A delimited file marks a missing value with an empty cell or with a marker
such as ``NA``, ``n/a`` or ``None`` (:attr:`TextLayout.na_values
<kmeanskit._io.table_rules.TextLayout>`: pandas' list by default). The rule
of every reader of kmeanskit: an empty cell is missing; a cell that is a
marker is missing too, in every column (numbers, categories, text alike), and
is never lost without a word. :func:`kmeanskit._io.tables.read_raw_table`
(``return_markers=True``) records where each marker was read, as
:class:`MissingMarkers`: the roles of the columns count them per column (said
before a fit's result), messages refusing missing values name them, and
commands that write the rows back put each marker's text back in its cell.

Parquet files hold real missing values (nulls); their text is kept as it is
(a ``"n/a"`` string there is text), so they have no markers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kmeanskit._io.table_rules import excerpt, listing

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_NA_VALUES", "NA_VALUES_HINT", "MissingMarkers", "markers_text"]

#: The text read as missing by default besides empty cells: pandas' list (``TextLayout(na_values=None)``
#: reads with pandas' own; a test pins that the two are the same).
DEFAULT_NA_VALUES = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
)

#: What a message about cells read as missing tells the user, to read them as text instead.
NA_VALUES_HINT = "--na-values chooses which text is read as missing"


@dataclass(frozen=True)
class MissingMarkers:
    """The cells of a table read as missing because they held a marker, with their text.

    Parameters
    ----------
    cells : mapping of str to (ndarray of int64, ndarray of object)
        Per column that has such cells, in the table's order: their rows
        (positions from 0, in increasing order) and their text, of the same
        shape ``(n_cells,)``. Columns without markers are absent.
    """

    cells: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.cells)

    def counts(self, name: str) -> tuple[tuple[str, int], ...]:
        """``((marker, cells), ...)`` of column `name`, most cells first (then by text); ``()`` without markers."""
        if name not in self.cells:
            return ()
        texts, n = np.unique(self.cells[name][1].astype(str), return_counts=True)
        order = sorted(range(len(texts)), key=lambda i: (-int(n[i]), str(texts[i])))
        return tuple((str(texts[i]), int(n[i])) for i in order)

    def restore(self, frame: pd.DataFrame, *, text_columns_only: bool = False) -> pd.DataFrame:
        """`frame` with each marker's text back in its cell, in the columns of `frame` that have markers.

        Parameters
        ----------
        frame : pandas.DataFrame of shape (n_samples, n_columns)
            The table these markers were read from (same rows, in order),
            with columns added or left out as a command does.
        text_columns_only : bool, default=False
            Restore text columns only, leaving a number column's missing value
            missing (for a Parquet output, whose columns keep their types).

        Returns
        -------
        pandas.DataFrame of shape (n_samples, n_columns)
            A new table (`frame` is not modified), or `frame` itself when none
            of its columns has markers; a number column that gets its markers
            back holds objects (its numbers, and the markers as str).
        """
        from kmeanskit._io.roles import is_text_column

        names = [name for name in self.cells if name in frame.columns]
        if text_columns_only:
            names = [name for name in names if is_text_column(frame[name])]
        if not names:
            return frame
        out = frame.copy(deep=False)  # (each column restored is a copy, set in place of the column)
        for name in names:
            rows, texts = self.cells[name]
            column = out[name]
            column = column.copy() if is_text_column(column) else column.astype(object)
            column.iloc[rows] = texts
            out[name] = column
        return out


def markers_text(counts: tuple[tuple[str, int], ...]) -> str:
    """``73 cells 'n/a' and 2 cells 'NA' read as missing``: the markers of a column, for a message."""
    parts = [f"{n} cell{'s' if n != 1 else ''} '{excerpt(marker, 20)}'" for marker, n in counts]
    if len(parts) > 1:
        parts = [*parts[:-2], f"{parts[-2]} and {parts[-1]}"] if len(parts) <= 5 else [listing(parts, 4)]
    return f"{', '.join(parts)} read as missing"
