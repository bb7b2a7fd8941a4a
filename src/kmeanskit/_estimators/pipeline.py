"""The clustering estimator of a model that may be a scikit-learn Pipeline.

Everything above the estimators (metrics, selection, profiles, monitoring, the
report, the command line and the service) takes "a K-Means estimator, or a
Pipeline of transformers ending in one". This module is the one place that
looks through the pipeline: :func:`final_estimator` (no checks, for templates
and fitted models alike), :func:`fitted_final_estimator` (checked: one
exception type per kind of mistake, as scikit-learn raises them),
:func:`param_prefix` (for ``set_params`` on the final step) and
:func:`to_final_space` (the rows as the final estimator sees them).
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "clusters_categories", "clusters_categories_template", "final_estimator", "fitted_final_estimator", "param_prefix", "preprocessing_steps",
    "to_final_space",
]


def final_estimator(model):
    """The estimator that clusters: `model` itself, or the last step of a Pipeline."""
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def clusters_categories(model) -> bool:
    """Whether `model` (or its final step) clusters categorical columns: a fitted KPrototypes or KModes,
    whose rows arrive as tables with their categories as they are."""
    return hasattr(final_estimator(model), "categories_")


def clusters_categories_template(model) -> bool:
    """Whether `model` (or its final step), fitted or not, takes categorical columns (KPrototypes, KModes):
    its input tags say so."""
    from sklearn.utils import get_tags

    return bool(get_tags(final_estimator(model)).input_tags.categorical)


def param_prefix(model) -> str:
    """What goes before a parameter of the final estimator in ``model.set_params``.

    ``""`` for an estimator, ``"<last step name>__"`` for a Pipeline.
    """
    return f"{model.steps[-1][0]}__" if isinstance(model, Pipeline) else ""


def preprocessing_steps(model) -> list:
    """The transformers a Pipeline applies before its final step, without ``"passthrough"``/None."""
    if not isinstance(model, Pipeline):
        return []
    return [step for _, step in model.steps[:-1] if step is not None and not isinstance(step, str)]


def to_final_space(model, X):
    """`X` as the final estimator sees it: through the pipeline's transformers, in order."""
    for step in preprocessing_steps(model):
        X = step.transform(X)
    return X


def fitted_final_estimator(model, *, purpose: str = "using it"):
    """The final estimator of a fitted K-Means model, checked.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted estimator with ``predict``, ``transform`` and
        ``cluster_centers_`` (every kmeanskit estimator, scikit-learn's
        KMeans), or a Pipeline of transformers ending in one.
    purpose : str, default="using it"
        What the caller is about to do, for the "not fitted" message
        (``"call fit before {purpose}"``).

    Returns
    -------
    estimator
        The final estimator.

    Raises
    ------
    TypeError
        If `model` is not such an estimator or pipeline.
    sklearn.exceptions.NotFittedError
        If it is not fitted (a ``ValueError``, as scikit-learn raises it).
    """
    final = final_estimator(model)
    if not all(hasattr(final, name) for name in ("predict", "transform")):
        raise TypeError(_wrong_kind(model, final))
    try:
        check_is_fitted(final)
    except NotFittedError as exc:
        raise NotFittedError(f"model is not fitted: call fit before {purpose} ({exc})") from None
    if not hasattr(final, "cluster_centers_"):
        raise TypeError(_wrong_kind(model, final))
    return final


def _wrong_kind(model, final) -> str:
    got = type(model).__name__
    if isinstance(model, Pipeline):
        got += f" ending in {type(final).__name__}"
    return (
        "model must be a fitted K-Means estimator (kmeanskit's KMeans, or another with cluster_centers_, "
        f"predict and transform) or a Pipeline ending in one, got {got}"
    )
