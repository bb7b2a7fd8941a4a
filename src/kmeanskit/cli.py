"""The command line: ``kmeanskit`` (or ``python -m kmeanskit``); run ``kmeanskit --help``.

The public path; the code lives in :mod:`kmeanskit._interfaces.cli`.
"""

from kmeanskit._interfaces.cli import *  # noqa: F401,F403
from kmeanskit._interfaces.cli import __all__  # noqa: F401
