"""Cluster a table with categorical columns: the library side of ``kmeanskit fit`` on such tables.

Numeric columns are scaled as for K-Means (:class:`NumericScaler`), categorical
ones kept as categories; :class:`KPrototypes` clusters both (Huang's cost:
squared Euclidean distance on the scaled numeric columns plus ``gamma`` per
mismatched category), :class:`KModes` a table of categories alone. The result
is a :class:`~kmeanskit._analysis.workflow.FitResult` whose centers hold each
cluster's mode in the categorical columns, with the share of its rows that
have it.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from kmeanskit._analysis.formatting import json_number
from kmeanskit._analysis.metrics import SILHOUETTE_SAMPLE_SIZE, silhouette_or_reason
from kmeanskit._analysis.workflow import (
    SCALINGS,
    FitResult,
    _apply_missing_policy,
    _check_n_clusters,
    _fit_best_k,
    fit_result,
)
from kmeanskit._engine.compiling import compile_clock
from kmeanskit._estimators.kprototypes import KModes, KPrototypes
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit._estimators.pipeline import final_estimator, preprocessing_steps, to_final_space

__all__ = ["EUCLIDEAN_NOTE", "GAMMA_DEFAULT", "MixedFitResult", "fit_mixed_clusters", "mixed_metrics", "select_k_mixed",
           "unseen_categories"]

#: How the default gamma is chosen, in words (Huang 1998).
GAMMA_DEFAULT = "Huang's default: half the mean standard deviation of the numeric columns, as clustered"


@dataclass
class MixedFitResult(FitResult):
    """What :func:`fit_mixed_clusters` found: a :class:`FitResult` whose centers hold modes.

    Attributes
    ----------
    estimator : str
        ``"KPrototypes"`` (numeric and categorical columns) or ``"KModes"``
        (categorical columns only).
    gamma : float
        The weight of one mismatched category (``gamma_``; 1 for K-Modes).
    gamma_given : bool
        Whether `gamma` was given, rather than Huang's default.
    categorical : list of str
        The categorical feature columns, in order.
    mode_shares : pandas.DataFrame of shape (n_clusters, n_categorical)
        The share of each cluster's rows (0 to 1) whose category is the
        cluster's mode, per categorical column (of its rows where the column
        is observed; NaN when there is none).

    The other attributes are :class:`FitResult`'s: ``clusters`` holds, after
    each categorical column's mode, its share (a column ``"<name> share"``);
    ``centers`` the numeric means in original units and the modes;
    ``inertia`` is the K-Prototypes cost in the scaled space.
    """

    estimator: str = "KPrototypes"
    gamma: float = 1.0
    gamma_given: bool = False
    categorical: list[str] = field(default_factory=list)
    mode_shares: pd.DataFrame | None = None

    @property
    def space(self) -> str:
        """What `inertia` measures, in words."""
        if self.estimator == "KModes":
            return "the number of categories that differ from the cluster's modes"
        return (f"squared Euclidean distance in {SCALINGS[self.scale].split(' (')[0]} plus gamma = "
                f"{self.gamma:.4g} per category that differs from the cluster's mode")

    @property
    def gamma_note(self) -> str:
        """How gamma was chosen, in words."""
        if self.estimator == "KModes":
            return "1 per mismatched category (K-Modes: categorical columns only)"
        return f"{self.gamma:.4g} (" + ("--gamma" if self.gamma_given else GAMMA_DEFAULT) + ")"

    def to_dict(self) -> dict[str, Any]:
        """:meth:`FitResult.to_dict`, with each center's modes and their shares, the estimator and gamma."""
        numeric = [c for c in self.feature_names if c not in self.categorical]
        plain = copy.copy(self)
        plain.centers, plain.feature_names = self.centers[numeric], numeric
        payload = FitResult.to_dict(plain)
        payload.update(features=list(self.feature_names), n_features=self.n_features, estimator=self.estimator,
                       gamma=json_number(self.gamma), gamma_given=self.gamma_given,
                       categorical=list(self.categorical))
        for entry, (_, center), (_, shares) in zip(payload["clusters"], self.centers.iterrows(),
                                                   self.mode_shares.iterrows(), strict=True):
            entry["center"] = {name: (str(center[name]) if name in self.categorical else entry["center"][name])
                               for name in self.feature_names}
            entry["mode_shares"] = {name: json_number(shares[name]) for name in self.categorical}
        return payload


def fit_mixed_clusters(
    data: pd.DataFrame,
    n_clusters: int | Literal["auto"],
    *,
    categorical,
    scale: Literal["standard", "minmax", "none"] = "standard",
    gamma: float | None = None,
    n_init: int | Literal["auto"] = "auto",
    random_state: int | np.random.RandomState | None = None,
    max_iter: int = 300,
    tol: float = 1e-4,
    missing: Literal["error", "drop", "ignore"] = "error",
    stability: int | None = None,
) -> MixedFitResult:
    """Scale the numeric columns, cluster with K-Prototypes (or K-Modes) and summarise the clusters.

    Parameters
    ----------
    data : pandas.DataFrame of shape (n_samples, n_features)
        Numeric columns and the categorical columns named by `categorical`
        (categories as text, e.g. from ``ColumnRoles.features_frame``).
    n_clusters : int or "auto"
        Number of clusters, from 1 to the number of rows; "auto": the
        ``best_k`` of :func:`kmeanskit.select_k` over k = 2..10 (fewer on
        small tables) with the methods that apply to K-Prototypes (the elbow
        of its cost, the silhouette in its dissimilarity, prediction
        strength), whose fitted model is kept; its result is in
        ``selection``.
    categorical : sequence of str
        The categorical columns (at least one).
    scale : {"standard", "minmax", "none"}, default="standard"
        Scaling of the numeric columns before clustering.
    gamma : float or None, default=None
        Weight of a mismatched category (KPrototypes' ``gamma``); None:
        Huang's default on the scaled numeric columns. Only with numeric columns.
    n_init, random_state, max_iter, tol
        As in :class:`kmeanskit.KPrototypes`.
    missing : {"error", "drop", "ignore"}, default="error"
        Rows with a missing value (NaN in a numeric column, None or NaN in a
        categorical one): refused, left out, or clustered on their observed
        values (``KPrototypes(missing="ignore")``: a missing entry adds
        nothing to a row's cost; a row with nothing observed is refused).
    stability : int or None, default=None
        Resamples of each cluster's stability (:func:`kmeanskit.cluster_stability`,
        the whole pipeline refitted on each), in ``stability``; None for none.

    Returns
    -------
    MixedFitResult

    Raises
    ------
    ValueError
        If no column is categorical, `gamma` is given without numeric
        columns, `missing` is not allowed, or the estimator refuses the data.
    """
    n_incomplete = int(data.isna().any(axis=1).sum()) if missing != "error" else 0
    data, categorical, dropped = _mixed_table(data, categorical, missing, "clustered by fit_clusters")
    auto = isinstance(n_clusters, str) and n_clusters == "auto"
    if not auto:
        _check_n_clusters(n_clusters, len(data))
    numeric = [c for c in data.columns if c not in categorical]
    k = 8 if auto else n_clusters  # (with "auto", select_k sets it)
    pipeline = _mixed_pipeline(data, k, categorical, scale, gamma, n_init=n_init, random_state=random_state,
                               max_iter=max_iter, tol=tol, missing="ignore" if missing == "ignore" else "error")
    selection = None
    with compile_clock() as compiling:
        if auto:
            pipeline, fit_seconds, selection = _fit_best_k(pipeline, data, random_state)
        else:
            start = time.perf_counter()
            pipeline.fit(data)
            fit_seconds = time.perf_counter() - start
    fit_seconds -= compiling.seconds

    model = pipeline[-1]
    labels = np.asarray(model.labels_)
    centers = pd.DataFrame(model.cluster_centers_, columns=list(data.columns))
    if numeric:
        centers[numeric] = numeric_centers_in_original_units(pipeline, centers[numeric].to_numpy(dtype=np.float64))
    shares = _mode_shares(data[categorical], labels, centers[categorical])
    silhouette, note = _silhouette(pipeline, data, labels, random_state)
    result = fit_result(pipeline, labels, centers.to_numpy(dtype=object), list(data.columns), fit_seconds,
                        silhouette, note, scale=scale, random_state=random_state)
    result = MixedFitResult(**vars(result), estimator=type(model).__name__, gamma=float(model.gamma_),
                            gamma_given=gamma is not None, categorical=categorical, mode_shares=shares)
    for name in numeric:
        result.centers[name] = result.centers[name].astype(np.float64)
        result.clusters[name] = result.clusters[name].astype(np.float64)
    for name in reversed(categorical):
        at = result.clusters.columns.get_loc(name) + 1
        result.clusters.insert(at, f"{name} share", shares[name].to_numpy(), allow_duplicates=True)
    result.missing, result.dropped, result.n_incomplete = missing, dropped, n_incomplete
    result.selection = selection
    if stability is not None:
        from kmeanskit._analysis.stability import cluster_stability

        result.stability = cluster_stability(data, pipeline, n_boot=stability, random_state=random_state)
    return result


def _mixed_table(data: pd.DataFrame, categorical, missing, alone: str):
    """`data` with text column names and its `missing` policy applied, the categorical names as text, and
    the positions of the rows left out; refused when `categorical` names no column (a table of numbers
    alone is `alone`)."""
    categorical = [str(c) for c in categorical]
    if not categorical:
        raise ValueError(f"categorical names no column; a table of numbers alone is {alone}")
    data, dropped = _apply_missing_policy(data.set_axis([str(c) for c in data.columns], axis=1), missing)
    return data, categorical, dropped


def numeric_centers_in_original_units(model, means: np.ndarray) -> np.ndarray | None:
    """The centers of the numeric columns, `means` (n_clusters, n_numeric) in the space `model` clusters in,
    in their original units: through its NumericScaler, as they are without preprocessing; None when the
    preprocessing is anything else (the rule by which :func:`kmeanskit.explain_clusters` reads such models)."""
    steps = preprocessing_steps(model)
    if not steps:
        return means
    if len(steps) == 1 and isinstance(steps[0], NumericScaler):
        return steps[0].inverse_transform(means)
    return None


def _mixed_pipeline(data, n_clusters, categorical, scale, gamma, **settings) -> Pipeline:
    """The unfitted pipeline of a table with categorical columns: its numeric columns scaled (`scale`), then
    KPrototypes with `gamma` (KModes when every column is categorical; `gamma` refused then)."""
    if any(c not in categorical for c in data.columns):
        final = ("kprototypes", KPrototypes(n_clusters, categorical=tuple(categorical), gamma=gamma, **settings))
        steps = [] if scale == "none" else [("scale", NumericScaler(scale, categorical=tuple(categorical)))]
    elif gamma is not None:
        raise ValueError(f"gamma={gamma!r} weighs categories against numeric columns, and the table has none "
                         "(K-Modes counts mismatched categories)")
    else:
        final, steps = ("kmodes", KModes(n_clusters, **settings)), []
    return Pipeline([*steps, final])


def select_k_mixed(data: pd.DataFrame, ks, *, categorical, scale="standard", gamma=None, missing="error",
                   methods=None, random_state=None, sample_size="auto", progress=None):
    """Compare values of k on a table with categorical columns, as ``fit -k auto`` does: the library side
    of ``kmeanskit select-k`` on such tables.

    Each k fits the pipeline of :func:`fit_mixed_clusters` (numeric columns
    scaled, then K-Prototypes, or K-Modes on categories alone) and is scored
    in its own cost by :func:`kmeanskit.select_k` (``MIXED_METHODS``: the
    elbow of the cost, the silhouette in its dissimilarity, prediction
    strength; ``reason`` says why the others are left out).

    Parameters
    ----------
    data : pandas.DataFrame of shape (n_samples, n_features)
        Numeric columns and the categorical columns named by `categorical`.
    ks : iterable of int
        The numbers of clusters to compare.
    categorical : sequence of str
        The categorical columns (at least one).
    scale, gamma, missing
        As in :func:`fit_mixed_clusters` (``missing="ignore"``: rows with
        gaps are clustered on their observed values; the silhouette, which
        needs every value, is then NaN and the other methods decide).
    methods, random_state, sample_size, progress
        As in :func:`kmeanskit.select_k`.

    Returns
    -------
    selection : SelectKResult
    dropped : ndarray of int
        The positions of the rows left out (``missing="drop"``).
    """
    from kmeanskit._analysis.selection import select_k

    data, categorical, dropped = _mixed_table(data, categorical, missing, "compared by select_k")
    pipeline = _mixed_pipeline(data, 2, categorical, scale, gamma, missing="ignore" if missing == "ignore" else "error")
    selection = select_k(data, ks, estimator=pipeline, methods=methods, random_state=random_state,
                         sample_size=sample_size, progress=progress)
    return selection, dropped


def _silhouette(pipeline, data, labels, random_state):
    """The fit's mean silhouette under its own dissimilarity (or why there is none), and its note."""
    model = final_estimator(pipeline)
    scaled = to_final_space(pipeline, data)
    score, note = silhouette_or_reason(scaled, labels, sample_size=SILHOUETTE_SAMPLE_SIZE, random_state=random_state,
                                       categorical=model.categorical_, gamma=model.gamma_)
    if score is None:
        return None, note
    space = ("in mismatched categories (K-Modes' distance)" if isinstance(model, KModes)
             else "in K-Prototypes' dissimilarity: squared distance plus gamma per mismatched category")
    return score, space if note is None else f"{space}; {note}"


def _mode_shares(categories: pd.DataFrame, labels, modes: pd.DataFrame) -> pd.DataFrame:
    """The share of each cluster's rows whose category is the cluster's mode, per column (of the
    rows where the column is observed: a missing category is no vote for or against the mode)."""
    k = len(modes)
    out = {}
    for name in categories.columns:
        hits = categories[name].to_numpy(dtype=object) == modes[name].to_numpy(dtype=object)[labels]
        counts = np.bincount(labels, weights=hits.astype(np.float64), minlength=k)
        sizes = np.bincount(labels[categories[name].notna().to_numpy()], minlength=k)
        out[name] = np.divide(counts, sizes, out=np.full(k, np.nan), where=sizes > 0)
    return pd.DataFrame(out, index=pd.RangeIndex(k, name="cluster"))


def unseen_categories(model, features: pd.DataFrame) -> dict[str, int]:
    """How many values of each categorical column of `features` the model never saw at fit.

    Parameters
    ----------
    model : KPrototypes, KModes or Pipeline ending in one
    features : pandas.DataFrame of shape (n_samples, n_features)
        The model's feature columns (missing values are not counted).

    Returns
    -------
    dict
        Column name -> count, for every categorical column of the model.
    """
    final = final_estimator(model)
    names = [str(n) for n in getattr(final, "feature_names_in_", features.columns)]
    out = {}
    for j, levels in zip(final.categorical_.tolist(), final.categories_, strict=True):
        values = features.iloc[:, j]
        out[names[j]] = int((values.notna() & ~values.isin(list(levels))).sum())
    return out


#: Why Calinski-Harabasz and Davies-Bouldin are not computed for a model of categorical columns.
EUCLIDEAN_NOTE = ("not computed for categorical columns: both measure spread around means by Euclidean distance, "
                  "which categories have none of")


def mixed_metrics(model, frame: pd.DataFrame, labels_true=None, *, source: str = "the data", roles=None,
                  random_state=0) -> dict:
    """What ``kmeanskit evaluate`` shows for a KPrototypes/KModes model: the cost, the silhouette in the
    model's dissimilarity, and with known classes the agreement with them (Calinski-Harabasz and
    Davies-Bouldin, Euclidean, have no meaning for categories).

    Parameters
    ----------
    model : KPrototypes, KModes or Pipeline ending in one
    frame : pandas.DataFrame of shape (n_samples, n_columns)
        The table; its feature columns are read as
        :func:`~kmeanskit._analysis.workflow.predict_table` reads them (missing
        values as the model's ``missing`` policy says).
    labels_true : array-like of shape (n_samples,), optional
        Known classes.
    source : str, default="the data"
        How to name the table in error messages.
    roles : ColumnRoles, optional
        The roles of the training table's columns (stored in model files).
    random_state : int, default=0
        Seed of the silhouette's sample (above ``SILHOUETTE_SAMPLE_SIZE`` rows).

    Returns
    -------
    dict
        The keys of :func:`~kmeanskit._analysis.metrics.clustering_metrics`:
        ``inertia`` is the model's cost (the sum of the rows' costs to their
        centers), ``silhouette`` is in the model's dissimilarity (squared
        distance plus ``gamma_`` per mismatched category; None when rows have
        gaps, ``silhouette_note`` says why), ``calinski_harabasz`` and
        ``davies_bouldin`` are None (``euclidean_note`` says why); with
        `labels_true` also ``adjusted_rand``, ``normalized_mutual_info``,
        ``purity`` and ``contingency``.
    """
    from kmeanskit._analysis.monitoring.assignment import assign
    from kmeanskit._analysis.workflow import model_input, refuse_empty_rows

    final = final_estimator(model)
    features = model_input(model, frame, source=source, roles=roles, allow_missing=final.missing == "ignore")
    if final.missing == "ignore":
        refuse_empty_rows(features, source=source)
    labels, costs, _ = assign(model, features)
    return assigned_metrics(model, features, labels, costs, labels_true, random_state=random_state)


def assigned_metrics(model, features, labels, costs, labels_true=None, *, random_state=0) -> dict:
    """:func:`mixed_metrics` of rows already assigned: `features` as `model` takes them (a DataFrame or an
    array), `labels` and `costs` their clusters and costs to them (:func:`~kmeanskit._analysis.monitoring.
    assignment.assign`)."""
    from kmeanskit._analysis.metrics import external_metrics

    k = int(final_estimator(model).n_clusters)
    silhouette, note = _silhouette(model, features, labels, random_state)
    found = {
        "n_samples": len(labels),
        "n_clusters": k,
        "cluster_sizes": [int(n) for n in np.bincount(labels, minlength=k)],
        "inertia": float(np.sum(costs)),
        "silhouette": silhouette,
        "silhouette_note": note,
        "calinski_harabasz": None,
        "davies_bouldin": None,
        "euclidean_note": EUCLIDEAN_NOTE,
    }
    if labels_true is not None:
        found.update(external_metrics(labels_true, labels))
    return found
