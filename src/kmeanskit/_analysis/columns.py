"""The columns of a table for analysis: which are numeric, which categorical, read one at a time.

Profiles (:mod:`.profiles`) and drift reports (:mod:`.monitoring`) describe a
table column by column: a numeric column by its mean, spread and quantiles
over its observed entries (NaN is a missing entry), a categorical column by
the shares of its levels. :func:`table_columns` tells them apart, once, the
same way for both.

A column is categorical when the model says so (``categorical_`` of
:class:`~kmeanskit.KPrototypes` and :class:`~kmeanskit.KModes`), else when
its dtype is not numeric (object, string, category, bool); in an array of
objects, a column some of whose values are not numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["TableColumns", "level_codes", "level_counts", "resample_keeps_levels", "table_columns"]


@dataclass(frozen=True, eq=False)
class TableColumns:
    """The columns of a table, by name and kind.

    Attributes
    ----------
    names : list of str
        Every column, in the table's order.
    categorical : ndarray of shape (n_columns,), bool
        Which columns are categorical.
    column : callable
        ``column(j)`` is column j: float64 with NaN for a missing entry
        (numeric), or an object array of str with None for a missing entry
        (categorical). Read when asked for: one column is copied at a time.
    """

    names: list
    categorical: np.ndarray
    column: Callable[[int], np.ndarray]

    @property
    def numeric_names(self) -> list[str]:
        """Names of the numeric columns."""
        return [n for n, c in zip(self.names, self.categorical, strict=True) if not c]

    @property
    def categorical_names(self) -> list[str]:
        """Names of the categorical columns."""
        return [n for n, c in zip(self.names, self.categorical, strict=True) if c]

    def numeric(self) -> list[int]:
        """Positions of the numeric columns."""
        return np.flatnonzero(~self.categorical).tolist()

    def categories(self) -> list[int]:
        """Positions of the categorical columns."""
        return np.flatnonzero(self.categorical).tolist()


def _is_numeric_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def as_levels(values) -> np.ndarray:
    """A categorical column as an object array of str, None for a missing entry."""
    values = np.asarray(values, dtype=object)
    missing = pd.isna(values)
    out = np.empty(values.shape[0], dtype=object)
    out[~missing] = [str(v) for v in values[~missing]]
    out[missing] = None
    return out


def level_codes(values: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The levels of a categorical column and where each entry falls among them.

    Parameters
    ----------
    values : ndarray of shape (n_samples,), dtype object
        Levels as text, None for a missing entry (as :meth:`TableColumns.column` gives them).

    Returns
    -------
    levels : list of str
        The distinct levels, most frequent first (ties in text order).
    counts : ndarray of shape (n_levels,), int64
        The entries of each level.
    codes : ndarray of shape (n_samples,), int64
        The position of each entry's level in `levels`; -1 for a missing entry.
    """
    observed = np.not_equal(values, None)
    found, inverse, counts = np.unique(values[observed].astype(str), return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    codes = np.full(values.shape[0], -1, dtype=np.int64)
    codes[observed] = rank[inverse.reshape(-1)]
    return found[order].tolist(), counts[order].astype(np.int64), codes


def level_counts(values: np.ndarray) -> tuple[list[str], np.ndarray, int]:
    """The levels of a categorical column (as text), most frequent first (ties in text order), their
    counts, and the number of missing entries (None); see :func:`level_codes`."""
    levels, counts, _ = level_codes(values)
    return levels, counts, int(values.shape[0] - counts.sum())


def _numbers(values) -> np.ndarray | None:
    """`values` as float64 (None and NaN as NaN), or None when one is not a number."""
    try:
        return pd.to_numeric(pd.Series(values, dtype=object), errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return None


def table_columns(X, names=None, categorical=None):
    """The columns of `X` by kind, or why they cannot be read one by one.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Rows as a model takes them.
    names : list of str, optional
        The columns to take from a DataFrame (in this order) or the names to
        give an array's columns; by default a DataFrame's own, else ``x0, x1, ...``.
    categorical : array-like of int, optional
        Positions (in `names`' order) of the categorical columns, as a model's
        ``categorical_`` gives them; by default told from the dtypes.

    Returns
    -------
    columns : TableColumns or None
    reason : str or None
        Why the columns cannot be read (sparse data, a missing column, not a
        table); then `columns` is None.
    """
    if sp.issparse(X):
        return None, "the data are sparse"
    if isinstance(X, pd.DataFrame):
        frame_names = [str(c) for c in X.columns]
        if names is None:
            names = frame_names
        absent = [n for n in names if n not in frame_names]
        if absent:
            return None, f"the data lack the feature column(s) {', '.join(map(repr, absent))}"
        positions = [frame_names.index(n) for n in names]
        kinds = np.array([not _is_numeric_dtype(X.dtypes.iloc[p]) for p in positions], dtype=bool)
        if categorical is not None:
            kinds[:] = False
            kinds[np.asarray(categorical, dtype=np.int64)] = True

        def column(j):
            series = X.iloc[:, positions[j]]
            if kinds[j]:
                return as_levels(series.to_numpy(dtype=object))
            if not _is_numeric_dtype(series.dtype):
                found = _numbers(series.to_numpy(dtype=object))
                return found if found is not None else np.full(len(series), np.nan)
            return series.to_numpy(dtype=np.float64, na_value=np.nan)

        return TableColumns(list(names), kinds, column), None
    array = np.asarray(X)
    if array.ndim != 2 or array.dtype.kind not in "fiuOUSb":
        return None, "the data are not a table"
    if names is None:
        names = [f"x{j}" for j in range(array.shape[1])]
    elif len(names) != array.shape[1]:
        return None, f"the data have {array.shape[1]} columns, not the {len(names)} features profiled"
    if categorical is not None:
        kinds = np.zeros(array.shape[1], dtype=bool)
        kinds[np.asarray(categorical, dtype=np.int64)] = True
    elif array.dtype.kind in "fiu":
        kinds = np.zeros(array.shape[1], dtype=bool)
    elif array.dtype.kind == "O":
        kinds = np.array([_numbers(array[:, j]) is None for j in range(array.shape[1])], dtype=bool)
    else:
        kinds = np.ones(array.shape[1], dtype=bool)

    def column(j):
        if kinds[j]:
            return as_levels(array[:, j])
        if array.dtype.kind in "fiu":
            return np.asarray(array[:, j], dtype=np.float64)
        found = _numbers(array[:, j])
        return found if found is not None else np.full(array.shape[0], np.nan)

    return TableColumns(list(names), kinds, column), None


class LevelsLostError(ValueError):
    """Resamples of the rows (stability's, prediction strength's halves) kept a single level of a
    categorical column draw after draw: its other levels are in too few rows (the command says what to
    leave out). Raised by the resampling of :mod:`kmeanskit._analysis.stability` and
    :mod:`kmeanskit._analysis.selection.core`."""


def resample_keeps_levels(X, categorical):
    """A test of resamples of a table: does every categorical column keep two levels in them?

    KPrototypes and KModes refuse a categorical column of a single level, so a
    refit on a resample (bootstrap, half, subset) needs each of their columns
    that has two levels in `X` to keep two among the rows drawn.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The rows as the model takes them.
    categorical : array-like of int
        Positions of the categorical columns (a model's ``categorical_``).

    Returns
    -------
    keeps : callable
        ``keeps(rows)`` for row positions ``rows``: whether every such column
        keeps two observed levels in them (or has a single observed value);
        ``keeps.column(rows)`` names the first column that does not (None
        when all do).
    """
    columns, reason = table_columns(X, categorical=categorical)
    if columns is None:
        raise ValueError(f"X cannot be read as a table with categorical columns: {reason}")
    codes = {}
    for j in columns.categories():
        found = level_codes(columns.column(j))[2]
        if np.unique(found[found >= 0]).size >= 2:
            codes[columns.names[j]] = found

    def column(rows):
        for name, found in codes.items():
            picked = found[rows]
            picked = picked[picked >= 0]
            if picked.size == 1 or np.any(picked != picked[0]):  # (one row has one level: allowed)
                continue
            return name
        return None

    def keeps(rows):
        return column(rows) is None

    keeps.column = column
    return keeps
