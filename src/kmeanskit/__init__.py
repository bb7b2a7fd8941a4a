"""kmeanskit: fast, exact K-Means with a scikit-learn compatible API.

The public names are imported on first use (PEP 562), so that ``import
kmeanskit`` (and the command line, and the out-of-core fit) do not load
scikit-learn, SciPy and pandas before they are needed: together they hold
about 180 MB of memory. ``from kmeanskit import KMeans`` works as ever.
"""

from importlib import import_module

__version__ = "0.1.0"

__all__ = [
    "ClusterExplanation",
    "DriftReport",
    "FeatureScaleWarning",
    "KMeans",
    "KMedians",
    "KModes",
    "KPrototypes",
    "MiniBatchKMeans",
    "ModelFileError",
    "SelectKResult",
    "SphericalKMeans",
    "StabilityResult",
    "TrainingProfile",
    "UnseenCategoryWarning",
    "__version__",
    "anomaly_scores",
    "centers_in_original_units",
    "cluster_stability",
    "drift_report",
    "explain_clusters",
    "fit_monitor",
    "fit_out_of_core",
    "k_means",
    "kmeans_plusplus",
    "load",
    "metrics",
    "monitoring",
    "profile_categories",
    "profile_clusters",
    "report",
    "save",
    "select_k",
]

# Public name -> the module that defines it.
_ATTRIBUTES = {
    "KMeans": "._estimators.kmeans",
    "k_means": "._estimators.kmeans",
    "kmeans_plusplus": "._estimators.kmeans",
    "KMedians": "._estimators.kmedians",
    "KModes": "._estimators.kprototypes",
    "KPrototypes": "._estimators.kprototypes",
    "UnseenCategoryWarning": "._estimators.kprototypes",
    "MiniBatchKMeans": "._estimators.minibatch",
    "SphericalKMeans": "._estimators.spherical",
    "fit_out_of_core": "._estimators.out_of_core",
    "DriftReport": "._analysis.monitoring",
    "TrainingProfile": "._analysis.monitoring",
    "anomaly_scores": "._analysis.monitoring",
    "drift_report": "._analysis.monitoring",
    "fit_monitor": "._analysis.monitoring",
    "FeatureScaleWarning": "._analysis.feature_scales",
    "centers_in_original_units": "._analysis.profiles",
    "profile_categories": "._analysis.profiles",
    "profile_clusters": "._analysis.profiles",
    "ClusterExplanation": "._analysis.explain",
    "explain_clusters": "._analysis.explain",
    "SelectKResult": "._analysis.selection",
    "StabilityResult": "._analysis.stability",
    "cluster_stability": "._analysis.stability",
    "select_k": "._analysis.selection",
    "report": "._presentation.report",  # the function: kmeanskit.report(X, model, path)
    "ModelFileError": "._io.persistence",
    "load": "._io.persistence",
    "save": "._io.persistence",
}
# The public modules reachable as attributes after ``import kmeanskit``. The
# others (kmeanskit.dask, .plotting, .service, .streaming, .cli) need their
# own import: some need an optional extra.
_SUBMODULES = ("metrics", "monitoring")


def __getattr__(name):
    if name in _ATTRIBUTES:
        value = getattr(import_module(_ATTRIBUTES[name], __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # found without __getattr__ from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
