"""Building the model a manifest describes: whitelisted classes, validated parameters, checked state."""

import numpy as np
from sklearn.pipeline import Pipeline

from kmeanskit._io.persistence.checks import check_estimator_state, check_scaler_state
from kmeanskit._io.persistence.format import (
    ESTIMATORS,
    MIXED_CLASSES,
    NUMERIC_SCALER,
    NUMERIC_SCALER_CLASS,
    NUMERIC_SCALERS,
    OUTPUT_CONFIGS,
    PIPELINE_CLASS,
    SCALER_CLASSES,
    SCALER_STATE,
    ModelFileError,
)
from kmeanskit._io.persistence.values import decode

__all__ = ["build"]

# Bool-valued parameters of the whitelisted classes (bool passes Integral checks elsewhere).
_BOOL_PARAMS = ("copy", "copy_x", "with_mean", "with_std", "clip", "with_centering", "with_scaling",
                "unit_variance", "verbose", "compute_labels")


def build(manifest, arrays):
    """The model (an estimator, or a Pipeline of scalers ending in one) a checked manifest describes.

    Raises ModelFileError for anything a file of :func:`~kmeanskit._io.persistence.writer.save` would
    not hold: an unknown class or parameter, a state that fails the checks, an unused member.
    """
    model_class = manifest.get("model_class")
    if model_class != PIPELINE_CLASS and model_class not in ESTIMATORS:
        raise ModelFileError(
            f"unknown model class {model_class!r}; expected one of {sorted(ESTIMATORS) + [PIPELINE_CLASS]}."
        )
    description = manifest["estimator"]
    found = description.get("class") if isinstance(description, dict) else description
    spec = ESTIMATORS.get(found) if isinstance(found, str) else None
    if spec is None:
        raise ModelFileError(f"unknown estimator class {found!r}; expected one of {sorted(ESTIMATORS)}.")
    if model_class != PIPELINE_CLASS and model_class != spec.name:
        raise ModelFileError(f"model class {model_class!r} but the estimator is a {spec.name}.")
    final = _new_estimator(spec.cls, description, arrays, "estimator", spec.state)
    check_estimator_state(final, spec)

    preprocessing = manifest.get("preprocessing")
    if not isinstance(preprocessing, list):
        raise ModelFileError(f"preprocessing must be a list of steps, got {preprocessing!r}.")
    if model_class != PIPELINE_CLASS and preprocessing:
        raise ModelFileError(f"a {spec.cls.__name__} model file cannot have preprocessing steps.")
    steps = []
    for i, step in enumerate(preprocessing):
        if isinstance(step, dict) and step.get("class") == NUMERIC_SCALER_CLASS:
            steps.append((_step_name(step.get("name")), _numeric_scaler(step, arrays, f"preprocessing step {i}")))
            continue
        cls = SCALER_CLASSES.get(step.get("class"))
        if cls is None:
            raise ModelFileError(
                f"unknown preprocessing class {step.get('class')!r}; supported: {sorted(SCALER_CLASSES)}."
            )
        estimator = _new_estimator(cls, step, arrays, f"preprocessing step {i}", tuple(SCALER_STATE[cls]))
        check_scaler_state(estimator, f"preprocessing step {i}")
        steps.append((_step_name(step.get("name")), estimator))

    model = final
    if model_class == PIPELINE_CLASS:
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
    if any(type(step) is NUMERIC_SCALER for _, step in steps) and (
            spec.cls not in MIXED_CLASSES or len(steps) != 1):
        raise ModelFileError("a NumericScaler step is the only step before a KPrototypes or KModes estimator.")
    if "table" in manifest:
        _check_table(manifest["table"], expected)
    return model


def _numeric_scaler(step, arrays, where):
    """The NumericScaler a description holds, with its scaler (StandardScaler or MinMaxScaler), checked."""
    scaler = _new_estimator(NUMERIC_SCALER, step, arrays, where, ())
    names = getattr(scaler, "feature_names_in_", None)
    if names is None or not hasattr(scaler, "n_features_in_"):
        raise ModelFileError(f"{where}: a NumericScaler needs n_features_in_ and feature_names_in_.")
    unknown = [c for c in scaler.categorical if c not in set(names)]
    if unknown or len(set(scaler.categorical)) != len(scaler.categorical) or names.shape != (scaler.n_features_in_,):
        raise ModelFileError(f"{where}: its categorical columns {scaler.categorical!r:.200} must be distinct "
                             "feature names.")
    scaler.numeric_ = np.asarray([j for j, c in enumerate(names) if c not in scaler.categorical], dtype=np.int64)
    inner = step.get("scaler")
    cls = SCALER_CLASSES.get(inner.get("class")) if isinstance(inner, dict) else None
    if cls is not NUMERIC_SCALERS.get(scaler.scale):
        raise ModelFileError(f"{where}: scale={scaler.scale!r} but its scaler is {inner!r:.80}.")
    scaler.scaler_ = _new_estimator(cls, inner, arrays, f"{where}, scaler", tuple(SCALER_STATE[cls]))
    check_scaler_state(scaler.scaler_, f"{where}, scaler")
    if scaler.scaler_.n_features_in_ != scaler.numeric_.size:
        raise ModelFileError(f"{where}: its scaler has {scaler.scaler_.n_features_in_} columns; "
                             f"{scaler.numeric_.size} are numeric.")
    return scaler


def _check_table(table, feature_names):
    """The column roles of a file written by ``kmeanskit fit``: readable, and clustering the model's features."""
    from kmeanskit._io.roles import ColumnRoles

    try:
        roles = ColumnRoles.from_dict(table)
    except ValueError as exc:
        raise ModelFileError(f"the column roles (table) cannot be read: {exc}") from None
    if feature_names is not None and roles.features != feature_names:
        raise ModelFileError(f"the column roles (table) cluster {roles.features!r:.200}, the model "
                             f"{feature_names!r:.200}.")


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
    params = {name: decode(value, arrays, f"{where}, parameter {name}") for name, value in params.items()}
    allowed = set(cls().get_params(deep=False))
    if set(params) - allowed:
        raise ModelFileError(f"{where}: unknown parameter(s) {sorted(set(params) - allowed)} for {cls.__name__}.")
    if params.get("copy") is False:
        raise ModelFileError(f"{where}: copy=False would make predict overwrite the caller's arrays; refused.")
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
        value = decode(value, arrays, f"{where}, attribute {attr}")
        setattr(estimator, attr, value)
    output = description.get("output")
    if output is not None:
        if output not in OUTPUT_CONFIGS:
            raise ModelFileError(f"{where}: unknown output config {output!r}.")
        estimator.set_output(transform=output)
    return estimator
