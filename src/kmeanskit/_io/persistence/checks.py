"""The checks a model file's arrays and a loaded estimator's fitted state must pass.

Before any array is read, :func:`member_shapes` gives the shape each ``.npy``
member must declare, from what the manifest says the model is (``k`` centers
of ``d`` features, ``n_iter_`` iterations, the training summary's
``n_samples``), so that the total read is bounded by what the model needs.
Once the model is built, every attribute that ``predict``, ``transform``, ``score`` (and, for
MiniBatchKMeans, ``partial_fit``) read is checked for type, shape, dtype and
range, so that a loaded model either works as the saved one did or is refused
with :class:`~kmeanskit._io.persistence.format.ModelFileError`.
"""

import math

import numpy as np
from sklearn.preprocessing import RobustScaler, StandardScaler

from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.kprototypes import KModes
from kmeanskit._estimators.minibatch import MiniBatchKMeans
from kmeanskit._estimators.spherical import SphericalKMeans
from kmeanskit._io.persistence.format import (
    ESTIMATORS,
    MIXED_CLASSES,
    NUMERIC_SCALER_CLASS,
    SCALER_STATE,
    ModelFileError,
)
from kmeanskit._io.persistence.values import MT19937_WORDS

__all__ = ["check_estimator_state", "check_scaler_state", "member_shapes"]

# Params that must be non-None arrays for transform to work, per class.
_SCALER_REQUIRES = {
    StandardScaler: {"with_mean": "mean_", "with_std": "scale_"},
    RobustScaler: {"with_centering": "center_", "with_scaling": "scale_"},
}
# Attributes a fitted model may lack: labels_ (KMeans files always had it optional);
# for MiniBatchKMeans, what only fit sets (n_iter_), what compute_labels=False leaves
# unset after partial_fit, and the generator only partial_fit creates.
_OPTIONAL_STATE = {
    KMeans: ("labels_",),
    MiniBatchKMeans: ("labels_", "inertia_", "n_iter_", "_random_state"),
}

# Shapes of the estimator's stored arrays, in terms of k (n_clusters), d (n_features_in),
# n_iter (n_iter_) and n (the rows labels_ covers: the training summary's n_samples, any for a
# MiniBatchKMeans, whose labels_ may be those of its last partial_fit batch).
_ESTIMATOR_SHAPES = {
    ("state", "cluster_centers_"): ("k", "d"),
    ("params", "init"): ("k", "d"),
    ("state", "_X_mean"): ("d",),
    ("state", "_counts"): ("k",),
    ("state", "inertia_history_"): ("n_iter",),
    ("state", "labels_"): ("n",),
    # KPrototypes and KModes: q categorical columns (as many as lists of levels), d - q numeric ones.
    ("state", "_centers"): ("k", "d"),
    ("state", "categorical_"): ("q",),
    ("state", "_numeric_columns"): ("p",),
}


def member_shapes(manifest):
    """The shape each array member must have, from the manifest alone: ``{member: (shape, what)}``.

    Every ``{"array": member}`` reference in the estimator and preprocessing
    descriptions is found and given the shape of the attribute it stands for
    (a dimension is ``None`` where the manifest cannot tell it: the labels of
    a MiniBatchKMeans's last batch). A reference anywhere else, or a member
    given two different shapes, is a ModelFileError. ``what`` names the
    attribute or parameter, for messages.
    """
    estimator = manifest.get("estimator")
    if not isinstance(estimator, dict):
        raise ModelFileError("estimator: a description object is expected.")
    params = estimator.get("params")
    k = params.get("n_clusters") if isinstance(params, dict) else None
    d = manifest.get("n_features_in")
    for name, value in (("n_clusters", k), ("n_features_in", d)):
        if type(value) is not int or value < 1:
            raise ModelFileError(f"{name} must be a positive int, got {value!r:.80}.")
    state = estimator.get("state")
    n_iter = state.get("n_iter_") if isinstance(state, dict) else None
    summary = manifest.get("summary")
    n_samples = summary.get("n_samples") if isinstance(summary, dict) else None
    # Only a MiniBatchKMeans's labels_ may be those of a batch rather than of the training rows.
    name = estimator.get("class")
    minibatch = isinstance(name, str) and name in ESTIMATORS and ESTIMATORS[name].cls is MiniBatchKMeans
    levels = state.get("categories_") if isinstance(state, dict) else None
    q = len(levels["levels"]) if isinstance(levels, dict) and isinstance(levels.get("levels"), list) else None
    sizes = {"k": k, "d": d, "n_iter": n_iter, "n": "any" if minibatch else n_samples, "q": q,
             "p": None if q is None else d - q}

    shapes = {}
    references = [(where, member, None) for where, member in _array_references(estimator, ())]
    steps = manifest.get("preprocessing")
    for step in steps if isinstance(steps, list) else []:
        references += [(("step",) + where, member, _numeric_width(step, d))
                       for where, member in _array_references(step, ())]
    for where, member, width in references:
        what = ("preprocessing step " if where[0] == "step" else "estimator ") + " ".join(where[-2:])
        if where[-2:] == ("mt19937", "key"):
            # A generator's key, wherever it is (only _random_state holds one; build says so).
            shape, what = (MT19937_WORDS,), f"the generator key ({MT19937_WORDS} uint32 words)"
        elif where[0] == "step":
            # A scaler's arrays are all per feature; a NumericScaler's scaler's, per numeric column.
            scaler_state = (len(where) == 3 and where[1] == "state") or (
                len(where) == 4 and where[1:3] == ("scaler", "state"))
            shape = (width,) if scaler_state and width is not None else None
        else:
            shape = _ESTIMATOR_SHAPES.get(where)
            shape = None if shape is None else tuple(_size(dim, sizes, what) for dim in shape)
        if not isinstance(member, str):
            raise ModelFileError(f"{what}: a member name is expected, got {member!r:.80}.")
        if shape is None:
            raise ModelFileError(f"an array member ({member!r:.80}) is referred to where no array is stored.")
        if shapes.setdefault(member, (shape, what))[0] != shape:
            raise ModelFileError(f"member {member!r:.80} is referred to as arrays of different shapes.")
    return shapes


def _numeric_width(step, d):
    """The number of columns a preprocessing step's arrays are per: d, or for a NumericScaler the columns
    not named categorical (None when its description cannot tell)."""
    if not isinstance(step, dict) or step.get("class") != NUMERIC_SCALER_CLASS:
        return d
    params = step.get("params")
    categorical = params.get("categorical") if isinstance(params, dict) else None
    names = categorical.get("tuple") if isinstance(categorical, dict) else None
    return d - len(names) if isinstance(names, list) and len(names) < d else None


def _size(dim, sizes, what):
    """The length ``dim`` stands for (an int, or a name in ``sizes``): an int >= 0, or None for any."""
    value = dim if type(dim) is int else sizes[dim]
    if value == "any":
        return None
    if type(value) is not int or value < 0:
        source = {"n_iter": "attribute n_iter_", "n": "the training summary's n_samples",
                  "q": "the number of lists of levels (categories_)",
                  "p": "the number of columns without levels"}[dim]
        raise ModelFileError(f"{what} has a length given by {source}, which is not an int >= 0: {value!r:.80}.")
    return value


def _array_references(value, where):
    """``(where, member)`` for every ``{"array": member}`` in a manifest value; ``where`` is its
    path of keys (list positions are not part of it). The manifest's depth is already bounded."""
    if isinstance(value, list):
        for item in value:
            yield from _array_references(item, where)
    elif isinstance(value, dict):
        if len(value) == 1 and "array" in value:
            yield where, value["array"]
            return
        for key, item in value.items():
            yield from _array_references(item, where + (key,))


def check_estimator_state(km, spec):
    """Check the fitted attributes of a loaded estimator, as its inference and partial_fit read them."""
    where = "estimator"
    optional = _OPTIONAL_STATE.get(spec.cls, ("labels_",))
    missing = [a for a in spec.state + ("n_features_in_",) if a not in optional and not hasattr(km, a)]
    if missing:
        raise ModelFileError(f"{where}: missing fitted attribute(s) {missing}.")
    d = _int_attr(km, "n_features_in_", where, minimum=1)
    k = km.n_clusters
    if spec.cls in MIXED_CLASSES:
        _check_mixed_state(km, where, k, d)
        centers = km.cluster_centers_
    else:
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


def _check_mixed_state(km, where, k, d):
    """KPrototypes and KModes: the columns split into numeric and categorical, one list of levels per
    categorical column, centers whose level codes are levels; then ``cluster_centers_`` is rebuilt."""
    categorical = _array_attr(km, "categorical_", where, "iu", None)
    numeric = _array_attr(km, "_numeric_columns", where, "iu", None)
    levels = km.categories_
    if not isinstance(levels, list) or len(levels) != categorical.size or not all(
            isinstance(v, np.ndarray) and v.dtype == object and v.ndim == 1 for v in levels):
        raise ModelFileError(f"{where}: categories_ must hold one list of levels per categorical column "
                             f"({categorical.size}), got {len(levels) if isinstance(levels, list) else levels!r:.80}.")
    columns = np.concatenate([numeric, categorical]).astype(np.int64)
    if categorical.size == 0 or not np.array_equal(np.sort(columns), np.arange(d)) or not (
            np.all(np.diff(categorical) > 0) and np.all(np.diff(numeric) > 0)):
        raise ModelFileError(f"{where}: categorical_ and _numeric_columns must split the {d} columns in "
                             "increasing order, with at least one categorical column.")
    km.categorical_, km._numeric_columns = categorical.astype(np.int64), numeric.astype(np.int64)
    if type(km) is KModes and numeric.size:
        raise ModelFileError(f"{where}: a KModes model has categorical columns only.")
    centers = _array_attr(km, "_centers", where, "f", (k, d))
    codes = centers[:, numeric.size:]
    n_levels = np.asarray([v.size for v in levels])
    if codes.size and (np.any(codes != np.floor(codes)) or np.any(codes < 0) or np.any(codes >= n_levels)):
        raise ModelFileError(f"{where}: the centers' category codes must be levels of their column "
                             f"(integers from 0 to the number of levels, {n_levels.tolist()}).")
    gamma = km.gamma_
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma < math.inf:
        raise ModelFileError(f"{where}: attribute gamma_ must be a positive finite number, got {gamma!r:.80}.")
    km.gamma_ = float(gamma)
    km._centers = np.ascontiguousarray(centers, dtype=np.float64)
    km.cluster_centers_ = km._decoded(km._centers)


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


def check_scaler_state(scaler, where):
    """Check the fitted attributes and range parameters of a loaded scaler, as its ``transform`` reads them."""
    d = _int_attr(scaler, "n_features_in_", where, minimum=1)
    for attr, (kind, optional) in SCALER_STATE[type(scaler)].items():
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
