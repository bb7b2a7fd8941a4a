"""Drift on tables with categorical columns (level shares, unseen levels) and with gaps (missing shares)."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kmeanskit import KMeans, KModes, KPrototypes, UnseenCategoryWarning
from kmeanskit.monitoring import drift_report, fit_monitor


def table(n, seed, colors=("red", "green", "blue"), p=(0.5, 0.3, 0.2)):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.normal(size=n), "age": rng.normal(40, 10, size=n),
                         "color": rng.choice(colors, size=n, p=p)})


@pytest.fixture(scope="module")
def mixed():
    train = table(2000, seed=0)
    return KPrototypes(3, random_state=0).fit(train), train


def test_level_shares_psi_and_chi_square_by_hand(mixed):
    model, train = mixed
    new = table(1000, seed=1, p=(0.2, 0.3, 0.5))
    report = drift_report(model, new, reference=train)
    row = report.categories.set_index("feature").loc["color"]
    levels = ["red", "green", "blue"]
    before = train["color"].value_counts()[levels].to_numpy()
    after = new["color"].value_counts()[levels].to_numpy()
    e, o = before / before.sum(), after / after.sum()
    assert row["psi"] == pytest.approx(np.sum((o - e) * np.log(o / e)), rel=1e-12)
    assert row["p_value"] == pytest.approx(stats.chi2_contingency(np.vstack([before, after]), correction=False).pvalue,
                                           rel=1e-9)
    assert row["drifted"] and report.drift and report.feature_drift and "color" in report.moved_features
    assert row["level"] in ("red", "blue") and row["n_unseen"] == 0 and row["unseen_levels"] == []
    assert any(reason.startswith("category moved: color") for reason in report.reasons)
    # The numeric columns did not move.
    assert not report.features["drifted"].any() and list(report.features["feature"]) != []


def test_same_distribution_no_categorical_drift(mixed):
    model, train = mixed
    report = drift_report(model, table(800, seed=2), reference=train)
    assert not report.categories["drifted"].any() and not report.drift


def test_unseen_levels_are_named_and_counted(mixed):
    model, train = mixed
    new = table(500, seed=3)
    new.loc[:39, "color"] = "purple"
    new.loc[40:44, "color"] = "teal"
    with warnings.catch_warnings():  # counted in the report's table, not warned about (assign says why)
        warnings.simplefilter("error", UnseenCategoryWarning)
        report = drift_report(model, new, reference=train)
    row = report.categories.set_index("feature").loc["color"]
    assert row["n_unseen"] == 45 and row["unseen_levels"] == ["purple", "teal"]
    assert "45 unseen" in report.summary()
    # JSON carries the lists.
    found = json.loads(json.dumps(report.to_dict()))
    assert found["categories"][0]["unseen_levels"] == ["purple", "teal"]


def test_a_kmodes_model_on_an_all_categorical_table():
    rng = np.random.default_rng(4)
    train = pd.DataFrame({"a": rng.choice(list("xyz"), 600), "b": rng.choice(list("uv"), 600)})
    model = KModes(2, random_state=0).fit(train)
    new = pd.DataFrame({"a": rng.choice(list("xyz"), 300, p=[0.8, 0.1, 0.1]), "b": rng.choice(list("uv"), 300)})
    report = drift_report(model, new, reference=train)
    assert report.features.empty and report.categories["feature"].tolist()[0] == "a"
    assert report.moved_features == ["a"]


def test_gaps_drift_on_observed_entries_and_the_missing_share_moves():
    rng = np.random.default_rng(5)
    train = rng.normal(size=(3000, 3))
    train[rng.random(train.shape) < 0.05] = np.nan
    model = KMeans(3, missing="ignore", random_state=0).fit(train)
    new = rng.normal(size=(1000, 3))
    new[rng.random(new.shape) < 0.05] = np.nan
    new[rng.random(1000) < 0.5, 1] = np.nan  # x1 now missing half the time
    new[:, 0] = np.where(np.isnan(new).all(axis=1), 0.0, new[:, 0])  # every row keeps an observed entry
    profile = fit_monitor(model, train)
    assert profile.features.n_missing.tolist() == np.isnan(train).sum(axis=0).tolist()
    observed = train[~np.isnan(train[:, 0]), 0]
    assert profile.features.mean[0] == pytest.approx(observed.mean(), rel=1e-12)
    report = drift_report(model, new, reference=profile)
    table_ = report.features.set_index("feature")
    assert table_.loc["x1", "train_missing"] == pytest.approx(np.isnan(train[:, 1]).mean())
    assert table_.loc["x1", "new_missing"] == pytest.approx(np.isnan(new[:, 1]).mean())
    assert table_.loc["x1", "missing_moved"] and not table_.loc[["x0", "x2"], "missing_moved"].any()
    assert not table_["drifted"].any()  # the observed values did not move
    assert report.missing_drift and report.drift
    assert any(r.startswith("missing share moved: x1") for r in report.reasons)
    assert not report.features[["train_mean", "new_mean", "psi", "p_value"]].isna().any().any()


def test_a_complete_numeric_table_keeps_its_layout():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(500, 2))
    model = KMeans(2, random_state=0).fit(X)
    report = drift_report(model, X[:200], reference=X)
    assert list(report.features.columns) == ["feature", "train_mean", "new_mean", "shift", "shift_sd", "sd_ratio",
                                             "psi", "p_value", "drifted", "clusters"]
    assert report.categories is None and not report.missing_drift
    assert "cluster_missing" not in fit_monitor(model, X).features.to_dict()


def test_the_summary_of_levels_and_gaps_round_trips_through_json():
    from kmeanskit._analysis.monitoring.features import FeatureSummary, summarize_features

    frame = table(300, seed=7)
    frame.loc[:9, "amount"] = np.nan
    frame.loc[10:14, "color"] = None
    labels = np.random.default_rng(0).integers(0, 2, 300)
    found, reason = summarize_features(frame, labels, 2)
    assert reason is None and found.n_missing.tolist() == [10, 0]
    assert found.categorical.n_missing.tolist() == [5] and found.categorical.counts[0].sum() == 295
    again = FeatureSummary.from_dict(json.loads(json.dumps(found.to_dict())), found.cluster_sizes)
    assert np.array_equal(again.cluster_missing, found.cluster_missing)
    assert again.categorical.levels == found.categorical.levels
    assert all(map(np.array_equal, again.categorical.counts, found.categorical.counts))
    damaged = found.to_dict()
    damaged["categorical"]["counts"][0][0] += 1
    with pytest.raises(ValueError, match="counts of categorical column 0 do not add up"):
        FeatureSummary.from_dict(damaged, found.cluster_sizes)
