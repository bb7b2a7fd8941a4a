"""What sets each cluster of a KPrototypes or KModes model apart: levels, numbers and rules on both.

A categorical column enters the differences and the tree as one 0/1 indicator
per level ("store = north"): the cluster's share of the level against the
other rows' is the difference of the indicator's means (Welch's t on a 0/1
indicator is the unpooled two-proportion test), and a cut of the tree on an
indicator (``<= 0``: another level) reads as ``store = north``, or with several
cuts on one column as ``store in {east, north}``. Per cluster and column, the
differences keep the level the cluster holds most above the other rows.
Costs (the tree's, the model's) are the model's own: squared Euclidean distance
on the scaled numeric columns plus ``gamma_`` per mismatched category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kmeanskit._analysis.columns import table_columns
from kmeanskit._analysis.profiles import feature_names_of
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit._estimators.pipeline import preprocessing_steps, to_final_space

__all__ = ["MixedParts", "mixed_parts", "keep_top_levels", "mixed_cost"]


@dataclass
class MixedParts:
    """A table seen by a KPrototypes/KModes model, for its explanation (arrays of n rows)."""

    values: np.ndarray         # (n, p + L): numeric columns in original units, then one indicator per level
    names: list                # their names: the numeric columns', then "column = level"
    indicators: dict           # position in `values` -> (column, level), for the indicators
    levels: dict               # column -> its levels (the model's, then those new in X), in order
    categorical: list          # the categorical columns, in table order
    labels: np.ndarray         # the model's cluster of each row
    rule_centers: np.ndarray   # (k, p + L): numeric centers in original units, each mode's indicators
    costs: np.ndarray          # (n, k): the model's cost of each row to each center
    scaled: np.ndarray         # (n, p): the numeric columns as the model clusters them
    codes: np.ndarray          # (n, q): each row's level, as a position in `levels` of its column
    gamma: float
    n_features: int            # the table's columns
    feature_names: list        # the table's columns' names, in order


def mixed_parts(model, final, X, feature_names=None) -> MixedParts:
    """Read `X` as `model` takes it (its feature columns, by name when it has them); `feature_names`, when
    given, name those columns in the parts (as :func:`~kmeanskit._analysis.profiles.feature_names_of` checks)."""
    names = [str(n) for n in getattr(final, "feature_names_in_", [])] or None
    if names is not None and isinstance(X, pd.DataFrame):
        frame = X.set_axis([str(c) for c in X.columns], axis=1)
        absent = [n for n in names if n not in frame.columns]
        if absent:
            raise ValueError(f"X lacks the feature columns {absent} that the model was fitted on")
        X = frame[names]
    steps = preprocessing_steps(model)
    if any(not isinstance(step, NumericScaler) for step in steps):
        kinds = ", ".join(type(step).__name__ for step in steps)
        raise ValueError(f"explain_clusters explains a KPrototypes or KModes model whose numeric columns are "
                         f"scaled by NumericScaler, or not at all; this one has {kinds}")
    table = X
    if feature_names is not None:
        names = feature_names_of(X, feature_names, X.shape[1])
        if isinstance(X, pd.DataFrame):
            table = X.set_axis(names, axis=1)
    columns, reason = table_columns(table, names=names, categorical=final.categorical_)
    if columns is None:
        raise ValueError(f"X cannot be read as the model's table: {reason}")
    n = X.shape[0]
    numeric = np.column_stack([columns.column(j) for j in columns.numeric()]) if columns.numeric() else np.empty((n, 0))
    if not np.isfinite(numeric).all():
        raise ValueError("X contains NaN or infinite values in its numeric columns; every value must be finite.")
    categorical = [columns.names[j] for j in columns.categories()]
    values, value_names, indicators, levels = [numeric], list(columns.numeric_names), {}, {}
    codes = np.empty((n, len(categorical)), dtype=np.int64)
    for c, (j, fitted) in enumerate(zip(columns.categories(), final.categories_, strict=True)):
        entries = columns.column(j)
        if any(v is None for v in entries):
            raise ValueError(f"X contains missing values in its categorical column {columns.names[j]!r}; every "
                             "value must be present.")
        known = [str(v) for v in fitted]
        found = known + sorted(set(entries.tolist()) - set(known))
        levels[columns.names[j]] = found
        codes[:, c] = pd.Index(found).get_indexer(entries)
        for position, level in enumerate(found):
            indicators[len(value_names)] = (columns.names[j], level)
            value_names.append(f"{columns.names[j]} = {level}")
            values.append((codes[:, c] == position).astype(np.float64)[:, None])
    Xt = to_final_space(model, X)  # the pipeline run once: the final step's predict and transform on it
    labels = np.asarray(final.predict(Xt), dtype=np.int64)
    costs = np.asarray(final.transform(Xt), dtype=np.float64)
    centers = final.cluster_centers_
    numeric_positions = np.setdiff1d(np.arange(centers.shape[1]), final.categorical_)
    means = np.asarray(centers[:, numeric_positions], dtype=np.float64)
    original_means = steps[0].inverse_transform(means) if steps and means.shape[1] else means
    modes = []
    for c, column in enumerate(categorical):
        mode = np.asarray([str(v) for v in centers[:, final.categorical_[c]]], dtype=object)
        modes.append(np.column_stack([(mode == level).astype(np.float64) for level in levels[column]]))
    scaled_frame = pd.DataFrame(Xt)
    scaled = scaled_frame.iloc[:, numeric_positions].to_numpy(dtype=np.float64)
    return MixedParts(values=np.hstack(values), names=value_names, indicators=indicators, levels=levels,
                      categorical=categorical, labels=labels, rule_centers=np.hstack([original_means, *modes]),
                      costs=costs, scaled=scaled, codes=codes, gamma=float(final.gamma_), n_features=X.shape[1],
                      feature_names=list(columns.names))


def mixed_cost(parts: MixedParts, labels, k) -> float:
    """The model's cost of a partition, each part around its own prototype (means and modes)."""
    cost = 0.0
    for cluster in range(k):
        rows = labels == cluster
        if not rows.any():
            continue
        part = parts.scaled[rows]
        cost += float(np.sum((part - part.mean(axis=0)) ** 2))
        for c in range(parts.codes.shape[1]):
            counts = np.bincount(parts.codes[rows, c])
            cost += parts.gamma * float(rows.sum() - counts.max())
    return cost


def keep_top_levels(differences: pd.DataFrame, parts: MixedParts) -> pd.DataFrame:
    """Per cluster and categorical column, the row of the level the cluster holds most above the other rows;
    the feature named by its column, the level in a column ``level``; strongest first within each cluster."""
    column_of = {f"{column} = {level}": (column, level) for column, level in parts.indicators.values()}
    frames = []
    for cluster, part in differences.groupby(level="cluster", sort=True):
        part = part.droplevel("cluster")
        rows, level = [], []
        numeric = [name for name in part.index if name not in column_of]
        rows.extend(part.loc[numeric].itertuples())
        level.extend([None] * len(numeric))
        for column in parts.categorical:
            own = part.loc[[name for name in part.index if column_of.get(name, (None,))[0] == column]]
            strength = own["difference_sd"].fillna(-np.inf).to_numpy()
            best = own.iloc[[int(np.argmax(strength))]]
            rows.extend(best.itertuples())
            level.append(column_of[best.index[0]][1])
        frame = pd.DataFrame(rows).set_index("Index")
        frame.index = [column_of[name][0] if name in column_of else name for name in frame.index]
        frame["level"] = level
        strength = np.nan_to_num(np.abs(frame["difference_sd"].to_numpy()), nan=-1.0)
        frame = frame.iloc[np.argsort(-strength, kind="stable")]
        frame.index = pd.MultiIndex.from_arrays([[cluster] * len(frame), frame.index], names=["cluster", "feature"])
        frames.append(frame)
    return pd.concat(frames)
