"""kmeanskit: fast, exact K-Means with a scikit-learn compatible API.

The public names are imported on first use (PEP 562), so that ``import
kmeanskit`` (and the command line, and the out-of-core fit) do not load
scikit-learn, SciPy and pandas before they are needed: together they hold
about 180 MB of memory. ``from kmeanskit import KMeans`` works as ever.
"""

import sys
import types
from importlib import import_module

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

# Public name -> the module that defines it.
_ATTRIBUTES = {
    "KMeans": "._kmeans",
    "k_means": "._kmeans",
    "kmeans_plusplus": "._kmeans",
    "KMedians": "._kmedians",
    "MiniBatchKMeans": "._minibatch",
    "SphericalKMeans": "._spherical",
    "DriftReport": ".monitoring",
    "TrainingProfile": ".monitoring",
    "anomaly_scores": ".monitoring",
    "drift_report": ".monitoring",
    "fit_monitor": ".monitoring",
    "ModelFileError": ".persistence",
    "load": ".persistence",
    "save": ".persistence",
    "centers_in_original_units": ".profiles",
    "profile_clusters": ".profiles",
    "report": ".report",  # the function: kmeanskit.report(X, model, path)
    "SelectKResult": ".selection",
    "select_k": ".selection",
    "fit_out_of_core": ".streaming",
}
# Submodules that were attributes of the package after `import kmeanskit`
# when it imported everything: still reachable as attributes.
_SUBMODULES = (
    "_algorithms", "_engine", "_kmeans", "_kmedians", "_minibatch", "_spherical",
    "metrics", "monitoring", "persistence", "profiles", "selection", "streaming",
)


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


class _Package(types.ModuleType):
    """The package's module type: ``kmeanskit.report`` stays the function.

    Importing the submodule ``kmeanskit.report`` makes Python set it as the
    package's attribute ``report``, which would hide the function of that
    name; that assignment is dropped, and the function is found on first use.
    """

    def __setattr__(self, name, value):
        if name == "report" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
