"""explain_clusters on KPrototypes and KModes models: levels as shares, rules on levels, the model's own cost."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KModes, KPrototypes, explain_clusters
from kmeanskit._analysis.explain.explanation import _conjunction


def shop(n=240, seed=1):
    rng = np.random.default_rng(seed)
    group = np.repeat([0, 1, 2], n // 3)
    store = np.array(["North", "South", "East"], dtype=object)[group]
    flip = rng.random(n) < 0.15
    store[flip] = rng.choice(["North", "South", "East", "West"], flip.sum())
    return pd.DataFrame({"store": store, "amount": np.array([1.0, 4.0, 9.0])[group] + rng.normal(0, 0.4, n),
                         "plan": rng.choice(["basic", "pro"], n).astype(object)})


def test_a_level_is_its_share_of_the_cluster_against_the_other_rows():
    X = shop()
    model = KPrototypes(3, random_state=0).fit(X)
    explanation = explain_clusters(model, X)
    labels = model.labels_
    for cluster in range(3):
        part = explanation.differences.xs(cluster, level="cluster")
        row = part.loc["store"]
        inside, outside = X["store"][labels == cluster], X["store"][labels != cluster]
        # The level the cluster holds most above the other rows, and the two shares.
        gaps = {level: (inside == level).mean() - (outside == level).mean() for level in X["store"].unique()}
        assert row["level"] == max(gaps, key=gaps.get)
        assert row["cluster_mean"] == pytest.approx((inside == row["level"]).mean())
        assert row["rest_mean"] == pytest.approx((outside == row["level"]).mean())
        overall = (X["store"] == row["level"]).mean()
        assert f"store = {row['level']} ({100 * row['cluster_mean']:.0f}% of the cluster, {100 * overall:.0f}% " \
               "overall)" in explanation.descriptions[cluster]
        assert part.loc["amount", "cluster_mean"] == pytest.approx(X["amount"][labels == cluster].mean())
        assert pd.isna(part.loc["amount", "level"])
    assert explanation.inertia == pytest.approx(model.inertia_, rel=1e-12)  # the model's own cost
    assert explanation.fidelity > 0.95 and explanation.estimator == "KPrototypes"
    assert explanation.categorical == ["store", "plan"]


def test_kmodes_rules_read_as_levels_and_the_tree_cost_is_hamming():
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], 80)
    X = pd.DataFrame({f"q{c}": np.where(rng.random(240) < 0.9, np.array(list("abcd"), dtype=object)[(group + c) % 4],
                                        rng.choice(list("abcd"), 240).astype(object)) for c in range(3)})
    model = KModes(3, n_init=5, random_state=0).fit(X)
    explanation = explain_clusters(model, X)
    assert all(rule.startswith("q") for rule in explanation.rules)
    tree = explanation.tree_labels
    # Each tree cluster around its own modes: the mismatches, counted by hand.
    cost = sum(int((tree == c).sum() - X[tree == c][col].value_counts().max())
               for c in range(3) for col in X.columns if (tree == c).any())
    assert explanation.tree_cost == cost and explanation.inertia == model.inertia_
    assert explanation.cost_ratio == pytest.approx(cost / model.inertia_)


def test_level_cuts_merge_per_column():
    indicators = {0: ("store", "East"), 1: ("store", "North"), 2: ("store", "South"), 3: ("store", "West")}
    levels = {"store": ["East", "North", "South", "West"]}
    names = ["store = East", "store = North", "store = South", "store = West", "amount"]
    assert _conjunction([(1, ">", 0.0)], names, indicators, levels) == "store = North"
    assert _conjunction([(0, "<=", 0.0), (3, "<=", 0.0), (4, ">", 2.5)], names, indicators, levels) == (
        "store in {North, South} and amount > 2.5")
    assert _conjunction([(0, "<=", 0.0)], names, indicators, levels) == "store not in {East}"
    assert _conjunction([(0, "<=", 0.0), (1, "<=", 0.0), (2, "<=", 0.0)], names, indicators, levels) == (
        "store = West")


def test_gaps_are_refused_naming_the_column():
    X = shop()
    model = KPrototypes(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="missing values in its categorical column 'store'"):
        explain_clusters(model, X.assign(store=X["store"].where(X.index != 3, None)))


def test_feature_names_name_the_columns_of_a_kprototypes_or_kmodes_model():
    X = shop()
    array = X.to_numpy(dtype=object)
    model = KPrototypes(3, categorical=[0, 2], random_state=0).fit(array)
    named = explain_clusters(model, array, feature_names=["shop", "spend", "tier"])
    assert named.feature_names == ["shop", "spend", "tier"] and named.categorical == ["shop", "tier"]
    assert any("spend" in rule or "shop" in rule for rule in named.rules)
    assert not any("x0" in rule or "x1" in rule or "x2" in rule for rule in named.rules)
    assert set(named.differences.index.get_level_values("feature")) == {"shop", "spend", "tier"}
    # A frame's columns renamed for the explanation; the model still reads the frame by its own names.
    frame_model = KModes(3, random_state=0).fit(X[["store", "plan"]])
    renamed = explain_clusters(frame_model, X[["store", "plan"]], feature_names=["where", "which"])
    assert renamed.feature_names == ["where", "which"]
    assert all("store" not in rule and "plan" not in rule for rule in renamed.rules)
    with pytest.raises(ValueError, match="feature_names has 2 names but X has 3 features"):
        explain_clusters(model, array, feature_names=["a", "b"])
