"""Clustering metrics with scikit-learn's signatures: silhouette on our own kernel, inertia, purity, contingency.

The public path; the code lives in :mod:`kmeanskit._analysis.metrics`.
"""

from kmeanskit._analysis.metrics import *  # noqa: F401,F403
from kmeanskit._analysis.metrics import __all__  # noqa: F401
