"""Describe clusters in the units the data were measured in.

:func:`profile_clusters` gives, for every cluster and numeric feature, the
cluster's size and share and the feature's mean, standard deviation and
median, in original units, with tests of whether the feature differs across
clusters (one-way ANOVA, its effect size eta squared, and Kruskal-Wallis).
:func:`profile_categories` gives, for every cluster and categorical column, the
share of each level, with a chi-square test of independence of cluster and
level (and Cramer's V). Both count missing entries and describe the observed ones.
:func:`feature_separation` ranks the features by how much they separate the
clusters. :func:`centers_in_original_units` maps a model's centers back through
its preprocessing.
"""

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted

from kmeanskit._analysis.columns import level_codes, table_columns
from kmeanskit._analysis.metrics import check_labels
from kmeanskit._estimators.pipeline import final_estimator

__all__ = ["centers_in_original_units", "feature_separation", "profile_categories", "profile_clusters"]

_COLUMNS = ["size", "share", "mean", "std", "median", "anova_f", "anova_p", "kruskal_p", "eta_squared"]
_MISSING = ["n_missing", "missing_share"]
_LEVEL_COLUMNS = ["size", "count", "share", "n_missing", "missing_share", "chi2", "chi2_dof", "chi2_p",
                  "cramers_v", "min_expected", "low_expected_share"]
#: Cochran's rule: the chi-square approximation needs every expected count of at least 1 and at most
#: 20% of them below 5 (R's chisq.test warns when any is below 5).
_MIN_EXPECTED = 5.0
_OTHER = "other"
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
    if n_groups < 2 or n_total == 0 or values.max() == values.min():
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


def _table(X, feature_names, model, scaler):
    """(names, TableColumns or None) of X; None for a numeric array (read by check_array)."""
    n_features = np.shape(X)[1] if len(np.shape(X)) == 2 else None
    categorical = None if model is None else getattr(final_estimator(model), "categorical_", None)
    if n_features is None or sp.issparse(X):
        return None, None
    names = feature_names_of(X, feature_names, n_features, fitted=(model, scaler))
    if not isinstance(X, pd.DataFrame) and categorical is None and np.asarray(X).dtype.kind in "fiub":
        return names, None
    columns, reason = table_columns(X.set_axis(names, axis=1) if isinstance(X, pd.DataFrame) else X,
                                    names, categorical)
    return names, (None if reason is not None else columns)


def _numeric_values(X, feature_names, model, scaler):
    """(values (n, p) float64 with NaN for missing entries, names) of X's numeric columns."""
    names, columns = _table(X, feature_names, model, scaler)
    if columns is None or not columns.categorical.any():
        values = check_array(X, dtype=np.float64, input_name="X", ensure_all_finite=False)
        if names is None:
            names = feature_names_of(X, feature_names, values.shape[1], fitted=(model, scaler))
    else:
        if scaler is not None:
            raise ValueError(
                f"scaler maps numeric tables only, but X has categorical columns {columns.categorical_names}; "
                "pass X in original units without scaler."
            )
        numeric = columns.numeric()
        values = np.empty((np.shape(X)[0], len(numeric)))
        for f, j in enumerate(numeric):
            values[:, f] = columns.column(j)
        names = columns.numeric_names
    if np.isinf(values).any():
        raise ValueError("X contains infinite values; every value must be finite (NaN is a missing entry).")
    return values, names


def profile_clusters(X, labels, *, feature_names=None, scaler=None, model=None):
    """Per-cluster size and share, and per-feature mean, std and median in original units.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The data in the space the model saw (e.g. scaled). A DataFrame's column
        names become the feature names. NaN is a missing entry: the statistics
        are over the observed entries and the missing ones are counted.
        Categorical columns (non-numeric dtypes, or those `model` calls
        categorical) are left to :func:`profile_categories`.
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
        it was fitted with (``feature_names_in_``) name the features, and its
        ``categorical_`` (KPrototypes, KModes) says which columns are categorical.

    Returns
    -------
    profile : pandas.DataFrame
        Tidy layout: one row per (cluster, numeric feature), indexed by a
        MultiIndex with levels "cluster" (sorted labels) and "feature" (in X's
        order). Columns:

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
        - when X has missing entries: "n_missing" (int) and "missing_share"
          (over the cluster's rows) of the feature; the statistics above are
          then over the observed entries (NaN only where a cluster has none).

        Wide tables come from pandas: ``profile["mean"].unstack("feature")`` is
        the clusters x features table of means;
        ``profile.xs(0, level="cluster")`` is cluster 0.
    """
    values, names = _numeric_values(X, feature_names, model, scaler)
    n_samples, n_features = values.shape
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
    gaps = np.isnan(values)
    tests = {}
    for j, name in enumerate(names):
        groups = [values[(codes == c) & ~gaps[:, j], j] for c in range(classes.size)]
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
    if not gaps.any():
        return out[_COLUMNS]
    missing = np.stack([np.bincount(codes, weights=gaps[:, j], minlength=classes.size) for j in range(n_features)],
                       axis=1).astype(np.int64)
    out["n_missing"] = missing.ravel()
    out["missing_share"] = (missing / np.maximum(sizes, 1)[:, None]).ravel()
    return out[_COLUMNS + _MISSING]


def profile_categories(X, labels, *, feature_names=None, model=None, max_levels=10):
    """Per-cluster shares of each level of each categorical column, with a chi-square test across clusters.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The table (numeric columns are ignored). A column is categorical when
        `model` says so (``categorical_`` of KPrototypes and KModes), else
        when its dtype is not numeric (object, string, category, bool). None
        or NaN is a missing entry: counted, and left out of the shares and
        the test.
    labels : array-like of shape (n_samples,)
        Cluster of each row (e.g. ``model.labels_``).
    feature_names : sequence of str, default=None
        Names of the columns; default: X's columns, else the names `model`
        was fitted with, else "x0", "x1", ...
    model : fitted estimator or Pipeline, default=None
        The model that made `labels` (for the column names and roles).
    max_levels : int, default=10
        Levels shown per column: the most frequent ``max_levels - 1`` and the
        rest pooled as "other" when a column has more than `max_levels`.

    Returns
    -------
    profile : pandas.DataFrame
        Tidy layout: one row per (cluster, column, level), indexed by a
        MultiIndex with levels "cluster" (sorted labels), "feature" (in X's
        order) and "level" (text; most frequent overall first, ties in text
        order, "other" last). Columns:

        - "size" (int): rows of the cluster; "count" (int): its rows with the
          level; "share": count over the cluster's observed entries of the
          column (the shares of a cluster add up to 1);
        - "n_missing" (int), "missing_share": the cluster's missing entries of
          the column (over its rows);
        - "chi2", "chi2_dof", "chi2_p": Pearson's chi-square test of
          independence of cluster and level on the clusters x levels table of
          counts as shown (with "other" pooled; clusters without observed
          entries left out), :func:`scipy.stats.chi2_contingency` (with Yates'
          correction for a 2 x 2 table, as R's ``chisq.test``); "cramers_v":
          its effect size, ``sqrt(chi2 / (n * (min(r, c) - 1)))`` of the
          uncorrected statistic (0: independent, 1: each level in one cluster);
          "min_expected" and "low_expected_share": the smallest expected count
          and the share of cells expected fewer than 5 times. When some
          expected count is below 1 or more than 20% are below 5 (Cochran's
          rule), the chi-square approximation may be poor, as R warns: read
          Cramer's V. The same on every row of a column; NaN when undefined
          (a single cluster or level).

        Wide tables come from pandas: ``profile["share"].unstack("cluster")``
        is the levels x clusters table of shares.

    Raises
    ------
    ValueError
        If X has no categorical column, `labels` has the wrong length, or
        `max_levels` is not an integer of at least 2.
    """
    if isinstance(max_levels, bool) or not isinstance(max_levels, (int, np.integer)) or max_levels < 2:
        raise ValueError(f"max_levels must be an integer of at least 2, got {max_levels!r}.")
    names, columns = _table(X, feature_names, model, None)
    if columns is None or not columns.categorical.any():
        raise ValueError(
            "X has no categorical column (object, string, category or bool dtype, or a model's "
            "categorical_); profile_clusters describes numeric columns."
        )
    n_samples = np.shape(X)[0]
    _, codes, classes = check_labels(labels, n_samples)
    k = classes.size
    sizes = np.bincount(codes, minlength=k).astype(np.int64)
    parts = []
    for j in columns.categories():
        shown, _, level_of = level_codes(columns.column(j))
        observed = level_of >= 0
        if len(shown) > max_levels:  # the less frequent levels pooled, last
            shown = shown[: max_levels - 1] + [_OTHER]
            level_of = np.minimum(level_of, max_levels - 1)
        table = np.bincount(codes[observed] * len(shown) + level_of[observed],
                            minlength=k * len(shown)).reshape(k, len(shown))
        n_missing = sizes - table.sum(axis=1)
        chi2, dof, p, v, min_expected, low = _independence(table)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = table / table.sum(axis=1, keepdims=True)
        index = pd.MultiIndex.from_product([classes, [columns.names[j]], shown],
                                           names=["cluster", "feature", "level"])
        parts.append(pd.DataFrame({
            "size": np.repeat(sizes, len(shown)),
            "count": table.ravel(),
            "share": shares.ravel(),
            "n_missing": np.repeat(n_missing, len(shown)),
            "missing_share": np.repeat(n_missing / np.maximum(sizes, 1), len(shown)),
            "chi2": chi2, "chi2_dof": dof, "chi2_p": p, "cramers_v": v,
            "min_expected": min_expected, "low_expected_share": low,
        }, index=index))
    out = pd.concat(parts)
    order = np.argsort(out.index.get_level_values("cluster").map({c: i for i, c in enumerate(classes)}),
                       kind="stable")
    out = out.iloc[order]
    out["chi2_dof"] = out["chi2_dof"].astype(np.int64)
    return out[_LEVEL_COLUMNS]


def _independence(table):
    """(chi2, dof, p, Cramer's V, min expected, share of expected counts below 5) of a clusters x levels
    table of counts; rows and columns without counts are left out; NaN (dof 0) where undefined."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return np.nan, 0, np.nan, np.nan, np.nan, np.nan
    result = stats.chi2_contingency(table)
    expected = result.expected_freq
    v = float(stats.contingency.association(table, method="cramer"))
    return (float(result.statistic), int(result.dof), float(result.pvalue), v, float(expected.min()),
            float(np.mean(expected < _MIN_EXPECTED)))


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
