"""Monitoring a fitted model: anomaly scores, training profiles and drift reports.

The public path; the code lives in :mod:`kmeanskit._analysis.monitoring`.
"""

from kmeanskit._analysis.monitoring import *  # noqa: F401,F403
from kmeanskit._analysis.monitoring import __all__  # noqa: F401
