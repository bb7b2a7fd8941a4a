"""What sets each cluster apart from the rest, feature by feature.

For every cluster and feature: the cluster's mean, the mean of all other rows
("the rest"), their difference in original units and in standard deviations
of the feature over all rows, and Welch's t-test of the two means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["DIFFERENCE_COLUMNS", "cluster_differences", "describe_clusters"]

#: Columns of the differences table, in order.
DIFFERENCE_COLUMNS = ["size", "cluster_mean", "rest_mean", "difference", "difference_sd", "t_statistic", "p_value"]

#: What a cluster's description says when no feature passes the thresholds.
NOTHING_STANDS_OUT = "no feature stands out"


def cluster_differences(values, labels, n_clusters, feature_names) -> pd.DataFrame:
    """Per cluster and feature, the difference of the cluster's mean from the rest's.

    Private: the inputs are assumed valid.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)
        The rows in original units, finite.
    labels : ndarray of int of shape (n_samples,)
        Cluster of each row, 0 to ``n_clusters - 1`` (clusters may be empty).
    n_clusters : int
    feature_names : list of str

    Returns
    -------
    pandas.DataFrame
        One row per (cluster, feature), indexed by a MultiIndex with levels
        "cluster" (0 to k-1) and "feature"; within a cluster, strongest first
        (largest absolute ``difference_sd``, undefined ones last). Columns:
        ``size`` (rows of the cluster), ``cluster_mean``, ``rest_mean``,
        ``difference`` (their difference, original units), ``difference_sd``
        (the difference over the feature's standard deviation across all rows,
        ddof=1), ``t_statistic`` and ``p_value`` (Welch's two-sided t-test, as
        :func:`scipy.stats.ttest_ind` with ``equal_var=False`` computes it). NaN
        where undefined: a constant feature has no ``difference_sd``; a test
        needs two rows on each side.

    Notes
    -----
    One pass over the rows: per cluster, the count, the mean and the sum of
    squared deviations from it (two-pass, exact). The rest's are combined
    from the other clusters' (Chan, Golub & LeVeque): a sum of non-negative
    terms, without the cancellation of sums of squares.
    """
    n_samples, n_features = values.shape
    # Sums of values far from the origin lose the digits that tell clusters apart: sum around the mean.
    shift = values.mean(axis=0) if n_samples else np.zeros(n_features)
    sizes = np.bincount(labels, minlength=n_clusters).astype(np.float64)
    sums = np.stack([np.bincount(labels, weights=values[:, j] - shift[j], minlength=n_clusters)
                     for j in range(n_features)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / sizes[:, None]  # shifted; NaN for an empty cluster
    deviations = np.stack([
        np.bincount(labels, weights=(values[:, j] - shift[j] - means[labels, j]) ** 2, minlength=n_clusters)
        for j in range(n_features)
    ], axis=1)
    overall_sd = values.std(axis=0, ddof=1) if n_samples > 1 else np.full(n_features, np.nan)
    present = sizes > 0
    frames = []
    for cluster in range(n_clusters):
        size = int(sizes[cluster])
        others = present.copy()
        others[cluster] = False
        n_rest = n_samples - size
        with np.errstate(divide="ignore", invalid="ignore"):
            rest_mean = sums[others].sum(axis=0) / n_rest if n_rest else np.full(n_features, np.nan)
            rest_deviations = (deviations[others] + sizes[others, None] * (means[others] - rest_mean) ** 2).sum(axis=0)
            difference = means[cluster] - rest_mean
            in_sd = np.where(overall_sd > 0, difference / overall_sd, np.nan)
            t, p = _welch(means[cluster], deviations[cluster], size, rest_mean, rest_deviations, n_rest)
        frame = pd.DataFrame({
            "cluster": cluster, "feature": feature_names, "size": size, "cluster_mean": means[cluster] + shift,
            "rest_mean": rest_mean + shift, "difference": difference, "difference_sd": in_sd, "t_statistic": t,
            "p_value": p,
        })
        strength = np.nan_to_num(np.abs(in_sd), nan=-1.0)
        frames.append(frame.iloc[np.argsort(-strength, kind="stable")])
    out = pd.concat(frames, ignore_index=True).set_index(["cluster", "feature"])
    return out[DIFFERENCE_COLUMNS]


def _welch(mean_a, deviations_a, n_a, mean_b, deviations_b, n_b):
    """Welch's t statistic and two-sided p-value from each side's count, mean and sum of squared deviations."""
    if n_a < 2 or n_b < 2:
        nan = np.full(np.shape(mean_a), np.nan)
        return nan, nan
    var_a, var_b = deviations_a / (n_a - 1) / n_a, deviations_b / (n_b - 1) / n_b
    se2 = var_a + var_b
    t = (mean_a - mean_b) / np.sqrt(se2)
    df = se2 ** 2 / (var_a ** 2 / (n_a - 1) + var_b ** 2 / (n_b - 1))
    p = 2 * stats.t.sf(np.abs(t), df)
    p = np.where(np.isinf(t), 0.0, p)  # no spread on either side, different means: scipy says p = 0
    return t, p


def describe_clusters(differences: pd.DataFrame, n_clusters: int, *, alpha: float, min_sd: float,
                      max_features: int) -> list[str]:
    """One line per cluster: its strongest significant differences, signed, in standard deviations.

    A feature is named when its ``p_value < alpha`` and ``|difference_sd| >=
    min_sd``; at most `max_features`, strongest first, as ``"spend +2.1 sd"``.
    Without one: :data:`NOTHING_STANDS_OUT`. A row with a ``level`` (a
    categorical column, its cluster_mean and rest_mean shares of the level) is
    named when its difference is positive, as ``"store = north (82% of the
    cluster, 30% overall)"``; "overall" is over the rows of all clusters (their ``size``).
    """
    lines = []
    n_samples = int(differences["size"].groupby(level="cluster").first().sum()) if len(differences) else 0
    for cluster in range(n_clusters):
        part = differences.xs(cluster, level="cluster")
        level = part["level"] if "level" in part.columns else pd.Series(None, index=part.index, dtype=object)
        named = (part["p_value"] < alpha) & (part["difference_sd"].abs() >= min_sd)
        named &= level.isna() | (part["difference_sd"] > 0)
        shown = part[named].head(max_features)
        terms = [f"{name} {_signed(row['difference_sd'])} sd" if not isinstance(level.loc[name], str)
                 else _level_term(name, level.loc[name], row, n_samples) for name, row in shown.iterrows()]
        lines.append(", ".join(terms) if terms else NOTHING_STANDS_OUT)
    return lines


def _level_term(column, level, row, n_samples) -> str:
    """``store = north (82% of the cluster, 30% overall)``."""
    size = row["size"]
    overall = (size * row["cluster_mean"] + (n_samples - size) * row["rest_mean"]) / n_samples
    return f"{column} = {level} ({100 * row['cluster_mean']:.0f}% of the cluster, {100 * overall:.0f}% overall)"


def _signed(value: float) -> str:
    text = f"{value:+.1f}"
    return "+0.0" if text == "-0.0" else text
