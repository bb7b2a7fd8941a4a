"""Clustering metrics with scikit-learn's signatures: silhouette on our own kernel, inertia, purity, contingency;
and cluster stability under resampling (:func:`cluster_stability`, R's fpc::clusterboot).

The public path; the code lives in :mod:`kmeanskit._analysis.metrics` and :mod:`kmeanskit._analysis.stability`.
"""

from kmeanskit._analysis.metrics import *  # noqa: F401,F403
from kmeanskit._analysis.metrics import __all__ as _metrics_all
from kmeanskit._analysis.stability import StabilityResult, cluster_stability  # noqa: F401

__all__ = [*_metrics_all, "StabilityResult", "cluster_stability"]
