"""``kmeanskit bench``: run the benchmark suites of a source checkout in-process."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from kmeanskit._interfaces.cli._common import EXIT_OK, EXIT_USAGE, CommandError

__all__ = ["add_parser", "run"]

_NOT_INSTALLED = (
    "the benchmark suites are not installed with kmeanskit; "
    "run them from a source checkout with `python -m benchmarks`"
)

_EPILOG = """\
examples:
  kmeanskit bench lloyd --cases china-273kx3-k64      # one Lloyd iteration vs scikit-learn
  kmeanskit bench e2e --quick                         # end-to-end fit vs scikit-learn, FAISS
  kmeanskit bench e2e --memory --json e2e.json        # all cases, peak memory, numbers to JSON
  kmeanskit bench seeding                             # greedy k-means++ vs k-means||, whole fits
  kmeanskit bench e2e --help                          # options of a suite

The suites live in the repository's benchmarks/ directory, not in the wheel:
run this from a source checkout (or an editable install of one).
"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list) -> argparse.ArgumentParser:
    """Register the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        parents=parents,
        help="run a benchmark suite against scikit-learn and FAISS (source checkout)",
        description=(
            "Run a benchmark suite (lloyd: time per Lloyd iteration; e2e: end-to-end\n"
            "fit time, inertia and memory; seeding: k-means++ against k-means||; and\n"
            "the others of benchmarks/) and print its tables. Options after SUITE go\n"
            "to the suite: `kmeanskit bench SUITE --help` lists them."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("suite", nargs="?", default="lloyd", metavar="SUITE",
                        help="lloyd, e2e, seeding, ... (default: %(default)s)")
    parser.add_argument("suite_args", nargs=argparse.REMAINDER, metavar="...",
                        help="options of the suite")
    parser.set_defaults(run=run)
    return parser


def _load_suites() -> dict:
    """Return the ``SUITES`` registry of the ``benchmarks`` package, or raise ImportError."""
    # An editable install of a source checkout: src/kmeanskit/cli/_bench.py -> checkout root.
    root = Path(__file__).resolve().parents[3]
    if (root / "benchmarks" / "__main__.py").is_file() and str(root) not in sys.path:
        sys.path.append(str(root))
    module = importlib.import_module("benchmarks.__main__")
    suites = getattr(module, "SUITES", None)
    if not isinstance(suites, dict):  # some other package called "benchmarks"
        raise ImportError("benchmarks.__main__ has no SUITES")
    return suites


def run(args: argparse.Namespace) -> int:
    """Run the chosen suite; exit code 2 when the suites cannot be imported."""
    try:
        suites = _load_suites()
    except ImportError as exc:
        raise CommandError(_NOT_INSTALLED) from exc
    if args.suite not in suites:
        raise CommandError(
            f"unknown benchmark suite {args.suite!r}; choose from {', '.join(sorted(suites))}"
        )
    try:
        suites[args.suite](list(args.suite_args))
    except SystemExit as exc:  # the suite's own --help or usage error
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return EXIT_OK
