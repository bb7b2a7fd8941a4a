"""HTML tables of results: the report's, and the ``_repr_html_`` of result objects (Jupyter).

:func:`html_table` writes a DataFrame as an HTML table with every cell
escaped and numbers written by :mod:`kmeanskit._analysis.formatting` (four
significant digits, round-off around 0 as 0, p-values never 0). Result
objects of the analysis layer import it inside their ``_repr_html_`` (the
one way up the layers, as ``SelectKResult.plot`` does for plots).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from kmeanskit._analysis.formatting import format_number, format_p_value, is_p_value_name

__all__ = ["html_table"]

_MISSING = "&ndash;"


def html_table(frame: pd.DataFrame, *, index: bool = False, percent=(), highlight_rows=(),
               css_class: str | None = None, scale_by: str = "column") -> str:
    """`frame` as an HTML ``<table>``: headers and cells escaped, numbers readable.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; MultiIndex columns are joined with spaces.
    index : bool, default=False
        Write the index as a first column of row headers.
    percent : collection of str, default=()
        Columns of fractions from 0 to 1, written as percentages (``12.5%``).
    highlight_rows : collection of int, default=()
        Positions of rows to mark with ``class="best"``.
    css_class : str, optional
        A class for the ``<table>`` element.
    scale_by : {"column", "row"}, default="column"
        What a value is measured against to tell round-off of 0 from a small
        value: the largest absolute value of its column, or of its row (for a
        table with one feature per row, whose columns mix features' units).

    Returns
    -------
    str
        The table. Numeric cells are ``<td class="num">`` (right-aligned by a
        style sheet); integers get thousands separators; floats four
        significant digits, with values within a few ulps of 0 relative to
        the largest value of their column (or row, see `scale_by`) written as 0; columns whose name says
        they hold p-values (``ANOVA p``, ``p_value``, ...) never show 0
        (``< 1e-300``); NaN and None are a dash.
    """
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis([" ".join(str(p) for p in c if str(p)) for c in frame.columns], axis=1)
    head = []
    if index:
        head.append(html.escape(" / ".join(str(n) for n in frame.index.names if n is not None)))
    head += [html.escape(str(c)) for c in frame.columns]
    opening = "<table>" if css_class is None else f'<table class="{html.escape(css_class)}">'
    lines = [opening + "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    if scale_by not in ("column", "row"):
        raise ValueError(f"scale_by must be 'column' or 'row', got {scale_by!r}")
    scales = [_scale(frame.iloc[:, j]) for j in range(frame.shape[1])]
    row_scales = [_scale(frame.iloc[i]) for i in range(frame.shape[0])] if scale_by == "row" else None
    p_columns = [is_p_value_name(c) for c in frame.columns]
    highlight = set(highlight_rows)
    for i, (key, row) in enumerate(zip(frame.index, frame.itertuples(index=False), strict=True)):
        cells = []
        if index:
            key_text = " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)
            cells.append(f"<th>{html.escape(key_text)}</th>")
        for j, value in enumerate(row):
            text, numeric = _cell(value, percent=frame.columns[j] in percent, p_value=p_columns[j],
                                  scale=scales[j] if row_scales is None else row_scales[i])
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        css = ' class="best"' if i in highlight else ""
        lines.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table>")
    return "".join(lines)


def _scale(values: pd.Series) -> float | None:
    """The largest finite absolute float of a column or row; None without one."""
    values = pd.to_numeric(values[[isinstance(v, (float, np.floating)) for v in values]], errors="coerce")
    values = np.abs(values.to_numpy(dtype=np.float64))
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else None


def _cell(value, *, percent: bool, p_value: bool, scale: float | None) -> tuple[str, bool]:
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return _MISSING, True
    if isinstance(value, (bool, np.bool_)):
        return html.escape(str(bool(value))), False
    if isinstance(value, (int, np.integer)):
        return html.escape(f"{int(value):,}"), True
    if isinstance(value, (float, np.floating)):
        if percent:
            return html.escape(f"{100 * float(value):.1f}%"), True
        if p_value:
            return html.escape(format_p_value(value)), True
        return html.escape(format_number(value, scale=scale, thousands=True)), True
    return html.escape(str(value)), False
