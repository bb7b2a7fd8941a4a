"""What each cluster means: :func:`explain_clusters` and its result, :class:`ClusterExplanation`."""

from __future__ import annotations

import html
import numbers
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.validation import check_array

from kmeanskit._analysis.explain.differences import cluster_differences, describe_clusters
from kmeanskit._analysis.explain.tree import ThresholdTree, threshold_tree
from kmeanskit._analysis.formatting import json_value
from kmeanskit._analysis.metrics import OTHER_GEOMETRY
from kmeanskit._analysis.profiles import centers_in_original_units, feature_names_of, in_original_units
from kmeanskit._estimators.pipeline import (
    clusters_categories,
    fitted_final_estimator,
    preprocessing_steps,
    to_final_space,
)

__all__ = ["ClusterExplanation", "explain_clusters"]

# Transformers that map each feature on its own by a non-decreasing function: a
# cut on the transformed feature is a cut on the original one.
_MONOTONE_PER_FEATURE = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, QuantileTransformer,
                         PowerTransformer)

# Width of the notes in the text summary.
_WIDTH = 100

SD_NOTE = ("difference: the cluster's mean minus the mean of all other rows; sd: that difference over the "
           "feature's standard deviation across all rows (ddof=1); p: Welch's two-sided t-test of the two means")
TEST_NOTE = ("The clusters were chosen to differ, so the p-values are optimistic (read them as a guard against "
             "small clusters, not as a test); the effect in sd is what ranks features.")
COST_NOTE = ("fidelity: share of rows whose rule gives their K-Means cluster; cost ratio: k-means cost of the "
             "tree's clusters (each around its mean) over K-Means' inertia on the same rows, in the model's space")
MIXED_COST_NOTE = ("fidelity: share of rows whose rule gives their {name} cluster; cost ratio: the {name} cost of "
                   "the tree's clusters (each around its own means and modes) over the model's cost of the same rows")
LEVEL_NOTE = ("for a categorical column, the level the cluster holds most above the other rows: its share of the "
              "cluster's rows and of the other rows, compared as a 0/1 indicator")


@dataclass(repr=False)
class ClusterExplanation:
    """What each cluster means: the result of :func:`explain_clusters`.

    Attributes
    ----------
    descriptions : list of str
        One line per cluster (index = cluster): its strongest significant
        differences from the other rows in standard deviations, such as
        ``"spend +2.1 sd, churn_score +0.9 sd"``, or ``"no feature stands out"``.
    rules : list of str or None
        Per cluster, the rule of the threshold tree that gives it, in
        `rule_space`: a conjunction of cuts (``"income > 52,000 and age <= 34"``),
        an ``or`` of conjunctions when the cluster has several leaves,
        ``"every row"`` with one cluster, or None when no leaf gives the cluster.
    differences : pandas.DataFrame
        Per (cluster, feature), strongest first within each cluster: ``size``,
        ``cluster_mean``, ``rest_mean``, ``difference`` (original units),
        ``difference_sd`` (in standard deviations of the feature over all
        rows), ``t_statistic`` and ``p_value`` (Welch's t-test).
    tree : ThresholdTree
        The IMM tree (ExKMC when grown beyond k leaves); thresholds in `rule_space`.
    tree_labels : ndarray of shape (n_samples,)
        The cluster the tree gives each row.
    fidelity : float
        Share of rows whose tree cluster is their K-Means cluster.
    tree_cost : float
        k-means cost of the tree's clusters, each around its own mean, in the
        model's space.
    inertia : float
        K-Means' cost of the same rows (sum of squared distances to their
        nearest center), in the model's space.
    cost_ratio : float
        ``tree_cost / inertia`` (the paper's "price of explainability"; NaN
        when the inertia is 0 and the tree's cost is not).
    sizes : ndarray of shape (n_clusters,)
        Rows per K-Means cluster.
    feature_names : list of str
        The features of `differences`, in original units.
    rule_space : str
        What the rules' thresholds are measured in: ``"original units"``, or
        the model's features when its preprocessing is not per feature monotone.
    rule_space_note : str or None
        Why the rules are not in original units, when they are not.
    n_samples, n_clusters : int
    alpha, min_sd : float
        The thresholds of the descriptions.
    """

    descriptions: list
    rules: list
    differences: pd.DataFrame
    tree: ThresholdTree
    tree_labels: np.ndarray
    fidelity: float
    tree_cost: float
    inertia: float
    cost_ratio: float
    sizes: np.ndarray
    feature_names: list
    rule_space: str
    rule_space_note: str | None
    n_samples: int
    n_clusters: int
    alpha: float
    min_sd: float
    estimator: str = "KMeans"
    categorical: list = field(default_factory=list)

    @property
    def method(self) -> str:
        """``"IMM"`` (k leaves) or ``"ExKMC"`` (more)."""
        return self.tree.method

    @property
    def n_leaves(self) -> int:
        """Leaves of the tree."""
        return self.tree.n_leaves

    @property
    def n_mistakes(self) -> int:
        """Rows IMM separated from their center while building the tree (the paper's mistakes)."""
        return self.tree.n_mistakes

    def tree_summary(self) -> str:
        """One line on the tree: method, leaves, fidelity and cost ratio."""
        return (f"threshold tree ({self.method}, {self.n_leaves} leaves, rules in {self.rule_space}): "
                f"fidelity {100 * self.fidelity:.1f}%, cost ratio {_ratio(self.cost_ratio)}, "
                f"{self.n_mistakes} IMM mistakes")

    def summary(self, top: int = 3) -> str:
        """The explanation as text: per cluster its description, rule and `top` differences."""
        lines = [f"what sets each of {self.n_clusters} clusters apart ({self.n_samples} rows)", ""]
        for cluster in range(self.n_clusters):
            lines.append(f"cluster {cluster} ({self.sizes[cluster]} rows, "
                         f"{100 * self.sizes[cluster] / max(self.n_samples, 1):.1f}%): {self.descriptions[cluster]}")
            lines.append(f"  rule: {self._rule_text(cluster)}")
            for feature, row in self.differences.xs(cluster, level="cluster").head(top).iterrows():
                if isinstance(row.get("level"), str):
                    lines.append(f"  {feature} = {row['level']}: {_share(row['cluster_mean'])} of the cluster, "
                                 f"{_share(row['rest_mean'])} of other rows ({_signed_sd(row['difference_sd'])}, "
                                 f"p {_p(row['p_value'])})")
                    continue
                lines.append(f"  {feature}: mean {_value(row['cluster_mean'])}, other rows {_value(row['rest_mean'])} "
                             f"({_signed_sd(row['difference_sd'])}, p {_p(row['p_value'])})")
        lines += ["", self.tree_summary()]
        sd_note = SD_NOTE + (f"; {LEVEL_NOTE}" if self.categorical else "")
        notes = [self.rule_space_note, self._cost_note() + ".", sd_note + "; a description names features with p < "
                 f"{self.alpha:g} and |sd| >= {self.min_sd:g}."]
        lines += [textwrap.fill(note, width=_WIDTH) for note in notes if note]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _cost_note(self) -> str:
        return MIXED_COST_NOTE.format(name=self.estimator) if self.categorical else COST_NOTE

    def __repr__(self) -> str:
        return (f"ClusterExplanation(n_clusters={self.n_clusters}, n_samples={self.n_samples}, "
                f"method={self.method!r}, n_leaves={self.n_leaves}, fidelity={self.fidelity:.3f}, "
                f"cost_ratio={self.cost_ratio:.3f})")

    def _rule_text(self, cluster: int) -> str:
        rule = self.rules[cluster]
        return rule if rule is not None else "none (no leaf of the tree gives this cluster)"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{c}</td><td>{self.sizes[c]}</td><td>{html.escape(self.descriptions[c])}</td>"
            f"<td><code>{html.escape(self._rule_text(c))}</code></td></tr>"
            for c in range(self.n_clusters)
        )
        notes = [self.tree_summary(), self.rule_space_note, self._cost_note(), SD_NOTE,
                 LEVEL_NOTE if self.categorical else None, TEST_NOTE]
        return (
            "<div><table><thead><tr><th>cluster</th><th>rows</th><th>what sets it apart</th><th>rule</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            + "".join(f"<p><small>{html.escape(n)}</small></p>" for n in notes if n)
            + "</div>"
        )

    def to_dict(self, top: int | None = None) -> dict:
        """The explanation as plain JSON values (NaN as None), for :func:`json.dumps`.

        Parameters
        ----------
        top : int or None, default=None
            Differences kept per cluster, strongest first; None keeps every feature.
        """
        clusters = []
        for cluster in range(self.n_clusters):
            part = self.differences.xs(cluster, level="cluster")
            part = part if top is None else part.head(top)
            clusters.append({
                "cluster": cluster,
                "size": int(self.sizes[cluster]),
                "description": self.descriptions[cluster],
                "rule": self.rules[cluster],
                "differences": [
                    {"feature": str(feature), **{key: json_value(row[key]) for key in part.columns if key != "size"}}
                    for feature, row in part.iterrows()
                ],
            })
        tree = self.tree
        nodes = [
            {"node": i, "feature": tree.feature_names[tree.feature[i]] if tree.feature[i] >= 0 else None,
             "threshold": json_value(tree.threshold[i]) if tree.feature[i] >= 0 else None,
             "left": int(tree.left[i]) if tree.feature[i] >= 0 else None,
             "right": int(tree.right[i]) if tree.feature[i] >= 0 else None,
             "cluster": int(tree.value[i]) if tree.feature[i] < 0 else None}
            for i in range(tree.feature.size)
        ]
        return {
            "n_samples": self.n_samples, "n_clusters": self.n_clusters, "features": list(self.feature_names),
            "method": self.method, "n_leaves": self.n_leaves, "fidelity": json_value(self.fidelity),
            "cost_ratio": json_value(self.cost_ratio), "tree_cost": json_value(self.tree_cost),
            "inertia": json_value(self.inertia), "mistakes": self.n_mistakes, "rule_space": self.rule_space,
            "rule_space_note": self.rule_space_note, "alpha": self.alpha, "min_sd": self.min_sd,
            "clusters": clusters, "tree": nodes,
        }


def explain_clusters(model, X, *, feature_names=None, scaler=None, max_leaves=None, alpha=0.01, min_sd=0.5,
                     max_features=3) -> ClusterExplanation:
    """Say what each cluster of a fitted K-Means model means: in numbers, in words and in rules.

    Three answers per cluster:

    1. **What sets it apart.** For each feature, the cluster's mean minus
       the mean of all other rows, in original units and in standard
       deviations of the feature over all rows (the overall sd, ddof=1, not a
       pooled one: the same yardstick for every cluster), with Welch's
       two-sided t-test of the two means (:func:`scipy.stats.ttest_ind`,
       ``equal_var=False``); strongest first. The clusters were chosen to
       differ, so the p-values are optimistic: the effect in sd ranks.
    2. **A one-line description**: the features with ``p < alpha`` and an
       effect of at least `min_sd` sd, at most `max_features`, signed
       (``"spend +2.1 sd, churn_score +0.9 sd, age -0.6 sd"``), or
       ``"no feature stands out"``.
    3. **A rule**, from an explainable threshold tree: IMM (Dasgupta, Frost,
       Moshkovitz & Rashtchian, ICML 2020) with k leaves, one per cluster,
       each cut the one that separates the centers with the fewest mistakes
       (rows sent away from their own center); with ``max_leaves > k``, ExKMC
       (Frost, Moshkovitz & Rashtchian, 2020) adds the cuts that lower the
       k-means cost of the tree's assignment most. A cluster with several
       leaves gets an ``or`` of conjunctions. The tree's *fidelity* is the
       share of rows whose rule gives their K-Means cluster; its *cost ratio*
       is the k-means cost of the tree's clusters over K-Means' inertia (both
       in the model's space; 1 is as good as K-Means).

    Thresholds are in original units when the pipeline's preprocessing maps
    each feature on its own, monotonically (StandardScaler, MinMaxScaler,
    MaxAbsScaler, RobustScaler, QuantileTransformer, PowerTransformer): a cut
    on a scaled feature is then a cut on the original one. Otherwise (PCA,
    say) the rules are on the features the model sees, and
    ``rule_space_note`` says so.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted K-Means model clustering by Euclidean distance (kmeanskit's
        KMeans or MiniBatchKMeans, scikit-learn's), or a Pipeline of
        transformers ending in one.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The rows to explain, as `model` takes them (for a pipeline: original
        units). A DataFrame's columns are taken by the model's feature names
        when it has them.
    feature_names : sequence of str, default=None
        Names of the features; default: X's columns, the model's
        ``feature_names_in_``, else "x0", "x1", ...
    scaler : fitted transformer, default=None
        For a model that is not a pipeline but was fitted on scaled data:
        `X` is in the scaler's output units and ``scaler.inverse_transform``
        gives the original units (as in :func:`kmeanskit.profile_clusters`).
    max_leaves : int or None, default=None
        Leaves of the tree: None (or k) for IMM's k leaves, more for ExKMC,
        which stops earlier when no cut lowers the cost.
    alpha : float, default=0.01
        Significance a feature needs to enter a description, in (0, 1].
    min_sd : float, default=0.5
        Effect, in standard deviations, a feature needs to enter a description.
    max_features : int, default=3
        Features named per description, at most.

    Returns
    -------
    ClusterExplanation
        Renders as text (``str``, :meth:`~ClusterExplanation.summary`), in
        Jupyter (``_repr_html_``) and as a JSON-able dict
        (:meth:`~ClusterExplanation.to_dict`).

    Raises
    ------
    TypeError
        If `model` is not a fitted K-Means model or pipeline, or `scaler` is
        given with a pipeline.
    ValueError
        If `X` does not match the model or is not finite, the model is not
        Euclidean (SphericalKMeans, KMedians), or a parameter is out of range.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from kmeanskit import KMeans, explain_clusters
    >>> X = load_iris(as_frame=True).data
    >>> model = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    >>> explanation = explain_clusters(model, X)
    >>> explanation.n_leaves
    3
    """
    kmeans = fitted_final_estimator(model, purpose="explaining its clusters")
    metric = OTHER_GEOMETRY.get(type(kmeans).__name__)
    if metric is not None:
        raise ValueError(
            f"explain_clusters measures clusters in Euclidean geometry (k-means cost); a {type(kmeans).__name__} "
            f"clusters by {metric} distance"
        )
    k = int(kmeans.cluster_centers_.shape[0])
    max_leaves = _check_parameters(k, max_leaves, alpha, min_sd, max_features)
    if scaler is not None and isinstance(model, Pipeline):
        raise TypeError("scaler is for a model fitted on scaled data; a Pipeline maps its input itself")
    if clusters_categories(kmeans):
        if scaler is not None:
            raise TypeError("scaler is for a K-Means model fitted on scaled data; a KPrototypes or KModes model "
                            "takes its table as it is")
        return _explain_mixed(model, kmeans, X, k, max_leaves, alpha, min_sd, max_features, feature_names)

    model_input = _model_input(model, X)
    values = check_array(model_input, dtype=np.float64, input_name="X", ensure_all_finite=False)
    if not np.isfinite(values).all():
        raise ValueError("X contains NaN or infinite values; every value must be finite.")
    model_names = getattr(model, "feature_names_in_", None)
    if feature_names is None and not isinstance(X, pd.DataFrame) and model_names is not None:
        feature_names = list(model_names)
    names = feature_names_of(model_input, feature_names, values.shape[1])

    final_input = to_final_space(model, model_input)  # a DataFrame still, without preprocessing
    labels = np.asarray(kmeans.predict(final_input), dtype=np.int64)
    Xt = np.asarray(final_input, dtype=np.float64)
    centers = np.asarray(kmeans.cluster_centers_, dtype=np.float64)
    original = values
    if scaler is not None:
        original = np.asarray(in_original_units(scaler, values), dtype=np.float64)
        if original.shape != values.shape:
            raise ValueError(f"scaler.inverse_transform returned shape {original.shape}; expected {values.shape}.")
    Z, rule_centers, rule_names, space, note = _rule_space(model, scaler, original, values, Xt, centers, names)

    differences = cluster_differences(original, labels, k, names)
    descriptions = describe_clusters(differences, k, alpha=alpha, min_sd=min_sd, max_features=max_features)
    tree = threshold_tree(Z, labels, rule_centers, Xt, centers, max_leaves=max_leaves, feature_names=rule_names)
    tree_labels = tree.predict(Z)
    inertia = float(np.sum((Xt - centers[labels]) ** 2))
    tree_cost = _kmeans_cost(Xt, tree_labels, k)
    if inertia > 0:
        ratio = tree_cost / inertia
    else:
        ratio = 1.0 if tree_cost == 0 else np.nan
    return ClusterExplanation(
        descriptions=descriptions,
        rules=_rules(tree, k),
        differences=differences,
        tree=tree,
        tree_labels=tree_labels,
        fidelity=float(np.mean(tree_labels == labels)) if labels.size else np.nan,
        tree_cost=tree_cost,
        inertia=inertia,
        cost_ratio=float(ratio),
        sizes=np.bincount(labels, minlength=k),
        feature_names=names,
        rule_space=space,
        rule_space_note=note,
        n_samples=int(values.shape[0]),
        n_clusters=k,
        alpha=float(alpha),
        min_sd=float(min_sd),
    )


def _explain_mixed(model, final, X, k, max_leaves, alpha, min_sd, max_features,
                   feature_names=None) -> ClusterExplanation:
    """:func:`explain_clusters` of a KPrototypes or KModes model (or a pipeline ending in one)."""
    from kmeanskit._analysis.explain.categories import keep_top_levels, mixed_cost, mixed_parts

    parts = mixed_parts(model, final, X, feature_names)
    labels = parts.labels
    differences = keep_top_levels(cluster_differences(parts.values, labels, k, parts.names), parts)
    descriptions = describe_clusters(differences, k, alpha=alpha, min_sd=min_sd, max_features=max_features)
    tree = threshold_tree(parts.values, labels, parts.rule_centers, None, None, max_leaves=max_leaves,
                          feature_names=parts.names, costs=parts.costs)
    tree_labels = tree.predict(parts.values)
    inertia = float(parts.costs[np.arange(labels.size), labels].sum())
    tree_cost = mixed_cost(parts, tree_labels, k)
    ratio = tree_cost / inertia if inertia > 0 else (1.0 if tree_cost == 0 else np.nan)
    return ClusterExplanation(
        descriptions=descriptions, rules=_rules(tree, k, parts.indicators, parts.levels), differences=differences,
        tree=tree, tree_labels=tree_labels,
        fidelity=float(np.mean(tree_labels == labels)) if labels.size else np.nan, tree_cost=tree_cost,
        inertia=inertia, cost_ratio=float(ratio), sizes=np.bincount(labels, minlength=k),
        feature_names=list(parts.feature_names), rule_space="original units", rule_space_note=None,
        n_samples=int(labels.size), n_clusters=k, alpha=float(alpha), min_sd=float(min_sd),
        estimator=type(final).__name__, categorical=list(parts.categorical),
    )


def _check_parameters(k, max_leaves, alpha, min_sd, max_features):
    if max_leaves is not None:
        if isinstance(max_leaves, bool) or not isinstance(max_leaves, numbers.Integral):
            raise TypeError(f"max_leaves must be None or an integer, got {max_leaves!r}")
        if max_leaves < k:
            raise ValueError(
                f"max_leaves must be None or at least the number of clusters ({k}), got {max_leaves}: "
                "the tree needs a leaf per cluster"
            )
        max_leaves = int(max_leaves)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha <= 1:
        raise ValueError(f"alpha must be a number in (0, 1], got {alpha!r}")
    if isinstance(min_sd, bool) or not isinstance(min_sd, numbers.Real) or not min_sd >= 0:
        raise ValueError(f"min_sd must be a non-negative number, got {min_sd!r}")
    if isinstance(max_features, bool) or not isinstance(max_features, numbers.Integral) or max_features < 1:
        raise ValueError(f"max_features must be a positive integer, got {max_features!r}")
    return max_leaves


def _model_input(model, X):
    """X as `model` takes it: a DataFrame's columns picked by the model's feature names.

    An array for a model with feature names becomes a DataFrame with those
    names, so that scikit-learn does not warn about it.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    names = [str(n) for n in names]
    if not isinstance(X, pd.DataFrame):
        values = check_array(X, dtype=np.float64, input_name="X", ensure_all_finite=False)
        return pd.DataFrame(values, columns=names) if values.shape[1] == len(names) else values
    frame = X.set_axis([str(c) for c in X.columns], axis=1)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"X lacks the feature columns {missing} that the model was fitted on")
    return frame[names]


def _monotone(transformer) -> bool:
    if isinstance(transformer, Pipeline):
        return all(_monotone(step) for _, step in transformer.steps if step is not None and step != "passthrough")
    return isinstance(transformer, _MONOTONE_PER_FEATURE)


def _rule_space(model, scaler, original, values, Xt, centers, names):
    """(Z, centers in Z's units, names, what Z is, note or None): where the tree's cuts are read."""
    steps = preprocessing_steps(model) if scaler is None else [scaler]
    if not steps:
        return original, centers, names, "original units", None
    if all(_monotone(step) for step in steps):
        if scaler is None:
            rule_centers = centers_in_original_units(model).to_numpy()
        else:
            rule_centers = np.asarray(in_original_units(scaler, centers), dtype=np.float64)
        return original, rule_centers, names, "original units", None
    kinds = ", ".join(type(step).__name__ for step in steps)
    if scaler is not None:
        return (values, centers, names, "the scaled units the model sees",
                f"{kinds} does not map each feature on its own, monotonically, so the rules are in the "
                "scaled units the model sees.")
    try:
        rule_names = [str(n) for n in model[:-1].get_feature_names_out()]
    except (AttributeError, TypeError, ValueError):
        rule_names = [f"x{j}" for j in range(Xt.shape[1])]
    if len(rule_names) != Xt.shape[1]:
        rule_names = [f"x{j}" for j in range(Xt.shape[1])]
    return (Xt, centers, rule_names, f"the model's features (after {kinds})",
            f"The preprocessing ({kinds}) does not map each feature on its own, monotonically, so the rules "
            f"are on the features the model sees ({', '.join(rule_names[:6])}{', ...' if len(rule_names) > 6 else ''}), "
            "not in original units.")


def _kmeans_cost(Xt, labels, k) -> float:
    """Sum of squared distances of rows to the mean of their cluster."""
    cost = 0.0
    for cluster in range(k):
        part = Xt[labels == cluster]
        if part.shape[0]:
            cost += float(np.sum((part - part.mean(axis=0)) ** 2))
    return cost


def _rules(tree: ThresholdTree, k: int, indicators=None, levels=None) -> list:
    """Per cluster, the ``or`` of the conjunctions of its leaves (None without a leaf).

    `indicators` (rule feature -> (column, level)) and `levels` (column -> its levels): the 0/1
    indicators of categorical columns, whose cuts read as levels (see :func:`_conjunction`).
    """
    conjunctions = [[] for _ in range(k)]
    for leaf, path in tree.paths().items():
        conjunctions[int(tree.value[leaf])].append(_conjunction(path, tree.feature_names, indicators, levels))
    rules = []
    for parts in conjunctions:
        if not parts:
            rules.append(None)
        elif len(parts) == 1:
            rules.append(parts[0])
        else:
            rules.append(" or ".join(f"({part})" for part in parts))
    return rules


def _conjunction(path, names, indicators=None, levels=None) -> str:
    """The cuts of a path merged per feature (tightest bounds), in order of first use.

    A cut on the indicator of a level (``> t``: the level, ``<= t``: another, for 0 <= t < 1) is merged
    per column: ``store = north``, or ``store in {east, north}`` / ``store not in {west}`` (the shorter).
    """
    indicators = indicators or {}
    bounds, chosen = {}, {}
    for j, op, t in path:
        if j in indicators:
            column, level = indicators[j]
            held, excluded = chosen.setdefault(column, ([], []))
            (held if op == ">" else excluded).append(level)
            bounds.setdefault(column, None)
            continue
        low, high = bounds.get(j, (None, None))
        if op == "<=":
            high = t if high is None else min(high, t)
        else:
            low = t if low is None else max(low, t)
        bounds[j] = (low, high)
    terms = []
    for j, found in bounds.items():
        if found is None:
            terms.append(_level_term(j, *chosen[j], levels[j]))
            continue
        low, high = found
        name = names[j]
        if low is not None and high is not None:
            terms.append(f"{threshold_text(low)} < {name} <= {threshold_text(high)}")
        elif high is not None:
            terms.append(f"{name} <= {threshold_text(high)}")
        else:
            terms.append(f"{name} > {threshold_text(low)}")
    return " and ".join(terms) if terms else "every row"


def _level_term(column, held, excluded, levels) -> str:
    """What the cuts on the indicators of one column say, in words."""
    if held:
        return " and ".join(f"{column} = {level}" for level in held)
    allowed = [level for level in levels if level not in excluded]
    if len(allowed) == 1:
        return f"{column} = {allowed[0]}"
    if len(allowed) <= len(excluded):
        return f"{column} in {{{', '.join(allowed)}}}"
    return f"{column} not in {{{', '.join(excluded)}}}"


def _share(value) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:.0f}%"


def threshold_text(value: float) -> str:
    """A threshold as written in a rule: ``52,000``, ``2.45``, ``1.5e-05``."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return repr(float(value))


def _value(value) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if 1e3 <= abs(value) < 1e15 else f"{value:.4g}"


def _signed_sd(value) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:+.2f} sd".replace("-0.00", "0.00").replace("+0.00", "0.00")


def _p(value) -> str:
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "< 1e-300"
    return f"= {value:.2g}" if value >= 1e-4 else f"= {value:.1e}"


def _ratio(value) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.3f}"
