"""Drift reports: do new rows still look like the training data of a model, and which features moved?

Four checks against the training profile (cluster shares, distances within
each cluster, the anomaly rate, each feature's distribution), each needing
both a shift large enough to matter and a significant test, so that neither
small samples nor tiny shifts in large ones raise alarms; :func:`drift_report`
explains the rules.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from kmeanskit._analysis.columns import level_counts, table_columns
from kmeanskit._analysis.formatting import format_cells, format_column, format_p_value, json_value
from kmeanskit._analysis.monitoring.assignment import assign
from kmeanskit._analysis.monitoring.features import MIN_CLUSTER_SHIFT_SD
from kmeanskit._analysis.monitoring.profile import model_feature_names, resolve_reference

__all__ = ["DriftReport", "drift_report"]

# Proportions are floored here in the PSI, so that a bin empty on one side
# gives a large but finite contribution (the usual convention).
_PSI_FLOOR = 1e-4
# Cochran's rule: a chi-square test needs about 5 expected rows per bin.
_MIN_EXPECTED = 5.0
# Features are tested with at least 10 expected rows per bin: with 5, the chi-square test of
# 20 to 50 new rows from the training distribution alarmed 1.3-2% of the time at alpha = 0.01
# (benchmarks/README.md, "Stability and drift"); with 10, 0.7%.
_FEATURE_MIN_EXPECTED = 10.0


@dataclass
class DriftReport:
    """The result of :func:`drift_report`.

    Attributes
    ----------
    verdict : {"no drift", "drift"}
    drift : bool
        ``verdict == "drift"``.
    reasons : list of str
        One sentence per check that found drift (empty without drift).
    clusters : pandas.DataFrame of shape (n_clusters, 12)
        Per cluster: ``cluster``; ``train_share`` and ``new_share`` (fraction
        of rows; "train" is the reference: the training summary or the
        reference data); ``psi`` (the cluster's PSI contribution);
        ``train_mean_distance`` (NaN when the profile comes from a model file,
        which stores quantiles, not means) and ``new_mean_distance``;
        ``train_median_distance`` and ``new_median_distance``; ``n_new``
        (new rows); ``anomaly_rate`` (fraction of the cluster's new rows
        beyond the training `anomaly_level` quantile); ``distance_psi`` and
        ``distance_p_value`` (the cluster's distances against its training
        quantile bins; NaN when not tested).
    psi : float
        Population stability index of the cluster shares.
    chi2_statistic, chi2_p_value : float
        Chi-square goodness-of-fit test of the new cluster counts against the
        training shares.
    anomaly_rate : float or None
        Fraction of new rows beyond their cluster's training `anomaly_level`
        distance quantile; None without distance quantiles.
    expected_anomaly_rate : float
        ``1 - anomaly_level``.
    n_anomalies : int
    anomaly_p_value : float or None
        One-sided binomial test of the anomaly count against the expected rate.
    distance_checked : bool
        Whether distances were compared (the profile has quantiles).
    share_drift, distance_drift, anomaly_drift : bool
        Which check found drift.
    n_reference, n_new, n_clusters : int
    reference_source : str
    alpha, psi_threshold, anomaly_factor, anomaly_level : float
        The settings used.
    features : pandas.DataFrame of shape (n_features, 10) or None
        Per feature, strongest shift first: ``feature``; ``train_mean`` and
        ``new_mean`` (original units); ``shift`` (``new_mean - train_mean``)
        and ``shift_sd`` (the shift in training standard deviations);
        ``sd_ratio`` (new over training standard deviation); ``psi`` (of the
        new rows' shares of the training decile bins) and ``p_value`` (chi-square
        test of the new bin counts against the training counts; NaN when not
        tested); ``drifted`` (``psi > psi_threshold`` and ``p < alpha /
        n_features``); ``clusters`` (the clusters whose rows' mean of the
        feature moved by at least 0.2 training sd with ``p < alpha / (k *
        n_features)``, a Welch z-test; largest shift first). None when the
        profile has no per-feature statistics (see `features_note`).
    cluster_shifts : pandas.DataFrame of shape (n_clusters, n_features) or None
        The shift of each cluster's mean of each feature among its new rows,
        in training standard deviations of the feature (NaN without rows).
    features_note : str or None
        Why `features` is None.
    feature_drift : bool
        Whether a feature (numeric or categorical) drifted.
    categories : pandas.DataFrame of shape (n_categorical, 14) or None
        Per categorical column, strongest shift first: ``feature``;
        ``n_levels`` (in the training rows); ``psi`` of the level shares
        among the observed entries and ``p_value`` (chi-square test of
        homogeneity of the training and new level counts; levels expected
        fewer than 5 times among the new rows are pooled, and so are unseen
        levels); ``drifted`` (``psi > psi_threshold`` and ``p < alpha /
        n_tested``, the same correction as numeric features); ``level``, the
        level whose share moved most, with its ``train_share`` and
        ``new_share``; ``n_unseen`` (new rows whose level the training rows
        never had) and ``unseen_levels`` (those levels, most frequent first);
        and the missing-share columns below. None without categorical columns.
    missing_drift : bool
        Whether the share of missing entries of a column moved. With gaps
        (``missing="ignore"`` models) the numeric statistics are over the
        observed entries, and `features` (and always `categories`) gain
        ``train_missing`` and ``new_missing`` (shares of missing entries),
        ``missing_p_value`` (chi-square test of homogeneity of the
        missing/observed counts) and ``missing_moved`` (the PSI of those two
        bins above `psi_threshold` and ``p < alpha / n_columns``).
    """

    verdict: str
    drift: bool
    reasons: list
    clusters: pd.DataFrame
    psi: float
    chi2_statistic: float
    chi2_p_value: float
    anomaly_rate: float | None
    expected_anomaly_rate: float
    n_anomalies: int
    anomaly_p_value: float | None
    distance_checked: bool
    share_drift: bool
    distance_drift: bool
    anomaly_drift: bool
    n_reference: int
    n_new: int
    n_clusters: int
    reference_source: str
    alpha: float
    psi_threshold: float
    anomaly_factor: float
    anomaly_level: float
    features: pd.DataFrame | None = field(default=None, repr=False)
    cluster_shifts: pd.DataFrame | None = field(default=None, repr=False)
    features_note: str | None = None
    feature_drift: bool = False
    categories: pd.DataFrame | None = field(default=None, repr=False)
    missing_drift: bool = False

    @property
    def headline(self) -> str:
        """The verdict in capitals and its reasons, on one line (``"DRIFT: cluster shares shifted: ..."``)."""
        return self.verdict.upper() + (": " + "; ".join(self.reasons) if self.reasons else "")

    @property
    def moved_features(self) -> list[str]:
        """The features that drifted, strongest first (numeric, then categorical)."""
        moved = []
        for table in (self.features, self.categories):
            if table is not None:
                moved += table.loc[table["drifted"], "feature"].tolist()
        return moved

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values (NaN and inf as None), for :func:`json.dumps`."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in ("clusters", "features", "categories") and value is not None:
                value = [
                    {key: json_value(list(v) if key in ("clusters", "unseen_levels") and name != "clusters" else v)
                     for key, v in row.items()}
                    for row in value.to_dict(orient="records")
                ]
            elif name == "cluster_shifts" and value is not None:
                value = {str(feature): json_value(value[feature].tolist()) for feature in value.columns}
            else:
                value = json_value(value)
            out[name] = value
        return out

    def summary(self, max_features: int = 10) -> str:
        """The verdict, its reasons, the features that moved most and the per-cluster table, as text.

        Parameters
        ----------
        max_features : int, default=10
            Features shown (strongest shift first).
        """
        lines = [self.headline, "",
                 f"{self.n_new} new rows against {self.n_reference} reference rows ({self.reference_source})", ""]
        if self.features is None:
            lines.append(f"Features: {self.features_note}")
        else:
            lines += ["Features, strongest shift first (shift in original units and in training sd):",
                      _feature_table(self.features.head(max_features)).to_string(index=False)]
            if len(self.features) > max_features:
                lines.append(f"... and {len(self.features) - max_features} more")
        if self.categories is not None:
            lines += ["", "Categorical columns, strongest shift first (level shares among observed entries):",
                      _level_table(self.categories.head(max_features)).to_string(index=False)]
            if len(self.categories) > max_features:
                lines.append(f"... and {len(self.categories) - max_features} more")
        lines += ["", "Clusters:", self.clusters.to_string(index=False, float_format=lambda v: f"{v:.3g}")]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        verdict = html.escape(self.headline)
        parts = [f"<div><strong>{verdict}</strong><br>{self.n_new} new rows against {self.n_reference} "
                 f"reference rows ({html.escape(self.reference_source)})"]
        if self.features is None:
            parts.append(f"<p>Features: {html.escape(self.features_note or '')}</p>")
        else:
            parts.append("<p>Features, strongest shift first:</p>")
            parts.append(_feature_table(self.features).to_html(index=False, border=0))
        if self.categories is not None:
            parts.append("<p>Categorical columns, strongest shift first:</p>")
            parts.append(_level_table(self.categories).to_html(index=False, border=0))
        parts.append("<p>Clusters:</p>")
        parts.append(self.clusters.to_html(index=False, border=0, float_format=lambda v: f"{v:.3g}"))
        return "".join(parts) + "</div>"


def text_cells(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of a drift report's ``features`` or ``categories`` table with its cells that are not
    numbers as text: flags (``drifted``, ``missing_moved``) as "yes" or blank, lists (``clusters``,
    ``unseen_levels``) joined ("-" when empty), no ``level`` as "-". Numbers are left as they are."""
    shown = table.copy()
    for column in ("drifted", "missing_moved"):
        if column in shown:
            shown[column] = np.where(shown[column], "yes", "")
    for column in ("clusters", "unseen_levels"):
        if column in shown:
            shown[column] = [", ".join(map(str, values)) or "-" for values in shown[column]]
    if "level" in shown:
        shown["level"] = shown["level"].fillna("-")
    return shown


def _feature_table(features: pd.DataFrame) -> pd.DataFrame:
    """The per-feature table with readable numbers (for summaries)."""
    shown = text_cells(features)
    for column in ("train_mean", "new_mean", "shift"):
        shown[column] = [f"{v:.4g}" for v in shown[column]]
    for column in ("shift_sd", "sd_ratio", "psi"):
        shown[column] = [f"{v:+.2f}" if column == "shift_sd" else f"{v:.2f}" for v in shown[column]]
    shown["p_value"] = [f"{v:.2g}" for v in shown["p_value"]]
    return _missing_text(shown)


def _level_table(categories: pd.DataFrame) -> pd.DataFrame:
    """The per-categorical-column table with readable numbers (for summaries)."""
    shown = text_cells(categories)
    shown["psi"] = format_column(shown["psi"])
    shown["p_value"] = [format_p_value(v) for v in shown["p_value"]]
    for column in ("train_share", "new_share"):
        shown[column] = format_cells(shown[column], percent=True)
    return _missing_text(shown)


def _missing_text(shown: pd.DataFrame) -> pd.DataFrame:
    """The numbers of the missing-share columns of a table (flags already text), if any, as text."""
    if "missing_moved" in shown:
        for column in ("train_missing", "new_missing"):
            shown[column] = format_cells(shown[column], percent=True)
        shown["missing_p_value"] = [format_p_value(v) for v in shown["missing_p_value"]]
    return shown


def _psi_terms(expected: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """PSI contribution of each bin: (o - e) * ln(o / e), proportions floored at 1e-4."""
    e = np.maximum(expected, _PSI_FLOOR)
    o = np.maximum(observed, _PSI_FLOOR)
    return (o - e) * np.log(o / e)


def _chisquare(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Chi-square goodness of fit; bins expected empty must be observed empty too."""
    support = expected > 0
    if np.any(observed[~support] > 0):  # rows where the reference had none: impossible under "no drift"
        return math.inf, 0.0
    if support.sum() < 2:
        return 0.0, 1.0
    result = stats.chisquare(observed[support], expected[support])
    return float(result.statistic), float(result.pvalue)


def _distance_bins(quantiles, shares, n):
    """Bin edges and probabilities from one cluster's quantiles, for n new rows.

    `shares` are the training shares at or below each quantile (its level
    where distances are distinct; more where they tie, as K-Modes' counts of
    mismatches do; the levels themselves for older model files). Quantiles of
    a share below 1 give the edges (rows beyond the maximum are expected but
    rarely). Tied quantiles are merged (the bin keeps the highest share), then
    bins from the tail down are merged until each expects at least 5 of the n
    rows. Returns None when fewer than 2 bins remain.
    """
    edges, cumulative = [], []
    for q, level in zip(quantiles, shares, strict=True):
        if level >= 1.0 or level <= 0.0:
            continue
        if edges and q <= edges[-1]:
            cumulative[-1] = level
        else:
            edges.append(float(q))
            cumulative.append(level)
    return _merged_bins(edges, cumulative, n)


def _merged_bins(edges, cumulative, n, min_expected=_MIN_EXPECTED):
    """Merge the bins cut at increasing `edges` until each expects at least `min_expected` of n rows.

    Bin i is (edges[i-1], edges[i]] (the first from -inf, the last to +inf),
    and `cumulative` the share of the reference at or below each edge. Bins
    are merged from the tail down, where expected counts are small. Returns
    the edges and probabilities of the merged bins, or None when fewer than 2
    remain.
    """
    probs = np.diff(np.concatenate([[0.0], cumulative, [1.0]]))
    # Bin i is (edges[i-1], edges[i]]. Merge from the tail, where expected counts are small;
    # each group is (probability, index of its lowest bin).
    groups, acc = [], 0.0
    for i in range(probs.size - 1, 0, -1):
        acc += probs[i]
        if n * acc >= min_expected:
            groups.append((acc, i))
            acc = 0.0
    acc += probs[0]
    if n * acc < min_expected and groups:
        acc += groups.pop()[0]
    groups.append((acc, 0))
    if len(groups) < 2:
        return None
    groups.reverse()
    return np.asarray([edges[i - 1] for _, i in groups[1:]]), np.asarray([prob for prob, _ in groups])


def _feature_drift(profile, X_new, labels, alpha, psi_threshold, model_names):
    """The per-feature table, the per-cluster shifts, the categorical table and the note of
    :class:`DriftReport` (see there)."""
    summary = profile.features
    if summary is None:
        return None, None, None, profile.features_note or "no per-feature statistics in the training profile"
    levels = summary.categorical
    d = summary.n_features
    if levels is None:
        columns, reason = table_columns(X_new, summary.names, categorical=[])
    else:
        if not isinstance(X_new, pd.DataFrame) and not sp.issparse(X_new):
            array = np.asarray(X_new, dtype=object)
            if array.ndim == 2:  # the columns in the model's order, named as the training rows were
                X_new = pd.DataFrame(array, columns=model_names or [f"x{j}" for j in range(array.shape[1])])
        columns, reason = table_columns(X_new, summary.names + levels.names,
                                        categorical=range(d, d + len(levels.names)))
    if reason is not None:
        return None, None, None, f"features not compared: {reason}"
    k, n = profile.n_clusters, labels.shape[0]
    all_counts = np.bincount(labels, minlength=k)
    train_missing = summary.n_missing
    rows, shifts, new_missing = [], np.full((k, d), np.nan), np.zeros(d, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(d):
            values = columns.column(j)
            observed = ~np.isnan(values)
            if observed.all():
                kept, counts, n_kept = labels, all_counts, n
            else:  # the observed entries
                new_missing[j] = n - int(observed.sum())
                values, kept = values[observed], labels[observed]
                counts, n_kept = np.bincount(kept, minlength=k), values.shape[0]
            train_n = summary.n_samples - int(train_missing[j])
            train_sizes = summary.cluster_sizes - (0 if summary.cluster_missing is None
                                                   else summary.cluster_missing[:, j])
            train_mean, train_sd = summary.mean[j], summary.sd[j]
            new_mean = values.mean() if n_kept else np.nan
            new_sd = values.std(ddof=1) if n_kept > 1 else 0.0
            shift = new_mean - train_mean
            psi = p_value = np.nan
            bins = _merged_bins(summary.edges[j], summary.cdf[j], min(n_kept, train_n), _FEATURE_MIN_EXPECTED) \
                if n_kept else None
            if bins is not None:
                edges, probs = bins
                observed = np.bincount(np.searchsorted(edges, values, side="left"), minlength=probs.size)
                psi = float(_psi_terms(probs, observed / n_kept).sum())
                p_value = _homogeneity_p(np.rint(probs * train_n), observed)
            # Each cluster's rows: the mean of the feature, against the training rows of the cluster.
            sums = np.bincount(kept, weights=values, minlength=k)
            cluster_mean = sums / counts
            squares = np.bincount(kept, weights=(values - cluster_mean[kept]) ** 2, minlength=k)
            cluster_var = squares / (counts - 1)
            diff = cluster_mean - summary.cluster_means[:, j]
            shifts[:, j] = diff / train_sd if train_sd > 0 else np.where(diff == 0, 0.0, np.sign(diff) * np.inf)
            se = np.sqrt(summary.cluster_sds[:, j] ** 2 / train_sizes + cluster_var / counts)
            z = np.where(se > 0, np.abs(diff) / se, np.where(diff == 0, 0.0, np.inf))
            cluster_p = 2 * stats.norm.sf(z)
            moving = (counts > 1) & (train_sizes > 1) & (cluster_p < alpha / (k * d)) \
                & (np.abs(shifts[:, j]) >= MIN_CLUSTER_SHIFT_SD)
            moved = [int(c) for c in np.flatnonzero(moving)[np.argsort(-np.abs(shifts[moving, j]), kind="stable")]]
            rows.append({
                "feature": columns.names[j], "train_mean": train_mean, "new_mean": new_mean, "shift": shift,
                "shift_sd": shift / train_sd if train_sd > 0 else (0.0 if shift == 0 else math.copysign(math.inf, shift)),
                "sd_ratio": new_sd / train_sd if train_sd > 0 else np.nan,
                "psi": psi, "p_value": p_value, "clusters": moved,
            })
    categories = None if levels is None else _level_drift(levels, [columns.column(j) for j in columns.categories()],
                                                          psi_threshold)
    n_tested = (len(rows) and int(pd.Series([r["p_value"] for r in rows]).notna().sum())) \
        + (0 if categories is None else int(categories["p_value"].notna().sum()))
    corrected = alpha / max(n_tested, 1)
    table = pd.DataFrame(rows, columns=_FEATURE_COLUMNS[:8] + ["clusters"])
    tested = table["p_value"].notna()
    table["drifted"] = tested & (table["psi"] > psi_threshold) & (table["p_value"] < corrected)
    columns_out = _FEATURE_COLUMNS
    if summary.cluster_missing is not None or new_missing.any():
        _missing_columns(table, train_missing, summary.n_samples, new_missing, n,
                         alpha / max(d + (0 if levels is None else len(levels.names)), 1), psi_threshold)
        columns_out = _FEATURE_COLUMNS + _MISSING_COLUMNS
    table = table[columns_out]
    order = np.argsort(-table["psi"].fillna(-np.inf).to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    if categories is not None:
        categories["drifted"] = categories["p_value"].notna() & (categories["psi"] > psi_threshold) \
            & (categories["p_value"] < corrected)
        _missing_columns(categories, levels.n_missing, levels.n_samples, categories.pop("n_missing_new").to_numpy(), n,
                         alpha / max(d + len(levels.names), 1), psi_threshold)
        categories = categories[_LEVEL_COLUMNS + _MISSING_COLUMNS]
        order = np.argsort(-categories["psi"].fillna(-np.inf).to_numpy(), kind="stable")
        categories = categories.iloc[order].reset_index(drop=True)
    cluster_shifts = pd.DataFrame(shifts, columns=columns.numeric_names, index=pd.RangeIndex(k, name="cluster"))
    return table, cluster_shifts, categories, None


_FEATURE_COLUMNS = ["feature", "train_mean", "new_mean", "shift", "shift_sd", "sd_ratio", "psi", "p_value",
                    "drifted", "clusters"]
_LEVEL_COLUMNS = ["feature", "n_levels", "psi", "p_value", "drifted", "level", "train_share", "new_share",
                  "n_unseen", "unseen_levels"]
_MISSING_COLUMNS = ["train_missing", "new_missing", "missing_p_value", "missing_moved"]


def _missing_columns(table, train_missing, n_train, new_missing, n_new, corrected, psi_threshold):
    """Add the missing share before and after to `table` (from the counts of missing entries), and
    whether it moved: the PSI of the two bins (missing, observed) above `psi_threshold` and a chi-square
    test of homogeneity ``p < corrected``."""
    p_values, moved = [], []
    for before, after in zip(train_missing, new_missing, strict=True):
        p = _homogeneity_p(np.array([before, n_train - before], dtype=float),
                           np.array([after, n_new - after], dtype=float))
        shares = np.array([before / n_train, 1 - before / n_train]), np.array([after / n_new, 1 - after / n_new])
        psi = float(_psi_terms(*shares).sum())
        p_values.append(p)
        moved.append(bool(psi > psi_threshold and p < corrected))
    table["train_missing"] = np.asarray(train_missing, dtype=float) / n_train
    table["new_missing"] = np.asarray(new_missing, dtype=float) / n_new
    table["missing_p_value"] = p_values
    table["missing_moved"] = moved


def _level_drift(levels, columns, psi_threshold):
    """Per categorical column: the PSI of the level shares among observed entries and the chi-square test
    of homogeneity of the training and new level counts (levels expected fewer than 5 times in the new
    rows pooled, and the unseen levels pooled), the level whose share moved most, the unseen levels."""
    rows = []
    for name, known, train_counts, values in zip(levels.names, levels.levels, levels.counts, columns, strict=True):
        found, counts, n_missing = level_counts(values)
        n_new = int(counts.sum())
        new_by_level = dict(zip(found, counts.tolist(), strict=True))
        new_counts = np.array([new_by_level.pop(level, 0) for level in known], dtype=np.int64)
        unseen = new_by_level  # what is left: levels the training rows never had
        n_unseen = int(sum(unseen.values()))
        train_n = int(train_counts.sum())
        psi = p_value = np.nan
        level = None
        train_share = new_share = np.nan
        if n_new and train_n:
            rare = train_counts / train_n * n_new < _MIN_EXPECTED
            train_bins = np.append(train_counts[~rare], [train_counts[rare].sum(), 0])
            new_bins = np.append(new_counts[~rare], [new_counts[rare].sum(), n_unseen])
            keep = (train_bins + new_bins) > 0
            train_bins, new_bins = train_bins[keep], new_bins[keep]
            psi = float(_psi_terms(train_bins / train_n, new_bins / n_new).sum())
            p_value = _homogeneity_p(train_bins, new_bins)
            change = np.abs(new_counts / n_new - train_counts / train_n)
            top = int(np.argmax(change))
            level, train_share, new_share = known[top], train_counts[top] / train_n, new_counts[top] / n_new
        rows.append({
            "feature": name, "n_levels": len(known), "psi": psi, "p_value": p_value, "level": level,
            "train_share": train_share, "new_share": new_share, "n_unseen": n_unseen,
            "unseen_levels": sorted(unseen, key=lambda v: (-unseen[v], v)), "n_missing_new": n_missing,
        })
    return pd.DataFrame(rows)


def _homogeneity_p(train_counts: np.ndarray, new_counts: np.ndarray) -> float:
    """Chi-square test that the training and new rows fall in the bins alike (2 x bins table)."""
    table = np.vstack([train_counts, new_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def drift_report(
    model,
    X_new,
    *,
    reference=None,
    alpha: float = 0.01,
    psi_threshold: float = 0.2,
    anomaly_factor: float = 3.0,
    anomaly_level: float = 0.99,
) -> DriftReport:
    """Tell whether new rows still look like the training data of a model.

    Four checks; any one of them finding drift gives the verdict ``"drift"``:

    1. **Cluster shares.** The population stability index (PSI) of the
       shares of rows per cluster, ``sum((new - train) * ln(new / train))``,
       is above `psi_threshold` (0.2 is the usual "significant shift"; 0.1 to
       0.2 is a moderate one) *and* a chi-square test of the new counts
       against the training shares gives ``p < alpha``. The test keeps small
       samples (whose PSI is large by chance, about ``(k - 1) / n``) from
       raising alarms; the PSI keeps large samples from raising alarms over
       shifts too small to matter.
    2. **Distances within clusters.** For each cluster, the distances of its
       new rows are binned at the training distance quantiles (50%, 90%,
       95%, 99%: bins that should receive 50%, 40%, 5%, 4% and 1% of the
       rows; tail bins are merged until each expects 5 rows) and compared
       the same way: PSI of the bins above `psi_threshold` and chi-square
       ``p < alpha / k`` (Bonferroni over the k clusters). This finds
       clusters that moved or spread even when no row changed cluster.
    3. **Anomalies.** The fraction of new rows beyond their cluster's
       training `anomaly_level` quantile is at least `anomaly_factor` times
       the expected ``1 - anomaly_level`` *and* a one-sided binomial test
       gives ``p < alpha``.
    4. **Features.** Each feature of the new rows (in the model's input
       units, before a pipeline's scalers) is binned at its training deciles
       (tail bins merged until each expects 5 rows) and compared with the
       training rows' counts: PSI above `psi_threshold` and a chi-square test
       of homogeneity ``p < alpha / n_features``. The report's `features`
       table gives every feature's shift in original units and in training
       standard deviations, strongest first, and which clusters it moves (a
       cluster's mean of the feature among its new rows moved by at least
       0.2 training sd, Welch's z-test ``p < alpha / (k * n_features)``).

    Checks 2 and 3 need distance quantiles, check 4 per-feature statistics:
    a model file saved with its training data has both, or pass `reference`.

    Parameters
    ----------
    model : KMeans, Pipeline, str or os.PathLike
        A fitted model or the path of a ``.kmk`` model file.
    X_new : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The new rows, as the model takes them (at least one). Not modified.
    reference : TrainingProfile, array-like or None, default=None
        The training profile, or reference rows to profile with
        :func:`fit_monitor`; None uses the training summary of the model file.
    alpha : float, default=0.01
        Significance level of the tests, in (0, 1).
    psi_threshold : float, default=0.2
        PSI above which a shift is large enough to report.
    anomaly_factor : float, default=3.0
        How many times the expected anomaly rate counts as drift (at least 1).
    anomaly_level : float, default=0.99
        Training distance quantile beyond which a row is an anomaly.

    Returns
    -------
    DriftReport

    Raises
    ------
    ValueError
        If a setting is out of range, no training profile is available, or
        the model refuses `X_new`.
    """
    for name, value, low, high in (("alpha", alpha, 0.0, 1.0), ("anomaly_level", anomaly_level, 0.0, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not low < value < high:
            raise ValueError(f"{name} must be a number strictly between {low:g} and {high:g}, got {value!r}")
    if isinstance(psi_threshold, bool) or not isinstance(psi_threshold, (int, float, np.floating)) \
            or not psi_threshold > 0 or not math.isfinite(psi_threshold):
        raise ValueError(f"psi_threshold must be a positive number such as 0.2, got {psi_threshold!r}")
    if isinstance(anomaly_factor, bool) or not isinstance(anomaly_factor, (int, float, np.floating)) \
            or not anomaly_factor >= 1 or not math.isfinite(anomaly_factor):
        raise ValueError(f"anomaly_factor must be a number >= 1 such as 3, got {anomaly_factor!r}")
    n_rows = X_new.shape[0] if hasattr(X_new, "shape") else len(X_new)
    if n_rows < 1:
        raise ValueError("X_new has no rows: drift needs at least one new row")

    model, profile = resolve_reference(model, reference)
    labels, distances, _ = assign(model, X_new)
    k, n = profile.n_clusters, labels.shape[0]
    counts = np.bincount(labels, minlength=k)
    train_share, new_share = profile.shares, counts / n

    # 1. cluster shares
    psi_terms = _psi_terms(train_share, new_share)
    psi = float(psi_terms.sum())
    chi2, chi2_p = _chisquare(counts.astype(float), train_share * n)
    share_drift = psi > psi_threshold and chi2_p < alpha

    # Per cluster distance summaries: one sort, then contiguous slices.
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    per_cluster = [distances[order[bounds[j]:bounds[j + 1]]] for j in range(k)]
    new_mean = np.array([d.mean() if d.size else np.nan for d in per_cluster])
    new_median = np.array([np.median(d) if d.size else np.nan for d in per_cluster])
    train_mean = profile.mean_distances if profile.mean_distances is not None else np.full(k, np.nan)
    train_median = np.full(k, np.nan)
    anomaly_rate_per_cluster = np.full(k, np.nan)
    distance_psi = np.full(k, np.nan)
    distance_p = np.full(k, np.nan)

    expected_rate = 1.0 - float(anomaly_level)
    anomaly_rate = anomaly_p = None
    n_anomalies = 0
    distance_drift = anomaly_drift = False
    if profile.has_quantiles:
        if 0.5 in profile.quantile_levels:
            train_median = profile.quantile(0.5)
        # 3. anomalies (rows of clusters without training rows have no threshold)
        thresholds = profile.quantile(anomaly_level)
        known = ~np.isnan(thresholds[labels])
        beyond = known & (distances > np.where(np.isnan(thresholds), np.inf, thresholds)[labels])
        n_known = int(known.sum())
        n_anomalies = int(beyond.sum())
        for j in range(k):
            if counts[j] and not np.isnan(thresholds[j]):
                anomaly_rate_per_cluster[j] = float(np.mean(per_cluster[j] > thresholds[j]))
        if n_known:
            anomaly_rate = n_anomalies / n_known
            anomaly_p = float(stats.binomtest(n_anomalies, n_known, expected_rate, alternative="greater").pvalue)
            anomaly_drift = anomaly_rate >= anomaly_factor * expected_rate and anomaly_p < alpha

        # 2. distances within each cluster
        tested = []
        for j in range(k):
            if not counts[j] or np.isnan(profile.distance_quantiles[j, 0]):
                continue
            shares = (profile.quantile_levels if profile.distance_at_or_below is None
                      else profile.distance_at_or_below[j])
            bins = _distance_bins(profile.distance_quantiles[j], shares, counts[j])
            if bins is None:
                continue
            edges, probs = bins
            observed = np.bincount(np.searchsorted(edges, per_cluster[j], side="left"), minlength=probs.size)
            distance_psi[j] = float(_psi_terms(probs, observed / counts[j]).sum())
            distance_p[j] = _chisquare(observed.astype(float), probs * counts[j])[1]
            tested.append(j)
        if tested:
            corrected = alpha / len(tested)
            distance_drift = any(distance_psi[j] > psi_threshold and distance_p[j] < corrected for j in tested)

    reasons = []
    if share_drift:
        reasons.append(f"cluster shares shifted: PSI {psi:.3f} > {psi_threshold:g} and chi-square "
                       f"p = {chi2_p:.2g} < {alpha:g}")
    if distance_drift:
        moved = [j for j in range(k) if distance_psi[j] > psi_threshold and distance_p[j] < alpha / len(tested)]
        reasons.append(
            f"distances to the center changed in cluster{'s' if len(moved) > 1 else ''} "
            f"{', '.join(map(str, moved))}: distance PSI {max(distance_psi[moved]):.3f} > {psi_threshold:g} "
            f"and chi-square p < {alpha:g}/{len(tested)}"
        )
    if anomaly_drift:
        reasons.append(f"anomaly rate {anomaly_rate:.2%} is {anomaly_rate / expected_rate:.1f} times the expected "
                       f"{expected_rate:.2%} (binomial p = {anomaly_p:.2g} < {alpha:g})")
    # A model without feature names takes its columns by position, whatever a DataFrame calls them.
    by_position = model_feature_names(model) is None and isinstance(X_new, pd.DataFrame)
    features, cluster_shifts, categories, features_note = _feature_drift(
        profile, X_new.to_numpy() if by_position else X_new, labels, alpha, psi_threshold, model_feature_names(model))
    feature_drift = features is not None and bool(features["drifted"].any())
    if feature_drift:
        moved = features[features["drifted"]]
        named = [f"{row.feature} {row.shift_sd:+.2g} sd (PSI {row.psi:.2f})" for row in moved.head(5).itertuples()]
        more = f" and {len(moved) - 5} more" if len(moved) > 5 else ""
        reasons.append(f"feature{'s' if len(moved) > 1 else ''} moved: {', '.join(named)}{more}")
    if categories is not None and categories["drifted"].any():
        feature_drift = True
        moved = categories[categories["drifted"]]
        named = [f"{row.feature} ({row.level} {row.train_share:.0%} -> {row.new_share:.0%}, PSI {row.psi:.2f}"
                 + (f", {row.n_unseen} unseen" if row.n_unseen else "") + ")" for row in moved.head(5).itertuples()]
        more = f" and {len(moved) - 5} more" if len(moved) > 5 else ""
        reasons.append(f"categor{'ies' if len(moved) > 1 else 'y'} moved: {', '.join(named)}{more}")
    missing_drift = False
    for table in (features, categories):
        if table is not None and "missing_moved" in table and table["missing_moved"].any():
            missing_drift = True
            moved = table[table["missing_moved"]]
            named = [f"{row.feature} {row.train_missing:.1%} -> {row.new_missing:.1%}" for row in moved.itertuples()]
            reasons.append(f"missing share moved: {', '.join(named)}")
    drift = share_drift or distance_drift or anomaly_drift or feature_drift or missing_drift

    clusters = pd.DataFrame({
        "cluster": np.arange(k),
        "train_share": train_share,
        "new_share": new_share,
        "psi": psi_terms,
        "train_mean_distance": train_mean,
        "new_mean_distance": new_mean,
        "train_median_distance": train_median,
        "new_median_distance": new_median,
        "n_new": counts.astype(np.int64),
        "anomaly_rate": anomaly_rate_per_cluster,
        "distance_psi": distance_psi,
        "distance_p_value": distance_p,
    })
    return DriftReport(
        verdict="drift" if drift else "no drift",
        drift=bool(drift),
        reasons=reasons,
        clusters=clusters,
        psi=psi,
        chi2_statistic=chi2,
        chi2_p_value=chi2_p,
        anomaly_rate=anomaly_rate,
        expected_anomaly_rate=expected_rate,
        n_anomalies=n_anomalies,
        anomaly_p_value=anomaly_p,
        distance_checked=profile.has_quantiles,
        share_drift=bool(share_drift),
        distance_drift=bool(distance_drift),
        anomaly_drift=bool(anomaly_drift),
        n_reference=profile.n_samples,
        n_new=int(n),
        n_clusters=k,
        reference_source=profile.source,
        alpha=float(alpha),
        psi_threshold=float(psi_threshold),
        anomaly_factor=float(anomaly_factor),
        anomaly_level=float(anomaly_level),
        features=features,
        cluster_shifts=cluster_shifts,
        features_note=features_note,
        feature_drift=bool(feature_drift),
        categories=categories,
        missing_drift=bool(missing_drift),
    )
