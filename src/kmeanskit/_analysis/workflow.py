"""Scale, cluster and summarise a table: the library side of ``kmeanskit fit``
and ``kmeanskit predict``.

The command line (and later the report and the service) only parse and
present; everything that computes lives here, on top of scikit-learn's
scalers, pipeline and metrics and :class:`kmeanskit.KMeans`.
"""

from __future__ import annotations

import copy
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from kmeanskit._analysis.distance_summary import cluster_sizes
from kmeanskit._analysis.formatting import json_number
from kmeanskit._analysis.metrics import SILHOUETTE_SAMPLE_SIZE, check_euclidean, silhouette_or_reason
from kmeanskit._engine.compiling import compile_clock
from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.pipeline import (
    clusters_categories,
    final_estimator,
    fitted_final_estimator,
    to_final_space,
)

__all__ = [
    "MISSING_POLICIES",
    "PREDICTION_COLUMNS",
    "SCALINGS",
    "SMALL_FIT_SIZE",
    "FitResult",
    "fit_clusters",
    "is_small_fit",
    "prediction_summary",
    "predict_table",
    "refuse_empty_rows",
    "save_model",
]

#: Columns that :func:`predict_table` appends to the input table.
PREDICTION_COLUMNS = ("cluster", "distance")

#: ``kmeanskit fit`` spends more on data with n_samples * n_features * n_clusters up to this
#: (:func:`is_small_fit`): one K-Means run then takes a few hundredths of a second here
#: (benchmarks/README.md, "Stability and drift").
SMALL_FIT_SIZE = 250_000
#: What ``fit_clusters`` and ``predict_table`` do with rows that have missing values.
MISSING_POLICIES = {
    "error": "refused",
    "drop": "left out (no cluster)",
    "ignore": "clustered on their observed values (KMeans(missing='ignore'))",
}

#: Scaling choices and a description of the space each one clusters in.
SCALINGS = {
    "standard": "standardized units (each feature: mean 0, standard deviation 1)",
    "minmax": "min-max scaled units (each feature: range 0 to 1)",
    "none": "original units",
}


@dataclass
class FitResult:
    """What :func:`fit_clusters` found.

    Attributes
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted ``Pipeline([("scale", scaler), ("kmeans", KMeans)])``; the
        scaler step is ``"passthrough"`` when ``scale="none"``. Its
        ``predict`` assigns new rows (in original units) to clusters.
    labels : ndarray of shape (n_samples,)
        Cluster of each input row, in input order.
    clusters : pandas.DataFrame of shape (n_clusters, 3 + n_features)
        One row per cluster: ``cluster``, ``size`` (rows), ``share`` (fraction
        of rows, 0 to 1) and the center of each feature in original units.
    centers : pandas.DataFrame of shape (n_clusters, n_features)
        The centers alone, in original units, indexed by cluster.
    inertia : float
        Sum of squared distances of rows to their center, measured in the
        scaled space the clustering ran in (see `scale`), not original units.
    n_iter : int
        Iterations of the best run.
    silhouette : float or None
        Mean silhouette coefficient in the scaled space, or None when it is
        undefined (see `silhouette_note`).
    silhouette_note : str or None
        Why `silhouette` is None, or how it was estimated on a sample.
    fit_seconds : float
        Wall time of fitting the pipeline (scaling and K-Means), without the
        time spent compiling kernels the first time they run on a machine.
    n_clusters, scale, random_state
        The settings used.
    feature_names : list of str
        Feature columns, in order.
    stability : StabilityResult or None
        Each cluster's stability under resampling (:func:`kmeanskit.cluster_stability`),
        when asked for.
    selection : SelectKResult or None
        With ``n_clusters="auto"``: the :func:`kmeanskit.select_k` result that
        chose k (its ``best_k`` and ``reason``); None otherwise.
    missing : str
        The policy for rows with missing values (a key of :data:`MISSING_POLICIES`).
    dropped : ndarray of int
        Positions in the input of the rows left out (``missing="drop"``);
        `labels` and the counts are those of the other rows.
    n_incomplete : int
        Rows of the input with a missing value (dropped, or clustered on
        their observed values).
    """

    pipeline: Pipeline
    labels: np.ndarray
    clusters: pd.DataFrame
    centers: pd.DataFrame
    inertia: float
    n_iter: int
    silhouette: float | None
    silhouette_note: str | None
    fit_seconds: float
    n_clusters: int
    scale: str
    random_state: Any
    feature_names: list[str] = field(default_factory=list)
    stability: Any = None
    selection: Any = field(default=None, repr=False)
    missing: str = "error"
    dropped: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    n_incomplete: int = 0

    @property
    def n_samples(self) -> int:
        """Number of rows clustered."""
        return len(self.labels)

    def input_labels(self) -> pd.Series:
        """The cluster of every input row, in input order (nullable Int64: <NA> for a dropped row)."""
        labels = pd.Series(pd.array(np.full(self.n_samples + len(self.dropped), pd.NA), dtype="Int64"))
        kept = np.ones(len(labels), dtype=bool)
        kept[self.dropped] = False
        labels[kept] = self.labels
        return labels

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return len(self.feature_names)

    @property
    def space(self) -> str:
        """The space `inertia` and `silhouette` are measured in, in words."""
        return SCALINGS[self.scale]

    def to_dict(self) -> dict[str, Any]:
        """Return the results as plain Python types, ready for :func:`json.dumps`.

        Labels are left out (they have one entry per row); undefined numbers
        are ``None``.

        Returns
        -------
        dict
            Settings, summary numbers and a ``clusters`` list whose entries
            hold ``cluster``, ``size``, ``share`` and ``center`` (a mapping
            from feature name to value in original units).
        """
        clusters = []
        # Positional access: a feature may itself be called "size" or "share".
        meta = self.clusters.iloc[:, :3].to_numpy(dtype=float)
        for (cluster, size, share), center in zip(meta, self.centers.to_numpy(), strict=True):
            clusters.append(
                {
                    "cluster": int(cluster),
                    "size": int(size),
                    "share": json_number(share),
                    "center": {
                        k: json_number(v) for k, v in zip(self.feature_names, center, strict=True)
                    },
                }
            )
        stability = None
        if self.stability is not None:
            stability = self.stability.to_dict()
            for entry, found in zip(clusters, stability.pop("clusters"), strict=True):
                entry["stability"] = found["mean_jaccard"]
                entry["stability_reading"] = found["reading"]
        return {
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "features": list(self.feature_names),
            "n_clusters": int(self.n_clusters),
            "scale": self.scale,
            # A RandomState instance has no JSON form; only a seed is reported.
            "random_state": (
                int(self.random_state) if isinstance(self.random_state, numbers.Integral) else None
            ),
            "inertia": json_number(self.inertia),
            "inertia_space": self.space,
            "n_iter": int(self.n_iter),
            "silhouette": json_number(self.silhouette),
            "silhouette_note": self.silhouette_note,
            "fit_seconds": json_number(self.fit_seconds),
            "stability": stability,
            "missing": self.missing,
            "n_dropped": len(self.dropped),
            "n_incomplete": int(self.n_incomplete),
            "clusters": clusters,
            **({} if self.selection is None else {"k_selection": {
                "best_k": self.selection.best_k,
                "reason": self.selection.reason,
                "recommended": {m: None if k is None else int(k) for m, k in self.selection.recommended.items()},
            }}),
        }


def fit_clusters(
    data: pd.DataFrame,
    n_clusters: int | Literal["auto"],
    *,
    scale: Literal["standard", "minmax", "none"] = "standard",
    n_init: int | Literal["auto"] = "auto",
    random_state: int | np.random.RandomState | None = None,
    max_iter: int = 300,
    tol: float = 1e-4,
    algorithm: str = "auto",
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    stability: int | None = None,
    missing: Literal["error", "drop", "ignore"] = "error",
) -> FitResult:
    """Scale the features, run K-Means and summarise the clusters.

    Parameters
    ----------
    data : pandas.DataFrame of shape (n_samples, n_features)
        Numeric features, e.g. from :func:`kmeanskit._io.tables.read_table`. An array
        is accepted too; its columns are then named ``x0``, ``x1``, ...
    n_clusters : int or "auto"
        Number of clusters, from 1 to n_samples; "auto": the ``best_k`` of
        :func:`kmeanskit.select_k` over k = 2..10 (fewer on small tables) on
        the scaled features, whose fitted model is kept (no refit) and whose
        result is in ``FitResult.selection``.
    scale : {"standard", "minmax", "none"}, default="standard"
        Scaling applied before clustering: :class:`~sklearn.preprocessing.StandardScaler`,
        :class:`~sklearn.preprocessing.MinMaxScaler`, or none. Without scaling,
        features with large numbers dominate the distances.
    n_init : int or "auto", default="auto"
        Runs from different starting centers; the best is kept.
    random_state : int, RandomState instance or None, default=None
        Seed for the starting centers and the silhouette sample.
    max_iter : int, default=300
        Iteration limit of each run.
    tol : float, default=1e-4
        Convergence tolerance, as in :class:`kmeanskit.KMeans`.
    algorithm : str, default="auto"
        K-Means algorithm, as in :class:`kmeanskit.KMeans`.
    silhouette_sample_size : int or None, default=10000
        Above this many rows the silhouette (its cost is quadratic in the
        rows) is estimated on a random sample of this size; None uses every
        row.
    missing : {"error", "drop", "ignore"}, default="error"
        Rows with missing values (NaN): refused by the estimator, left out
        (``FitResult.dropped``), or clustered on their observed values
        (``KMeans(missing="ignore")``; the silhouette is then not computed).

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        If `scale`, `n_clusters` or `silhouette_sample_size` is not allowed,
        or the estimator refuses a parameter or the data.
    TypeError
        If `n_clusters` is not an integer.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from kmeanskit._analysis.workflow import fit_clusters
    >>> result = fit_clusters(load_iris(as_frame=True).data, 3, random_state=0)
    >>> int(result.clusters["size"].sum())
    150
    """
    if scale not in SCALINGS:
        raise ValueError(f"scale must be one of {', '.join(map(repr, SCALINGS))}; got {scale!r}")
    if not isinstance(data, pd.DataFrame):
        data = np.asarray(data)
        if data.ndim != 2:
            raise ValueError(f"data must be 2-dimensional, got an array of shape {data.shape}")
        data = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
    # scikit-learn records string feature names only (and refuses mixed ones).
    data = data.set_axis([str(c) for c in data.columns], axis=1)
    n_incomplete = int(data.isna().any(axis=1).sum()) if missing != "error" else 0
    data, dropped = _apply_missing_policy(data, missing)
    if not (isinstance(n_clusters, str) and n_clusters == "auto"):
        _check_n_clusters(n_clusters, len(data))  # the rows left to cluster
    if silhouette_sample_size is not None and silhouette_sample_size < 2:
        raise ValueError(
            f"silhouette_sample_size must be None or at least 2, got {silhouette_sample_size!r}"
        )

    kmeans = KMeans(
        n_clusters=8 if n_clusters == "auto" else n_clusters,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
        algorithm=algorithm,
        missing="ignore" if missing == "ignore" else "error",
    )
    pipeline = Pipeline([("scale", make_scaler(scale)), ("kmeans", kmeans)])
    selection = None
    with compile_clock() as compiling:
        if n_clusters == "auto":
            pipeline, fit_seconds, selection = _fit_best_k(pipeline, data, random_state)
        else:
            start = time.perf_counter()
            pipeline.fit(data)
            fit_seconds = time.perf_counter() - start
    fit_seconds -= compiling.seconds  # a first run compiles kernels: not the fit's time

    kmeans = pipeline.named_steps["kmeans"]
    scaler = pipeline.named_steps["scale"]
    labels = np.asarray(kmeans.labels_)
    passthrough = isinstance(scaler, str)
    scaled = data.to_numpy() if passthrough else scaler.transform(data)
    # Means of scaled rows map back to means of original rows: scalers are affine.
    centers_scaled = np.asarray(kmeans.cluster_centers_)
    centers_original = centers_scaled if passthrough else scaler.inverse_transform(centers_scaled)

    if missing == "ignore" and np.isnan(scaled).any():
        silhouette, note = None, "not computed: rows with missing values have no full distances"
    else:
        silhouette, note = silhouette_or_reason(scaled, labels, sample_size=silhouette_sample_size,
                                                random_state=random_state)
    result = fit_result(
        pipeline, labels, centers_original, list(data.columns), fit_seconds, silhouette, note,
        scale=scale, random_state=random_state,
    )
    if stability is not None:
        from kmeanskit._analysis.stability import cluster_stability

        result.stability = cluster_stability(data, pipeline, n_boot=stability, random_state=random_state)
    result.selection = selection
    result.missing, result.dropped, result.n_incomplete = missing, dropped, n_incomplete
    return result


def is_small_fit(n_samples: int, n_features: int, n_clusters: int) -> bool:
    """Whether one K-Means run on this shape is quick (``n * d * k <= SMALL_FIT_SIZE``).

    ``kmeanskit fit`` then keeps the best of 10 starts and measures each
    cluster's stability by default; the library keeps scikit-learn's ``n_init``.
    """
    return n_samples * n_features * n_clusters <= SMALL_FIT_SIZE


#: The ks that ``n_clusters="auto"`` compares (capped below the number of rows).
AUTO_KS = range(2, 11)


def _fit_best_k(pipeline, data, random_state):
    """Choose k with select_k on the scaled data; the pipeline of best_k (its model, not a refit).

    `pipeline`: preprocessing steps (a scaler, ``"passthrough"``, or none) and the clusterer to choose k for
    (KMeans; KPrototypes or KModes, scored in their own cost).
    """
    from kmeanskit._analysis.selection import select_k

    if len(data) < 3:
        raise ValueError(f"n_clusters='auto' needs at least 3 rows to compare values of k; got {len(data)}")
    start = time.perf_counter()
    *steps, (name, clusterer) = pipeline.steps
    steps = [(step_name, step if isinstance(step, str) else clone(step)) for step_name, step in steps]
    # The clusterer sees what it would see inside the pipeline: a passthrough keeps the frame (and its names).
    scaled = data
    for _, step in steps:
        scaled = scaled if isinstance(step, str) else step.fit_transform(scaled)
    ks = [k for k in AUTO_KS if k < len(data)]
    selection = select_k(scaled, ks, estimator=clusterer, random_state=random_state, progress=False)
    fitted = int(selection.table["inertia"].notna().sum())  # select_k leaves out ks above the distinct rows
    if fitted < min(2, len(selection.table)):  # then 2, 3, ... up to their number: fitted + 1 distinct rows
        raise ValueError(f"n_clusters='auto' needs at least 3 distinct rows to compare values of k; got "
                         f"{fitted + 1}")
    fitted = Pipeline([*steps, (name, selection.models[selection.best_k])])
    fit_seconds = time.perf_counter() - start  # choosing k is part of fitting here
    return fitted, fit_seconds, selection


def _apply_missing_policy(data: pd.DataFrame, missing: str):
    """``(data, dropped)``: the rows to cluster, and the positions of those left out (``missing="drop"``)."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(map(repr, MISSING_POLICIES))}; got {missing!r}")
    dropped = np.empty(0, dtype=np.int64)
    if missing == "drop":
        gaps = data.isna().any(axis=1).to_numpy()
        if gaps.all():
            raise ValueError(f"every one of the {len(data)} rows has a missing value: dropping them leaves none")
        if gaps.any():
            dropped = np.flatnonzero(gaps)
            data = data[~gaps].reset_index(drop=True)
    return data, dropped


def fit_result(pipeline, labels, centers_original, feature_names, fit_seconds, silhouette, note, *,
                scale, random_state):
    """The :class:`FitResult` of a fitted ``Pipeline([("scale", ...), ("kmeans", ...)])``
    (in memory, or streamed by :mod:`kmeanskit.streaming`; or ending in KPrototypes or KModes)."""
    kmeans = final_estimator(pipeline)
    n_clusters = kmeans.n_clusters
    index = pd.RangeIndex(n_clusters, name="cluster")
    centers = pd.DataFrame(centers_original, index=index, columns=feature_names)
    sizes = cluster_sizes(labels, n_clusters)
    clusters = pd.concat(
        [
            pd.DataFrame({"cluster": index, "size": sizes, "share": sizes / len(labels)}),
            centers.reset_index(drop=True),
        ],
        axis=1,
    )
    return FitResult(
        pipeline=pipeline,
        labels=labels,
        clusters=clusters,
        centers=centers,
        inertia=float(kmeans.inertia_),
        n_iter=int(kmeans.n_iter_),
        silhouette=silhouette,
        silhouette_note=note,
        fit_seconds=fit_seconds,
        n_clusters=n_clusters,
        scale=scale,
        random_state=random_state,
        feature_names=list(feature_names),
    )


def _check_n_clusters(n_clusters: Any, n_samples: int) -> None:
    # The estimator checks this too; saying it in terms of rows is clearer.
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)):
        raise TypeError(
            f"the number of clusters (k, n_clusters) must be an integer, got {n_clusters!r}"
        )
    if n_clusters < 1:
        raise ValueError(
            f"the number of clusters (k, n_clusters) must be at least 1, got {n_clusters}"
        )
    if n_clusters > n_samples:
        raise ValueError(
            f"the number of clusters (k, n_clusters) is {n_clusters}, more than the "
            f"number of rows ({n_samples}): every cluster needs at least one row"
        )


def make_scaler(scale: str):
    """The unfitted scaler of `scale` (a key of :data:`SCALINGS`); ``"passthrough"`` for ``"none"``."""
    if scale == "standard":
        return StandardScaler()
    if scale == "minmax":
        return MinMaxScaler()
    return "passthrough"


def save_model(result: FitResult, path, data: pd.DataFrame, *, key=None, roles=None) -> None:
    """Save the fitted pipeline of :func:`fit_clusters` to a ``.kmk`` model file.

    The ``"passthrough"`` scaler of ``scale="none"`` is left out (the model file
    stores real preprocessing steps only), which changes nothing in predictions.

    Parameters
    ----------
    result : FitResult
        What :func:`fit_clusters` returned.
    path : str or os.PathLike
        Destination, replaced atomically.
    data : pandas.DataFrame of shape (n_samples, n_features)
        The training data given to :func:`fit_clusters`; the per-cluster
        quantiles of the training distances are stored from it.
    key : bytes, str or None, default=None
        Sign the file with this secret (see :func:`kmeanskit.save`).
    roles : ColumnRoles, optional
        The role of every column of the training table
        (:func:`kmeanskit._io.roles.assign_roles`), stored so that new tables
        are read for the model the same way (:func:`predict_table`).
    """
    from kmeanskit._io.persistence import write_model

    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(np.asarray(data), columns=result.feature_names)
    data = data.set_axis([str(c) for c in data.columns], axis=1)
    if len(result.dropped):
        data = data.drop(index=data.index[result.dropped])
    steps = [(name, step) for name, step in result.pipeline.steps if not isinstance(step, str)]
    write_model(Pipeline(steps), path, X=data, key=key, table=None if roles is None else roles.to_dict())


def predict_table(
    model, frame: pd.DataFrame, *, source: str = "the data", roles=None, missing: str | None = None,
    first_line: int | None = None, markers=None,
) -> pd.DataFrame:
    """Assign each row of a table to a cluster of a fitted model.

    Parameters
    ----------
    model : KMeans or sklearn.pipeline.Pipeline
        A fitted :class:`kmeanskit.KMeans` (or another kmeanskit estimator:
        KPrototypes and KModes take categories), or a pipeline of
        transformers ending in one, e.g. from :func:`kmeanskit.load`.
    frame : pandas.DataFrame of shape (n_samples, n_columns)
        The rows to assign. When the model records feature names, those
        columns are taken by name (other columns may be present and are kept);
        otherwise every column is a feature and there must be exactly
        ``n_features_in_`` of them. Feature columns follow the rules of
        :func:`kmeanskit._io.tables.select_features` (numeric, no missing values).
    source : str, default="the data"
        How to name the table in error messages, e.g. a quoted file name.
    roles : ColumnRoles, optional
        The roles of the training table's columns (stored in model files
        saved by ``kmeanskit fit``): its feature columns are read from `frame`
        as they were for training (amounts parsed, dates as days).
    missing : {"error", "drop", "ignore"} or None, default=None
        Rows with a missing feature value: refused, left without a cluster
        (``cluster`` <NA>, ``distance`` NaN), or assigned by their observed
        values (partial distances, as ``KMeans(missing="ignore")``). None: the
        model's own policy (its ``missing`` parameter; "error" if it has none).
    first_line : int, optional
        The line of the file holding the first row (one line per row), so
        that messages about a bad value name its line.
    markers : MissingMarkers, optional
        The cells of `frame` read as missing for their text
        (``read_raw_table(return_markers=True)``), named when missing values
        are refused. They stay missing in the result
        (:meth:`MissingMarkers.restore` puts their text back).

    Returns
    -------
    pandas.DataFrame of shape (n_samples, n_columns + 2)
        A copy of `frame`, every row and column in order, with two columns
        appended: ``cluster`` (int64, the label; nullable Int64 when rows were
        dropped) and ``distance`` (float64, the Euclidean distance of the row
        to its cluster center in the space the model clusters in, i.e. after
        its preprocessing steps; for KPrototypes and KModes, the cost of
        the row to its center). For KPrototypes and KModes, ``attrs
        ["unseen_categories"]`` counts, per categorical column, the values
        never seen at fit (they match no center's mode: each adds ``gamma_``
        to every distance).

    Raises
    ------
    ValueError
        If `frame` already has a ``cluster`` or ``distance`` column, lacks a
        feature column of the model, has the wrong number of columns (model
        without feature names), or a feature column is not usable.
    """
    present = [c for c in PREDICTION_COLUMNS if c in frame.columns]
    if present:
        names = " and ".join(f"'{c}'" for c in present)
        raise ValueError(
            f"{source} already has {'a column' if len(present) == 1 else 'columns'} {names}, "
            "which predict would add; rename or drop "
            f"{'it' if len(present) == 1 else 'them'} first"
        )
    kmeans = final_estimator(model)
    if missing is None:
        missing = getattr(kmeans, "missing", "error")
    elif missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(map(repr, MISSING_POLICIES))}; got {missing!r}")
    features = model_input(model, frame, source=source, roles=roles, allow_missing=missing != "error",
                           first_line=first_line, markers=markers)
    mixed = clusters_categories(kmeans)
    kept = slice(None)
    if missing == "drop":
        kept = ~pd.DataFrame(features).isna().any(axis=1).to_numpy()
        features = features[kept] if isinstance(features, np.ndarray) else features[kept].reset_index(drop=True)
    elif missing == "ignore":
        if getattr(kmeans, "missing", None) != "ignore":
            if "missing" not in kmeans.get_params(deep=False):
                raise ValueError(
                    f"a {type(kmeans).__name__} model cannot assign rows with missing values by their observed "
                    "values (KMeans, KPrototypes and KModes can); leave those rows out (missing='drop') or "
                    "impute them"
                )
            kmeans = copy.copy(kmeans)  # the same fitted centers, partial distances for rows with gaps
            kmeans.missing = "ignore"
        refuse_empty_rows(features, source=source, first_line=first_line)
    unseen = None
    if mixed:
        from kmeanskit._analysis.mixed_workflow import unseen_categories

        unseen = unseen_categories(model, features)
    if len(features):
        from kmeanskit._analysis.monitoring.assignment import assign

        labels, distances, _ = assign(model, features, final=kmeans)
    else:
        labels, distances = np.empty(0, dtype=np.int64), np.empty(0)
    out = frame.reset_index(drop=True).copy()
    if missing == "drop":
        out["cluster"] = pd.array(np.full(len(out), pd.NA), dtype="Int64")
        out["distance"] = np.nan
        out.loc[kept, "cluster"] = labels
        out.loc[kept, "distance"] = distances
    else:
        out["cluster"] = labels
        out["distance"] = distances
    if unseen is not None:
        out.attrs["unseen_categories"] = unseen
    return out


def refuse_empty_rows(features, *, source: str = "the data", first_line: int | None = None) -> None:
    """Refuse rows with no observed value (``missing="ignore"`` assigns a row by its observed values).

    Parameters
    ----------
    features : pandas.DataFrame or ndarray of shape (n_samples, n_features)
        The feature columns (NaN or None: missing).
    source : str, default="the data"
        How to name the table in the message.
    first_line : int, optional
        The line of the file holding the first row (one line per row).

    Raises
    ------
    ValueError
        Naming the first such row (and its line) and their count.
    """
    empty = np.flatnonzero(pd.DataFrame(features).isna().all(axis=1).to_numpy())
    if empty.size:
        row = int(empty[0])
        where = f"row {row + 1}" + ("" if first_line is None else f" (line {first_line + row})")
        raise ValueError(
            f"{source} has {empty.size} row{'s' if empty.size > 1 else ''} with every feature missing, the first "
            f"in {where}: a row is assigned by its observed values and needs at least one; leave such rows out "
            "(missing='drop'; --missing drop)"
        )


def model_input(model, frame: pd.DataFrame, *, source: str = "the data", roles=None, allow_missing: bool = False,
                first_line: int | None = None, markers=None):
    """The feature columns of a raw table, as `model` takes them.

    When the model records feature names, those columns are taken by name
    (others are ignored) and a DataFrame is returned, so that scikit-learn
    checks them against the model's; otherwise every column is a feature,
    their number must match the model, and an array is returned. Feature
    columns follow the rules of :func:`kmeanskit._io.tables.select_features`;
    with the `roles` of the training table (a model file's ``table``), they
    are read as for the fit (text amounts parsed, dates as days). Missing
    values are kept as NaN when `allow_missing`; else refused, naming the
    `markers` (``MissingMarkers``) read as missing.
    """
    from kmeanskit._io.tables import select_features

    if roles is not None:
        return roles.features_frame(frame, source=source, allow_missing=allow_missing, first_line=first_line,
                                    markers=markers)

    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in frame.columns]
        if missing:
            noun = "column" if len(missing) == 1 else "columns"
            raise ValueError(
                f"{source} lacks the feature {noun} {', '.join(map(repr, missing))} "
                f"that the model was trained on (it needs: {', '.join(map(repr, names))})"
            )
        if clusters_categories(model):  # categories: the columns as they are
            return frame[names].reset_index(drop=True)
        return select_features(frame, names, source=source, allow_missing=allow_missing, markers=markers)
    features = select_features(frame, None, source=source, allow_missing=allow_missing, markers=markers)
    n_expected = int(model.n_features_in_)
    if features.shape[1] != n_expected:
        raise ValueError(
            f"{source} has {features.shape[1]} columns but the model, which records no "
            f"feature names, expects exactly {n_expected} numeric columns"
        )
    return features.to_numpy()


def table_in_model_space(model, frame: pd.DataFrame, *, source: str = "the data"):
    """A model's feature columns of a raw table, in the space it clusters in (``kmeanskit evaluate``).

    Parameters
    ----------
    model : KMeans or sklearn.pipeline.Pipeline
        A fitted K-Means estimator that clusters by Euclidean distance, or a
        pipeline of transformers ending in one.
    frame : pandas.DataFrame
        The table; columns are picked as :func:`model_input` does.
    source : str, default="the data"
        How to name the table in error messages.

    Returns
    -------
    Xt : ndarray of shape (n_samples, n_features)
        The rows after the pipeline's transformers.
    labels : ndarray of shape (n_samples,)
        The cluster of each row.
    kmeans : estimator
        The model's final estimator.
    """
    kmeans = fitted_final_estimator(model, purpose="evaluating it")
    check_euclidean(kmeans)
    Xt = np.asarray(to_final_space(model, model_input(model, frame, source=source)), dtype=np.float64)
    return Xt, np.asarray(kmeans.predict(Xt)), kmeans


def prediction_summary(model, predicted: pd.DataFrame) -> dict[str, Any]:
    """Summarise the output of :func:`predict_table` as plain Python types.

    Parameters
    ----------
    model : KMeans or sklearn.pipeline.Pipeline
        The model given to :func:`predict_table`.
    predicted : pandas.DataFrame
        What :func:`predict_table` returned.

    Returns
    -------
    dict
        ``n_rows``, ``cluster_sizes`` (rows per cluster, a list indexed by
        cluster, zeros included) and ``mean_distance`` (None without rows).
    """
    assigned = predicted["cluster"].notna().to_numpy()
    labels = predicted["cluster"].to_numpy()[assigned].astype(np.int64)
    distances = predicted["distance"].to_numpy()[assigned]
    kmeans = final_estimator(model)
    sizes = np.bincount(labels, minlength=int(kmeans.n_clusters))
    summary = {
        "n_rows": len(predicted),
        "cluster_sizes": [int(n) for n in sizes],
        "mean_distance": json_number(distances.mean()) if len(distances) else None,
    }
    if not assigned.all():
        summary["n_without_cluster"] = int((~assigned).sum())
    if "unseen_categories" in predicted.attrs:
        summary["unseen_categories"] = dict(predicted.attrs["unseen_categories"])
    return summary
