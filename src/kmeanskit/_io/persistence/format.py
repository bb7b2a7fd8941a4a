"""What a ``.kmk`` file may hold: its format name and version, and the whitelist of classes.

A file names classes; a name maps to a class listed here, never to an import.
For each estimator class, :class:`Spec` says which fitted attributes are
stored, the distance its ``transform`` returns, and the first format version
that holds it; for each scaler, which fitted attributes are stored.
"""

from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.kmedians import KMedians
from kmeanskit._estimators.kprototypes import KModes, KPrototypes
from kmeanskit._estimators.minibatch import MiniBatchKMeans
from kmeanskit._estimators.numeric_scaler import NUMERIC_SCALERS, NumericScaler
from kmeanskit._estimators.spherical import SphericalKMeans

__all__ = [
    "ESTIMATORS",
    "ESTIMATOR_NAMES",
    "FORMAT_NAME",
    "BASE_FORMAT_VERSION",
    "FORMAT_VERSION",
    "MANIFEST",
    "NUMERIC_SCALER",
    "NUMERIC_SCALERS",
    "OUTPUT_CONFIGS",
    "PIPELINE_CLASS",
    "SCALER_CLASSES",
    "SCALER_NAMES",
    "SCALER_STATE",
    "SPECS",
    "MAX_STORED_LEVELS",
    "MIXED_CLASSES",
    "NUMERIC_SCALER_CLASS",
    "ModelFileError",
    "Spec",
]

FORMAT_VERSION = 4
#: The version written in every file (files of a later version are written only for the classes it added).
BASE_FORMAT_VERSION = 3
FORMAT_NAME = "kmeanskit-model"
MANIFEST = "manifest.json"

_KMEANS_CLASS = "kmeanskit.KMeans"
PIPELINE_CLASS = "sklearn.pipeline.Pipeline"
# The only classes a file may name: a name maps to a class, never to an import.
SCALER_CLASSES = {
    "sklearn.preprocessing.StandardScaler": StandardScaler,
    "sklearn.preprocessing.MinMaxScaler": MinMaxScaler,
    "sklearn.preprocessing.RobustScaler": RobustScaler,
    "sklearn.preprocessing.MaxAbsScaler": MaxAbsScaler,
}
SCALER_NAMES = {cls: name for name, cls in SCALER_CLASSES.items()}
# The step that scales the numeric columns of a table with categories (it holds a StandardScaler or
# a MinMaxScaler, described as a scaler step is); from format version 4.
NUMERIC_SCALER_CLASS = "kmeanskit.NumericScaler"
NUMERIC_SCALER = NumericScaler
#: Levels a model file may hold per categorical column (a column with more is no category).
MAX_STORED_LEVELS = 100_000

# Fitted state stored per class: attribute -> (kind, may be None). Array kinds
# have shape (n_features,) for scalers; estimators are checked in checks.check_estimator_state.
SCALER_STATE = {
    StandardScaler: {"mean_": ("float", True), "var_": ("float", True), "scale_": ("float", True),
                     "n_samples_seen_": ("count", False)},
    MinMaxScaler: {"min_": ("float", False), "scale_": ("float", False), "data_min_": ("float", False),
                   "data_max_": ("float", False), "data_range_": ("float", False),
                   "n_samples_seen_": ("count", False)},
    RobustScaler: {"center_": ("float", True), "scale_": ("float", True)},
    MaxAbsScaler: {"max_abs_": ("float", False), "scale_": ("float", False), "n_samples_seen_": ("count", False)},
}
_KMEANS_STATE = ("cluster_centers_", "labels_", "inertia_", "n_iter_", "inertia_history_", "_n_features_out",
                 "_X_mean")
# Everything predict/transform/score read, and what partial_fit continues from.
_MINIBATCH_STATE = ("cluster_centers_", "labels_", "inertia_", "n_iter_", "n_steps_", "_n_features_out", "_X_mean",
                    "_scale", "_counts", "_n_since_last_reassign", "_batch_size", "_random_state")
_CENTERS_STATE = ("cluster_centers_", "labels_", "inertia_", "n_iter_", "inertia_history_", "_n_features_out")
# KPrototypes and KModes: the centers as numbers (numeric means, then level codes), the levels of each
# categorical column, and which columns are which; cluster_centers_ (objects) is rebuilt from them.
_MIXED_STATE = ("_centers", "categories_", "categorical_", "_numeric_columns", "gamma_", "labels_", "inertia_",
                "n_iter_", "inertia_history_", "_n_features_out")


class Spec:
    """How one estimator class is stored: its manifest name, fitted attributes, the
    distance its ``transform`` returns, and the first format version that holds it."""

    def __init__(self, name, cls, state, distance, version):
        self.name, self.cls, self.state, self.distance, self.version = name, cls, state, distance, version


# The only estimator classes a file may name (the final step of a pipeline).
ESTIMATORS = {
    spec.name: spec for spec in (
        Spec(_KMEANS_CLASS, KMeans, _KMEANS_STATE, "euclidean", 1),
        Spec("kmeanskit.MiniBatchKMeans", MiniBatchKMeans, _MINIBATCH_STATE, "euclidean", 2),
        Spec("kmeanskit.SphericalKMeans", SphericalKMeans, _CENTERS_STATE, "cosine", 2),
        Spec("kmeanskit.KMedians", KMedians, _CENTERS_STATE, "manhattan", 2),
        Spec("kmeanskit.KPrototypes", KPrototypes, _MIXED_STATE, "mixed", 4),
        Spec("kmeanskit.KModes", KModes, _MIXED_STATE, "mixed", 4),
    )
}
SPECS = {spec.cls: spec for spec in ESTIMATORS.values()}
#: The estimators of tables with categorical columns (their centers hold category values).
MIXED_CLASSES = (KPrototypes, KModes)
ESTIMATOR_NAMES = ", ".join(f"kmeanskit.{spec.cls.__name__}" for spec in ESTIMATORS.values())
# Output containers a loaded model may return; polars is an optional dependency a reader may lack.
OUTPUT_CONFIGS = ("default", "pandas")


class ModelFileError(ValueError):
    """A model file that is damaged, tampered with, or not a ``.kmk`` file this version can read."""
