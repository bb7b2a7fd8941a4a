"""The ``kmeanskit`` command: parser, dispatch, and how errors are reported.

Each subcommand is a module ``kmeanskit._interfaces.cli._<name>`` with
``EPILOG`` (examples, printed as written), ``add_arguments(parser)`` and
``run(args) -> int``; its name, its line in ``kmeanskit --help`` and its
description are its entry in ``_COMMANDS``, in the order ``--help`` lists
them. Adding a command is a new module and one entry.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import warnings

from kmeanskit._interfaces.cli._common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, TABLE_ARGUMENTS, CommandError

__all__ = ["build_parser", "main"]

# The longest error or warning the command prints, in characters: whatever
# raised it (a parser quoting a huge line, a long list of names), the terminal
# gets one short line.
_MAX_MESSAGE = 500

# Module name (kmeanskit._interfaces.cli._<module>) -> the command's name, its line in
# ``kmeanskit --help`` and its description, in the order ``--help`` lists them.
_COMMANDS = {
    "fit": (
        "fit",
        "cluster a CSV or Parquet table and describe the clusters",
        "Scale the features, run K-Means and print one row per cluster\n"
        "(size, share of rows, center in original units), then inertia,\n"
        "iterations, silhouette and fit time.",
    ),
    "predict": (
        "predict",
        "assign the rows of a table to the clusters of a saved model",
        "Load a model saved by 'kmeanskit fit -o MODEL.kmk', assign each row of\n"
        "DATA to its nearest cluster and write DATA with two columns added:\n"
        "'cluster' and 'distance'.",
    ),
    "select_k": (
        "select-k",
        "compare values of k (elbow, silhouette, gap, ...) and recommend one",
        "Scale the features, fit K-Means for each k and print, per k: inertia,\n"
        "silhouette, Calinski-Harabasz, Davies-Bouldin, gap statistic and fit time;\n"
        "then the k each method recommends.",
    ),
    "evaluate": (
        "evaluate",
        "measure the quality of a saved model's clusters on a table",
        "Load a model saved by 'kmeanskit fit -o MODEL.kmk', assign the rows of\n"
        "DATA and print the clustering metrics; with known classes\n"
        "(--labels-column), also how well the clusters recover them.",
    ),
    "explain": (
        "explain",
        "say what sets each cluster of a saved model apart, in words and rules",
        "Load a model saved by 'kmeanskit fit -o MODEL.kmk', assign the rows of\n"
        "DATA and print, per cluster, the features that set it apart from the\n"
        "other rows and a rule in the original units (a threshold tree: IMM,\n"
        "ExKMC with --max-leaves), with the rules' fidelity and cost ratio.",
    ),
    "report": (
        "report",
        "cluster a table and write an HTML report (plots, profiles, metrics)",
        "Scale the features, run K-Means with K clusters (as 'kmeanskit fit')\n"
        "and write a self-contained HTML report about the data, the choice of k\n"
        "and the clusters.",
    ),
    "quantize": (
        "quantize",
        "reduce the colours of an image to K with K-Means",
        "Redraw IMAGE with at most K colours chosen by K-Means and write it to OUT.",
    ),
    "drift": (
        "drift",
        "compare new data with a saved model's training data (exit 3 on drift)",
        "Assign the rows of NEWDATA to the clusters of MODEL and compare them with\n"
        "the training data: cluster shares, distances to the centers and the rate\n"
        "of anomalies. Prints a report; exits with 3 when drift is found.",
    ),
    "warmup": (
        "warmup",
        "compile the kernels for this machine once, so that first fits are fast",
        "Run a first fit of every estimator on a small table, so that numba compiles\n"
        "their kernels now and caches them for this machine (as the first fit would).\n"
        "Later processes only load them, in any directory, for any user of the\n"
        "same cache.",
    ),
    "serve": (
        "serve",
        "serve a saved model over HTTP (predict, health, metrics)",
        "Serve MODEL over HTTP with uvicorn: POST /predict assigns rows to clusters\n"
        "and flags anomalies; GET /health, /model and /metrics (Prometheus) help\n"
        "run it; GET /docs shows the OpenAPI document.",
    ),
}

_EPILOG = """\
examples:
  kmeanskit fit                          # cluster the bundled iris data
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit predict customers.kmk new.csv -o assigned.csv
  kmeanskit fit --help                   # options of a command
  kmeanskit warmup                       # compile the kernels once, after installing

exit codes:
  0    success
  1    unexpected internal error (please report it)
  2    usage error or bad input (the message says what to fix)
  3    drift found (kmeanskit drift)
  130  interrupted

Errors are printed as one line. Set KMEANSKIT_DEBUG=1 (or pass --debug) to
get the full traceback instead.
"""


def _version() -> str:
    from kmeanskit import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kmeanskit`` command."""
    parser = argparse.ArgumentParser(
        prog="kmeanskit",
        description="Fast, exact K-Means clustering from the command line.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and Python warnings in full"
    )
    # Accept --debug after the subcommand too; SUPPRESS keeps a subcommand
    # from resetting a --debug given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for module, (name, help_line, description) in _COMMANDS.items():
        command = importlib.import_module(f"kmeanskit._interfaces.cli._{module}")
        _add_command(subparsers, [common], command, name, help_line, description)
    return parser


def _add_command(subparsers, parents: list, command, name: str, help_line: str, description: str) -> None:
    """Register the subcommand of the module `command`; ``args.run`` is its ``run``."""
    parser = subparsers.add_parser(
        name,
        parents=parents,
        help=help_line,
        description=description,
        epilog=command.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    command.add_arguments(parser)
    parser.set_defaults(run=command.run)


def main(argv: list[str] | None = None) -> int:
    """Run the ``kmeanskit`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        Exit code: 0 success, 1 internal error, 2 usage error or bad input.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_code(exc)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    debug = args.debug or os.environ.get("KMEANSKIT_DEBUG", "") not in ("", "0")
    streams = []  # the table arguments read from streams, saved once: messages name them as given
    if debug:
        with _streams_saved(args, streams):
            return args.run(args)  # Python's own warnings and tracebacks

    def named(text: str) -> str:
        for table in streams:
            text = table.named(text)
        return text

    with warnings.catch_warnings():
        _show_warnings_in_one_line(named)
        try:
            with _streams_saved(args, streams):
                return args.run(args)
        except CommandError as exc:
            _error(named(str(exc)))
            return EXIT_USAGE
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as other tools do.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - avoid a second error at exit
            return EXIT_INTERNAL
        except (ValueError, TypeError, OSError) as exc:  # includes FileNotFoundError
            _error(named(_describe(exc)))
            return EXIT_USAGE
        except KeyboardInterrupt:
            _error("interrupted")
            return 130
        except Exception as exc:  # the last line of defence
            _error(
                f"internal error: {type(exc).__name__}: {named(_describe(exc))} "
                "(run with KMEANSKIT_DEBUG=1 for the traceback and please report it)"
            )
            return EXIT_INTERNAL


@contextlib.contextmanager
def _streams_saved(args, streams: list):
    """Save the table arguments of `args` that are streams (standard input ``-``, a named pipe) to temporary
    files, once, before the command runs (see ``_io/spool.py``): every reader then reads a regular file.
    Each is put in `args` as a :class:`SpooledTable` and appended to `streams`; removed when the block ends,
    on SIGTERM too (a plain ``kill``: it then ends the command as Ctrl-C does, with exit code 143)."""
    from kmeanskit._io.spool import STDIN, is_stream, spooled

    given = {dest: getattr(args, dest, None) for dest in TABLE_ARGUMENTS}
    given = {dest: value for dest, value in given.items() if isinstance(value, str) and is_stream(value)}
    if list(given.values()).count(STDIN) > 1:
        raise CommandError("standard input ('-') can be read for one table only: save the other to a file")
    with contextlib.ExitStack() as stack:
        if given and threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _terminated)
            stack.callback(signal.signal, signal.SIGTERM, previous)
        saved = {}
        for dest, value in given.items():
            if value not in saved:
                saved[value] = stack.enter_context(spooled(value, notice=_notice))
                streams.append(saved[value])
            setattr(args, dest, saved[value])
        yield


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def _notice(text: str) -> None:
    print(f"kmeanskit: {text}", file=sys.stderr)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _show_warnings_in_one_line(named=str) -> None:
    """Print each distinct warning once as ``kmeanskit: warning: ...``, with `named` applied to its text.

    Must be called inside ``warnings.catch_warnings()``, which restores the
    filters and ``warnings.showwarning`` afterwards.
    """
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = _one_line(named(str(message)))
        if (category, text) not in seen:
            seen.add((category, text))
            print(f"kmeanskit: warning: {text}", file=sys.stderr)

    warnings.simplefilter("always")
    # Deprecations are addressed to developers, not to the person at the terminal.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    warnings.showwarning = show


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: '{exc.filename}'"
    return _one_line(str(exc)) or type(exc).__name__


def _one_line(text: str) -> str:
    """`text` on one line, cut to ``_MAX_MESSAGE`` characters (``...`` at the end if cut)."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _error(message: str) -> None:
    print(f"kmeanskit: error: {_one_line(message)}", file=sys.stderr)
