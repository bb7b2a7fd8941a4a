"""Helpers shared by the subcommands: the arguments several of them take,
argument types, input (tables, model files), output (tables, JSON), errors.

Nothing here computes; commands parse their arguments, call the library and
present what it returns with these helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
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
    "TABLE_ARGUMENTS",
    "CommandError",
    "add_columns_argument",
    "add_data_argument",
    "add_layout_arguments",
    "add_table_argument",
    "add_json_argument",
    "add_ks_arguments",
    "add_model_argument",
    "add_n_clusters_argument",
    "add_role_arguments",
    "add_scale_argument",
    "add_seed_argument",
    "aligned",
    "compiling_notice",
    "check_ks_below_rows",
    "check_output_path",
    "column_list_arg",
    "detected_separator",
    "format_table",
    "terminal_width",
    "int_list_arg",
    "json_number",
    "load_features",
    "load_first_rows_roles",
    "load_with_roles",
    "load_to_fit",
    "labels_as_written",
    "fit_in_memory",
    "model_layout",
    "model_roles",
    "load_model",
    "signing_key",
    "n_clusters_arg",
    "int_or_auto_arg",
    "n_init_arg",
    "print_json",
    "progress_wanted",
    "resolve_ks",
    "roles_lines",
    "split_labels",
    "text_layout",
    "warn_if_unscaled",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2

IRIS_SOURCE = "iris (bundled with scikit-learn)"

#: The arguments (``args`` attributes) that name tables to read: a stream among them (``-`` for standard
#: input, a named pipe) is saved once to a temporary file before the command runs (``_main.py``).
TABLE_ARGUMENTS = ("data", "reference")


class CommandError(Exception):
    """Bad input found by a command itself; reported in one line, exit code 2."""


# --- The arguments several commands take. -----------------------------------

#: Help of a DATA argument: a table file.
DATA_HELP = ("CSV (.csv, .tsv, .txt) or Parquet (.parquet, .pq) file with a header; - reads standard input "
             "(text, its separator detected unless --sep; Parquet; gzip, bzip2 or xz text)")


def add_table_argument(parser: argparse.ArgumentParser, *, metavar: str = "DATA") -> None:
    """A table file to read (positional ``data``), with where it starts (--skip-rows, --no-header)."""
    parser.add_argument("data", metavar=metavar, help=DATA_HELP)
    add_layout_arguments(parser)


def add_layout_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the table starts in a text file and how its values are written (--skip-rows, --sep, ...)."""
    group = parser.add_argument_group("reading a text file (CSV, TSV, TXT)")
    group.add_argument(
        "--skip-rows", type=_non_negative_int, default=0, metavar="N",
        help="lines to skip before the table, e.g. a line of metadata (default: 0)",
    )
    group.add_argument(
        "--no-header", action="store_true",
        help="the table has no header line: its columns are named column_1, column_2, ...",
    )
    group.add_argument(
        "--sep", type=_separator_arg, metavar="SEP",
        help="field separator: ',', ';', '|', '\\t' (or 'tab'), ' ' (or 'space': runs of spaces) "
             "(default: from the suffix: .csv comma, .tsv tab, .txt detected)",
    )
    group.add_argument(
        "--decimal", type=_mark_arg("--decimal"), default=".", metavar="C",
        help="decimal mark of numbers, e.g. ',' for 3,14 (default: '.')",
    )
    group.add_argument(
        "--thousands", type=_mark_arg("--thousands"), metavar="C",
        help="thousands separator, e.g. ',' for 1,234.5; text amounts such as $77,714.41 or 1.234,5 EUR "
             "are then read as numbers in columns that hold nothing else",
    )
    group.add_argument("--encoding", default="utf-8", metavar="NAME",
                       help="text encoding, e.g. latin-1 or cp1252 (default: utf-8)")
    group.add_argument("--comment", type=_mark_arg("--comment"), metavar="C",
                       help="character starting a comment: the rest of the line is ignored, e.g. '#'")
    group.add_argument(
        "--na-values", type=_markers_arg, metavar="A,B,...",
        help="the text read as a missing value, in every column, besides empty cells (which always are): "
             "comma-separated, or a JSON list; it replaces the default list (pandas': NA, N/A, n/a, NaN, nan, "
             "null, NULL, None, #N/A, <NA>, ...); '' for empty cells only. The cells read so are counted per "
             "column with its role, and written back as they were (predict). A model's commands read DATA "
             "with the markers of its fit by default",
    )


_LAYOUT_OPTIONS = {"skip_rows": "--skip-rows", "header": "--no-header", "sep": "--sep", "decimal": "--decimal",
                   "thousands": "--thousands", "encoding": "--encoding", "comment": "--comment",
                   "na_values": "--na-values"}


def text_layout(args: argparse.Namespace):
    """The :class:`TextLayout` of the command's DATA, from the reading options."""
    from kmeanskit._io.table_rules import TextLayout

    options = {"skip_rows": args.skip_rows, "header": not args.no_header, "sep": args.sep,
               "decimal": args.decimal, "thousands": args.thousands, "encoding": args.encoding,
               "comment": args.comment, "na_values": args.na_values}
    try:
        layout = TextLayout(**options)
    except ValueError as exc:  # the library's message, in the options' names
        names = "|".join(_LAYOUT_OPTIONS)
        message = re.sub(rf"\b({names})(?= must| and \w+ must|=)", lambda m: _LAYOUT_OPTIONS[m[1]], str(exc))
        raise CommandError(message.replace("=", " ")) from None
    if args.data is None and layout != TextLayout():
        default = TextLayout()
        given = [option for name, option in _LAYOUT_OPTIONS.items() if getattr(layout, name) != getattr(default, name)]
        raise CommandError(f"{', '.join(given)} apply to a DATA file, not to the bundled iris data")
    return layout


def _separator_arg(text: str) -> str:
    """``--sep``: one character, or a name (``tab``, ``space``) or escape (``\\t``) for the invisible ones."""
    named = {"\\t": "\t", "tab": "\t", "\t": "\t", " ": r"\s+", "space": r"\s+", "whitespace": r"\s+"}
    if text.lower() in named:
        return named[text.lower()]
    if len(text) != 1 or text in "\"\r\n" or text.isalnum():
        raise argparse.ArgumentTypeError(
            f"expected one separator character such as ',', ';', '|', or 'tab' or 'space', got {text!r}"
        )
    return text


def _markers_arg(text: str) -> tuple[str, ...]:
    """``--na-values NA,n/a``: the missing-value markers (spaces around commas trimmed); a JSON list for
    markers with commas or spaces; ``''`` for none (empty cells only)."""
    if text.lstrip().startswith("["):
        try:
            markers = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"expected a JSON list of markers, got {text!r} ({exc.msg})") from None
        if not isinstance(markers, list) or not all(isinstance(m, str) for m in markers):
            raise argparse.ArgumentTypeError(f"expected a JSON list of strings such as '[\"NA\", \"n/a\"]', "
                                             f"got {text!r}")
        return tuple(m for m in markers if m)
    return tuple(part.strip() for part in text.split(",") if part.strip())


def model_layout(args: argparse.Namespace, roles, path: str | None = None):
    """The :class:`TextLayout` of a table for a model's command (DATA, or `path`): the reading options, with
    the missing-value markers of the model's fit (`roles`, its ``ColumnRoles`` or None) for a text file,
    unless --na-values is given."""
    from dataclasses import replace

    from kmeanskit._io.write_back import is_text_table

    layout = text_layout(args)
    path = args.data if path is None else path
    if args.na_values is None and roles is not None and roles.na_values is not None and is_text_table(path):
        layout = replace(layout, na_values=roles.na_values)
    return layout


def _mark_arg(option: str):
    """The type of an option that takes one character (a decimal mark, a thousands separator, a comment)."""
    def parse(text: str) -> str:
        value = {"space": " ", "\\t": "\t", "tab": "\t"}.get(text.lower(), text)
        if len(value) != 1 or value.isdigit():
            raise argparse.ArgumentTypeError(f"{option} expects one character that is not a digit, got {text!r}")
        return value

    return parse


def add_role_arguments(parser: argparse.ArgumentParser) -> None:
    """--exclude, --id-column, --dates and --dayfirst / --monthfirst: what is done with the columns of DATA
    (see ``_io/roles.py``)."""
    group = parser.add_argument_group("columns of DATA (each is given a role, said before the result)")
    group.add_argument(
        "--exclude", type=column_list_arg, metavar="A,B,...",
        help="columns never clustered: comma-separated, or a JSON list for names with commas",
    )
    group.add_argument(
        "--id-column", metavar="NAME",
        help="the rows' identifier: never clustered, written beside each row's cluster (--labels)",
    )
    group.add_argument(
        "--dates", action="store_true",
        help="cluster date columns (ISO 8601, or 13/02/2024) as days since 1970-01-01 (by default they are "
             "excluded)",
    )
    orders = group.add_mutually_exclusive_group()
    for order, other in (("dayfirst", "monthfirst"), ("monthfirst", "dayfirst")):
        orders.add_argument(
            f"--{order}", dest="date_order", action="store_const", const=order,
            help=f"read dates such as 05/01/2024 {order[:-5]} first when no value of their column says (a field "
                 f"above 12); by default day first, said in the column's role (--{other}: the other way)",
        )


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


def add_n_clusters_argument(parser: argparse.ArgumentParser, *, auto: bool = False) -> None:
    """``-k/--n-clusters``: required with DATA (see :func:`n_clusters_arg`); with `auto`, ``-k auto`` too."""
    parser.add_argument(
        "-k",
        "--n-clusters",
        type=int_or_auto_arg if auto else int,
        metavar="K",
        help=(
            f"number of clusters (required with DATA; {DEFAULT_K_IRIS} for iris)"
            + ("; 'auto': the best k of select-k over k = 2..10, with its reason" if auto else "")
        ),
    )


def add_columns_argument(
    parser: argparse.ArgumentParser, *, default: str = "all", which: str = "they must be numeric"
) -> None:
    """``--columns A,B,...``: the feature columns of DATA."""
    parser.add_argument(
        "--columns",
        type=column_list_arg,
        metavar="A,B,...",
        help=f"comma-separated feature columns, or a JSON list for names with commas such as "
             f"'[\"net, EUR\", \"visits\"]' (default: {default}; {which})",
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
    print(json.dumps(payload, indent=2, allow_nan=False, default=_json_path))


def _json_path(value):
    """A path in a JSON document: as the user named it (a table read from a stream: its name, see
    ``_io/spool.py``)."""
    if isinstance(value, os.PathLike):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


@contextlib.contextmanager
def compiling_notice(stream=None):
    """Say once on ``stream`` (stderr), if a terminal, that kernels compile (a first run), and for how long,
    or that the run used NumPy kernels while they compile in the background.

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
                took = f"about {seconds:.0f} s" if seconds >= 1 else f"about {seconds:.1f} s"
                print(f"{took} ('kmeanskit warmup' compiles every estimator's, ahead of time)", file=stream, flush=True)
            if told and clock.numpy_twins:
                if clock.background_compile:
                    print("first run on this machine: kernels are compiling in the background, once; this run used "
                          "NumPy kernels (the same results)", file=stream, flush=True)
                else:
                    print("first run on this machine: this run used NumPy kernels (the same results); "
                          "'kmeanskit warmup' compiles the kernels, once", file=stream, flush=True)


def aligned(pairs) -> list[str]:
    """``key: value`` lines with the values in one column."""
    width = max(len(key) for key, _ in pairs) + 1
    return [f"{key + ':':<{width}} {value}" for key, value in pairs]


def column_list_arg(text: str) -> list[str]:
    """Parse ``--columns a,b,c`` into a list of names (spaces around commas trimmed).

    A JSON list (``'["revenue, net", "visits"]'``) names columns whose names hold commas.
    """
    if text.lstrip().startswith("["):
        try:
            names = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"expected a JSON list of column names, got {text!r} ({exc.msg})") from None
        if not names or not all(isinstance(n, str) and n for n in names):
            raise argparse.ArgumentTypeError(
                f"expected a JSON list of non-empty column names such as '[\"a, b\", \"c\"]', got {text!r}"
            )
        return names
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names such as 'a,b,c' (or a JSON list), got {text!r}"
        )
    return names


def int_or_auto_arg(text: str) -> int | str:
    """Parse ``--n-init`` or ``-k auto``: ``auto`` or an integer (the estimator checks its range)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


n_init_arg = int_or_auto_arg


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


def load_with_roles(args: argparse.Namespace, *, allow_missing: bool = False, mixed: bool = False, read=None):
    """Read the command's DATA (or the bundled iris data) and give each column a role.

    `read`, when given, is DATA as ``read_raw_table(args.data, layout=text_layout(args),
    return_markers=True)`` returned it (``report`` reads it first for its --labels-column): not read again.

    Uses ``args.data``, the reading options, ``--columns``, ``--exclude``,
    ``--id-column``, ``--dates`` and (``fit``) ``--categorical``. With
    `mixed`, categorical columns are clustered too (their values as text
    among the features).

    Returns
    -------
    features : pandas.DataFrame of shape (n_samples, n_features)
        The clustered columns, as numbers.
    source : str
        How to name the data in output.
    roles : ColumnRoles
        The role of every column (see :mod:`kmeanskit._io.roles`).
    ids : pandas.Series or None
        The id column, when ``--id-column`` names one; a text column with the
        text of the cells read as missing (missing-value markers) as it was.
    """
    from kmeanskit._io.markers import MissingMarkers
    from kmeanskit._io.roles import assign_roles
    from kmeanskit._io.tables import read_raw_table

    layout = text_layout(args)
    if args.data is None:
        from sklearn.datasets import load_iris

        frame, source, label = load_iris(as_frame=True).data, IRIS_SOURCE, "the iris data"
        markers = MissingMarkers()
    else:
        frame, markers = read_raw_table(args.data, layout=layout, return_markers=True) if read is None else read
        source, label = args.data, f"'{args.data}'"
    roles = assign_roles(frame, columns=args.columns, exclude=args.exclude or (), id_column=args.id_column,
                         dates=args.dates, date_order=args.date_order, layout=layout, source=label,
                         categorical=getattr(args, "categorical", None) or (), mixed=mixed, markers=markers)
    ids = None
    if args.id_column is not None:
        # For a Parquet --labels (a text one is read again as DATA writes it): a text column's markers as
        # written, a number column's missing values missing (its numbers stay numbers).
        ids = markers.restore(frame[[args.id_column]], text_columns_only=True)[args.id_column].reset_index(drop=True)
    features = roles.features_frame(frame, source=label, allow_missing=allow_missing, markers=markers)
    return features, source, roles, ids


def load_to_fit(args: argparse.Namespace, *, read=None):
    """DATA (or the bundled iris data) read with column roles to be clustered in memory, as ``fit`` and
    ``report`` cluster it: categorical columns clustered too, missing values as ``--missing`` says
    (rows with nothing observed refused with --missing ignore). Returns what :func:`load_with_roles` does;
    `read` as it takes it."""
    features, source, roles, ids = load_with_roles(args, allow_missing=args.missing != "error", mixed=True,
                                                   read=read)
    refuse_empty_rows(args, features)
    return features, source, roles, ids


def fit_in_memory(args: argparse.Namespace, features, n_clusters, seed: int, *, categorical=(), **settings):
    """Cluster `features` in memory as ``fit`` and ``report`` do: K-Prototypes (K-Modes without numeric
    columns) when `categorical` names columns, else K-Means; ``--scale`` and ``--missing`` from `args`,
    a warning for numeric columns clustered unscaled, and the compiling notice.

    `settings` are the other parameters of ``fit_mixed_clusters`` or ``fit_clusters`` (``n_init``,
    ``max_iter``; ``gamma``; ``algorithm``, ``stability``), as the command checked them. Returns their result.
    """
    categorical = list(categorical)
    numeric = features.drop(columns=categorical) if categorical else features
    if numeric.shape[1]:
        warn_if_unscaled(args, numeric)
    with compiling_notice():
        if categorical:
            from kmeanskit._analysis.mixed_workflow import fit_mixed_clusters

            return fit_mixed_clusters(features, n_clusters, categorical=categorical, scale=args.scale,
                                      random_state=seed, missing=args.missing, **settings)
        from kmeanskit._analysis.workflow import fit_clusters

        return fit_clusters(features, n_clusters, scale=args.scale, random_state=seed, missing=args.missing,
                            **settings)


def first_data_line(args: argparse.Namespace) -> int | None:
    """The line of DATA holding its first row when each row is one line (a delimited file without
    --comment), so that messages about a row name its line; None otherwise."""
    from kmeanskit._io.table_rules import file_kind

    if args.data is None or args.comment is not None or file_kind(Path(args.data)) != "csv":
        return None
    layout = text_layout(args)
    return layout.first_line + layout.header


def refuse_empty_rows(args: argparse.Namespace, features) -> None:
    """With --missing ignore, a CommandError for rows of DATA with no observed feature, naming the line."""
    if args.missing != "ignore":
        return
    from kmeanskit._analysis.workflow import refuse_empty_rows as refuse

    try:
        refuse(features, source=f"'{args.data}'" if args.data is not None else "the data",
               first_line=first_data_line(args))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def detected_separator(args: argparse.Namespace) -> str | None:
    """The separator detected in a ``.txt`` DATA file read without --sep, in words; None otherwise."""
    from kmeanskit._io.table_rules import delimiter, file_kind

    if args.data is None or args.sep is not None or file_kind(Path(args.data)) != "csv":
        return None
    suffixes = [s.lower() for s in Path(args.data).suffixes]
    if ".txt" not in suffixes[-2:]:
        return None
    sep = delimiter(Path(args.data), text_layout(args))
    return {"\t": "tabs", r"\s+": "spaces"}.get(sep, f"'{sep}'")


#: Rows read to give the columns of a streamed file (--out-of-core) their roles.
FIRST_ROWS = 10_000


def load_first_rows_roles(args: argparse.Namespace):
    """The roles of DATA's columns from its first rows, for a file streamed in chunks (--out-of-core).

    Returns
    -------
    roles : ColumnRoles
        Every numeric column is clustered (see ``assign_roles(first_rows=True)``).
    ids : pandas.Series or None
        The whole id column, when ``--id-column`` names one and ``--labels`` asks for it, but not for
        text labels of a text DATA (its cells are written back as DATA writes them, read in chunks).
    """
    from kmeanskit._io.roles import assign_roles
    from kmeanskit._io.tables import read_raw_table

    layout = text_layout(args)
    head = read_raw_table(args.data, layout=layout, n_rows=FIRST_ROWS)
    roles = assign_roles(head, columns=args.columns, exclude=args.exclude or (), id_column=args.id_column,
                         date_order=args.date_order, layout=layout, source=f"'{args.data}'", first_rows=True)
    ids = None
    if args.id_column is not None and args.labels is not None and not labels_as_written(args, Path(args.labels)):
        ids = read_raw_table(args.data, [args.id_column], layout=layout)[args.id_column].reset_index(drop=True)
    return roles, ids


def labels_as_written(args: argparse.Namespace, path: Path) -> bool:
    """Whether ``--labels`` `path` gets the --id-column's cells as DATA writes them (read again, in chunks,
    when the labels are written): text labels of a text DATA."""
    from kmeanskit._io.table_rules import PARQUET_SUFFIXES
    from kmeanskit._io.write_back import is_text_table

    return is_text_table(args.data) and path.suffix.lower() not in PARQUET_SUFFIXES


def model_roles(manifest: dict):
    """The column roles stored in a model file's manifest (``"table"``), or None for files without them."""
    from kmeanskit._io.roles import ColumnRoles

    table = manifest.get("table")
    if table is None:
        return None
    try:
        return ColumnRoles.from_dict(table)
    except ValueError as exc:
        raise CommandError(f"the model file's column roles cannot be read: {exc}") from None


def roles_lines(roles, scale: str, separator: str | None = None, clustered_by: str | None = None) -> list[str]:
    """The role of every column, one line each, for the terminal (before a command's result);
    `separator` is said when it was detected (:func:`detected_separator`), `clustered_by` (the
    estimator and its gamma, for tables with categorical columns) after the columns."""
    from kmeanskit._io.markers import markers_text
    from kmeanskit._io.table_rules import excerpt

    rows = []
    for column in roles.columns:
        if column.clustered and column.role == "categorical":
            reason = column.reason
        elif column.clustered:
            what = "scaled" if scale != "none" else "not scaled"
            reason = f"{what}; {column.reason}" if column.reason else what
        else:
            reason = column.reason
        if column.missing_markers:
            said = markers_text(column.missing_markers)
            reason = f"{reason}; {said}" if reason else said
        rows.append((excerpt(column.name), column.role, reason))
    n_used = len(roles.features)
    head = f"columns: {n_used} of {len(rows)} clustered"
    if separator is not None:
        head += f" (fields separated by {separator}, detected; --sep to choose)"
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [head, *(f"  {name:<{width[0]}}  {role:<{width[1]}}  {reason}".rstrip() for name, role, reason in rows)]
    return lines if clustered_by is None else [*lines, f"clustered by {clustered_by}"]


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
