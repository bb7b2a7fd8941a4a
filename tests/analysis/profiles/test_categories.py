"""Categorical columns and missing entries in cluster profiles."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kmeanskit import KModes, KPrototypes, profile_categories, profile_clusters

# 12 rows, 2 clusters: cluster 0 is mostly "a", cluster 1 mostly "b"; one row of each has no level.
LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
LEVELS = np.array(["a", "a", "a", "a", "b", None, "b", "b", "b", "a", "c", None], dtype=object)


def test_shares_counts_and_the_chi_square_test_by_hand():
    frame = pd.DataFrame({"x": np.arange(12.0), "kind": LEVELS})
    profile = profile_categories(frame, LABELS)
    assert profile.index.names == ["cluster", "feature", "level"]
    # Levels most frequent first (a: 5, b: 4, c: 1); the counts of the contingency table by hand.
    assert list(profile.xs(0, level="cluster").index.get_level_values("level")) == ["a", "b", "c"]
    table = np.array([[4, 1, 0], [1, 3, 1]])
    assert profile["count"].to_numpy().tolist() == table.ravel().tolist()
    assert profile["share"].to_numpy() == pytest.approx((table / table.sum(axis=1, keepdims=True)).ravel())
    assert profile["n_missing"].tolist() == [1] * 6 and profile["missing_share"].to_numpy() == pytest.approx([1 / 6] * 6)
    reference = stats.chi2_contingency(table)
    assert profile["chi2"].iloc[0] == pytest.approx(reference.statistic, rel=1e-12)
    assert profile["chi2_p"].iloc[0] == pytest.approx(reference.pvalue, rel=1e-12)
    assert profile["chi2_dof"].iloc[0] == 2
    # Cramer's V from the uncorrected statistic: sqrt(chi2 / (n * (min(r, c) - 1))).
    uncorrected = stats.chi2_contingency(table, correction=False).statistic
    assert profile["cramers_v"].iloc[0] == pytest.approx(math.sqrt(uncorrected / (10 * 1)), rel=1e-12)
    expected = reference.expected_freq
    assert profile["min_expected"].iloc[0] == pytest.approx(expected.min())
    assert profile["low_expected_share"].iloc[0] == pytest.approx(np.mean(expected < 5))


def test_a_two_by_two_table_gets_yates_correction_as_in_r():
    labels = np.repeat([0, 1], 20)
    kind = np.array(["u"] * 15 + ["v"] * 5 + ["u"] * 6 + ["v"] * 14, dtype=object)
    profile = profile_categories(pd.DataFrame({"kind": kind}), labels)
    # By hand: expected [[10.5, 9.5], [10.5, 9.5]], every |O - E| = 4.5, Yates: sum((4.5 - 0.5)^2 / E).
    yates = 2 * 16 / 10.5 + 2 * 16 / 9.5
    assert profile["chi2"].iloc[0] == pytest.approx(yates, rel=1e-12)
    assert profile["chi2_p"].iloc[0] == pytest.approx(stats.chi2.sf(yates, 1), rel=1e-12)


def test_rare_levels_are_pooled_as_other_with_their_counts():
    rng = np.random.default_rng(0)
    kind = rng.choice(list("abcdefghij"), size=400, p=[0.3, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03])
    labels = rng.integers(0, 3, 400)
    profile = profile_categories(pd.DataFrame({"kind": kind}), labels, max_levels=4)
    shown = list(dict.fromkeys(profile.index.get_level_values("level")))
    assert len(shown) == 4 and shown[-1] == "other"
    top = pd.Series(kind).value_counts().index[:3].tolist()
    assert shown[:3] == top
    other = profile.xs("other", level="level")["count"].to_numpy()
    assert other.tolist() == [int(np.sum((labels == c) & ~np.isin(kind, top))) for c in range(3)]


def test_no_categorical_column_and_a_bad_max_levels_are_refused():
    with pytest.raises(ValueError, match="X has no categorical column"):
        profile_categories(np.ones((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="max_levels must be an integer of at least 2, got 1"):
        profile_categories(pd.DataFrame({"k": list("abab")}), [0, 1, 0, 1], max_levels=1)


def test_missing_entries_are_counted_and_the_statistics_use_the_observed_ones():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    labels = rng.integers(0, 3, 200)
    profile = profile_clusters(X, labels)
    assert list(profile.columns[-2:]) == ["n_missing", "missing_share"]
    for c in range(3):
        rows = X[labels == c]
        part = profile.xs(c, level="cluster")
        assert part["mean"].to_numpy() == pytest.approx(np.nanmean(rows, axis=0), rel=1e-12)
        assert part["std"].to_numpy() == pytest.approx(np.nanstd(rows, axis=0, ddof=1), rel=1e-12)
        assert part["median"].to_numpy() == pytest.approx(np.nanmedian(rows, axis=0), rel=1e-12)
        assert part["n_missing"].tolist() == np.isnan(rows).sum(axis=0).tolist()
    observed = [X[(labels == c) & ~np.isnan(X[:, 0]), 0] for c in range(3)]
    assert profile["anova_p"].iloc[0] == pytest.approx(stats.f_oneway(*observed).pvalue, rel=1e-12)
    assert not profile.isna().any().any()  # every number exists, none is NaN


def test_a_complete_table_keeps_its_columns():
    profile = profile_clusters(np.arange(12.0).reshape(6, 2), [0, 0, 0, 1, 1, 1])
    assert list(profile.columns) == ["size", "share", "mean", "std", "median", "anova_f", "anova_p", "kruskal_p",
                                     "eta_squared"]


def test_models_name_their_categorical_columns():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"amount": rng.normal(size=90), "code": rng.integers(0, 3, 90)})  # codes as numbers
    model = KPrototypes(2, categorical=[1], random_state=0).fit(frame)
    assert profile_clusters(frame, model.labels_, model=model).index.get_level_values("feature").unique().tolist() \
        == ["amount"]
    levels = profile_categories(frame, model.labels_, model=model)
    assert set(levels.index.get_level_values("level")) == {"0", "1", "2"}
    modes = KModes(2, random_state=0).fit(frame[["code"]].astype(str))
    assert profile_categories(frame[["code"]].astype(str), modes.labels_, model=modes)["count"].sum() == 90
