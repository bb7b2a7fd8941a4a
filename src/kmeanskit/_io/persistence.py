"""The ``.kmk`` model file: a fitted model saved without pickle, loaded without running code.

A ``.kmk`` file is a zip archive holding ``manifest.json`` and the fitted arrays
as ``.npy`` members (written with ``allow_pickle=False``). The manifest names
the estimator and preprocessing classes, their parameters and scalar state, a
training summary, and the SHA-256 of every array member. Loading builds the
objects from a fixed whitelist of classes, validates every parameter, shape
and dtype, and refuses a damaged, tampered or unknown file with
:class:`ModelFileError`.

Format versions (a file declares the lowest version that can hold it, so a
KMeans file is still readable by kmeanskit releases that only know version 1):

1. ``kmeanskit.KMeans``, alone or after StandardScaler, MinMaxScaler,
   RobustScaler or MaxAbsScaler steps of a Pipeline.
2. Also ``kmeanskit.MiniBatchKMeans`` (with the state ``partial_fit``
   continues from: per-center counts, batch size, random generator),
   ``kmeanskit.SphericalKMeans`` and ``kmeanskit.KMedians``. The training
   summary names the ``distance`` its quantiles are in, and may hold no
   cluster sizes (``null``) when the model cannot tell them (see
   :func:`save`).
"""

import hashlib
import io
import json
import math
import os
import re
import secrets
import struct
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.kmedians import KMedians
from kmeanskit._estimators.minibatch import MiniBatchKMeans
from kmeanskit._estimators.spherical import SphericalKMeans

__all__ = ["save", "load", "load_with_manifest", "read_manifest", "describe", "ModelFileError", "FORMAT_VERSION"]

FORMAT_VERSION = 2
_FORMAT_NAME = "kmeanskit-model"
_MANIFEST = "manifest.json"
_QUANTILE_LEVELS = (0.5, 0.9, 0.95, 0.99, 1.0)

# Zip bomb guard: declared (uncompressed) sizes are checked before reading,
# and zipfile never returns more bytes than a member declares.
_MAX_TOTAL_BYTES = 4 << 30
_MAX_MEMBER_BYTES = 4 << 30
_MAX_MANIFEST_BYTES = 64 << 20
_MAX_MEMBERS = 10_000
# Flat names only: no directories, no '..', nothing a careless extractor could misuse.
_MEMBER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.npy$")

_KMEANS_CLASS = "kmeanskit.KMeans"
_PIPELINE_CLASS = "sklearn.pipeline.Pipeline"
# The only classes a file may name: a name maps to a class, never to an import.
_SCALER_CLASSES = {
    "sklearn.preprocessing.StandardScaler": StandardScaler,
    "sklearn.preprocessing.MinMaxScaler": MinMaxScaler,
    "sklearn.preprocessing.RobustScaler": RobustScaler,
    "sklearn.preprocessing.MaxAbsScaler": MaxAbsScaler,
}
_SCALER_NAMES = {cls: name for name, cls in _SCALER_CLASSES.items()}

# Fitted state stored per class: attribute -> (kind, may be None). Array kinds
# have shape (n_features,) for scalers; estimators are checked in _check_estimator_state.
_SCALER_STATE = {
    StandardScaler: {"mean_": ("float", True), "var_": ("float", True), "scale_": ("float", True),
                     "n_samples_seen_": ("count", False)},
    MinMaxScaler: {"min_": ("float", False), "scale_": ("float", False), "data_min_": ("float", False),
                   "data_max_": ("float", False), "data_range_": ("float", False),
                   "n_samples_seen_": ("count", False)},
    RobustScaler: {"center_": ("float", True), "scale_": ("float", True)},
    MaxAbsScaler: {"max_abs_": ("float", False), "scale_": ("float", False), "n_samples_seen_": ("count", False)},
}
# Params that must be non-None arrays for transform to work, per class.
_SCALER_REQUIRES = {
    StandardScaler: {"with_mean": "mean_", "with_std": "scale_"},
    RobustScaler: {"with_centering": "center_", "with_scaling": "scale_"},
}
_KMEANS_STATE = ("cluster_centers_", "labels_", "inertia_", "n_iter_", "inertia_history_", "_n_features_out",
                 "_X_mean")
# Everything predict/transform/score read, and what partial_fit continues from.
_MINIBATCH_STATE = ("cluster_centers_", "labels_", "inertia_", "n_iter_", "n_steps_", "_n_features_out", "_X_mean",
                    "_scale", "_counts", "_n_since_last_reassign", "_batch_size", "_random_state")
_CENTERS_STATE = ("cluster_centers_", "labels_", "inertia_", "n_iter_", "inertia_history_", "_n_features_out")


class _Spec:
    """How one estimator class is stored: its manifest name, fitted attributes, the
    distance its ``transform`` returns, and the first format version that holds it."""

    def __init__(self, name, cls, state, distance, version):
        self.name, self.cls, self.state, self.distance, self.version = name, cls, state, distance, version


# The only estimator classes a file may name (the final step of a pipeline).
_ESTIMATORS = {
    spec.name: spec for spec in (
        _Spec(_KMEANS_CLASS, KMeans, _KMEANS_STATE, "euclidean", 1),
        _Spec("kmeanskit.MiniBatchKMeans", MiniBatchKMeans, _MINIBATCH_STATE, "euclidean", 2),
        _Spec("kmeanskit.SphericalKMeans", SphericalKMeans, _CENTERS_STATE, "cosine", 2),
        _Spec("kmeanskit.KMedians", KMedians, _CENTERS_STATE, "manhattan", 2),
    )
}
_SPECS = {spec.cls: spec for spec in _ESTIMATORS.values()}
_ESTIMATOR_NAMES = ", ".join(f"kmeanskit.{spec.cls.__name__}" for spec in _ESTIMATORS.values())
# Bool-valued parameters of the whitelisted classes (bool passes Integral checks elsewhere).
_BOOL_PARAMS = ("copy", "copy_x", "with_mean", "with_std", "clip", "with_centering", "with_scaling",
                "unit_variance", "verbose", "compute_labels")
_MT19937_WORDS = 624
_OUTPUT_CONFIGS = ("default", "pandas", "polars")


class ModelFileError(ValueError):
    """A model file that is damaged, tampered with, or not a ``.kmk`` file this version can read."""


class _Members(dict):
    """Arrays read from the file, by member name, remembering which ones the manifest used."""

    def __init__(self):
        super().__init__()
        self.used = set()


# ----------------------------------------------------------------------- save
def save(model, path, *, X=None):
    """Save a fitted model to a ``.kmk`` file, atomically.

    Parameters
    ----------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        A fitted kmeanskit ``KMeans``, ``MiniBatchKMeans``,
        ``SphericalKMeans`` or ``KMedians``, or a fitted
        :class:`sklearn.pipeline.Pipeline` of zero or more StandardScaler,
        MinMaxScaler, RobustScaler or MaxAbsScaler steps followed by one.
        A ``MiniBatchKMeans`` keeps what ``partial_fit`` needs to continue
        exactly as it would have (counts, batch size, random generator).
    path : str or os.PathLike
        Destination. It is replaced only once the new file is complete.
    X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        The training data, as the model takes it. When given, the per-cluster
        quantiles of the distances of the training rows to their center (in
        the distance the model's ``transform`` returns: Euclidean, cosine
        ``1 - cos`` for SphericalKMeans, L1 for KMedians) are stored in the
        training summary; otherwise they are null. For a ``MiniBatchKMeans``,
        whose ``labels_`` may cover only its last ``partial_fit`` batch, X
        may be the training data or a representative sample of it: the
        cluster sizes are those of X's rows as the model assigns them
        (``predict``). Without X such a model's summary has no cluster sizes
        when its ``labels_`` are not those of a whole ``fit``.

    Raises
    ------
    TypeError
        If the model or one of its steps is of an unsupported class.
    ValueError
        If the model is not fitted, a parameter cannot be stored (a callable
        ``init``, a ``RandomState`` instance, a pipeline ``memory``), or ``X``
        is not the training data.
    """
    arrays = {}
    manifest = _describe(model, arrays)
    manifest["summary"] = _training_summary(model, X)
    blobs = {name: _npy_bytes(array) for name, array in arrays.items()}
    manifest["members"] = {name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()}
    manifest_bytes = json.dumps(manifest, indent=2, allow_nan=False).encode("utf-8")
    _write_atomically(Path(path), manifest_bytes, blobs)


def _describe(model, arrays):
    """The manifest (without summary and members) of a supported model; fills ``arrays``."""
    if type(model) is Pipeline:  # exact types: a subclass could behave differently once rebuilt
        steps, final_name, final = _split_pipeline(model)
        pipeline = {"params": _pipeline_params(model), "final_step_name": final_name}
    elif type(model) in _SPECS:
        steps, final, pipeline = [], model, None
    else:
        raise TypeError(
            f"Cannot save a {_qualname(model)}: only a fitted {_ESTIMATOR_NAMES}, or a Pipeline of "
            f"{', '.join(c.__name__ for c in _SCALER_NAMES)} steps ending in one of them, is supported."
        )
    spec = _SPECS[type(final)]
    _check_fitted(final, f"the {type(final).__name__} step" if pipeline else "the model")
    preprocessing = []
    for i, (name, step) in enumerate(steps):
        _check_fitted(step, f"pipeline step {name!r}")
        prefix = f"step{i}"
        preprocessing.append({
            "name": name,
            "class": _SCALER_NAMES[type(step)],
            "params": _encode_params(step, prefix, arrays),
            "state": _encode_state(step, list(_SCALER_STATE[type(step)]) + ["n_features_in_"], prefix, arrays),
            "output": _output_config(step),
        })
    estimator = {
        "class": spec.name,
        "params": _encode_params(final, "model", arrays),
        "state": _encode_state(final, list(spec.state) + ["n_features_in_"], "model", arrays),
        "output": _output_config(final),
    }
    names = getattr(model, "feature_names_in_", None)
    from kmeanskit import __version__  # here, not at import: the package __init__ may import this module

    return {
        "format": _FORMAT_NAME,
        # The lowest version that holds the model: older releases still read KMeans files.
        "format_version": spec.version,
        "kmeanskit_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "model_class": _PIPELINE_CLASS if pipeline else spec.name,
        "pipeline": pipeline,
        "feature_names_in": None if names is None else [str(n) for n in names],
        "n_features_in": int(model.n_features_in_),
        "centers_dtype": final.cluster_centers_.dtype.name,
        "preprocessing": preprocessing,
        "estimator": estimator,
    }


def _split_pipeline(model):
    steps = list(model.steps)
    if not steps:
        raise ValueError("Cannot save an empty Pipeline.")
    for name, step in steps[:-1]:
        if type(step) not in _SCALER_NAMES:
            raise TypeError(
                f"Cannot save pipeline step {name!r} of class {_qualname(step)}: supported "
                f"preprocessing steps are {', '.join(c.__name__ for c in _SCALER_NAMES)}."
            )
    final_name, final = steps[-1]
    if type(final) not in _SPECS:
        raise TypeError(
            f"Cannot save a Pipeline whose final step {final_name!r} is a {_qualname(final)}: "
            f"it must be one of {_ESTIMATOR_NAMES}."
        )
    return steps[:-1], final_name, final


def _pipeline_params(model):
    params = model.get_params(deep=False)
    # A cache directory is a side effect on disk: not something a model file should carry.
    if params.get("memory") is not None:
        raise ValueError(
            f"Cannot save a Pipeline with memory={params['memory']!r}: set memory=None before saving."
        )
    if params.get("transform_input") is not None:
        raise ValueError(
            f"Cannot save a Pipeline with transform_input={params['transform_input']!r}: only None is supported."
        )
    return {"verbose": bool(params.get("verbose", False))}


def _check_fitted(estimator, what):
    try:
        check_is_fitted(estimator)
    except Exception as exc:  # NotFittedError, or a step that is no estimator at all
        raise ValueError(f"Cannot save {what}: {type(estimator).__name__} is not fitted. Call fit first.") from exc


def _qualname(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _output_config(estimator):
    value = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    return value if value in _OUTPUT_CONFIGS else None


def _encode_params(estimator, prefix, arrays):
    params = estimator.get_params(deep=False)
    out = {}
    for key, value in params.items():
        if key == "init" and callable(value):
            raise ValueError(
                f"Cannot save init={value!r}: a callable init cannot be stored in a model file; "
                "pass its result (an array of initial centers) as init instead."
            )
        if isinstance(value, np.random.RandomState):
            raise ValueError(
                f"Cannot save {key}={value!r}: a RandomState instance cannot be stored; use an int seed or None."
            )
        if key == "init" and not isinstance(value, str):
            value = np.asarray(value)
            if value.dtype.kind not in "iuf":
                raise ValueError(f"Cannot save init: an array of numbers is expected, got dtype {value.dtype}.")
        out[key] = _encode(value, f"{prefix}.{key}.npy", arrays, what=f"parameter {key!r}")
    return out


def _encode_state(estimator, attributes, prefix, arrays):
    state = {}
    for attr in attributes:
        if hasattr(estimator, attr):
            state[attr] = _encode(getattr(estimator, attr), f"{prefix}.{attr}.npy", arrays, what=f"attribute {attr}")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        state["feature_names_in_"] = {"strings": [str(n) for n in names]}
    return state


def _encode(value, member, arrays, what):
    """A JSON value for ``value``: arrays go to ``arrays[member]``, special values are tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, member, arrays, what) for v in value]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        arrays[member] = value
        return {"array": member}
    if type(value) is np.random.RandomState:  # MiniBatchKMeans._random_state: its exact position
        state = value.get_state(legacy=False)
        if state["bit_generator"] != "MT19937":
            raise ValueError(f"Cannot save {what}: a {state['bit_generator']} generator cannot be stored.")
        return {"mt19937": {
            "key": _encode(state["state"]["key"], member, arrays, what),
            "pos": int(state["state"]["pos"]),
            "has_gauss": int(state["has_gauss"]),
            "gauss": _encode(state["gauss"], member, arrays, what),
        }}
    raise ValueError(f"Cannot save {what}: a value of type {type(value).__name__} cannot be stored.")


def _training_summary(model, X):
    """Cluster sizes and per-cluster distance quantiles of the training rows (of X when given).

    Distances are what the final estimator's ``transform`` returns, in the
    space it clusters in (after the pipeline's scalers).
    """
    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    spec = _SPECS[type(final)]
    n_rows = None if X is None else (X.shape[0] if hasattr(X, "shape") else len(X))
    if spec.cls is MiniBatchKMeans:
        # labels_ may be those of the last partial_fit batch, or absent (compute_labels=False):
        # the rows of X as the model assigns them, else labels_ only if they are a whole fit's.
        labels = None
        if X is None and hasattr(final, "labels_") and _labels_cover_training(final):
            labels = np.asarray(final.labels_)
    else:
        labels = np.asarray(final.labels_)
        if X is not None and n_rows != labels.shape[0]:
            raise ValueError(
                f"X has {n_rows} rows but the model was trained on {labels.shape[0]}; "
                "X must be the training data."
            )
    quantiles = None
    if X is not None:
        Xt = model[:-1].transform(X) if isinstance(model, Pipeline) and len(model) > 1 else X
        if labels is None:
            labels = np.asarray(final.predict(Xt))
        distances = np.asarray(final.transform(Xt))[np.arange(labels.shape[0]), labels].astype(np.float64)
    sizes = None if labels is None else _cluster_sizes(labels, final.n_clusters)
    if X is not None:
        quantiles = [
            np.quantile(distances[labels == j], _QUANTILE_LEVELS).tolist() if sizes[j] else None
            for j in range(final.n_clusters)
        ]
    inertia = getattr(final, "inertia_", None)
    if inertia is not None:
        inertia = float(inertia)
        inertia = inertia if math.isfinite(inertia) else {"float": repr(inertia)}
    n_iter = getattr(final, "n_iter_", None)
    summary = {
        "n_samples": None if labels is None else int(labels.shape[0]),
        "cluster_sizes": None if sizes is None else sizes.tolist(),
        "inertia": inertia,
        "n_iter": None if n_iter is None else int(n_iter),
        "distance_quantile_levels": list(_QUANTILE_LEVELS),
        "distance_quantiles": quantiles,
    }
    if spec.version > 1:  # a KMeans file keeps its version 1 summary
        summary["distance"] = spec.distance
    if spec.cls is MiniBatchKMeans:
        summary["n_steps"] = int(final.n_steps_)
    return summary


def _labels_cover_training(minibatch):
    """Whether a MiniBatchKMeans's ``labels_`` are those of all its training rows: it was
    fitted by ``fit`` (which sets ``n_iter_``) and never updated by ``partial_fit`` (which
    keeps its generator in ``_random_state`` and labels only its batch)."""
    return hasattr(minibatch, "n_iter_") and not hasattr(minibatch, "_random_state")


def _cluster_sizes(labels, n_clusters, block=1 << 18):
    """``np.bincount(labels, minlength=n_clusters)`` by blocks of rows: bincount
    copies int32 labels to int64 first (32 MB for 4 million rows; 2 MB a block)."""
    sizes = np.zeros(n_clusters, dtype=np.int64)
    for start in range(0, labels.shape[0], block):
        sizes += np.bincount(labels[start:start + block], minlength=n_clusters)
    return sizes


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    # A view, not a copy (the labels of 4 million rows are 16 MB): hashlib and
    # ZipFile.writestr read it as they read bytes.
    return buffer.getbuffer()


def _write_atomically(path, manifest_bytes, blobs):
    """Write the zip to a temporary file next to ``path``, then rename it over ``path``."""
    directory = path.parent
    tmp = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # O_EXCL: never follow or clobber something already there; mode 0o666 lets the umask apply.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(_MANIFEST, manifest_bytes)
                for name, data in blobs.items():
                    archive.writestr(name, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------- load
def load(path):
    """Load a model saved by :func:`save`.

    No code from the file is run: no pickle, arrays are read with
    ``allow_pickle=False``, and classes come from a fixed whitelist.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.

    Returns
    -------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        The fitted model; its ``predict``, ``transform`` and ``score`` give
        bitwise-identical results to the saved one, and a MiniBatchKMeans
        continues ``partial_fit`` exactly as the saved one would have.

    Raises
    ------
    ModelFileError
        If the file is not a ``.kmk`` file, is truncated or tampered with, was
        written by a newer format version, or its content is inconsistent.
    """
    return load_with_manifest(path)[0]


def load_with_manifest(path):
    """Load a model saved by :func:`save` together with the manifest it was built from.

    The same checks as :func:`load`, from a single read of the file, so the
    manifest (e.g. its training summary) is certainly the one of the model.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.

    Returns
    -------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        As :func:`load` returns it.
    manifest : dict
        The parsed ``manifest.json``: plain JSON values only (arrays appear as
        references to their member names), including ``summary`` (the training
        summary: ``n_samples``, ``cluster_sizes``, ``distance_quantile_levels``,
        ``distance_quantiles``...; from version 2 also ``distance``, the
        metric of the quantiles: "euclidean", "cosine" or "manhattan") and
        ``members`` (SHA-256 of each array).

    Raises
    ------
    ModelFileError
        As :func:`load`.
    """
    path = Path(path)
    # Opened first so that a missing or unreadable path stays a plain OSError.
    with open(path, "rb") as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                manifest, arrays = _read_archive(archive, path)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
                OSError, struct.error, zlib.error) as exc:
            raise ModelFileError(
                f"{path} is not a valid .kmk model file (not a zip archive, or truncated): {exc}"
            ) from exc
    try:
        model = _build(manifest, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: invalid model description: {exc}") from exc
    return model, manifest


def read_manifest(path):
    """The manifest of a ``.kmk`` file (no arrays), after every check :func:`load` makes.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.

    Returns
    -------
    manifest : dict
        See :func:`load_with_manifest`.

    Raises
    ------
    ModelFileError
        As :func:`load`: a manifest is only returned for a file that loads.
    """
    return load_with_manifest(path)[1]


def describe(model, *, X=None):
    """The manifest :func:`save` would write for ``model``, without writing anything.

    Parameters
    ----------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        A model :func:`save` accepts.
    X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        The training data, for the per-cluster distance quantiles of the
        training summary, as in :func:`save`.

    Returns
    -------
    manifest : dict
        Plain JSON values, as :func:`load_with_manifest` returns them, except
        ``members``, which is absent (there is no file).

    Raises
    ------
    TypeError, ValueError
        As :func:`save`.
    """
    manifest = _describe(model, {})
    manifest["summary"] = _training_summary(model, X)
    # A JSON round trip: the same plain values (lists, no tuples) a file gives.
    return json.loads(json.dumps(manifest, allow_nan=False))


def _read_archive(archive, path):
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise ModelFileError(f"{path} has {len(infos)} members; at most {_MAX_MEMBERS} are allowed.")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path} has duplicate member names.")
    total = 0
    for info in infos:
        if info.filename != _MANIFEST and not _MEMBER_NAME.match(info.filename):
            raise ModelFileError(f"{path} has a member with a forbidden name: {info.filename!r}.")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path}: member {info.filename!r} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{path}: member {info.filename!r} uses an unsupported compression method.")
        limit = _MAX_MANIFEST_BYTES if info.filename == _MANIFEST else _MAX_MEMBER_BYTES
        if info.file_size > limit:
            raise ModelFileError(
                f"{path}: member {info.filename!r} declares {info.file_size} bytes uncompressed; "
                f"the limit is {limit}."
            )
        total += info.file_size
    if total > _MAX_TOTAL_BYTES:
        raise ModelFileError(
            f"{path} declares {total} bytes uncompressed in all; the limit is {_MAX_TOTAL_BYTES}."
        )
    if _MANIFEST not in names:
        raise ModelFileError(f"{path} is not a .kmk model file: it has no {_MANIFEST}.")

    manifest = _parse_manifest(archive.read(_MANIFEST), path)
    checksums = manifest["members"]
    listed, present = set(checksums), set(names) - {_MANIFEST}
    if listed - present:
        raise ModelFileError(f"{path} is missing member(s) listed in the manifest: {sorted(listed - present)}.")
    if present - listed:
        raise ModelFileError(f"{path} has member(s) not listed in the manifest: {sorted(present - listed)}.")
    arrays = _Members()
    for name in sorted(listed):
        data = archive.read(name)
        if hashlib.sha256(data).hexdigest() != checksums[name]:
            raise ModelFileError(f"{path}: the SHA-256 of member {name!r} does not match the manifest (tampered?).")
        arrays[name] = _parse_npy(data, name, path)
    return manifest, arrays


def _parse_manifest(data, path):
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {_MANIFEST} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT_NAME:
        raise ModelFileError(f"{path} is not a .kmk model file: its manifest does not declare format {_FORMAT_NAME!r}.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}; a positive integer is expected.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {version}, newer than the version {FORMAT_VERSION} this kmeanskit "
            "reads; upgrade kmeanskit to load it."
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for k, v in members.items()
    ):
        raise ModelFileError(f"{path}: the manifest's 'members' must map member names to SHA-256 hex digests.")
    return manifest


def _parse_npy(data, name, path):
    # np.load would also open a .npz (zip); accept only a plain .npy.
    if not data.startswith(b"\x93NUMPY"):
        raise ModelFileError(f"{path}: member {name!r} is not a .npy array.")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{path}: member {name!r} is not a readable .npy array without pickle: {exc}") from exc
    if array.dtype.kind not in "biuf":
        raise ModelFileError(f"{path}: member {name!r} has unsupported dtype {array.dtype}.")
    return array


def _decode(value, arrays, where):
    if isinstance(value, list):
        return [_decode(v, arrays, where) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise ModelFileError(f"{where}: unexpected object {value!r}.")
    (tag, content), = value.items()
    if tag == "array":
        if content not in arrays:
            raise ModelFileError(f"{where}: refers to member {content!r}, which the manifest does not list.")
        arrays.used.add(content)
        return arrays[content]
    if tag == "float" and content in ("inf", "-inf", "nan"):
        return float(content)
    if tag == "tuple" and isinstance(content, list):
        return tuple(_decode(v, arrays, where) for v in content)
    if tag == "strings" and isinstance(content, list) and all(isinstance(s, str) for s in content):
        return np.asarray(content, dtype=object)
    if tag == "mt19937" and isinstance(content, dict):
        return _random_state(content, arrays, where)
    raise ModelFileError(f"{where}: unexpected object {value!r}.")


def _random_state(content, arrays, where):
    """A RandomState at the stored position of its MT19937 stream (nothing else is accepted)."""
    if set(content) != {"key", "pos", "has_gauss", "gauss"}:
        raise ModelFileError(f"{where}: a random generator state needs key, pos, has_gauss and gauss.")
    key = _decode(content["key"], arrays, where)
    pos, has_gauss, gauss = content["pos"], content["has_gauss"], _decode(content["gauss"], arrays, where)
    if not isinstance(key, np.ndarray) or key.dtype != np.uint32 or key.shape != (_MT19937_WORDS,):
        raise ModelFileError(f"{where}: the generator key must be {_MT19937_WORDS} uint32 words.")
    if type(pos) is not int or not 0 <= pos <= _MT19937_WORDS:
        raise ModelFileError(f"{where}: the generator position must be an int in [0, {_MT19937_WORDS}], got {pos!r}.")
    if has_gauss not in (0, 1) or type(has_gauss) is not int:
        raise ModelFileError(f"{where}: has_gauss must be 0 or 1, got {has_gauss!r}.")
    if type(gauss) not in (int, float) or not math.isfinite(gauss):
        raise ModelFileError(f"{where}: the cached gaussian must be a finite number, got {gauss!r}.")
    random_state = np.random.RandomState()
    random_state.set_state(("MT19937", key, pos, has_gauss, float(gauss)))
    return random_state


def _build(manifest, arrays):
    model_class = manifest.get("model_class")
    if model_class != _PIPELINE_CLASS and model_class not in _ESTIMATORS:
        raise ModelFileError(
            f"unknown model class {model_class!r}; expected one of {sorted(_ESTIMATORS) + [_PIPELINE_CLASS]}."
        )
    description = manifest["estimator"]
    found = description.get("class") if isinstance(description, dict) else description
    spec = _ESTIMATORS.get(found) if isinstance(found, str) else None
    if spec is None:
        raise ModelFileError(f"unknown estimator class {found!r}; expected one of {sorted(_ESTIMATORS)}.")
    if model_class != _PIPELINE_CLASS and model_class != spec.name:
        raise ModelFileError(f"model class {model_class!r} but the estimator is a {spec.name}.")
    final = _new_estimator(spec.cls, description, arrays, "estimator", spec.state)
    _check_estimator_state(final, spec)

    preprocessing = manifest.get("preprocessing")
    if not isinstance(preprocessing, list):
        raise ModelFileError(f"preprocessing must be a list of steps, got {preprocessing!r}.")
    if model_class != _PIPELINE_CLASS and preprocessing:
        raise ModelFileError(f"a {spec.cls.__name__} model file cannot have preprocessing steps.")
    steps = []
    for i, step in enumerate(preprocessing):
        cls = _SCALER_CLASSES.get(step.get("class"))
        if cls is None:
            raise ModelFileError(
                f"unknown preprocessing class {step.get('class')!r}; supported: {sorted(_SCALER_CLASSES)}."
            )
        estimator = _new_estimator(cls, step, arrays, f"preprocessing step {i}", tuple(_SCALER_STATE[cls]))
        _check_scaler_state(estimator, f"preprocessing step {i}")
        steps.append((_step_name(step.get("name")), estimator))

    model = final
    if model_class == _PIPELINE_CLASS:
        pipeline = manifest["pipeline"]
        params = pipeline.get("params", {})
        if set(params) - {"verbose"} or not isinstance(params.get("verbose", False), bool):
            raise ModelFileError(f"invalid pipeline params {params!r}.")
        all_steps = steps + [(_step_name(pipeline.get("final_step_name")), final)]
        if len({name for name, _ in all_steps}) != len(all_steps):
            raise ModelFileError(f"duplicate step names {[name for name, _ in all_steps]}.")
        model = Pipeline(all_steps, **params)

    n_features = final.cluster_centers_.shape[1]
    for label, est in steps + [(f"the {spec.cls.__name__} step", final)]:
        if est.n_features_in_ != n_features:
            raise ModelFileError(f"{label} expects {est.n_features_in_} features; the centers have {n_features}.")
    if manifest.get("n_features_in") != n_features:
        raise ModelFileError(f"n_features_in is {manifest.get('n_features_in')!r}; the centers have {n_features}.")
    if manifest.get("centers_dtype") != final.cluster_centers_.dtype.name:
        raise ModelFileError(
            f"centers_dtype is {manifest.get('centers_dtype')!r} but the centers are {final.cluster_centers_.dtype}."
        )
    # An array nobody refers to means a step or an attribute was dropped from the manifest.
    unused = sorted(set(arrays) - arrays.used)
    if unused:
        raise ModelFileError(f"member(s) {unused} are not used by the model description.")
    names = getattr(model, "feature_names_in_", None)
    expected = None if names is None else list(names)
    if manifest.get("feature_names_in") != expected:
        raise ModelFileError("feature_names_in does not match the feature names of the first step.")
    return model


def _step_name(name):
    # '__' would clash with Pipeline's nested parameter syntax.
    if not isinstance(name, str) or not name or "__" in name:
        raise ModelFileError(f"invalid step name {name!r}.")
    return name


def _new_estimator(cls, description, arrays, where, attributes):
    """An instance of ``cls`` with validated params and its stored fitted ``attributes``."""
    if not isinstance(description, dict):
        raise ModelFileError(f"{where}: a description object is expected.")
    params = description.get("params")
    if not isinstance(params, dict):
        raise ModelFileError(f"{where}: params must be an object.")
    params = {name: _decode(value, arrays, f"{where}, parameter {name}") for name, value in params.items()}
    allowed = set(cls().get_params(deep=False))
    if set(params) - allowed:
        raise ModelFileError(f"{where}: unknown parameter(s) {sorted(set(params) - allowed)} for {cls.__name__}.")
    estimator = cls(**params)
    for name, value in params.items():
        # bool passes Integral checks; tuples came back as tuples, anything else is wrong.
        if isinstance(value, bool) and name not in _BOOL_PARAMS:
            raise ModelFileError(f"{where}: parameter {name!r} must not be a bool, got {value!r}.")
        if isinstance(value, (list, np.random.RandomState)):
            raise ModelFileError(f"{where}: parameter {name!r} has an unsupported {type(value).__name__} value.")
    try:
        estimator._validate_params()
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid parameters for {cls.__name__}: {exc}") from exc

    state = description.get("state")
    if not isinstance(state, dict):
        raise ModelFileError(f"{where}: state must be an object.")
    allowed = set(attributes) | {"n_features_in_", "feature_names_in_"}
    for attr, value in state.items():
        # Only known fitted attributes: a file must not be able to shadow a method.
        if attr not in allowed:
            raise ModelFileError(f"{where}: unknown fitted attribute {attr!r} for {cls.__name__}.")
        value = _decode(value, arrays, f"{where}, attribute {attr}")
        setattr(estimator, attr, value)
    output = description.get("output")
    if output is not None:
        if output not in _OUTPUT_CONFIGS:
            raise ModelFileError(f"{where}: unknown output config {output!r}.")
        estimator.set_output(transform=output)
    return estimator


def _int_attr(estimator, attr, where, minimum=0):
    value = getattr(estimator, attr, None)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ModelFileError(f"{where}: attribute {attr} must be an int >= {minimum}, got {value!r}.")
    return value


def _array_attr(estimator, attr, where, kind, shape, *, optional=False, finite=True):
    value = getattr(estimator, attr, None)
    if value is None and optional:
        return None
    if not isinstance(value, np.ndarray) or value.dtype.kind not in kind:
        raise ModelFileError(f"{where}: attribute {attr} must be an array of kind {kind!r}, got {value!r:.80}.")
    if kind == "f" and value.dtype not in (np.float32, np.float64):
        raise ModelFileError(f"{where}: attribute {attr} has dtype {value.dtype}; float32 or float64 is expected.")
    if shape is not None and value.shape != shape:
        raise ModelFileError(f"{where}: attribute {attr} has shape {value.shape}; {shape} is expected.")
    if finite and kind == "f" and not np.all(np.isfinite(value)):
        raise ModelFileError(f"{where}: attribute {attr} contains NaN or infinity.")
    return value


def _check_feature_names(estimator, where, n_features):
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and names.shape != (n_features,):
        raise ModelFileError(f"{where}: {names.shape[0]} feature names for {n_features} features.")


# Attributes a fitted model may lack: labels_ (KMeans files always had it optional);
# for MiniBatchKMeans, what only fit sets (n_iter_), what compute_labels=False leaves
# unset after partial_fit, and the generator only partial_fit creates.
_OPTIONAL_STATE = {
    KMeans: ("labels_",),
    MiniBatchKMeans: ("labels_", "inertia_", "n_iter_", "_random_state"),
}


def _check_estimator_state(km, spec):
    """Check the fitted attributes of a loaded estimator, as its inference and partial_fit read them."""
    where = "estimator"
    optional = _OPTIONAL_STATE.get(spec.cls, ("labels_",))
    missing = [a for a in spec.state + ("n_features_in_",) if a not in optional and not hasattr(km, a)]
    if missing:
        raise ModelFileError(f"{where}: missing fitted attribute(s) {missing}.")
    d = _int_attr(km, "n_features_in_", where, minimum=1)
    k = km.n_clusters
    centers = _array_attr(km, "cluster_centers_", where, "f", (k, d))
    if not centers.flags.c_contiguous:
        km.cluster_centers_ = np.ascontiguousarray(centers)
    if _int_attr(km, "_n_features_out", where, minimum=1) != k:
        raise ModelFileError(f"{where}: _n_features_out is {km._n_features_out}; n_clusters is {k}.")
    if hasattr(km, "n_iter_"):
        n_iter = _int_attr(km, "n_iter_", where)
        if "inertia_history_" in spec.state:
            _array_attr(km, "inertia_history_", where, "f", (n_iter,), finite=False)
    if "_X_mean" in spec.state:
        _array_attr(km, "_X_mean", where, "f", (d,), optional=True)
    if hasattr(km, "inertia_"):
        if isinstance(km.inertia_, int) and not isinstance(km.inertia_, bool):
            km.inertia_ = float(km.inertia_)
        if not isinstance(km.inertia_, float) or not km.inertia_ >= 0:  # inf is honest, NaN is not
            raise ModelFileError(f"{where}: attribute inertia_ must be a number >= 0, got {km.inertia_!r}.")
    if spec.cls is MiniBatchKMeans:
        _check_minibatch_state(km, where, k)
    if spec.cls is SphericalKMeans and not np.all(np.einsum("ij,ij->i", centers, centers, dtype=np.float64) > 0):
        # A zero center has no direction: its cosine would be NaN.
        raise ModelFileError(f"{where}: a SphericalKMeans center is the zero vector.")
    if hasattr(km, "labels_"):
        labels = _array_attr(km, "labels_", where, "iu", None)
        if labels.ndim != 1 or (labels.size and (labels.min() < 0 or labels.max() >= k)):
            raise ModelFileError(f"{where}: labels_ must be a 1-D array of values in [0, {k}).")
    init = km.init
    if not isinstance(init, str) and (not isinstance(init, np.ndarray) or init.shape != (k, d)):
        raise ModelFileError(f"{where}: init must be a method name or an array of shape {(k, d)}, got {init!r:.80}.")
    _check_feature_names(km, where, d)


def _check_minibatch_state(km, where, k):
    _int_attr(km, "n_steps_", where)
    _int_attr(km, "_n_since_last_reassign", where)
    _int_attr(km, "_batch_size", where, minimum=1)
    scale = km._scale
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < math.inf:
        raise ModelFileError(f"{where}: attribute _scale must be a positive finite number, got {scale!r}.")
    km._scale = float(scale)
    counts = _array_attr(km, "_counts", where, "f", (k,))
    if counts.dtype != np.float64 or np.any(counts < 0):
        raise ModelFileError(f"{where}: attribute _counts must hold {k} non-negative float64 counts.")
    if hasattr(km, "_random_state") and type(km._random_state) is not np.random.RandomState:
        raise ModelFileError(f"{where}: attribute _random_state must be a random generator state.")


def _check_scaler_state(scaler, where):
    d = _int_attr(scaler, "n_features_in_", where, minimum=1)
    for attr, (kind, optional) in _SCALER_STATE[type(scaler)].items():
        if not hasattr(scaler, attr):
            raise ModelFileError(f"{where}: missing fitted attribute {attr}.")
        if kind == "count":
            # An int, or a float (weighted) count; an array when NaNs were skipped per feature.
            value = getattr(scaler, attr)
            if isinstance(value, np.ndarray):
                _array_attr(scaler, attr, where, "iuf", (d,))
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ModelFileError(f"{where}: attribute {attr} must be a non-negative count, got {value!r}.")
        else:
            _array_attr(scaler, attr, where, "f", (d,), optional=optional)
    # Range params are only checked by fit, which a loaded model never runs.
    params = scaler.get_params()
    for param, valid in (("feature_range", lambda a, b: -np.inf < a < b < np.inf),
                         ("quantile_range", lambda a, b: 0.0 <= a <= b <= 100.0)):
        value = params.get(param)
        if param in params and not (
            isinstance(value, tuple) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) and valid(*value)
        ):
            raise ModelFileError(f"{where}: invalid {param} {value!r}.")
    for param, attr in _SCALER_REQUIRES.get(type(scaler), {}).items():
        if getattr(scaler, param) and getattr(scaler, attr) is None:
            raise ModelFileError(f"{where}: {param}=True but attribute {attr} is missing.")
    _check_feature_names(scaler, where, d)

