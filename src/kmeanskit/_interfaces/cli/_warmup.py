"""``kmeanskit warmup``: compile the kernels of small inputs once, ahead of the first fit."""

from __future__ import annotations

import argparse
import os
import sys
import time

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  pip install kmeanskit && kmeanskit warmup     # at install time: first fits are then fast
  kmeanskit warmup --quiet                      # in a Dockerfile or CI step

Until a warmup has completed, small fits run NumPy versions of the kernels
(the same results) and the first of them starts this warmup in the
background (KMEANSKIT_BACKGROUND_COMPILE=0: not).

The machine code is written to numba's cache (beside the package, or in
NUMBA_CACHE_DIR / $XDG_CACHE_HOME/numba when the package is read-only), for
this machine's processor: run it where the fits will run. A second run only
loads, in about a second. It covers float64 and float32 tables and sparse
matrices; inputs large enough for several threads use other kernels, which
still compile on first use.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit warmup``."""
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing (the exit code says it worked)")
    parser.add_argument("--background", action="store_true",
                        help="as started by a first fit: print nothing, and exit at once if another warmup runs")


def run(args: argparse.Namespace) -> int:
    """Compile or load every small-input kernel; a line per first call that compiled, then the total."""
    from kmeanskit._analysis.warmup import compile_kernels

    quiet = args.quiet or args.background
    if args.background and hasattr(os, "nice"):
        os.nice(10)  # behind the run that started it, and whatever else the machine does

    def progress(name, clock):
        if clock.n_compiled and not quiet:
            print(f"{name}: {clock.n_compiled} kernels compiled in {clock.seconds:.1f} s", flush=True)

    def waiting():
        if not quiet:
            print("another warmup is running (started by a first fit, in the background): waiting for it",
                  flush=True)

    start = time.perf_counter()
    total = compile_kernels(progress, wait=not args.background, on_wait=waiting)
    if not quiet:  # total is None only for --background (quiet), when another warmup holds the lock
        wall = time.perf_counter() - start
        done = f"{total.n_compiled} kernels compiled in {total.seconds:.1f} s" if total.n_compiled else (
            "nothing to compile: every kernel was in numba's cache"
        )
        print(f"{done} ({wall:.1f} s in all)", file=sys.stdout)
    return common.EXIT_OK
