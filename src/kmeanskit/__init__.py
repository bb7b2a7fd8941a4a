"""kmeanskit: fast, exact K-Means with a scikit-learn compatible API."""

from . import metrics, monitoring
from ._kmeans import KMeans, k_means, kmeans_plusplus
from ._kmedians import KMedians
from ._minibatch import MiniBatchKMeans
from ._spherical import SphericalKMeans
from .monitoring import DriftReport, TrainingProfile, anomaly_scores, drift_report, fit_monitor
from .persistence import ModelFileError, load, save
from .profiles import centers_in_original_units, profile_clusters
from .report import report  # the function: kmeanskit.report(X, model, path)
from .selection import SelectKResult, select_k
from .streaming import fit_out_of_core

__version__ = "0.1.0"

__all__ = [
    "DriftReport",
    "KMeans",
    "KMedians",
    "MiniBatchKMeans",
    "ModelFileError",
    "SelectKResult",
    "SphericalKMeans",
    "TrainingProfile",
    "__version__",
    "anomaly_scores",
    "centers_in_original_units",
    "drift_report",
    "fit_monitor",
    "fit_out_of_core",
    "k_means",
    "kmeans_plusplus",
    "load",
    "metrics",
    "monitoring",
    "profile_clusters",
    "report",
    "save",
    "select_k",
]
