"""Per-feature statistics of the training rows, and which features moved in new rows.

The training profile stores, for each feature in the model's input units (before
a pipeline's scalers): the mean and standard deviation, the bins between its
distinct deciles with the exact share of training rows at or below each edge,
and the mean and standard deviation of each cluster's rows. That is all
the drift report (:mod:`.drift`) needs to tell, for new rows, how far each feature moved
(in original units and in training standard deviations), whether the shift is
significant (a chi-square test of the new rows' bin counts against the
training counts), and which clusters it moves.

A model file stores the same summary (:func:`kmeanskit.save` with ``X``), so
that ``kmeanskit drift`` names features from the file alone; files written
before it (or without ``X``) hold none, and the drift report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "FEATURE_LEVELS",
    "MAX_STORED_VALUES",
    "MIN_CLUSTER_SHIFT_SD",
    "FeatureSummary",
    "feature_columns",
    "summarize_features",
]

#: Quantile levels whose distinct values are the bin edges of each feature (the deciles).
FEATURE_LEVELS = tuple(round(0.1 * i, 1) for i in range(1, 10))
#: A model file stores per-feature statistics when n_features * (n_clusters + 22) is at most this
#: (about 2 MB of manifest).
MAX_STORED_VALUES = 100_000
#: A cluster moves with a feature when its rows' mean shifted by at least this many training
#: standard deviations of the feature (Cohen's "small" effect) and significantly.
MIN_CLUSTER_SHIFT_SD = 0.2


@dataclass(frozen=True, eq=False)
class FeatureSummary:
    """What each feature of the training rows looked like.

    Attributes
    ----------
    names : list of str
        Feature names (the model's ``feature_names_in_``, else ``x0, x1, ...``).
    n_samples : int
        Rows summarised.
    mean, sd : ndarray of shape (n_features,)
        Mean and standard deviation (ddof=1; 0 for one row) of each feature.
    edges : list of ndarray
        Per feature, its distinct deciles, increasing.
    cdf : list of ndarray
        Per feature, the exact share of rows at or below each edge.
    cluster_means, cluster_sds : ndarray of shape (n_clusters, n_features)
        Mean and standard deviation of each cluster's rows (NaN without rows;
        sd NaN with one row).
    cluster_sizes : ndarray of shape (n_clusters,), int64
        Rows in each cluster.
    """

    names: list
    n_samples: int
    mean: np.ndarray
    sd: np.ndarray
    edges: list
    cdf: list
    cluster_means: np.ndarray
    cluster_sds: np.ndarray
    cluster_sizes: np.ndarray

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self.names)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN as None), as a model file's training summary stores them."""
        def numbers(values):
            return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]

        return {
            "names": list(self.names),
            "n_samples": int(self.n_samples),
            "mean": numbers(self.mean),
            "sd": numbers(self.sd),
            "bin_edges": [numbers(e) for e in self.edges],
            "bin_cdf": [numbers(c) for c in self.cdf],
            "cluster_means": [numbers(row) for row in self.cluster_means],
            "cluster_sds": [numbers(row) for row in self.cluster_sds],
        }

    @classmethod
    def from_dict(cls, stored: Any, cluster_sizes: np.ndarray) -> FeatureSummary:
        """Read (and check) what :meth:`to_dict` wrote; `cluster_sizes` from the same summary.

        Raises
        ------
        ValueError
            Naming the first entry that is malformed.
        """
        if not isinstance(stored, dict):
            raise ValueError("features: not an object")
        names = stored.get("names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError("features: names must be a non-empty list of strings")
        d, k = len(names), int(cluster_sizes.shape[0])
        n = stored.get("n_samples")
        if not isinstance(n, int) or isinstance(n, bool) or n != int(cluster_sizes.sum()):
            raise ValueError(f"features: n_samples {n!r:.40} is not the number of training rows")
        mean = _numbers(stored.get("mean"), d, "mean")
        sd = _numbers(stored.get("sd"), d, "sd")
        if np.any(sd < 0):
            raise ValueError("features: sd must not be negative")
        edges = _lists(stored.get("bin_edges"), d, "bin_edges")
        cdf = _lists(stored.get("bin_cdf"), d, "bin_cdf")
        for j in range(d):
            edges[j] = _numbers(edges[j], None, f"bin_edges[{j}]")
            cdf[j] = _numbers(cdf[j], edges[j].size, f"bin_cdf[{j}]")
            if np.any(np.diff(edges[j]) <= 0) or np.any(np.diff(cdf[j]) < 0) or np.any((cdf[j] < 0) | (cdf[j] > 1)):
                raise ValueError(f"features: the bins of feature {j} must be increasing edges with shares in [0, 1]")
        tables = {}
        for key in ("cluster_means", "cluster_sds"):
            rows = _lists(stored.get(key), k, key)
            tables[key] = np.array([_numbers(row, d, f"{key}[{j}]", nullable=True) for j, row in enumerate(rows)])
        return cls(names=list(names), n_samples=n, mean=mean, sd=sd, edges=edges, cdf=cdf,
                   cluster_means=tables["cluster_means"].reshape(k, d),
                   cluster_sds=tables["cluster_sds"].reshape(k, d),
                   cluster_sizes=np.asarray(cluster_sizes, dtype=np.int64))


def _lists(values, length: int, what: str) -> list:
    if not isinstance(values, list) or len(values) != length or not all(isinstance(v, list) for v in values):
        raise ValueError(f"features: {what} must hold {length} lists")
    return list(values)


def _numbers(values, length: int | None, what: str, *, nullable: bool = False) -> np.ndarray:
    """A list of finite numbers (None as NaN when `nullable`) as float64, of `length` when given."""
    def ok(v):
        if v is None:
            return nullable
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if not isinstance(values, list) or (length is not None and len(values) != length) or not all(map(ok, values)):
        size = "" if length is None else f"{length} "
        raise ValueError(f"features: {what} must be a list of {size}finite numbers")
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def feature_columns(X, names=None):
    """The numeric columns of `X`, one float64 array at a time, with their names.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Rows as a model takes them.
    names : list of str, optional
        The names to take from a DataFrame (in this order) or to give an
        array's columns; by default a DataFrame's own, else ``x0, x1, ...``.

    Returns
    -------
    names : list of str
    columns : callable
        ``columns(j)`` gives column j as a float64 array (read when asked for,
        so that only one column is copied at a time).
    reason : str or None
        Why the columns cannot be summarised (sparse or non-numeric data, a
        missing column); then `names` and `columns` are None.
    """
    if sp.issparse(X):
        return None, None, "the data are sparse"
    if isinstance(X, pd.DataFrame):
        frame_names = [str(c) for c in X.columns]
        if names is None:
            names = frame_names
        missing = [n for n in names if n not in frame_names]
        if missing:
            return None, None, f"the data lack the feature column(s) {', '.join(map(repr, missing))}"
        positions = [frame_names.index(n) for n in names]
        if not all(pd.api.types.is_numeric_dtype(X.dtypes.iloc[p]) and not pd.api.types.is_bool_dtype(
                X.dtypes.iloc[p]) for p in positions):
            return None, None, "some feature columns are not numeric"

        def column(j):
            return X.iloc[:, positions[j]].to_numpy(dtype=np.float64)

        return list(names), column, None
    array = np.asarray(X)
    if array.ndim != 2 or array.dtype.kind not in "fiu":
        return None, None, "the data are not a numeric table"
    if names is None:
        names = [f"x{j}" for j in range(array.shape[1])]
    elif len(names) != array.shape[1]:
        return None, None, f"the data have {array.shape[1]} columns, not the {len(names)} features profiled"

    def column(j):
        return np.asarray(array[:, j], dtype=np.float64)

    return list(names), column, None


def summarize_features(X, labels: np.ndarray, n_clusters: int, names=None):
    """Per-feature statistics of training rows (in the model's input units) and of each cluster's rows.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The training rows, as the model takes them. Not modified.
    labels : ndarray of shape (n_samples,), integer
        The cluster of each row, in ``[0, n_clusters)``.
    n_clusters : int
    names : list of str, optional
        Feature names (see :func:`feature_columns`).

    Returns
    -------
    summary : FeatureSummary or None
    reason : str or None
        Why there is no summary (then `summary` is None).
    """
    names, column, reason = feature_columns(X, names)
    if reason is not None:
        return None, reason
    labels = np.asarray(labels, dtype=np.int64)
    n, d = labels.shape[0], len(names)
    sizes = np.bincount(labels, minlength=n_clusters).astype(np.int64)
    mean, sd = np.empty(d), np.empty(d)
    cluster_means, cluster_sds = np.full((n_clusters, d), np.nan), np.full((n_clusters, d), np.nan)
    edges, cdf = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(d):
            values = column(j)
            if not np.all(np.isfinite(values)):
                return None, f"feature {names[j]!r} has missing or infinite values"
            ordered = np.sort(values)
            mean[j] = values.mean()
            sd[j] = values.std(ddof=1) if n > 1 else 0.0
            found = np.unique(np.quantile(ordered, FEATURE_LEVELS))
            edges.append(found)
            cdf.append(np.searchsorted(ordered, found, side="right") / n)
            sums = np.bincount(labels, weights=values, minlength=n_clusters)
            cluster_means[:, j] = np.where(sizes > 0, sums / sizes, np.nan)
            squares = np.bincount(labels, weights=(values - cluster_means[labels, j]) ** 2, minlength=n_clusters)
            cluster_sds[:, j] = np.where(sizes > 1, np.sqrt(squares / (sizes - 1)), np.nan)
    return FeatureSummary(names=names, n_samples=int(n), mean=mean, sd=sd, edges=edges, cdf=cdf,
                          cluster_means=cluster_means, cluster_sds=cluster_sds, cluster_sizes=sizes), None
