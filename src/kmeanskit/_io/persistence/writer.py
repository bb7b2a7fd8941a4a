"""Writing a ``.kmk`` file: :func:`save`, and :func:`describe` (the manifest without the file)."""

import hashlib
import io
import json
import math
import zipfile
from datetime import datetime, timezone

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from kmeanskit._estimators.minibatch import MiniBatchKMeans
from kmeanskit._estimators.pipeline import final_estimator
from kmeanskit._io.atomic import atomic_write
from kmeanskit._io.persistence.format import (
    BASE_FORMAT_VERSION,
    ESTIMATOR_NAMES,
    FORMAT_NAME,
    MANIFEST,
    MIXED_CLASSES,
    NUMERIC_SCALER,
    NUMERIC_SCALER_CLASS,
    OUTPUT_CONFIGS,
    PIPELINE_CLASS,
    SCALER_NAMES,
    SCALER_STATE,
    SPECS,
)
from kmeanskit._io.persistence.integrity import INTEGRITY, check_key, seal
from kmeanskit._io.persistence.values import encode

__all__ = ["describe", "save", "write_model"]


def save(model, path, *, X=None, key=None):
    """Save a fitted model to a ``.kmk`` file, atomically.

    The file holds the SHA-256 of its manifest (which lists the SHA-256 of
    every array), so damage and naive edits are refused on load; with
    ``key`` it is also signed (HMAC-SHA256), so that ``load(path, key=key)``
    refuses any file not written by a holder of the key.

    Parameters
    ----------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians, KPrototypes, KModes or Pipeline
        A fitted kmeanskit ``KMeans``, ``MiniBatchKMeans``,
        ``SphericalKMeans``, ``KMedians``, ``KPrototypes`` or ``KModes``, or
        a fitted :class:`sklearn.pipeline.Pipeline` of zero or more
        StandardScaler, MinMaxScaler, RobustScaler or MaxAbsScaler steps
        (for KPrototypes, the ``NumericScaler`` that ``kmeanskit fit``
        builds) followed by one. A ``MiniBatchKMeans`` keeps what
        ``partial_fit`` needs to continue exactly as it would have (counts,
        batch size, random generator); a ``KPrototypes`` or ``KModes`` its
        category levels, gamma and which columns are categorical (files of
        format version 4, which earlier releases refuse with "upgrade
        kmeanskit").
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
    key : bytes or str, default=None
        A secret to sign the file with (str is encoded as UTF-8). None: the
        file is not signed.

    Raises
    ------
    TypeError
        If the model or one of its steps is of an unsupported class.
    ValueError
        If the model is not fitted, its centers are not all finite, a
        parameter cannot be stored (a callable ``init``, a ``RandomState``
        instance, a pipeline ``memory``, a scaler's ``copy=False``, an
        output container other than NumPy or pandas), or ``X`` is not the
        training data.
    """
    write_model(model, path, X=X, key=key)


def write_model(model, path, *, X=None, key=None, table=None):
    """:func:`save`, and the roles of the training table's columns (what ``kmeanskit fit`` writes).

    ``table`` is ``kmeanskit._io.roles.ColumnRoles.to_dict()``, stored under
    the manifest's ``"table"`` key (absent from other files; covered by the
    manifest's checksum and signature) so that ``predict`` reads new tables
    the way the training table was read. The other parameters are :func:`save`'s.
    """
    if key is not None:
        key = check_key(key)
    arrays = {}
    manifest = _manifest(model, arrays)
    manifest["summary"] = _training_summary(model, X)
    if table is not None:
        manifest["table"] = table
    blobs = {name: _npy_bytes(array) for name, array in arrays.items()}
    manifest["members"] = {name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()}
    manifest_bytes = json.dumps(manifest, indent=2, allow_nan=False).encode("utf-8")
    with atomic_write(path) as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(INTEGRITY, seal(manifest_bytes, key))
        for name, data in blobs.items():
            archive.writestr(name, data)


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
    manifest = _manifest(model, {})
    manifest["summary"] = _training_summary(model, X)
    # A JSON round trip: the same plain values (lists, no tuples) a file gives.
    return json.loads(json.dumps(manifest, allow_nan=False))


def _manifest(model, arrays):
    """The manifest (without summary and members) of a supported model; fills ``arrays``."""
    if type(model) is Pipeline:  # exact types: a subclass could behave differently once rebuilt
        steps, final_name, final = _split_pipeline(model)
        pipeline = {"params": _pipeline_params(model), "final_step_name": final_name}
    elif type(model) in SPECS:
        steps, final, pipeline = [], model, None
    else:
        raise TypeError(
            f"Cannot save a {_qualname(model)}: only a fitted {ESTIMATOR_NAMES}, or a Pipeline of "
            f"{', '.join(c.__name__ for c in SCALER_NAMES)} steps ending in one of them, is supported."
        )
    spec = SPECS[type(final)]
    _check_fitted(final, f"the {type(final).__name__} step" if pipeline else "the model")
    _check_finite_centers(final)
    version = max(BASE_FORMAT_VERSION, spec.version)
    preprocessing = []
    for i, (name, step) in enumerate(steps):
        _check_fitted(step, f"pipeline step {name!r}")
        prefix = f"step{i}"
        if type(step) is NUMERIC_SCALER:
            version = max(version, 4)
            description = {"name": name, "class": NUMERIC_SCALER_CLASS, **_scaler_description(step, prefix, arrays),
                           "scaler": {"class": SCALER_NAMES[type(step.scaler_)],
                                      **_scaler_description(step.scaler_, f"{prefix}.scaler", arrays)}}
            preprocessing.append(description)
            continue
        preprocessing.append({"name": name, "class": SCALER_NAMES[type(step)],
                              **_scaler_description(step, prefix, arrays)})
    estimator = {
        "class": spec.name,
        "params": _encode_params(final, "model", arrays),
        "state": _encode_state(final, list(spec.state) + ["n_features_in_"], "model", arrays),
        "output": _output_config(final),
    }
    names = getattr(model, "feature_names_in_", None)
    from kmeanskit import __version__  # here, not at import: the package __init__ may import this module

    return {
        "format": FORMAT_NAME,
        # Every file now carries an integrity record, which readers of versions 1 and 2 would refuse
        # as an unknown member: they say "upgrade" instead; files of the classes version 4 added say 4.
        "format_version": version,
        "kmeanskit_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "model_class": PIPELINE_CLASS if pipeline else spec.name,
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
        if type(step) not in SCALER_NAMES and type(step) is not NUMERIC_SCALER:
            raise TypeError(
                f"Cannot save pipeline step {name!r} of class {_qualname(step)}: supported "
                f"preprocessing steps are {', '.join(c.__name__ for c in SCALER_NAMES)}."
            )
    final_name, final = steps[-1]
    if type(final) not in SPECS:
        raise TypeError(
            f"Cannot save a Pipeline whose final step {final_name!r} is a {_qualname(final)}: "
            f"it must be one of {ESTIMATOR_NAMES}."
        )
    return steps[:-1], final_name, final


def _scaler_description(step, prefix, arrays):
    """The params, state and output config of a preprocessing step (a scaler, or a NumericScaler)."""
    if step.get_params().get("copy") is False:
        raise ValueError(
            f"Cannot save a {type(step).__name__} step with copy=False: the loaded model would overwrite the "
            "arrays passed to predict. Set copy=True before saving (set_params(copy=True))."
        )
    state = [] if type(step) is NUMERIC_SCALER else list(SCALER_STATE[type(step)])
    return {
        "params": _encode_params(step, prefix, arrays),
        "state": _encode_state(step, state + ["n_features_in_"], prefix, arrays),
        "output": _output_config(step),
    }


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


def _check_finite_centers(estimator):
    """The README promises centers are never NaN: a file must not hold any (load would refuse it)."""
    # The centers of KPrototypes and KModes hold category values: their numbers are in _centers.
    centers = np.asarray(estimator._centers if type(estimator) in MIXED_CLASSES else estimator.cluster_centers_)
    n_bad = centers.size - int(np.count_nonzero(np.isfinite(centers)))
    if n_bad:
        raise ValueError(
            f"Cannot save the {type(estimator).__name__}: {n_bad} of its {centers.size} center coordinates "
            "are NaN or infinite."
        )


def _qualname(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _output_config(estimator):
    value = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    if value is None:
        return None
    if value not in OUTPUT_CONFIGS:
        raise ValueError(
            f"Cannot save {type(estimator).__name__} with set_output(transform={value!r}): a model file keeps "
            f"only {' or '.join(map(repr, OUTPUT_CONFIGS))}. Call set_output(transform='default') before saving."
        )
    return value


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
        if key == "categorical" and value is not None and not isinstance(value, tuple):
            value = tuple(np.asarray(value, dtype=object).ravel().tolist())  # names or indices, as given
        if key == "init" and not isinstance(value, str):
            value = np.asarray(value)
            if value.dtype.kind not in "iuf":
                raise ValueError(f"Cannot save init: an array of numbers is expected, got dtype {value.dtype}.")
        out[key] = encode(value, f"{prefix}.{key}.npy", arrays, what=f"parameter {key!r}")
    return out


def _encode_state(estimator, attributes, prefix, arrays):
    state = {}
    for attr in attributes:
        if hasattr(estimator, attr):
            state[attr] = encode(getattr(estimator, attr), f"{prefix}.{attr}.npy", arrays, what=f"attribute {attr}")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        state["feature_names_in_"] = {"strings": [str(n) for n in names]}
    return state


def _training_summary(model, X):
    """Cluster sizes and per-cluster distance quantiles of the training rows (of X when given).

    Distances are what the final estimator's ``transform`` returns, in the
    space it clusters in (after the pipeline's scalers); the numbers are those
    of drift monitoring's training profile (``kmeanskit._analysis.distance_summary``).
    """
    # Here, not at import: the summary is analysis, a layer above io.
    from kmeanskit._analysis.distance_summary import QUANTILE_LEVELS, cluster_sizes, summarize_distances

    final = final_estimator(model)
    spec = SPECS[type(final)]
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
    quantiles = at_or_below = features = None
    if X is not None:
        Xt = model[:-1].transform(X) if isinstance(model, Pipeline) and len(model) > 1 else X
        if labels is None:
            labels = np.asarray(final.predict(Xt))
        distances = np.asarray(final.transform(Xt))[np.arange(labels.shape[0]), labels].astype(np.float64)
        found = summarize_distances(labels, distances, final.n_clusters, QUANTILE_LEVELS)
        sizes = found.sizes
        quantiles = [row.tolist() if size else None for row, size in zip(found.quantiles, sizes, strict=True)]
        at_or_below = [row.tolist() if size else None for row, size in zip(found.at_or_below, sizes, strict=True)]
        # (per-feature statistics are of numeric columns: not made for tables with categories)
        features = _feature_summary(model, X, labels, final.n_clusters)
    else:
        sizes = None if labels is None else cluster_sizes(labels, final.n_clusters)
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
        "distance_quantile_levels": list(QUANTILE_LEVELS),
        "distance_quantiles": quantiles,
        "distance": spec.distance,
    }
    if features is not None:  # optional: readers before it ignore it
        summary["features"] = features
    if at_or_below is not None:  # optional, as features (readers before it bin by the levels)
        summary["distance_at_or_below"] = at_or_below
    if spec.cls is MiniBatchKMeans:
        summary["n_steps"] = int(final.n_steps_)
    return summary


def _feature_summary(model, X, labels, n_clusters):
    """Per-feature statistics of the training rows for drift reports, as JSON values; None when
    they cannot be made (sparse or non-numeric X) or would make the manifest large."""
    # Here, not at import: the summary is analysis, a layer above io.
    from kmeanskit._analysis.monitoring.features import MAX_STORED_VALUES, summarize_features

    n_features = X.shape[1] if hasattr(X, "shape") and len(X.shape) == 2 else None
    if n_features is None or n_features * (n_clusters + 22) > MAX_STORED_VALUES:
        return None
    names = getattr(model, "feature_names_in_", None)
    # KPrototypes/KModes say which columns are categories (integer codes too); K-Means has none.
    categorical = getattr(final_estimator(model), "categorical_", None)
    found, _ = summarize_features(X, labels, n_clusters, names=None if names is None else [str(n) for n in names],
                                  categorical=categorical)
    return None if found is None else found.to_dict()


def _labels_cover_training(minibatch):
    """Whether a MiniBatchKMeans's ``labels_`` are those of all its training rows: it was
    fitted by ``fit`` (which sets ``n_iter_``) and never updated by ``partial_fit`` (which
    keeps its generator in ``_random_state`` and labels only its batch)."""
    return hasattr(minibatch, "n_iter_") and not hasattr(minibatch, "_random_state")


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    # A view, not a copy (the labels of 4 million rows are 16 MB): hashlib and
    # ZipFile.writestr read it as they read bytes.
    return buffer.getbuffer()
