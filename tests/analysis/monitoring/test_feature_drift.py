"""Drift that names features: per-feature shifts, their test, and the clusters they move."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, load, save
from kmeanskit._analysis.monitoring.features import FEATURE_LEVELS, FeatureSummary, summarize_features
from kmeanskit.monitoring import drift_report, fit_monitor

V1_FILES = Path(__file__).parents[2] / "io" / "persistence" / "data"
CENTERS = np.array([[0.0, 50.0, 1000.0], [5.0, 60.0, 1000.0], [0.0, 70.0, 3000.0]])
SCALES = np.array([1.0, 3.0, 200.0])
NAMES = ["age", "score", "income"]


def draw(n, seed, income_shift_in_group=None, shift=0.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = CENTERS[y] + rng.normal(size=(n, 3)) * SCALES
    if income_shift_in_group is not None:
        X[y == income_shift_in_group, 2] += shift
    return pd.DataFrame(X, columns=NAMES), y


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    X, _ = draw(3000, seed=0)
    model = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    path = tmp_path_factory.mktemp("features") / "model.kmk"
    save(model, path, X=X)
    return model, X, path


# ------------------------------------------------------------------ the summary
def test_summary_is_numpy_statistics():
    X, _ = draw(500, seed=1)
    X.loc[:99, "age"] = 7.0  # ties: the deciles collapse, the shares stay exact
    labels = np.random.default_rng(0).integers(0, 3, 500)
    found, reason = summarize_features(X, labels, 3)
    assert reason is None and found.names == NAMES and found.n_samples == 500
    values = X.to_numpy()
    assert np.allclose(found.mean, values.mean(axis=0)) and np.allclose(found.sd, values.std(axis=0, ddof=1))
    for j in range(3):
        edges = np.unique(np.quantile(values[:, j], FEATURE_LEVELS))
        assert np.array_equal(found.edges[j], edges)
        assert np.array_equal(found.cdf[j], [(values[:, j] <= e).mean() for e in edges])
        for c in range(3):
            assert found.cluster_means[c, j] == pytest.approx(values[labels == c, j].mean(), rel=1e-12)
            assert found.cluster_sds[c, j] == pytest.approx(values[labels == c, j].std(ddof=1), rel=1e-12)
    # JSON round trip, as a model file stores it.
    again = FeatureSummary.from_dict(json.loads(json.dumps(found.to_dict())), found.cluster_sizes)
    assert np.array_equal(again.mean, found.mean) and all(map(np.array_equal, again.edges, found.edges))


def test_no_summary_for_sparse_data_and_text_columns_summarised_as_levels():
    import scipy.sparse as sp

    labels = np.zeros(4, dtype=int)
    assert summarize_features(sp.random(4, 2, format="csr"), labels, 1) == (None, "the data are sparse")
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": list("wxyw")})
    found, reason = summarize_features(frame, labels, 1)
    assert reason is None and found.names == ["a"] and found.categorical.names == ["b"]
    assert found.categorical.levels == [["w", "x", "y"]] and found.categorical.counts[0].tolist() == [2, 1, 1]


# ------------------------------------------------------------------ drift
def test_same_distribution_no_feature_moves(fitted):
    model, X, path = fitted
    for seed in range(10, 16):
        report = drift_report(path, draw(1000, seed)[0])
        assert not report.feature_drift and report.moved_features == [], report.reasons
        assert report.features["p_value"].min() > 0.01 / 3
        assert (report.features["psi"] < 0.05).all()


def test_a_shift_within_one_cluster_names_the_feature_and_the_cluster(fitted):
    model, X, path = fitted
    X_new, y = draw(1000, seed=3, income_shift_in_group=2, shift=300.0)  # +1.5 sd within the group
    report = drift_report(path, X_new)
    assert report.verdict == "drift" and report.feature_drift
    assert report.moved_features == ["income"]
    top = report.features.iloc[0]
    assert top["feature"] == "income" and top["drifted"]
    group_cluster = int(model.predict(pd.DataFrame([CENTERS[2]], columns=NAMES))[0])
    assert top["clusters"] == [group_cluster]
    # Original units and training sd, against NumPy.
    assert top["shift"] == pytest.approx(X_new["income"].mean() - X["income"].mean(), rel=1e-9)
    assert top["shift_sd"] == pytest.approx(top["shift"] / X["income"].std(ddof=1), rel=1e-9)
    assert top["sd_ratio"] == pytest.approx(X_new["income"].std(ddof=1) / X["income"].std(ddof=1), rel=1e-9)
    # The cluster's own shift, in training sd of the feature.
    labels_train, labels_new = model.predict(X), model.predict(X_new)
    expected = (X_new.loc[labels_new == group_cluster, "income"].mean()
                - X.loc[labels_train == group_cluster, "income"].mean()) / X["income"].std(ddof=1)
    assert report.cluster_shifts.loc[group_cluster, "income"] == pytest.approx(expected, rel=1e-9)
    assert any(reason.startswith("feature moved: income +") for reason in report.reasons)


def test_the_test_is_a_chi_square_of_training_and_new_decile_counts(fitted):
    model, X, _ = fitted
    X_new, _ = draw(2000, seed=4, income_shift_in_group=0, shift=200.0)
    report = drift_report(model, X_new, reference=X)
    row = report.features.set_index("feature").loc["income"]
    values, new = X["income"].to_numpy(), X_new["income"].to_numpy()
    edges = np.unique(np.quantile(values, FEATURE_LEVELS))  # 10 bins of 2000 rows: none merged
    train = np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
    observed = np.bincount(np.searchsorted(edges, new, side="left"), minlength=edges.size + 1)
    assert row["p_value"] == pytest.approx(stats.chi2_contingency([train, observed], correction=False).pvalue,
                                           rel=1e-9)
    p, o = train / train.sum(), observed / observed.sum()
    assert row["psi"] == pytest.approx(np.sum((o - p) * np.log(o / p)), rel=1e-9)


def test_strongest_first(fitted):
    model, X, path = fitted
    X_new, _ = draw(1000, seed=5)
    X_new["score"] += 6.0   # about 0.8 training sd
    X_new["age"] += 0.5     # about 0.2 training sd
    report = drift_report(path, X_new)
    assert report.features["feature"].tolist()[:2] == ["score", "age"]
    assert report.features["psi"].is_monotonic_decreasing


def test_summary_and_html_show_the_features(fitted):
    model, X, path = fitted
    report = drift_report(path, draw(1000, seed=3, income_shift_in_group=2, shift=300.0)[0])
    text = report.summary()
    assert text.startswith("DRIFT: ") and "Features, strongest shift first" in text
    first_feature_row = text.split("Features, strongest shift first")[1].splitlines()[2]
    assert first_feature_row.split()[0] == "income" and "yes" in first_feature_row
    page = report._repr_html_()
    assert "<table" in page and "income" in page and page.count("<table") == 2
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["features"][0]["feature"] == "income" and payload["features"][0]["drifted"] is True
    assert isinstance(payload["features"][0]["clusters"], list)
    assert set(payload["cluster_shifts"]) == set(NAMES) and payload["feature_drift"] is True


# --------------------------------------------------------- profiles and old files
def test_profile_from_reference_and_from_the_file_agree(fitted):
    model, X, path = fitted
    from kmeanskit.monitoring import load_monitored

    _, from_file = load_monitored(path)
    from_rows = fit_monitor(model, X)
    assert from_file.features.names == from_rows.features.names == NAMES
    assert np.allclose(from_file.features.mean, from_rows.features.mean, rtol=1e-15)
    assert np.allclose(from_file.features.cluster_sds, from_rows.features.cluster_sds, rtol=1e-15)


def test_a_model_file_without_feature_statistics_still_reports_and_says_why():
    """Version 1 files (written before per-feature statistics) load and check as before."""
    model = load(V1_FILES / "pipeline_v1.kmk")
    rng = np.random.default_rng(0)
    X_new = pd.DataFrame(model[-1].cluster_centers_[rng.integers(0, 3, 200)] * model[0].scale_ + model[0].mean_
                         + rng.normal(size=(200, 5)), columns=[f"f{i}" for i in range(5)])
    report = drift_report(V1_FILES / "pipeline_v1.kmk", X_new)
    assert report.features is None and report.cluster_shifts is None and not report.feature_drift
    assert report.features_note.startswith("the model file holds no per-feature statistics")
    assert "reference=X_train" in report.features_note
    assert "Features: the model file holds no per-feature statistics" in report.summary()
    assert report.to_dict()["features"] is None


def test_a_damaged_feature_summary_is_refused(fitted, tmp_path):
    from kmeanskit._analysis.monitoring.profile import TrainingProfile
    from kmeanskit._io.persistence import ModelFileError, load_with_manifest

    _, manifest = load_with_manifest(fitted[2])
    summary = manifest["summary"]
    summary["features"]["sd"][1] = -1.0
    with pytest.raises(ModelFileError, match="invalid training summary in the model file: features: sd must not "
                                             "be negative"):
        TrainingProfile.from_summary(summary)
    summary["features"]["sd"][1] = 1.0
    summary["features"]["bin_edges"] = "no"
    with pytest.raises(ModelFileError, match="features: bin_edges must hold 3 lists"):
        TrainingProfile.from_summary(summary)


def test_wide_data_is_not_stored_in_the_file(tmp_path):
    from kmeanskit._io.persistence import describe

    X = np.random.default_rng(0).normal(size=(60, 5000))  # 5000 * (2 + 22) values > MAX_STORED_VALUES
    km = KMeans(2, random_state=0).fit(X)
    assert "features" not in describe(km, X=X)["summary"]
    assert not math.isnan(fit_monitor(km, X).features.mean[0])  # in memory there is no limit


def test_a_model_without_feature_names_compares_columns_by_position():
    X, _ = draw(2000, seed=0)
    model = KMeans(3, random_state=0).fit(X.to_numpy())
    profile = fit_monitor(model, X.to_numpy())
    assert profile.features.names == ["x0", "x1", "x2"]
    X_new, _ = draw(1000, seed=1)
    X_new["income"] += 400.0
    renamed = X_new.set_axis(["p", "q", "r"], axis=1)
    report = drift_report(model, renamed.to_numpy(), reference=profile)
    assert report.moved_features == ["x2"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn: X has feature names, the model none
        assert drift_report(model, renamed, reference=profile).moved_features == ["x2"]
