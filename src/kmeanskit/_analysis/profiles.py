"""Describe clusters in the units the data were measured in.

:func:`profile_clusters` gives, for every cluster and feature, the cluster's
size and share and the feature's mean, standard deviation and median, in
original units, with tests of whether the feature differs across clusters
(one-way ANOVA and Kruskal-Wallis). :func:`centers_in_original_units` maps a
model's centers back through its preprocessing.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted

from kmeanskit._analysis.metrics import check_labels
from kmeanskit._estimators.pipeline import final_estimator

__all__ = ["centers_in_original_units", "profile_clusters"]

_COLUMNS = ["size", "share", "mean", "std", "median", "anova_f", "anova_p", "kruskal_p"]


def _feature_names(X, feature_names, n_features):
    if feature_names is not None:
        names = [str(name) for name in feature_names]
        if len(names) != n_features:
            raise ValueError(f"feature_names has {len(names)} names but X has {n_features} features.")
        if len(set(names)) != len(names):
            raise ValueError(f"feature_names has duplicates: {names}.")
        return names
    if isinstance(X, pd.DataFrame):
        return [str(name) for name in X.columns]
    return [f"x{j}" for j in range(n_features)]


def _inverse(scaler, X):
    if not hasattr(scaler, "inverse_transform"):
        raise TypeError(
            f"scaler must be a fitted transformer with inverse_transform (e.g. StandardScaler, or a "
            f"Pipeline of such); got {type(scaler).__name__}."
        )
    if isinstance(scaler, Pipeline):
        for _, step in scaler.steps:
            if step not in (None, "passthrough"):
                check_is_fitted(step)
    else:
        check_is_fitted(scaler)
    return scaler.inverse_transform(X)


def _tests(groups):
    """(F, ANOVA p, Kruskal-Wallis p) of one feature across clusters; NaN where undefined."""
    values = np.concatenate(groups)
    n_total, n_groups = values.size, len(groups)
    if n_groups < 2 or values.max() == values.min():
        return np.nan, np.nan, np.nan
    f = p = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate groups: NaN/inf says it
        if n_total > n_groups:
            result = stats.f_oneway(*groups)
            f, p = float(result.statistic), float(result.pvalue)
        try:
            kruskal_p = float(stats.kruskal(*groups).pvalue)
        except ValueError:
            kruskal_p = np.nan
    return f, p, kruskal_p


def profile_clusters(X, labels, *, feature_names=None, scaler=None):
    """Per-cluster size and share, and per-feature mean, std and median in original units.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The data in the space the model saw (e.g. scaled). A DataFrame's column
        names become the feature names.
    labels : array-like of shape (n_samples,)
        Cluster of each row (e.g. ``model.labels_``).
    feature_names : sequence of str, default=None
        Names of the features; default: X's columns, else "x0", "x1", ...
    scaler : fitted transformer or Pipeline of transformers, default=None
        If given, X is in its output (scaled) units and is mapped back with
        ``scaler.inverse_transform`` first, so every statistic is in the
        original units. (A pipeline ``make_pipeline(StandardScaler(), KMeans())``
        passes ``pipe[:-1]``.)

    Returns
    -------
    profile : pandas.DataFrame
        Tidy layout: one row per (cluster, feature), indexed by a MultiIndex
        with levels "cluster" (sorted labels) and "feature" (in X's order).
        Columns:

        - "size" (int), "share" (size / n_samples): of the cluster, repeated on its rows;
        - "mean", "std" (sample standard deviation, ddof=1; NaN for a cluster of
          one row), "median": of the feature within the cluster;
        - "anova_f", "anova_p": one-way ANOVA of the feature across clusters
          (:func:`scipy.stats.f_oneway`), "kruskal_p": Kruskal-Wallis H test
          (:func:`scipy.stats.kruskal`); the same on every row of a feature, NaN
          when undefined (a single cluster, a constant feature).

        Wide tables come from pandas: ``profile["mean"].unstack("feature")`` is
        the clusters x features table of means;
        ``profile.xs(0, level="cluster")`` is cluster 0.
    """
    values = check_array(X, dtype=np.float64, input_name="X", ensure_all_finite=False)
    if not np.isfinite(values).all():
        raise ValueError("X contains NaN or infinite values; every value must be finite.")
    n_samples, n_features = values.shape
    names = _feature_names(X, feature_names, n_features)
    _, codes, classes = check_labels(labels, n_samples)
    if scaler is not None:
        values = np.asarray(_inverse(scaler, values), dtype=np.float64)
        if values.shape != (n_samples, n_features):
            raise ValueError(
                f"scaler.inverse_transform returned shape {values.shape}; expected {(n_samples, n_features)}."
            )
    frame = pd.DataFrame(values, columns=names)
    grouped = frame.groupby(codes, sort=True)
    sizes = np.bincount(codes, minlength=classes.size)
    mean, std, median = grouped.mean(), grouped.std(ddof=1), grouped.median()
    tests = {}
    for j, name in enumerate(names):
        groups = [values[codes == c, j] for c in range(classes.size)]
        tests[name] = _tests(groups)
    index = pd.MultiIndex.from_product([classes, names], names=["cluster", "feature"])
    out = pd.DataFrame(
        {
            "size": np.repeat(sizes, n_features).astype(np.int64),
            "share": np.repeat(sizes / n_samples, n_features),
            "mean": mean.to_numpy().ravel(),
            "std": std.to_numpy().ravel(),
            "median": median.to_numpy().ravel(),
            "anova_f": np.tile([tests[n][0] for n in names], classes.size),
            "anova_p": np.tile([tests[n][1] for n in names], classes.size),
            "kruskal_p": np.tile([tests[n][2] for n in names], classes.size),
        },
        index=index,
    )
    return out[_COLUMNS]


def centers_in_original_units(model_or_pipeline):
    """A fitted model's cluster centers, mapped back through its preprocessing.

    Parameters
    ----------
    model_or_pipeline : fitted estimator with ``cluster_centers_``, or Pipeline ending in one
        A pipeline's preprocessing steps must all have ``inverse_transform``
        (scalers do; they are applied in reverse order).

    Returns
    -------
    centers : pandas.DataFrame of shape (n_clusters, n_features)
        Index "cluster" (0..k-1, the model's labels), columns the feature names
        the model (or pipeline) was fitted with, else "x0", "x1", ...
    """
    model = model_or_pipeline
    clusterer = final_estimator(model)
    check_is_fitted(clusterer, "cluster_centers_")
    centers = np.asarray(clusterer.cluster_centers_, dtype=np.float64)
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        preprocessing = model[:-1]
        try:
            centers = np.asarray(preprocessing.inverse_transform(centers), dtype=np.float64)
        except AttributeError:
            raise TypeError(
                "Every preprocessing step of the pipeline needs inverse_transform to map the centers "
                f"back to original units; steps: {[type(s).__name__ for _, s in preprocessing.steps]}."
            ) from None
    names = getattr(model, "feature_names_in_", None)
    if names is None or len(names) != centers.shape[1]:
        names = [f"x{j}" for j in range(centers.shape[1])]
    return pd.DataFrame(
        centers, index=pd.RangeIndex(centers.shape[0], name="cluster"), columns=[str(n) for n in names]
    )
