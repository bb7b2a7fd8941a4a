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

from kmeanskit._analysis.columns import level_counts, table_columns

__all__ = [
    "FEATURE_LEVELS",
    "MAX_STORED_VALUES",
    "MIN_CLUSTER_SHIFT_SD",
    "FeatureSummary",
    "LevelSummary",
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
    cluster_missing : ndarray of shape (n_clusters, n_features), int64, or None
        Missing (NaN) entries of each feature among each cluster's rows; None
        when every entry was observed. With gaps, every statistic above is
        over the observed entries.
    categorical : LevelSummary or None
        The categorical columns (the numeric ones are described above), or None.
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
    cluster_missing: np.ndarray | None = None
    categorical: LevelSummary | None = None

    @property
    def n_features(self) -> int:
        """Number of numeric features."""
        return len(self.names)

    @property
    def n_missing(self) -> np.ndarray:
        """Missing entries of each numeric feature, ndarray of shape (n_features,), int64."""
        if self.cluster_missing is None:
            return np.zeros(self.n_features, dtype=np.int64)
        return self.cluster_missing.sum(axis=0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN as None), as a model file's training summary stores them."""
        def numbers(values):
            return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]

        out = {
            "names": list(self.names),
            "n_samples": int(self.n_samples),
            "mean": numbers(self.mean),
            "sd": numbers(self.sd),
            "bin_edges": [numbers(e) for e in self.edges],
            "bin_cdf": [numbers(c) for c in self.cdf],
            "cluster_means": [numbers(row) for row in self.cluster_means],
            "cluster_sds": [numbers(row) for row in self.cluster_sds],
        }
        # Written only when there is something to write: complete numeric tables keep their layout.
        if self.cluster_missing is not None:
            out["cluster_missing"] = self.cluster_missing.tolist()
        if self.categorical is not None:
            out["categorical"] = self.categorical.to_dict()
        return out

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
        categorical = None
        if stored.get("categorical") is not None:
            categorical = LevelSummary.from_dict(stored["categorical"])
        names = _names(stored, "", allow_empty=categorical is not None)
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
        cluster_missing = None
        if stored.get("cluster_missing") is not None:
            rows = _lists(stored["cluster_missing"], k, "cluster_missing")
            cluster_missing = np.array([_counts(row, d, f"cluster_missing[{c}]") for c, row in enumerate(rows)],
                                       dtype=np.int64).reshape(k, d)
            if np.any(cluster_missing > np.asarray(cluster_sizes)[:, None]):
                raise ValueError("features: cluster_missing counts more entries than the cluster has rows")
        if categorical is not None and categorical.n_samples != n:
            raise ValueError("features: the categorical columns summarise another number of rows")
        return cls(names=list(names), n_samples=n, mean=mean, sd=sd, edges=edges, cdf=cdf,
                   cluster_means=tables["cluster_means"].reshape(k, d),
                   cluster_sds=tables["cluster_sds"].reshape(k, d),
                   cluster_sizes=np.asarray(cluster_sizes, dtype=np.int64),
                   cluster_missing=cluster_missing, categorical=categorical)


@dataclass(frozen=True, eq=False)
class LevelSummary:
    """What each categorical column of the training rows looked like.

    Attributes
    ----------
    names : list of str
        The categorical columns.
    n_samples : int
        Rows summarised.
    levels : list of list of str
        Per column, its levels (as text), most frequent first (ties in text order).
    counts : list of ndarray of int64
        Per column, the rows of each level (same order as `levels`).
    n_missing : ndarray of shape (n_columns,), int64
        Missing entries of each column.
    """

    names: list
    n_samples: int
    levels: list
    counts: list
    n_missing: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "names": list(self.names),
            "n_samples": int(self.n_samples),
            "levels": [list(levels) for levels in self.levels],
            "counts": [c.tolist() for c in self.counts],
            "n_missing": self.n_missing.tolist(),
        }

    @classmethod
    def from_dict(cls, stored: Any) -> LevelSummary:
        """Read (and check) what :meth:`to_dict` wrote (raises ValueError naming the first malformed entry)."""
        names = _names(stored, "categorical ")
        q, n = len(names), stored.get("n_samples")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"features: categorical n_samples {n!r:.40} is not a positive count")
        levels = _lists(stored.get("levels"), q, "categorical levels")
        counts = _lists(stored.get("counts"), q, "categorical counts")
        n_missing = _counts(stored.get("n_missing"), q, "categorical n_missing")
        for j in range(q):
            if not all(isinstance(v, str) for v in levels[j]) or len(set(levels[j])) != len(levels[j]):
                raise ValueError(f"features: the levels of categorical column {j} must be distinct strings")
            counts[j] = _counts(counts[j], len(levels[j]), f"categorical counts[{j}]")
            if counts[j].sum() + n_missing[j] != n:
                raise ValueError(f"features: the counts of categorical column {j} do not add up to n_samples")
        return cls(names=list(names), n_samples=n, levels=[list(v) for v in levels], counts=counts,
                   n_missing=n_missing)


def _names(stored, what: str, *, allow_empty: bool = False) -> list:
    """The ``names`` of a stored summary: a list of strings, non-empty unless `allow_empty`."""
    if not isinstance(stored, dict):
        raise ValueError(f"features: {what}is not an object")
    names = stored.get("names")
    if not isinstance(names, list) or not (names or allow_empty) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"features: {what}names must be a non-empty list of strings")
    return names


def _counts(values, length: int, what: str) -> np.ndarray:
    """A list of `length` non-negative integers as int64."""
    if not isinstance(values, list) or len(values) != length or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ValueError(f"features: {what} must be a list of {length} counts")
    return np.array(values, dtype=np.int64)


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


def summarize_features(X, labels: np.ndarray, n_clusters: int, names=None, categorical=None):
    """Per-feature statistics of training rows (in the model's input units) and of each cluster's rows.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The training rows, as the model takes them. Not modified. NaN (None
        in a categorical column) is a missing entry.
    labels : ndarray of shape (n_samples,), integer
        The cluster of each row, in ``[0, n_clusters)``.
    n_clusters : int
    names : list of str, optional
        Feature names (see :func:`kmeanskit._analysis.columns.table_columns`).
    categorical : array-like of int, optional
        Positions of the categorical columns (a model's ``categorical_``);
        by default told from the dtypes.

    Returns
    -------
    summary : FeatureSummary or None
        The numeric columns' statistics over their observed entries, and the
        categorical columns' level counts (`summary.categorical`).
    reason : str or None
        Why there is no summary (then `summary` is None).
    """
    columns, reason = table_columns(X, names, categorical)
    if reason is not None:
        return None, reason
    labels = np.asarray(labels, dtype=np.int64)
    numeric = columns.numeric()
    n, d = labels.shape[0], len(numeric)
    sizes = np.bincount(labels, minlength=n_clusters).astype(np.int64)
    mean, sd = np.empty(d), np.empty(d)
    cluster_means, cluster_sds = np.full((n_clusters, d), np.nan), np.full((n_clusters, d), np.nan)
    cluster_missing = np.zeros((n_clusters, d), dtype=np.int64)
    edges, cdf = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, position in enumerate(numeric):
            values = columns.column(position)
            observed = ~np.isnan(values)
            if np.isinf(values).any():
                return None, f"feature {columns.names[position]!r} has infinite values"
            if not observed.any():
                return None, f"feature {columns.names[position]!r} has no observed values"
            if not observed.all():  # the statistics of the observed entries
                cluster_missing[:, j] = np.bincount(labels[~observed], minlength=n_clusters)
                values, kept = values[observed], labels[observed]
            else:
                kept = labels
            n_kept, kept_sizes = values.shape[0], sizes - cluster_missing[:, j]
            ordered = np.sort(values)
            mean[j] = values.mean()
            sd[j] = values.std(ddof=1) if n_kept > 1 else 0.0
            found = np.unique(np.quantile(ordered, FEATURE_LEVELS))
            edges.append(found)
            cdf.append(np.searchsorted(ordered, found, side="right") / n_kept)
            sums = np.bincount(kept, weights=values, minlength=n_clusters)
            cluster_means[:, j] = np.where(kept_sizes > 0, sums / kept_sizes, np.nan)
            squares = np.bincount(kept, weights=(values - cluster_means[kept, j]) ** 2, minlength=n_clusters)
            cluster_sds[:, j] = np.where(kept_sizes > 1, np.sqrt(squares / (kept_sizes - 1)), np.nan)
    levels = None
    if columns.categorical.any():
        levels = summarize_levels([columns.column(j) for j in columns.categories()], columns.categorical_names)
    return FeatureSummary(names=columns.numeric_names, n_samples=int(n), mean=mean, sd=sd, edges=edges, cdf=cdf,
                          cluster_means=cluster_means, cluster_sds=cluster_sds, cluster_sizes=sizes,
                          cluster_missing=cluster_missing if cluster_missing.any() else None,
                          categorical=levels), None


def summarize_levels(columns: list, names: list) -> LevelSummary:
    """The :class:`LevelSummary` of categorical columns (object arrays of str, None for missing)."""
    found = [level_counts(values) for values in columns]
    return LevelSummary(names=list(names), n_samples=int(columns[0].shape[0]), levels=[f[0] for f in found],
                        counts=[f[1] for f in found], n_missing=np.array([f[2] for f in found], dtype=np.int64))
