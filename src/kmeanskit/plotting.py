"""Plots of k selection, silhouettes, clusters, profiles and contingency (needs the plot extra).

The public path; the code lives in :mod:`kmeanskit._presentation.plotting`.
"""

from kmeanskit._presentation.plotting import *  # noqa: F401,F403
from kmeanskit._presentation.plotting import __all__  # noqa: F401
