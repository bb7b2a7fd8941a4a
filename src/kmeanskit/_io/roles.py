"""The role of every column of a table: what is clustered, what is not, and why.

A real table holds more than features: an identifier, text, categories,
dates, amounts written as text, columns that never change. :func:`assign_roles`
gives each column one role, said up front by the command line, so that no
column is dropped without a word, and :meth:`ColumnRoles.features` builds the
numeric feature table from those roles (amounts parsed, dates as days). The
roles are plain data (:meth:`ColumnRoles.to_dict`), stored in model files so
that new tables are read for a model the way its training table was.

Roles
-----
``numeric``
    Clustered (scaled as the command asks). Booleans are 0/1; text amounts
    (``$77,714.41``, ``1.234,5 EUR``) are numeric when a thousands separator
    is given and every value of the column reads as one.
``date``
    ISO dates and times, or dates written with the day and month as numbers
    (``13/02/2024``, ``2.13.2024``, ``13-02-2024``, a time may follow):
    clustered as days since 1970-01-01 with ``dates=True``, else excluded.
    Which of day and month comes first is read from the values (a first
    field above 12 is a day, a second field above 12 is a day); when no
    value says, ``date_order`` does (day-first by default), and the role
    says which was taken. A column holding both orders, or ISO and other
    dates, is named as such (text), never read half.
``categorical``
    Text with few levels (at most :data:`MAX_LEVELS`, each seen twice on
    average), or a column named in ``categorical`` (integer codes, say): its
    levels are kept (``levels``). Clustered with ``mixed=True`` (by
    K-Prototypes or K-Modes: ``kmeanskit fit``), else excluded. Its values
    are categories as text (:func:`category_text`), in the training table and
    in every new one alike.
``identifier``
    Text unique per row, or integers unique per row under a name such as
    ``id`` or ``customer_id``: excluded.
``text``
    Text with too many levels to be categories: excluded.
``constant``
    One value (or none) in every row: excluded, it carries no information
    and breaks scaling.
``id``
    The column named by ``id_column``: never clustered, carried into outputs.
``excluded``
    Listed in ``exclude``, left out of ``columns``, or unnamed (an index saved
    with the data).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from kmeanskit._io.markers import DEFAULT_NA_VALUES, NA_VALUES_HINT, markers_text
from kmeanskit._io.table_rules import TextLayout, check_selection, excerpt, is_number, listing, quote_names

if TYPE_CHECKING:
    import pandas as pd

    from kmeanskit._io.markers import MissingMarkers

__all__ = [
    "DATE_ORDERS", "MAX_LEVELS", "ROLES", "ColumnRole", "ColumnRoles", "assign_roles", "category_text", "is_text_column", "parse_amounts",
]

#: The roles a column can have (see the module notes).
ROLES = ("numeric", "date", "categorical", "identifier", "text", "constant", "id", "excluded")

#: A text column with more levels than this (or than half its values) is free text, not categories.
MAX_LEVELS = 50

# Integers unique per row under such a name are row numbers or keys, not measurements.
_ID_NAME = re.compile(r"(?i:(^|[\s_.-])(id|ids|key|index|idx|row)$|^(id|index)[\s_.-])|[a-z](Id|ID)$")
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
# Day and month as numbers, the year in full, one separator, maybe a time: 13/02/2024, 2.13.2024 10:30.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
#: How dates written with the day and month as numbers are read (``--dayfirst``, ``--monthfirst``).
DATE_ORDERS = ("dayfirst", "monthfirst")
_EPOCH_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class ColumnRole:
    """The role of one column.

    Attributes
    ----------
    name : str
    role : str
        One of :data:`ROLES`.
    reason : str
        Why, in words (``"unique per row"``, ``"listed in --exclude"``...).
    clustered : bool
        Whether the column is a feature.
    levels : tuple of str or None
        The levels of a categorical column, sorted.
    converted : int
        Values read as numbers from text amounts (``$1,200``), or from dates.
    date_order : str
        How a date column written with numbers is read: ``"dayfirst"`` or
        ``"monthfirst"`` (:data:`DATE_ORDERS`); ``""`` for ISO dates.
    missing_markers : tuple of (str, int)
        The cells read as missing for their text (a missing-value marker such
        as ``NA`` or ``n/a``: :mod:`kmeanskit._io.markers`), per marker, most
        cells first: ``(("n/a", 73),)``. Empty cells are not counted.
    finding : str
        For numbers left out as constant or as an identifier: what was found
        (``one value (3) in every row``), said when the user names the column
        in ``columns`` (it is then clustered). Not stored (:meth:`to_dict`).
    advice : str
        What would make the column a feature, when the role says more than
        its kind does (text amounts: ``pass --thousands , ...``). Not stored.
    """

    name: str
    role: str
    reason: str = ""
    clustered: bool = False
    levels: tuple[str, ...] | None = None
    converted: int = 0
    date_order: str = ""
    missing_markers: tuple[tuple[str, int], ...] = ()
    finding: str = field(default="", compare=False, repr=False)
    advice: str = field(default="", compare=False, repr=False)

    def to_dict(self) -> dict:
        """The role as plain JSON values."""
        out = {"name": self.name, "role": self.role, "clustered": self.clustered, "reason": self.reason}
        if self.levels is not None:
            out["n_levels"] = len(self.levels)
            out["levels"] = list(self.levels)
        if self.converted:
            out["converted"] = self.converted
        if self.date_order:
            out["date_order"] = self.date_order
        if self.missing_markers:
            out["missing_markers"] = dict(self.missing_markers)
        return out


@dataclass(frozen=True)
class ColumnRoles:
    """The roles of every column of a table, in the table's order.

    Attributes
    ----------
    columns : tuple of ColumnRole
    id_column : str or None
        The column carried into outputs as the rows' identifier.
    decimal, thousands : str, str or None
        How the table's numbers are spelled; amounts in new tables are read alike.
    na_values : tuple of str or None
        The missing-value markers the table was read with (``--na-values``);
        None for the default list. New text tables are read alike.
    """

    columns: tuple[ColumnRole, ...]
    id_column: str | None = None
    decimal: str = "."
    thousands: str | None = None
    na_values: tuple[str, ...] | None = None
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def __getitem__(self, name: str) -> ColumnRole:
        return self._by_name[name]

    @property
    def features(self) -> list[str]:
        """The clustered columns, in order."""
        return [c.name for c in self.columns if c.clustered]

    @property
    def categorical_features(self) -> list[str]:
        """The clustered categorical columns, in order."""
        return [c.name for c in self.columns if c.clustered and c.role == "categorical"]

    def to_dict(self) -> dict:
        """The roles as plain JSON values (the inverse of :meth:`from_dict`)."""
        return {
            "columns": [c.to_dict() for c in self.columns],
            "features": self.features,
            "id_column": self.id_column,
            "decimal": self.decimal,
            "thousands": self.thousands,
            **({} if self.na_values is None else {"na_values": list(self.na_values)}),
        }

    @classmethod
    def from_dict(cls, payload: dict) -> ColumnRoles:
        """The roles :meth:`to_dict` gave; ValueError if `payload` is not such a mapping."""
        try:
            columns = tuple(
                ColumnRole(
                    name=str(c["name"]), role=str(c["role"]), reason=str(c.get("reason", "")),
                    clustered=bool(c["clustered"]),
                    levels=None if c.get("levels") is None else tuple(str(v) for v in c["levels"]),
                    converted=int(c.get("converted", 0)), date_order=str(c.get("date_order", "")),
                    missing_markers=tuple((str(m), int(n)) for m, n in dict(c.get("missing_markers", {})).items()),
                )
                for c in payload["columns"]
            )
            na_values = payload.get("na_values")
            if na_values is not None and (isinstance(na_values, str) or not all(isinstance(m, str) for m in na_values)):
                raise ValueError(f"na_values must be a list of strings, got {na_values!r}")
            roles = cls(columns, payload.get("id_column"), payload.get("decimal", "."), payload.get("thousands"),
                        None if na_values is None else tuple(na_values))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a description of column roles: {exc!r}") from None
        if any(c.date_order not in ("", *DATE_ORDERS) for c in columns):
            raise ValueError(f"unknown date order in {[c.date_order for c in columns]}; expected one of {DATE_ORDERS}")
        if any(c.role not in ROLES for c in columns):
            raise ValueError(f"unknown column role in {[c.role for c in columns]}; expected one of {ROLES}")
        return roles

    def features_frame(self, frame: pd.DataFrame, *, source: str = "the data", allow_missing: bool = False,
                       first_line: int | None = None, markers: MissingMarkers | None = None) -> pd.DataFrame:
        """The feature table of `frame` (the table these roles were given for, or a new one
        with the same columns): amounts parsed, dates as days since 1970-01-01, categories as text.

        Parameters
        ----------
        frame : pandas.DataFrame of shape (n_samples, n_columns)
        source : str, default="the data"
            How to name the table in messages.
        allow_missing : bool, default=False
            Keep missing values (NaN in numeric columns, missing in categorical ones).
        first_line : int, optional
            The line of the file that holds the table's first row, when every
            row is one line: messages then name the line of a bad value.
        markers : MissingMarkers, optional
            The cells of `frame` read as missing for their text: a message
            refusing missing values names them.

        Returns
        -------
        pandas.DataFrame of shape (n_samples, n_features)
            As :func:`kmeanskit._io.tables.select_features` returns it, with
            the clustered categorical columns (object dtype: str, or a
            missing value) in their place.

        Raises
        ------
        ValueError
            If a feature column is missing from `frame`, or its values are not
            what the role says (text in a numeric or amount column, naming the
            row, a value that is not a date), or infinite, or missing (unless
            `allow_missing`: they stay NaN or None).
        """
        from kmeanskit._io.tables import select_features

        names = self.features
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise ValueError(f"{source} lacks the feature {'column' if len(missing) == 1 else 'columns'} "
                             f"{quote_names(missing)} (the features: {quote_names(names)})")
        converted, categories = {}, {}
        for name in names:
            column, role = frame[name], self[name]
            if role.role == "categorical":
                said = () if markers is None else markers.counts(name)
                categories[name] = _categories(name, column, source, allow_missing, first_line, said)
            elif role.role == "numeric" and not role.converted and is_text_column(column):
                _refuse_text(name, column, source, first_line)
            elif role.role == "date":
                days = _days(column, role.date_order)
                if days is None:
                    written = {"dayfirst": "day first, e.g. 31/01/2024", "monthfirst": "month first, e.g. 01/31/2024"}
                    found = (f" such as {excerpt(_first_not_date(column.dropna().astype(str).str.strip(), role.date_order), 20)!r}"
                             if role.date_order else "")
                    raise ValueError(f"column '{excerpt(name)}' of {source} holds values{found} that are not dates "
                                     f"({written.get(role.date_order, 'ISO 8601, e.g. 2024-01-31')}, as in the "
                                     "training table)")
                converted[name] = days
            elif role.converted and is_text_column(column):
                amounts, _ = parse_amounts(column, decimal=self.decimal, thousands=self.thousands)
                if amounts is None:
                    raise ValueError(f"column '{excerpt(name)}' of {source} holds values that are not amounts "
                                     f"(e.g. {excerpt(str(_first_not_amount(column, self)))!r})")
                converted[name] = amounts
        numeric = [n for n in names if n not in categories]
        table = frame[numeric].copy()
        for name, values in converted.items():
            table[name] = values.to_numpy(dtype=np.float64)
        table = select_features(table, numeric, source=source, allow_missing=allow_missing,
                                markers=markers) if numeric else None
        if not categories:
            return table
        import pandas as pd

        columns = {n: categories[n] if n in categories else table[n].to_numpy() for n in names}
        return pd.DataFrame(columns, columns=names)


def assign_roles(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    id_column: str | None = None,
    dates: bool = False,
    date_order: str | None = None,
    layout: TextLayout | None = None,
    source: str = "the data",
    first_rows: bool = False,
    categorical: Sequence[str] = (),
    mixed: bool = False,
    markers: MissingMarkers | None = None,
) -> ColumnRoles:
    """Give every column of a table a role (see the module notes).

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_samples, n_columns)
        The table as read (:func:`kmeanskit._io.tables.read_raw_table`).
    columns : sequence of str, optional
        The feature columns, chosen by the user: each must be numeric (or a
        date with `dates`, or amounts); the others are excluded.
    exclude : sequence of str, default=()
        Columns never clustered.
    id_column : str, optional
        The rows' identifier: never clustered, carried into outputs.
    dates : bool, default=False
        Cluster date columns as days since 1970-01-01.
    date_order : {"dayfirst", "monthfirst"}, optional
        How to read dates written with numbers (``05/01/2024``) when no value
        of their column says (a field above 12); day-first by default, said
        in the column's role either way.
    layout : TextLayout, optional
        How the file spells numbers: with a thousands separator, text amounts
        are read as numbers.
    source : str, default="the data"
        How to name the table in messages.
    first_rows : bool, default=False
        `frame` holds only the first rows of a table read later in chunks:
        every numeric column is then clustered (whether it is constant or an
        identifier needs every row), text columns are judged on these rows,
        and text amounts are not converted (the chunks are read as they are).
    categorical : sequence of str, default=()
        Columns read as categories whatever they hold (``--categorical``):
        integer codes, say. Each must have at least two levels.
    mixed : bool, default=False
        Cluster categorical columns too (K-Prototypes, or K-Modes when no
        numeric column is left); otherwise they are excluded.
    markers : MissingMarkers, optional
        The cells of `frame` read as missing for their text
        (``read_raw_table(return_markers=True)``): counted per column
        (``ColumnRole.missing_markers``), whatever its role.

    Returns
    -------
    ColumnRoles

    Raises
    ------
    ValueError
        If a named column does not exist, is named twice (in `columns` and
        `exclude`, or as `id_column`), a column of `columns` cannot be
        clustered (say why and what to do), or no column is left to cluster.
    """
    layout = TextLayout() if layout is None else layout
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be None or one of {DATE_ORDERS}, got {date_order!r}")
    names = [str(c) for c in frame.columns]
    if frame.shape[1] == 0:
        raise ValueError(f"{source} has no columns")
    if len(frame) == 0:
        raise ValueError(f"{source} has no rows")
    exclude = [] if exclude is None else check_selection(names, exclude, source) if len(exclude) else []
    if id_column is not None:
        check_selection(names, [id_column], source)
        if id_column in exclude:
            raise ValueError(f"column '{excerpt(id_column)}' is both the id column and excluded; give it once")
    categorical = check_selection(names, categorical, source) if len(categorical) else []
    clash = [c for c in categorical if c in exclude or c == id_column]
    if clash:
        raise ValueError(f"{quote_names(clash)} cannot be both categorical (--categorical) and excluded "
                         "(or the id column)")
    chosen = None
    if columns is not None:
        chosen = check_selection(names, columns, source)
        clash = [c for c in chosen if c in exclude or c == id_column]
        if clash:
            raise ValueError(f"{quote_names(clash)} cannot be both a feature column and excluded (or the id column)")
    roles = []
    for name, (_, column) in zip(names, frame.items(), strict=True):
        if name == id_column:
            role = ColumnRole(name, "id", "the id column: carried into outputs")
        elif name in exclude:
            role = ColumnRole(name, "excluded", "listed in --exclude")
        elif chosen is not None and name not in chosen:
            role = ColumnRole(name, "excluded", "not in --columns")
        elif name in categorical:
            role = _forced_categorical(name, column, source)
        else:
            role = _role(name, column, dates=dates, date_order=date_order, layout=layout, first_rows=first_rows)
        if role.role == "categorical" and mixed:
            role = replace(role, reason=f"{len(role.levels)} levels: clustered", clustered=True)
        elif role.role == "categorical" and name in categorical:
            role = replace(role, reason=f"{len(role.levels)} levels (--categorical): excluded (K-Means clusters "
                                        "numbers)")
        if chosen is not None and name in chosen and not role.clustered:
            role = _chosen(role, column, source)
        if markers:
            role = replace(role, missing_markers=markers.counts(name))
        roles.append(role)
    result = ColumnRoles(tuple(roles), id_column, layout.decimal, layout.thousands, layout.na_values)
    if not result.features:
        said = listing([f"'{excerpt(r.name)}' ({r.role}{': ' + r.reason if r.reason else ''})" for r in roles], 10)
        needs = ("at least one numeric or categorical column" if mixed else "K-Means needs at least one numeric "
                 "column")
        raise ValueError(f"{source} has no column to cluster: {said}; {needs} "
                         "(dates count with --dates, text amounts with --thousands)")
    return result


def category_text(values) -> np.ndarray:
    """The values of a categorical column as category names: text as it is, numbers as they are
    written (``3.0`` read as a float because of a gap is ``"3"``, as in a column of integers), missing
    values as None.

    Parameters
    ----------
    values : pandas.Series of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_samples,), dtype object
    """
    import pandas as pd

    missing = pd.isna(values).to_numpy(dtype=bool)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):  # text as it is (the usual case, without a loop in Python)
        out = values.to_numpy(dtype=object, copy=True)
        out[missing] = None
        return out
    # Anything else: each distinct value named once (a category column has few).
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = np.asarray([_category_name(v) for v in np.asarray(uniques, dtype=object)] + [None], dtype=object)
    return names[codes]  # (code -1, a missing value, takes the last entry: None)


def _category_name(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer() and abs(value) < 2.0**53:
        return str(int(value))
    return str(value)


def _forced_categorical(name: str, column, source: str) -> ColumnRole:
    """The role of a column named in ``categorical``: its levels as text."""
    text = category_text(column)
    levels = tuple(sorted({v for v in text if v is not None}))
    if len(levels) < 2:
        said = f"one level ({excerpt(levels[0], 20)!r})" if levels else "no value"
        raise ValueError(f"column '{excerpt(name)}' of {source} is named in --categorical but has {said}: "
                         "it cannot separate clusters; leave it out")
    return ColumnRole(name, "categorical", f"{len(levels)} levels", levels=levels)


def _categories(name, column, source, allow_missing, first_line, markers=()):
    """A clustered categorical column as text (:func:`category_text`); missing values refused unless allowed,
    naming the `markers` (``ColumnRole.missing_markers``) read as missing."""
    text = category_text(column)
    if not allow_missing:
        gaps = np.flatnonzero(np.equal(text, None))
        if gaps.size:
            said = f" ({markers_text(markers)}: {NA_VALUES_HINT})" if markers else ""
            raise ValueError(f"categorical column '{excerpt(name)}' of {source} has a missing value in "
                             f"{_where(gaps[0], first_line)}, {gaps.size} in all{said}: fill them, leave such rows "
                             "out (--missing drop), or cluster rows on their observed values (--missing ignore)")
    return text


def _refuse_text(name, column, source, first_line):
    """Refuse text in a column that was numeric for the model (a column that switched type between files)."""
    present = column.dropna().astype(str)
    bad = [i for i, v in zip(present.index, present, strict=True) if not _is_number(v)]
    if bad:
        row = int(column.index.get_loc(bad[0]))
        noun = "value" if len(bad) == 1 else "values"
        raise ValueError(f"column '{excerpt(name)}' of {source} holds text where the model has numbers: "
                         f"{excerpt(str(column.iloc[row]), 20)!r} in {_where(row, first_line)}, {len(bad)} such "
                         f"{noun} in all; the column was numeric in the training table")


def _where(row: int, first_line: int | None) -> str:
    """Row `row` (from 0) of a table, and its line in the file when known."""
    return f"row {row + 1}" + ("" if first_line is None else f" (line {first_line + row})")


def _role(name: str, column, *, dates: bool, layout: TextLayout, first_rows: bool = False,
          date_order: str | None = None) -> ColumnRole:
    """The role of a column not named by the user."""
    role = _role_of_all_rows(name, column, dates=dates, layout=layout, date_order=date_order)
    if not first_rows:
        return role
    if role.role in ("constant", "identifier") and not is_text_column(column):
        return ColumnRole(name, "numeric", "", clustered=True)
    if role.converted and role.role == "numeric":
        return ColumnRole(name, "text", "amounts written as text: converted in memory only (fit without "
                                        "--out-of-core), or convert them first")
    if role.clustered or not is_text_column(column):
        return role
    return replace(role, reason=f"{role.reason} (judged on the first {len(column)} rows)")


def _role_of_all_rows(name: str, column, *, dates: bool, layout: TextLayout,
                      date_order: str | None = None) -> ColumnRole:
    """The role of a column from all its values (see the module notes for the rules)."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_datetime64_any_dtype, is_numeric_dtype

    if _UNNAMED.match(name):
        return ColumnRole(name, "excluded", "no name in the header: often an index saved with the data; "
                                            "name it with --columns to cluster it")
    values = column.dropna()
    n_values = len(values)
    dtype = column.dtype
    if is_datetime64_any_dtype(dtype) or str(dtype).startswith(("timestamp", "date32", "date64")):
        return _date_role(name, column, dates)
    if is_bool_dtype(dtype) or (is_numeric_dtype(dtype) and not is_complex_dtype(dtype)):
        return _numeric_role(name, values, dtype, len(column))
    if isinstance(dtype, pd.CategoricalDtype) or is_text_column(column):
        text = values.astype(str)
        if n_values and layout.thousands is not None:
            amounts, converted = parse_amounts(values, decimal=layout.decimal, thousands=layout.thousands)
            if amounts is not None:
                role = _numeric_role(name, amounts, np.dtype(np.float64), len(column))
                if role.clustered:
                    word = "value" if converted == 1 else "values"
                    role = replace(role, reason=f"{converted} {word} converted from text amounts", converted=converted)
                return role
        not_numbers = _not_numbers(text) if n_values else None
        # Past float64 written out in full takes over 300 digits: only such long values are tried.
        long = text[text.str.len() > 300] if n_values and not_numbers != 0 else text.iloc[:0]
        huge = next((v for v in long if _beyond_float64(v)), None)
        if huge is not None:  # numbers written out in full past float64: neither text nor amounts
            return ColumnRole(name, "text", f"numbers beyond the range of float64 (e.g. {excerpt(huge, 20)!r}, "
                                            f"{len(huge.strip())} characters): rescale them in the file")
        if n_values and not_numbers != 0 and layout.thousands is None:
            guess = "." if layout.decimal == "," else ","
            if parse_amounts(values, decimal=layout.decimal, thousands=guess)[0] is not None:
                example = excerpt(str(_first_not_number(text)), 20)
                advice = f"pass --thousands {guess} to read them as numbers"
                return ColumnRole(name, "text", f"amounts written as text (e.g. {example}): {advice}", advice=advice)
        if not_numbers:
            example = _first_not_number(text)
            noun = "value is" if not_numbers == 1 else "values are"
            return ColumnRole(name, "text", f"numbers, but {not_numbers} {noun} not (e.g. {excerpt(example, 20)!r}): "
                                            "clean them, or mark them as missing (--na-values)")
        dated = _dated_role(name, column, text, dates, date_order) if n_values else None
        if dated is not None:
            return dated
        levels = pd.unique(text)
        if len(levels) <= 1:
            said = f"one value ({excerpt(str(levels[0]), 20)}) in every row" if n_values else "every value missing"
            return ColumnRole(name, "constant", f"{said}: dropped")
        if len(levels) == n_values:
            return ColumnRole(name, "identifier", "unique per row: pass --id-column to carry it into outputs")
        if len(levels) > MAX_LEVELS or len(levels) > n_values / 2:
            return ColumnRole(name, "text", f"free text: {len(levels)} different values in {n_values} rows")
        ordered = tuple(sorted(levels))
        return ColumnRole(name, "categorical", f"{len(ordered)} levels: excluded (K-Means clusters numbers)", levels=ordered)
    return ColumnRole(name, "excluded", f"of type {dtype}, which cannot be clustered")


def _numeric_role(name, values, dtype, n_rows) -> ColumnRole:
    values = values.dropna() if hasattr(values, "dropna") else values
    n_values = len(values)
    if n_values == 0:
        return ColumnRole(name, "constant", "every value missing: dropped")
    n_unique = values.nunique()
    if n_unique == 1:
        found = f"one value ({excerpt(str(values.iloc[0]), 20)}) in every row"
        return ColumnRole(name, "constant", f"{found}: dropped", finding=found)
    kind = getattr(getattr(dtype, "numpy_dtype", dtype), "kind", "")
    if kind in "iu" and n_unique == n_rows and _ID_NAME.search(name):
        found = "integers unique per row, named as an identifier"
        return ColumnRole(name, "identifier", f"{found}; name it with --columns to cluster it", finding=found)
    return ColumnRole(name, "numeric", "", clustered=True)


def _date_role(name, column, dates: bool, order: str = "", said: str = "") -> ColumnRole:
    n = int(column.notna().sum())
    said = f"{said}; " if said else ""
    if dates:
        return ColumnRole(name, "date", f"{said}as days since 1970-01-01 (--dates)", clustered=True, converted=n,
                          date_order=order)
    return ColumnRole(name, "date", f"{said}pass --dates to cluster it as days since 1970-01-01", date_order=order)


def _dated_role(name, column, text, dates: bool, asked: str | None) -> ColumnRole | None:
    """The role of a text column whose every value is a date (`text`: its values as str), ISO or written with
    numbers (the order of day and month read from the values, else `asked`, else day-first, and said); a
    column of dates in two forms or two orders is text, saying so; None if a value is not a date (nor
    shaped as one: a field that is neither a day nor a month, as in 12-34-5678 or 13/13/2024)."""
    text = text.str.strip()
    if not (_ISO_DATE.match(text.iloc[0]) or _NUMERIC_DATE.match(text.iloc[0])):  # (most text: nothing more)
        return None
    iso = text.str.match(_ISO_DATE.pattern).to_numpy(dtype=bool)
    if iso.all():
        return _date_role(name, column, dates) if _iso_days(text) is not None else None
    parts = text.str.extract(_NUMERIC_DATE.pattern)
    numeric = parts[0].notna().to_numpy(dtype=bool)
    if not (iso | numeric).all():
        return None
    if iso.any():
        return ColumnRole(name, "text", f"dates in two forms (e.g. {text[iso].iloc[0]!r} and "
                                        f"{text[numeric].iloc[0]!r}): write them one way to use them")
    first, second = parts[0].astype(int), parts[2].astype(int)
    low, high = np.minimum(first, second).to_numpy(), np.maximum(first, second).to_numpy()
    if ((low < 1) | (low > 12) | (high > 31)).any():  # no day and month either way: codes, not dates
        return None
    day_first, month_first = (first > 12).to_numpy(), (second > 12).to_numpy()
    if day_first.any() and month_first.any():
        return ColumnRole(name, "text", f"dates in two orders ({text[day_first].iloc[0]!r} day first, "
                                        f"{text[month_first].iloc[0]!r} month first): write them one way to use them")
    if day_first.any() or month_first.any():
        order = "dayfirst" if day_first.any() else "monthfirst"
        above = day_first if day_first.any() else month_first
        example, field = text[above].iloc[0], (first if day_first.any() else second)[above].iloc[0]
        said = f"dates read {_ORDER_WORDS[order]} ({example} has no month {field})"
        if asked is not None and asked != order:
            said += f"; --{asked} does not apply"
    else:
        order = asked or "dayfirst"
        example = text.iloc[0]
        said = f"dates read {_ORDER_WORDS[order]} (e.g. {example} is {{}}"
        said += "; --dayfirst)" if asked == "dayfirst" else "; --monthfirst)" if asked else (
            "; no value says which comes first); --monthfirst to read them month-first")
    days = _parts_days(parts, order)
    not_dates = days.isna().to_numpy(dtype=bool)
    if not_dates.any():
        return ColumnRole(name, "text", f"dates written with numbers, but not all are dates read "
                                        f"{_ORDER_WORDS[order]} (e.g. {text[not_dates].iloc[0]!r})")
    if "{}" in said:  # an ambiguous example: what it was read as
        said = said.format(_iso_day(days.iloc[0]))
    return _date_role(name, column, dates, order, said)


_ORDER_WORDS = {"dayfirst": "day-first", "monthfirst": "month-first"}


def _iso_day(days: float) -> str:
    """The ISO date (``2024-01-05``) `days` days after 1970-01-01."""
    import datetime

    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=math.floor(days))).isoformat()


def _first_not_date(text, order: str) -> str:
    """The first value of `text` (a Series of stripped str) that is not a date written with numbers read in
    `order`."""
    parts = text.str.extract(_NUMERIC_DATE.pattern)
    return text[_parts_days(parts, order).isna().to_numpy(dtype=bool)].iloc[0]


def _chosen(role: ColumnRole, column, source: str) -> ColumnRole:
    """A column the user chose as a feature that would not be clustered by itself: numbers (constant,
    or an identifier) are clustered as asked, with what was found said; anything else (text among
    them, constant or not) is refused, saying why and what to do."""
    if role.finding and not is_text_column(column):
        return ColumnRole(role.name, "numeric", f"in --columns ({role.role}: {role.finding})", clustered=True)
    advice = role.advice or {
        "date": "pass --dates to cluster dates as days since 1970-01-01",
        "categorical": "categorical columns are not clustered by K-Means; leave it out of --columns",
        "excluded": "leave it out of --columns",
    }.get(role.role, "encode it as numbers or leave it out of --columns")
    raise ValueError(f"column '{excerpt(role.name)}' of {source} cannot be clustered: it is {role.role} "
                     f"({role.reason}); {advice}")


def _not_numbers(text) -> int | None:
    """How many values of a Series of str do not read as numbers, or None if the first does not
    (most text columns: then the others are not tried). Leading values that are default missing-value
    markers (``NA``, read as text when ``--na-values`` leaves it out) are passed over to find the first."""
    import pandas as pd

    first = next((v for v in text if v not in DEFAULT_NA_VALUES), None)
    if first is None or not _is_number(first):
        return None
    return int(pd.to_numeric(text, errors="coerce").isna().sum())


def _first_not_number(text) -> str:
    """The first value of a Series of str that :func:`_not_numbers` counts as not a number (the same
    test: ``nan`` or ``1_000``, numbers to ``float()``, are not to pandas)."""
    import pandas as pd

    return text[pd.to_numeric(text, errors="coerce").isna().to_numpy()].iloc[0]


def _is_number(text: str) -> bool:
    """Whether `text` reads as a number pandas keeps: not a number beyond float64 written out in full
    (float() makes it inf; pandas, as an integer past Python's digit limit, does not read it)."""
    return is_number(text) and not _beyond_float64(text)


def _is_infinity(text: str) -> bool:
    return str(text).strip().lower().lstrip("+-") in ("inf", "infinity")


def _beyond_float64(text: str) -> bool:
    """A number written out in full that float64 cannot hold (float() makes it infinite)."""
    try:
        return math.isinf(float(text)) and not _is_infinity(text)
    except (ValueError, OverflowError):
        return False


def is_text_column(column) -> bool:
    """Whether a column holds text (str, object, Arrow strings or categories of strings)."""
    import pandas as pd
    from pandas.api.types import is_object_dtype, is_string_dtype

    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):  # text, or text stored as a dictionary (Parquet categories)
        import pyarrow as pa

        arrow = dtype.pyarrow_dtype
        arrow = arrow.value_type if pa.types.is_dictionary(arrow) else arrow
        return pa.types.is_string(arrow) or pa.types.is_large_string(arrow)
    return is_object_dtype(dtype) or is_string_dtype(dtype)


def _days(values, order: str = ""):
    """Days since 1970-01-01 of dates (naive ones as UTC), as float64; None if one is not a date.

    ISO dates, or with `order` (:data:`DATE_ORDERS`) dates written with numbers, the day or the month first.
    """
    import pandas as pd

    try:
        if not pd.api.types.is_datetime64_any_dtype(values.dtype) and not str(values.dtype).startswith(
                ("timestamp", "date")):
            text = values.astype("string")
            present = text.dropna().str.strip()
            if order and len(present):
                return _numeric_days(text.str.strip(), order)
            if not len(present) or not _ISO_DATE.match(present.iloc[0]) or not present.str.match(_ISO_DATE.pattern).all():
                return None
            return _iso_days(text)
        stamps = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)


def _iso_days(text):
    """:func:`_days` of text already matched as ISO dates (missing values stay missing); None if one is
    not a date."""
    import pandas as pd

    try:
        stamps = pd.to_datetime(text, format="ISO8601", utc=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)


def _numeric_days(text, order: str):
    """:func:`_days` of dates written with numbers (`text`: a Series of stripped str, missing as NA), the day
    first or the month first (`order`); None if one is not such a date."""
    parts = text.str.extract(_NUMERIC_DATE.pattern)
    present = text.notna().to_numpy(dtype=bool)
    if parts[0].isna().to_numpy(dtype=bool)[present].any():
        return None
    days = _parts_days(parts, order)
    return None if days.isna().to_numpy(dtype=bool)[present].any() else days


def _parts_days(parts, order: str):
    """Days since 1970-01-01 (float64) of dates written with numbers, from their :data:`_NUMERIC_DATE` match
    (`parts`, as ``str.extract`` gives it), the day first or the month first (`order`); NaN where a row did
    not match or is not a date (31/02/2024), in one call for the whole column."""
    import pandas as pd

    matched = parts[0].notna().to_numpy(dtype=bool)
    numbers = parts[matched][[0, 2, 3, 4, 5, 6]].apply(pd.to_numeric).fillna(0)
    day, month = (numbers[0], numbers[2]) if order == "dayfirst" else (numbers[2], numbers[0])
    stamps = pd.to_datetime(pd.DataFrame({"year": numbers[3], "month": month, "day": day, "hour": numbers[4],
                                          "minute": numbers[5], "second": numbers[6]}), errors="coerce", utc=True)
    days = pd.Series(np.nan, index=parts.index)
    days[matched] = ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)).to_numpy()
    return days


def _currency(text: str) -> bool:
    """A currency mark: a currency symbol (``$``, ``€``), with up to two letters before it (``US$``,
    ``R$``), or an ISO 4217 code (``EUR``)."""
    if re.fullmatch(r"[A-Z]{3}", text):
        return True
    return unicodedata.category(text[-1]) == "Sc" and re.fullmatch(r"[A-Za-z]{0,2}", text[:-1]) is not None


def parse_amounts(values, *, decimal: str = ".", thousands: str | None = ","):
    """Read text amounts as numbers: ``$77,714.41``, ``-1.234,5 EUR``, ``(1,200)`` (negative).

    A number may carry a currency mark before or after it (currency symbols,
    with up to two letters before them as in ``US$``, or a three-letter code),
    a sign, or accounting parentheses; its digits are grouped by `thousands`
    in threes. Anything else (a percent sign, words) is not an amount.

    Parameters
    ----------
    values : pandas.Series
        The values (missing values stay missing).
    decimal : str, default="."
    thousands : str or None, default=","

    Returns
    -------
    amounts : pandas.Series of float64 or None
        None if a value is not an amount.
    converted : int
        The number of values read.
    """
    import pandas as pd
    import pyarrow as pa

    present = values.dropna()
    pattern = _amount_pattern(decimal, thousands)
    if len(present) and re.match(pattern, str(present.iloc[0]).strip()) is None:
        return None, 0  # most text columns fail at once
    if len(present) > 1 and parse_amounts(present.iloc[:1], decimal=decimal, thousands=thousands)[0] is None:
        return None, 0  # and the others at their first value
    # One match per value, in Arrow's regular expressions (a group that took no part is ""); the few
    # distinct currency marks are checked once each.
    text = present.astype(str).astype(pd.ArrowDtype(pa.string()))
    parts = text.str.strip().str.extract(pattern)
    if parts["digits"].isna().any():
        return None, 0
    given = {name: parts[name].ne("").to_numpy(dtype=bool) for name in ("open", "close", "sign", "sign2", "pre", "post")}
    if (given["open"] != given["close"]).any() or (given["sign"] & given["sign2"]).any() or (
            given["pre"] & given["post"]).any():
        return None, 0
    found = {*parts["pre"][given["pre"]].unique(), *parts["post"][given["post"]].unique()}
    if not all(_currency(mark) for mark in found):
        return None, 0
    digits = parts["digits"] if thousands is None else parts["digits"].str.replace(thousands, "", regex=False)
    amounts = (digits + "." + parts["fraction"] + "0").to_numpy(dtype=np.float64)
    minus = (parts["sign"].isin(["-", "−"]) | parts["sign2"].isin(["-", "−"])).to_numpy(dtype=bool)
    out = pd.Series(np.nan, index=values.index)
    out[present.index] = np.where(given["open"] | minus, -amounts, amounts)
    return out, len(present)


@functools.lru_cache(maxsize=8)
def _amount_pattern(decimal: str, thousands: str | None) -> str:
    """The regular expression of :func:`parse_amounts` for these marks (named groups)."""
    th = "" if thousands is None else re.escape(thousands)
    grouped = rf"\d{{1,3}}(?:{th}\d{{3}})+|" if th else ""
    dec = re.escape(decimal)
    mark = rf"[^\d\s{dec}{th}()+\-−]{{1,4}}"
    return (
        rf"^(?P<open>\()?(?P<sign>[-+−])?\s*(?P<pre>{mark})?\s*(?P<sign2>[-+−])?"
        rf"(?P<digits>{grouped}\d+)(?:{dec}(?P<fraction>\d+))?\s*(?P<post>{mark})?(?P<close>\))?$"
    )


def _first_not_amount(column, roles: ColumnRoles):
    """The first value of `column` that :func:`parse_amounts` does not read."""
    import pandas as pd

    for value in column.dropna():
        if parse_amounts(pd.Series([value], dtype=object), decimal=roles.decimal, thousands=roles.thousands)[0] is None:
            return value
    return None
