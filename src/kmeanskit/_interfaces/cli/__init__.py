"""Command line interface: ``kmeanskit`` (or ``python -m kmeanskit``).

Run ``kmeanskit --help`` for the commands and exit codes.
"""

from kmeanskit._interfaces.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
