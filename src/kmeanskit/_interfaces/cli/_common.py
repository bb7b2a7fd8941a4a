"""Helpers shared by the subcommands: the arguments several of them take,
argument types, input (tables, model files), output (tables, JSON), errors.

Nothing here computes; commands parse their arguments, call the library and
present what it returns with these helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DATA_HELP",
    "DEFAULT_K_IRIS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "IRIS_SOURCE",
    "CommandError",
    "add_columns_argument",
    "add_data_argument",
    "add_layout_arguments",
    "add_table_argument",
    "add_json_argument",
    "add_ks_arguments",
    "add_model_argument",
    "add_n_clusters_argument",
    "add_scale_argument",
    "add_seed_argument",
    "aligned",
    "compiling_notice",
    "check_ks_below_rows",
    "check_output_path",
    "column_list_arg",
    "format_table",
    "int_list_arg",
    "json_number",
    "load_features",
    "load_model",
    "n_clusters_arg",
    "n_init_arg",
    "print_json",
    "progress_wanted",
    "resolve_ks",
    "split_labels",
    "text_layout",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2

IRIS_SOURCE = "iris (bundled with scikit-learn)"


class CommandError(Exception):
    """Bad input found by a command itself; reported in one line, exit code 2."""


# --- The arguments several commands take. -----------------------------------

#: Help of a DATA argument: a table file.
DATA_HELP = "CSV (.csv, .tsv, .txt) or Parquet (.parquet, .pq) file with a header"


def add_table_argument(parser: argparse.ArgumentParser, *, metavar: str = "DATA") -> None:
    """A table file to read (positional ``data``), with where it starts (--skip-rows, --no-header)."""
    parser.add_argument("data", metavar=metavar, help=DATA_HELP)
    add_layout_arguments(parser)


def add_layout_arguments(parser: argparse.ArgumentParser) -> None:
    """--skip-rows and --no-header: where the table starts in a text file."""
    parser.add_argument(
        "--skip-rows", type=_non_negative_int, default=0, metavar="N",
        help="lines to skip before the table, e.g. a line of metadata (text files; default: 0)",
    )
    parser.add_argument(
        "--no-header", action="store_true",
        help="the table has no header line: its columns are named column_1, column_2, ... (text files)",
    )


def text_layout(args: argparse.Namespace):
    """The :class:`TextLayout` of the command's DATA, from --skip-rows and --no-header."""
    from kmeanskit._io.table_rules import TextLayout

    layout = TextLayout(skip_rows=args.skip_rows, header=not args.no_header)
    if args.data is None and layout != TextLayout():
        raise CommandError("--skip-rows and --no-header apply to a DATA file, not to the bundled iris data")
    return layout


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def add_data_argument(parser: argparse.ArgumentParser, *, iris_note: str = "") -> None:
    """DATA, optional: a table, or the iris data bundled with scikit-learn."""
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help=f"{DATA_HELP}; default: the iris data bundled with scikit-learn{iris_note}",
    )


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """MODEL: a model file saved by ``kmeanskit fit -o``."""
    parser.add_argument("model", metavar="MODEL", help="a .kmk model file from 'kmeanskit fit -o'")


def add_n_clusters_argument(parser: argparse.ArgumentParser) -> None:
    """``-k/--n-clusters``: required with DATA (see :func:`n_clusters_arg`)."""
    parser.add_argument(
        "-k",
        "--n-clusters",
        type=int,
        metavar="K",
        help=f"number of clusters (required with DATA; {DEFAULT_K_IRIS} for iris)",
    )


def add_columns_argument(
    parser: argparse.ArgumentParser, *, default: str = "all", which: str = "they must be numeric"
) -> None:
    """``--columns A,B,...``: the feature columns of DATA."""
    parser.add_argument(
        "--columns",
        type=column_list_arg,
        metavar="A,B,...",
        help=f"comma-separated feature columns (default: {default}; {which})",
    )


def add_scale_argument(parser: argparse.ArgumentParser) -> None:
    """``--scale``: the scaling before clustering (the keys of ``workflow.SCALINGS``)."""
    parser.add_argument(
        "--scale",
        choices=("standard", "minmax", "none"),
        default="standard",
        help="scaling before clustering (default: %(default)s)",
    )


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    """``--seed``: the random seed of a command (None by default)."""
    parser.add_argument("--seed", type=int, help="random seed, for reproducible results")


def add_json_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--json``: print a JSON document instead of text."""
    parser.add_argument("--json", action="store_true", help=help)


def load_model(path: str, *, with_manifest: bool = False):
    """Load a ``.kmk`` model file (and its manifest); a bad file is a one-line CommandError."""
    from kmeanskit._io.persistence import ModelFileError, load, load_with_manifest

    try:
        return load_with_manifest(path) if with_manifest else load(path)
    except ModelFileError as exc:
        raise CommandError(" ".join(str(exc).split())) from None


def print_json(payload: dict) -> None:
    """Print a JSON document (indented; NaN and infinities are refused: use :func:`json_number`)."""
    print(json.dumps(payload, indent=2, allow_nan=False))


def json_number(value):
    """A JSON-safe number: ints stay ints, NaN, infinities and None become None."""
    import numpy as np

    if value is None or isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


@contextlib.contextmanager
def compiling_notice(stream=None):
    """Say once on ``stream`` (stderr), if a terminal, that kernels compile (a first run), and for how long.

    Said to a person waiting, not to scripts: their stderr stays empty.
    """
    from kmeanskit._engine.compiling import compile_clock

    stream = sys.stderr if stream is None else stream
    told = stream.isatty()

    def first():
        if told:
            print("compiling kernels for this machine, once: ", end="", file=stream, flush=True)

    with compile_clock(first) as clock:
        try:
            yield clock
        finally:
            if told and clock.n_compiled:
                seconds = clock.seconds
                print(f"about {seconds:.0f} s" if seconds >= 1 else f"about {seconds:.1f} s", file=stream, flush=True)


def aligned(pairs) -> list[str]:
    """``key: value`` lines with the values in one column."""
    width = max(len(key) for key, _ in pairs) + 1
    return [f"{key + ':':<{width}} {value}" for key, value in pairs]


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


def load_features(data: str | None, columns: Sequence[str] | None, layout=None) -> tuple[pd.DataFrame, str]:
    """Read the feature table of a command, or the bundled iris data.

    Parameters
    ----------
    data : str or None
        Path of a CSV or Parquet file; None for the iris measurements (four
        columns in cm, shipped inside scikit-learn, no download).
    columns : sequence of str or None
        Feature columns to use; all by default.
    layout : TextLayout or None
        Where the table starts in a text file (see :func:`text_layout`).

    Returns
    -------
    features : pandas.DataFrame of shape (n_samples, n_features)
    source : str
        How to name the data in output.
    """
    from kmeanskit._io.tables import read_table, select_features

    if data is not None:
        return read_table(data, columns, layout=layout), data
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True).data
    return select_features(iris, columns, source="the iris data"), IRIS_SOURCE


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


# --- Shared by select-k, evaluate and report. --------------------------------

_DEFAULT_K_RANGE = (2, 10)


def int_list_arg(text: str) -> list[int]:
    """Parse ``--ks 2,3,5`` into a list of integers."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as '2,3,5', got {text!r}"
        ) from None
    return values


def add_ks_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--k-min``, ``--k-max`` and ``--ks``: the values of k to compare."""
    group = parser.add_argument_group("values of k (a range, or a list)")
    group.add_argument(
        "--k-min", type=int, metavar="K",
        help=f"smallest k to try (default: {_DEFAULT_K_RANGE[0]})",
    )
    group.add_argument(
        "--k-max", type=int, metavar="K",
        help=f"largest k to try (default: {_DEFAULT_K_RANGE[1]})",
    )
    group.add_argument(
        "--ks", type=int_list_arg, metavar="K,K,...",
        help="the values of k to try, e.g. 2,3,5 (instead of --k-min/--k-max)",
    )


def resolve_ks(args: argparse.Namespace) -> list[int]:
    """The values of k from ``--ks`` or ``--k-min``/``--k-max``, checked for order."""
    if args.ks is not None:
        if args.k_min is not None or args.k_max is not None:
            raise CommandError("give either --ks or --k-min/--k-max, not both")
        ks = sorted(set(args.ks))
        if ks[0] < 1:
            raise CommandError(f"--ks values must be at least 1, got {args.ks}")
        return ks
    k_min = _DEFAULT_K_RANGE[0] if args.k_min is None else args.k_min
    k_max = _DEFAULT_K_RANGE[1] if args.k_max is None else args.k_max
    if k_min < 1:
        raise CommandError(f"--k-min must be at least 1, got {k_min}")
    if k_max < k_min:
        raise CommandError(f"--k-max ({k_max}) must not be smaller than --k-min ({k_min})")
    return list(range(k_min, k_max + 1))


def check_ks_below_rows(ks: list[int], n_rows: int, *, what: str = "", hint: str = "") -> None:
    """Refuse a k to compare that is not smaller than the number of rows."""
    if ks[-1] >= n_rows:
        raise CommandError(
            f"the largest k{what} ({ks[-1]}) must be smaller than the number of rows ({n_rows}); "
            f"lower --k-max or --ks{hint}"
        )


def progress_wanted() -> bool:
    """Show progress bars only to a person at a terminal (stderr), never in a pipe or a log."""
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None) and stream.isatty())


def split_labels(
    frame: pd.DataFrame, labels_column: str | None, *, source: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Take the ``--labels-column`` (known classes) out of a raw table.

    Returns the table without that column, and the column (None when not
    asked). The labels may be of any type but must not be missing.
    """
    if labels_column is None:
        return frame, None
    if labels_column not in frame.columns:
        shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:20])
        raise CommandError(
            f"--labels-column {labels_column!r} is not a column of {source} (columns: {shown})"
        )
    labels = frame[labels_column]
    missing = int(labels.isna().sum())
    if missing:
        raise CommandError(
            f"--labels-column {labels_column!r} has {missing} missing values in {source}; "
            "every row needs a known class"
        )
    return frame.drop(columns=labels_column), labels.reset_index(drop=True)


#: k when no DATA is given (the bundled iris data has three species).
DEFAULT_K_IRIS = 3


def n_clusters_arg(args: argparse.Namespace) -> int:
    """``-k``, required with DATA; the iris default without it."""
    if args.n_clusters is not None:
        return args.n_clusters
    if args.data is not None:
        raise CommandError("-k/--n-clusters is required when DATA is given")
    return DEFAULT_K_IRIS
