"""What sets each cluster apart from the rest, feature by feature.

For every cluster and feature: the cluster's mean, the mean of all other rows
("the rest"), their difference in original units and in standard deviations
of the feature over all rows, and Welch's t-test of the two means.
"""

from __future__ import annotations

import warnings

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
        ddof=1), ``t_statistic`` and ``p_value`` (Welch's two-sided t-test,
        :func:`scipy.stats.ttest_ind` with ``equal_var=False``). NaN where
        undefined: a constant feature has no ``difference_sd``; a test needs
        two rows on each side.
    """
    n_samples, n_features = values.shape
    overall_sd = values.std(axis=0, ddof=1) if n_samples > 1 else np.full(n_features, np.nan)
    frames = []
    for cluster in range(n_clusters):
        inside = labels == cluster
        size = int(inside.sum())
        part, rest = values[inside], values[~inside]
        cluster_mean = part.mean(axis=0) if size else np.full(n_features, np.nan)
        rest_mean = rest.mean(axis=0) if size < n_samples else np.full(n_features, np.nan)
        difference = cluster_mean - rest_mean
        with np.errstate(divide="ignore", invalid="ignore"):
            in_sd = np.where(overall_sd > 0, difference / overall_sd, np.nan)
        t = p = np.full(n_features, np.nan)
        if size >= 2 and n_samples - size >= 2:
            with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore")  # constant on both sides: NaN says it
                result = stats.ttest_ind(part, rest, axis=0, equal_var=False)
            t, p = np.asarray(result.statistic, dtype=np.float64), np.asarray(result.pvalue, dtype=np.float64)
        frame = pd.DataFrame({
            "cluster": cluster, "feature": feature_names, "size": size, "cluster_mean": cluster_mean,
            "rest_mean": rest_mean, "difference": difference, "difference_sd": in_sd, "t_statistic": t,
            "p_value": p,
        })
        strength = np.nan_to_num(np.abs(in_sd), nan=-1.0)
        frames.append(frame.iloc[np.argsort(-strength, kind="stable")])
    out = pd.concat(frames, ignore_index=True).set_index(["cluster", "feature"])
    return out[DIFFERENCE_COLUMNS]


def describe_clusters(differences: pd.DataFrame, n_clusters: int, *, alpha: float, min_sd: float,
                      max_features: int) -> list[str]:
    """One line per cluster: its strongest significant differences, signed, in standard deviations.

    A feature is named when its ``p_value < alpha`` and ``|difference_sd| >=
    min_sd``; at most `max_features`, strongest first, as ``"spend +2.1 sd"``.
    Without one: :data:`NOTHING_STANDS_OUT`.
    """
    lines = []
    for cluster in range(n_clusters):
        part = differences.xs(cluster, level="cluster")
        shown = part[(part["p_value"] < alpha) & (part["difference_sd"].abs() >= min_sd)].head(max_features)
        terms = [f"{name} {_signed(value)} sd" for name, value in shown["difference_sd"].items()]
        lines.append(", ".join(terms) if terms else NOTHING_STANDS_OUT)
    return lines


def _signed(value: float) -> str:
    text = f"{value:+.1f}"
    return "+0.0" if text == "-0.0" else text
