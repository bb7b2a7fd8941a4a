"""How kmeanskit writes a number, for a person (text) and for a program (JSON): the one home.

For a person, :func:`format_column` writes a column of numbers with the same
decimals on every row (so the decimal points line up) and four significant
digits of its largest value; a value within a few ulps of 0 relative to the
column's scale, the round-off of a computation that should give 0, prints as
0 (not ``-7.8e-16``). :func:`format_number` writes one number the same way,
and :func:`format_p_value` a p-value: one that underflows prints as
``< 1e-300``, never as 0.

For a program, :func:`json_number` and :func:`json_value` keep every digit
(Python's ``repr`` of a float round-trips) but never NaN or an infinity, which
JSON cannot hold: those become ``null``, and the document says why beside it
where a reason applies (e.g. ``"silhouette": null, "silhouette_note": ...``).

Used by the command line's tables and ``--json``, the HTML report, the
workflows' ``to_dict`` and the monitoring JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "P_VALUE_FLOOR",
    "format_cells",
    "format_column",
    "format_number",
    "format_p_value",
    "is_p_value_name",
    "json_number",
    "json_value",
    "noise_to_zero",
]

#: Below this a p-value is not told apart from 0 by floating point (it may have underflowed to 0).
P_VALUE_FLOOR = 1e-300

#: A value within this many units in the last place of the column's scale is round-off of 0.
_NOISE_ULPS = 64
_SIGNIFICANT = 4
# Outside [1e-4, 1e9) a column is written in scientific notation.
_FIXED_RANGE = (1e-4, 1e9)


# --------------------------------------------------------------------------- JSON


def json_number(value):
    """A JSON-safe number: full precision, ints stay ints, NaN and infinities become None.

    Parameters
    ----------
    value : int, float, bool, NumPy scalar or None

    Returns
    -------
    int, float, bool or None
        Booleans and None are returned as they are; NumPy scalars become
        Python ones.
    """
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def json_value(value):
    """`value` as a plain JSON value: lists and tuples element-wise, numbers by :func:`json_number`.

    Other values (strings, dicts, None) are returned as they are.
    """
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating)):
        return json_number(value)
    return value


# --------------------------------------------------------------------------- text


def noise_to_zero(values, scale: float | None = None) -> np.ndarray:
    """`values` with round-off around 0 set to 0, relative to `scale`.

    Parameters
    ----------
    values : array-like of shape (n,)
        Numbers (NaN and infinities are kept).
    scale : float, optional
        The magnitude the values are measured against; by default the largest
        finite absolute value among them.

    Returns
    -------
    ndarray of shape (n,)
        A float copy in which every value within ``64`` units in the last place
        of `scale` (``64 * eps * scale``, eps of the values' precision) is 0.
    """
    array = np.asarray(values)
    eps = np.finfo(array.dtype).eps if array.dtype.kind == "f" else np.finfo(np.float64).eps
    out = np.array(array, dtype=np.float64, copy=True).reshape(-1)
    finite = np.isfinite(out)
    if scale is None:
        scale = float(np.max(np.abs(out[finite]))) if finite.any() else 0.0
    tolerance = _NOISE_ULPS * float(eps) * abs(float(scale))
    out[finite & (np.abs(out) <= tolerance)] = 0.0
    return out


def format_column(values, *, scale: float | None = None, missing: str = "n/a",
                  thousands: bool = False) -> list[str]:
    """A column of numbers as text, with the same decimals on every row.

    Four significant digits of the column's largest value, fixed-point when
    it lies in [1e-4, 1e9), else scientific notation (``1.235e+12``); round-off
    around 0 (see :func:`noise_to_zero`) prints as 0, and never as ``-0``.

    Parameters
    ----------
    values : array-like of shape (n,)
        The numbers of one column.
    scale : float, optional
        The column's scale for the round-off rule; its largest absolute value
        by default.
    missing : str, default="n/a"
        How NaN (and None) prints.
    thousands : bool, default=False
        Group the thousands of fixed-point numbers with commas (``12,345.6``).

    Returns
    -------
    list of str, one per value
    """
    array = np.asarray([np.nan if v is None else v for v in np.asarray(values, dtype=object).reshape(-1)])
    numbers = noise_to_zero(array.astype(np.float64) if array.dtype.kind != "f" else array, scale)
    finite = numbers[np.isfinite(numbers)]
    largest = float(np.max(np.abs(finite))) if finite.size else 0.0
    if largest != 0 and not _FIXED_RANGE[0] <= largest < _FIXED_RANGE[1]:
        return [_special(v, missing) or ("0" if v == 0 else f"{v:.{_SIGNIFICANT}g}") for v in numbers]
    decimals = 0 if largest == 0 else max(0, _SIGNIFICANT - 1 - math.floor(math.log10(largest)))
    group = "," if thousands else ""
    return [_special(v, missing) or _no_negative_zero(f"{v:{group}.{decimals}f}") for v in numbers]


def format_number(value, *, significant: int = _SIGNIFICANT, scale: float | None = None,
                  missing: str = "n/a", thousands: bool = False) -> str:
    """One number as text: `significant` digits, fixed-point unless its magnitude is extreme.

    Parameters
    ----------
    value : float, int or None
    significant : int, default=4
        Significant digits.
    scale : float, optional
        The magnitude `value` is measured against: within a few ulps of 0
        relative to it, `value` prints as ``0`` (see :func:`noise_to_zero`).
    missing : str, default="n/a"
        How None and NaN print.
    thousands : bool, default=False
        Group the thousands with commas.

    Examples
    --------
    >>> format_number(140.96581663074699)
    '141.0'
    >>> format_number(-7.8e-16, scale=3.5)
    '0'
    >>> format_number(123456789.0, significant=6)
    '123456789'
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):{',' if thousands else ''}d}"
    number = float(np.nan if value is None else value)
    special = _special(number, missing)
    if special:
        return special
    if scale is not None:
        number = float(noise_to_zero([number], scale)[0])
    if number == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(number)))
    if not -4 <= magnitude < 15:
        return f"{number:.{significant}g}"
    group = "," if thousands else ""
    return _no_negative_zero(f"{number:{group}.{max(0, significant - 1 - magnitude)}f}")


def format_p_value(p, *, with_p: bool = False, missing: str = "n/a") -> str:
    """A p-value as text: never 0, which floating point cannot tell from a tiny value.

    Parameters
    ----------
    p : float or None
    with_p : bool, default=False
        Start with ``p = `` or ``p < `` (for a sentence) rather than the bare
        value or ``< 1e-300`` (for a table column about p-values).
    missing : str, default="n/a"
        How None and NaN print.

    Examples
    --------
    >>> format_p_value(0.0)
    '< 1e-300'
    >>> format_p_value(0.0, with_p=True)
    'p < 1e-300'
    >>> format_p_value(3.2e-12), format_p_value(0.0213), format_p_value(0.5)
    ('3.2e-12', '0.0213', '0.5')
    """
    value = float(np.nan if p is None else p)
    if math.isnan(value):
        return missing
    if value < P_VALUE_FLOOR:
        return "p < 1e-300" if with_p else "< 1e-300"
    text = f"{value:.2g}" if value < 1e-3 else _trimmed(f"{value:.4f}")
    return f"p = {text}" if with_p else text


def is_p_value_name(name) -> bool:
    """Whether a table column named `name` holds p-values (``p``, ``*_p``, ``* p``, ``p_value``, ``*_pvalue``)."""
    text = str(name).lower()
    return text in ("p", "p_value", "pvalue", "p-value") or text.endswith(("_p", " p", "_p_value", "_pvalue",
                                                                            " p-value"))


def _special(value: float, missing: str) -> str:
    """The text of NaN or an infinity, '' for a finite value."""
    if math.isnan(value):
        return missing
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return ""


def _trimmed(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _no_negative_zero(text: str) -> str:
    # -0.0001 rounds to "-0.000": the sign carries no information there.
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def format_cells(values: Sequence, *, percent: bool = False, p_value: bool = False,
                 missing: str = "n/a", thousands: bool = False) -> list[str]:
    """The cells of one table column, by its type: integers as they are, floats by :func:`format_column`.

    Parameters
    ----------
    values : sequence or ndarray of shape (n,)
    percent : bool, default=False
        The values are fractions from 0 to 1, written as percentages with one decimal.
    p_value : bool, default=False
        The values are p-values (see :func:`format_p_value`).
    missing : str, default="n/a"
        How missing values print.
    thousands : bool, default=False
        Group the thousands of integers and fixed-point numbers with commas.
    """
    array = np.asarray(values)
    if percent and array.dtype.kind in "iuf":
        return [missing if not math.isfinite(v) else f"{100 * v:.1f}%" for v in array.astype(np.float64)]
    if p_value and array.dtype.kind in "iuf":
        return [format_p_value(v, missing=missing) for v in array]
    if array.dtype.kind == "b":
        return [str(v) for v in array.tolist()]
    if array.dtype.kind in "iu":
        return [f"{v:,}" if thousands else str(v) for v in array.tolist()]
    if array.dtype.kind == "f":
        return format_column(array, missing=missing, thousands=thousands)
    return [missing if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in array.tolist()]

