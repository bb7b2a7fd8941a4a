"""Describe clusters in the units the data were measured in.

:func:`profile_clusters` gives, for every cluster and feature, the cluster's
size and share and the feature's mean, standard deviation and median, in
original units, with tests of whether the feature differs across clusters
(one-way ANOVA, its effect size eta squared, and Kruskal-Wallis).
:func:`feature_separation` ranks the features by how much they separate the
clusters. :func:`centers_in_original_units` maps a model's centers back through
its preprocessing.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted

from kmeanskit._analysis.metrics import check_labels
from kmeanskit._estimators.pipeline import final_estimator

__all__ = ["centers_in_original_units", "feature_separation", "profile_clusters"]

_COLUMNS = ["size", "share", "mean", "std", "median", "anova_f", "anova_p", "kruskal_p", "eta_squared"]
_TESTS = ["anova_f", "anova_p", "kruskal_p", "eta_squared"]


def feature_names_of(X, feature_names, n_features, fitted=()):
    """Names given, else X's columns, else the first of `fitted` (model, scaler) that recorded them, else x0..."""
    if feature_names is not None:
        names = [str(name) for name in feature_names]
        if len(names) != n_features:
            raise ValueError(f"feature_names has {len(names)} names but X has {n_features} features.")
        if len(set(names)) != len(names):
            raise ValueError(f"feature_names has duplicates: {names}.")
        return names
    if isinstance(X, pd.DataFrame):
        return [str(name) for name in X.columns]
    for estimator in fitted:
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None and len(names) == n_features:
            return [str(name) for name in names]
    return [f"x{j}" for j in range(n_features)]


def in_original_units(scaler, X):
    """``scaler.inverse_transform(X)`` after checking the scaler (or each step of a Pipeline) is fitted."""
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


def _eta_squared(groups, values):
    """Between-cluster sum of squares over the total: the share of the feature's variance the clusters explain."""
    grand = values.mean()
    total = float(((values - grand) ** 2).sum())
    between = float(sum(g.size * (g.mean() - grand) ** 2 for g in groups if g.size))
    return min(1.0, between / total) if total > 0 else np.nan


def _tests(groups):
    """(F, ANOVA p, Kruskal-Wallis p, eta squared) of one feature across clusters; NaN where undefined."""
    values = np.concatenate(groups)
    n_total, n_groups = values.size, len(groups)
    if n_groups < 2 or values.max() == values.min():
        return np.nan, np.nan, np.nan, np.nan
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
    return f, p, kruskal_p, _eta_squared(groups, values)


def profile_clusters(X, labels, *, feature_names=None, scaler=None, model=None):
    """Per-cluster size and share, and per-feature mean, std and median in original units.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The data in the space the model saw (e.g. scaled). A DataFrame's column
        names become the feature names.
    labels : array-like of shape (n_samples,)
        Cluster of each row (e.g. ``model.labels_``).
    feature_names : sequence of str, default=None
        Names of the features; default: X's columns, else the names `model`
        or `scaler` was fitted with (``feature_names_in_``), else "x0", "x1", ...
    scaler : fitted transformer or Pipeline of transformers, default=None
        If given, X is in its output (scaled) units and is mapped back with
        ``scaler.inverse_transform`` first, so every statistic is in the
        original units. (A pipeline ``make_pipeline(StandardScaler(), KMeans())``
        passes ``pipe[:-1]``.)
    model : fitted estimator or Pipeline, default=None
        The model that made `labels`; when X is an array, the feature names
        it was fitted with (``feature_names_in_``) name the features.

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
          (:func:`scipy.stats.kruskal`); "eta_squared": the share of the
          feature's variance that lies between the clusters (between-cluster
          over total sum of squares, 0 to 1; the ANOVA's effect size, which
          unlike F and p reads the same at any number of rows). The same on
          every row of a feature, NaN when undefined (a single cluster, a
          constant feature).

        Wide tables come from pandas: ``profile["mean"].unstack("feature")`` is
        the clusters x features table of means;
        ``profile.xs(0, level="cluster")`` is cluster 0.
    """
    values = check_array(X, dtype=np.float64, input_name="X", ensure_all_finite=False)
    if not np.isfinite(values).all():
        raise ValueError("X contains NaN or infinite values; every value must be finite.")
    n_samples, n_features = values.shape
    names = feature_names_of(X, feature_names, n_features, fitted=(model, scaler))
    _, codes, classes = check_labels(labels, n_samples)
    if scaler is not None:
        values = np.asarray(in_original_units(scaler, values), dtype=np.float64)
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
            "eta_squared": np.tile([tests[n][3] for n in names], classes.size),
        },
        index=index,
    )
    return out[_COLUMNS]


def feature_separation(profile):
    """The features of a profile, those that separate the clusters most first.

    Parameters
    ----------
    profile : pandas.DataFrame
        What :func:`profile_clusters` returned.

    Returns
    -------
    separation : pandas.DataFrame of shape (n_features, 4)
        Indexed by "feature", columns "eta_squared", "anova_f", "anova_p" and
        "kruskal_p", sorted by eta squared, largest first (the same order as
        F: for a given number of rows and clusters F grows with eta squared);
        features where it is undefined (constant) last, in X's order.
    """
    if not isinstance(profile, pd.DataFrame) or not set(_TESTS) <= set(profile.columns) \
            or "feature" not in (profile.index.names or ()):
        raise TypeError(
            "profile must be the DataFrame returned by profile_clusters (indexed by cluster and feature, "
            f"with columns {', '.join(_TESTS)}); got {type(profile).__name__}"
        )
    tests = profile.groupby(level="feature", sort=False)[_TESTS].first()
    ordered = tests.sort_values("eta_squared", ascending=False, na_position="last", kind="stable")
    return ordered[["eta_squared", "anova_f", "anova_p", "kruskal_p"]]


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
