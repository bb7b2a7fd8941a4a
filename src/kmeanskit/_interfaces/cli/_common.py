"""Helpers shared by the subcommands: the arguments several of them take,
argument types, input (tables, model files), output (tables, JSON), errors.

Nothing here computes; commands parse their arguments, call the library and
present what it returns with these helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kmeanskit._analysis.formatting import format_cells, is_p_value_name, json_number

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
    "check_ks_below_rows",
    "check_output_path",
    "column_list_arg",
    "format_table",
    "terminal_width",
    "int_list_arg",
    "json_number",
    "load_features",
    "load_model",
    "signing_key",
    "n_clusters_arg",
    "n_init_arg",
    "print_json",
    "progress_wanted",
    "resolve_ks",
    "split_labels",
    "text_layout",
    "warn_if_unscaled",
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


def warn_if_unscaled(args: argparse.Namespace, features) -> None:
    """With ``--scale none``, warn when the features differ in scale by orders of magnitude.

    Said once per command: the library functions the command calls next (e.g.
    ``select_k`` in ``report``) do not say it again in their own words.
    """
    if args.scale == "none":
        import warnings

        from kmeanskit._analysis.feature_scales import FeatureScaleWarning
        from kmeanskit._analysis.feature_scales import warn_if_unscaled as warn

        if warn(features, remedy="scale them (--scale standard)", stacklevel=3) is not None:
            # Inside the command's warnings.catch_warnings() (see _main): restored when it ends.
            warnings.filterwarnings("ignore", category=FeatureScaleWarning)


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    """``--seed``: the random seed of a command (None by default)."""
    parser.add_argument("--seed", type=int, help="random seed, for reproducible results")


def add_json_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--json``: print a JSON document instead of text."""
    parser.add_argument("--json", action="store_true", help=help)


def load_model(path: str, *, with_manifest: bool = False):
    """Load a ``.kmk`` model file (and its manifest), signed with ``KMEANSKIT_MODEL_KEY`` when that is set;
    a bad file is a one-line CommandError."""
    from kmeanskit._io.persistence import ModelFileError, load_with_manifest

    try:
        model, manifest = load_with_manifest(path, key=signing_key())
    except ModelFileError as exc:
        raise CommandError(" ".join(str(exc).split())) from None
    return (model, manifest) if with_manifest else model


def signing_key():
    """``KMEANSKIT_MODEL_KEY``, or None; set but empty is a CommandError."""
    from kmeanskit._interfaces.model_key import model_key

    try:
        return model_key()
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def print_json(payload: dict) -> None:
    """Print a JSON document (indented; NaN and infinities are refused: use :func:`json_number`)."""
    print(json.dumps(payload, indent=2, allow_nan=False))


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


def load_features(
    data: str | None, columns: Sequence[str] | None, layout=None, *, allow_missing: bool = False
) -> tuple[pd.DataFrame, str]:
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
    allow_missing : bool, default=False
        Keep missing values as NaN (``--missing drop`` or ``ignore``).

    Returns
    -------
    features : pandas.DataFrame of shape (n_samples, n_features)
    source : str
        How to name the data in output.
    """
    from kmeanskit._io.tables import read_table, select_features

    if data is not None:
        return read_table(data, columns, layout=layout, allow_missing=allow_missing), data
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


def format_table(
    frame: pd.DataFrame, *, percent: Sequence[str] = (), p_values: Sequence[str] | None = None,
    width: int | None = None,
) -> str:
    """Render a table for the terminal with readable numbers, within the terminal's width.

    Integer columns print as they are; columns named in `percent` (fractions
    0 to 1) print as percentages with one decimal; p-value columns as
    :func:`~kmeanskit._analysis.formatting.format_p_value` writes them (never
    0); other float columns with the same decimals on every row (four
    significant digits of the largest value, round-off around 0 as 0).

    A table wider than `width` is turned over: its first column (e.g.
    ``cluster``) becomes the header and every other column a row, so that
    the features run down the page and the clusters across it. If it is
    still too wide, it is split into blocks of columns, one under the other,
    each repeating the row names.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its first column names the rows.
    percent : sequence of str
        Columns of fractions to print as percentages.
    p_values : sequence of str or None
        Columns of p-values; by default the columns whose name says so
        (``p``, ``*_p``, ``* p``, ``p_value``).
    width : int or None
        Characters per line; by default :func:`terminal_width`.
    """
    if width is None:
        width = terminal_width()
    names = [str(c) for c in frame.columns]
    columns = [
        format_cells(column.to_numpy(), percent=name in percent,
                     p_value=name in p_values if p_values is not None else is_p_value_name(name))
        for name, column in zip(names, (frame.iloc[:, i] for i in range(frame.shape[1])), strict=True)
    ]
    rows = [names, *(list(cells) for cells in zip(*columns, strict=True))] if columns else [names]
    if width is None or _line_width(rows) <= width or len(names) < 2:
        return _render_rows(rows)
    # Turned over: one row per column of the frame (names left-aligned), one column per row of it.
    key = names[0]
    header = ["", *(f"{key} {v}" if _is_bare_number(v) else v for v in columns[0])]
    turned = [header, *([name, *cells] for name, cells in zip(names[1:], columns[1:], strict=True))]
    return "\n\n".join(_render_rows(block, names_left=True) for block in _column_blocks(turned, width))


def terminal_width() -> int | None:
    """Characters per line of the output: ``COLUMNS`` if set, the terminal's, or None in a pipe (no limit).

    A table sent to a file or another program is not cut to a screen it will never be shown on.
    """
    import shutil

    if os.environ.get("COLUMNS", "").strip().isdigit() or getattr(sys.stdout, "isatty", lambda: False)():
        return max(20, shutil.get_terminal_size().columns)
    return None


def _is_bare_number(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _widths(rows: list[list[str]]) -> list[int]:
    # One more than the widest cell: the columns are joined by a space, so two separate them.
    return [max(len(row[j]) for row in rows) + 1 for j in range(len(rows[0]))]


def _line_width(rows: list[list[str]]) -> int:
    widths = _widths(rows)
    return sum(widths) + len(widths) - 1


def _render_rows(rows: list[list[str]], *, names_left: bool = False) -> str:
    widths = _widths(rows)
    lines = []
    for row in rows:
        cells = [cell.rjust(w) for cell, w in zip(row, widths, strict=True)]
        if names_left:
            cells[0] = " " + row[0].ljust(widths[0] - 1)
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def _column_blocks(rows: list[list[str]], width: int) -> list[list[list[str]]]:
    """`rows` split into blocks of whole columns, each with the first column and within `width` (at least one
    column besides it per block)."""
    widths = _widths(rows)
    blocks, start, used = [], 1, widths[0]
    for j in range(1, len(widths)):
        if j > start and used + 1 + widths[j] > width:
            blocks.append((start, j))
            start, used = j, widths[0]
        used += 1 + widths[j]
    blocks.append((start, len(widths)))
    return [[[row[0], *row[a:b]] for row in rows] for a, b in blocks]


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


def add_missing_argument(parser: argparse.ArgumentParser, *, default: str | None) -> None:
    """``--missing error|drop|ignore``: what to do with rows that have missing values."""
    if default is None:
        text = "the model's policy (ignore for a model fitted with --missing ignore, else error)"
    else:
        text = default
    parser.add_argument(
        "--missing",
        choices=("error", "drop", "ignore"),
        default=default,
        help=(
            "rows with missing values: refuse them (error), leave them out with no cluster (drop), "
            f"or cluster them on their observed values (ignore); default: {text}"
        ),
    )
