"""Helpers shared by the subcommands: argument types, input, output, errors.

Nothing here computes; commands parse their arguments, call the library and
present what it returns with these helpers.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "IRIS_SOURCE",
    "CommandError",
    "check_output_path",
    "column_list_arg",
    "format_table",
    "load_features",
    "n_init_arg",
    "write_table",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2

IRIS_SOURCE = "iris (bundled with scikit-learn)"


class CommandError(Exception):
    """Bad input found by a command itself; reported in one line, exit code 2."""


def column_list_arg(text: str) -> list[str]:
    """Parse ``--columns a,b,c`` into a list of names (spaces around commas trimmed)."""
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names such as 'a,b,c', got {text!r}"
        )
    return names


def n_init_arg(text: str) -> int | str:
    """Parse ``--n-init``: ``auto`` or an integer (the estimator checks its range)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def load_features(data: str | None, columns: Sequence[str] | None) -> tuple[pd.DataFrame, str]:
    """Read the feature table of a command, or the bundled iris data.

    Parameters
    ----------
    data : str or None
        Path of a CSV or Parquet file; None for the iris measurements (four
        columns in cm, shipped inside scikit-learn, no download).
    columns : sequence of str or None
        Feature columns to use; all by default.

    Returns
    -------
    features : pandas.DataFrame of shape (n_samples, n_features)
    source : str
        How to name the data in output.
    """
    from kmeanskit.io import read_table, select_features

    if data is not None:
        return read_table(data, columns), data
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True).data
    return select_features(iris, columns, source="the iris data"), IRIS_SOURCE


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table to Parquet (``.parquet``, ``.pq``) or else delimited text.

    ``.tsv`` (optionally compressed) gets tabs, anything else commas; pandas
    compresses by suffix (``.gz``, ``.bz2``, ...).
    """
    from kmeanskit.io import PARQUET_SUFFIXES

    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in PARQUET_SUFFIXES:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if ".tsv" in suffixes[-2:] else ",")


def check_output_path(path: str, *, option: str, inputs: Sequence[str | None] = ()) -> Path:
    """Refuse an output path that cannot be written or would overwrite an input.

    Called before any work is done, so that a typo does not cost a long fit.
    """
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        raise CommandError(
            f"cannot write {option} to '{path}': directory '{parent}' does not exist"
        )
    if target.is_dir():
        raise CommandError(f"cannot write {option} to '{path}': it is a directory")
    for source in inputs:
        if source is not None and target.exists() and _same_file(target, Path(source)):
            raise CommandError(
                f"{option} '{path}' would overwrite the input data; choose another name"
            )
    if target.exists() and not os.access(target, os.W_OK):
        raise CommandError(f"cannot write {option} to '{path}': permission denied")
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def format_table(frame: pd.DataFrame, *, percent: Sequence[str] = ()) -> str:
    """Render a table for the terminal with readable numbers.

    Integer columns print as they are; columns named in `percent` (fractions
    0 to 1) print as percentages with one decimal; other float columns get
    enough decimals for four significant digits of their largest value, the
    same for every row so that the decimal points line up.
    """
    import pandas as pd

    cells = {}
    for i, (name, column) in enumerate(frame.items()):
        values = column.to_numpy()
        if name in percent:
            text = [f"{100 * v:.1f}%" for v in values]
        elif values.dtype.kind in "iub":
            text = [str(v) for v in values]
        elif values.dtype.kind == "f":
            text = _format_floats(values)
        else:
            text = [str(v) for v in values]
        cells[i] = text
    shown = pd.DataFrame(cells)
    shown.columns = [str(c) for c in frame.columns]
    # Two spaces between columns: pandas' single space runs headers together.
    widths = [
        max(len(str(c)), *(len(t) for t in cells[i])) + 1 for i, c in enumerate(frame.columns)
    ]
    return shown.to_string(index=False, col_space=widths)


def _format_floats(values) -> list[str]:
    finite = [abs(v) for v in values if math.isfinite(v)]
    largest = max(finite, default=0.0)
    if largest != 0 and not 1e-4 <= largest < 1e9:
        return [f"{v:.4g}" for v in values]
    decimals = 0 if largest == 0 else max(0, 3 - math.floor(math.log10(largest)))
    return [_no_negative_zero(f"{v:.{decimals}f}") for v in values]


def _no_negative_zero(text: str) -> str:
    # -0.0001 rounds to "-0.000"; the sign carries no information there.
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text
