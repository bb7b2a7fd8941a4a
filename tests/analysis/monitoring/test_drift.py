"""Drift reports: stable on data like the training data, alarmed by real shifts."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from kmeanskit import KMeans, save
from kmeanskit.monitoring import DriftReport, drift_report, fit_monitor, load_monitored

CENTERS = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
EQUAL = (0.25, 0.25, 0.25, 0.25)


def draw(n, seed, shares=EQUAL, shift=None):
    """Rows from four unit-variance blobs; `shift` moves one blob by 2 standard deviations per feature."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=shares)
    X = CENTERS[y] + rng.normal(size=(n, 3))
    if shift is not None:
        X[y == shift] += 2.0
    return X


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    X_train = draw(4000, seed=0)
    km = KMeans(4, random_state=0).fit(X_train)
    path = tmp_path_factory.mktemp("drift") / "model.kmk"
    save(km, path, X=X_train)
    # Map each true blob to the cluster the model gave it.
    blob_to_cluster = km.predict(CENTERS)
    assert sorted(blob_to_cluster) == [0, 1, 2, 3]
    return km, path, X_train, blob_to_cluster


def test_data_from_the_training_distribution_is_no_drift_for_every_seed(setup):
    km, path, _, _ = setup
    for seed in range(100, 112):
        report = drift_report(path, draw(2000, seed))
        assert report.verdict == "no drift" and not report.drift, (seed, report.reasons)
        assert report.psi < 0.02 and report.reasons == []


def test_small_samples_do_not_flap_even_when_their_psi_is_large(setup):
    km, path, _, _ = setup
    psis = []
    for seed in range(200, 230):
        report = drift_report(path, draw(20, seed))
        assert report.verdict == "no drift", (seed, report.reasons)
        psis.append(report.psi)
    # The PSI alone would have raised alarms: about (k - 1) / n = 0.15 on average for n = 20.
    assert max(psis) > 0.2


def test_one_cluster_doubled_in_share_is_drift(setup):
    km, path, _, blob_to_cluster = setup
    report = drift_report(path, draw(2000, seed=1, shares=(0.5, 1 / 6, 1 / 6, 1 / 6)))
    assert report.verdict == "drift" and report.drift
    assert report.share_drift and not report.distance_drift and not report.anomaly_drift
    assert report.psi > 0.2 and report.chi2_p_value < 1e-10
    assert "cluster shares shifted" in report.reasons[0]
    doubled = blob_to_cluster[0]
    assert report.clusters.loc[doubled, "new_share"] == pytest.approx(0.5, abs=0.03)
    assert report.clusters["psi"].idxmax() == doubled


def test_one_cluster_shifted_by_two_standard_deviations_is_drift(setup):
    km, path, _, blob_to_cluster = setup
    moved = blob_to_cluster[2]
    report = drift_report(path, draw(2000, seed=2, shift=2))
    assert report.verdict == "drift"
    assert report.distance_drift and report.anomaly_drift and not report.share_drift
    assert f"cluster {moved}" in report.reasons[0]
    table = report.clusters.set_index("cluster")
    assert table["distance_psi"].idxmax() == moved
    # The moved blob sits 2 * sqrt(3) = 3.5 standard deviations from its old center (median distance
    # 1.54 before, for 3 unit-variance features).
    assert table.loc[moved, "new_median_distance"] > 2 * table.loc[moved, "train_median_distance"]
    assert table.loc[moved, "anomaly_rate"] > 0.5
    others = [j for j in range(4) if j != moved]
    assert (table.loc[others, "anomaly_rate"] < 0.05).all()


def test_statistics_match_their_definitions(setup):
    km, path, X_train, _ = setup
    X_new = draw(1000, seed=3, shares=(0.4, 0.2, 0.2, 0.2))
    report = drift_report(km, X_new, reference=X_train)
    train = np.bincount(km.predict(X_train), minlength=4) / 4000
    counts = np.bincount(km.predict(X_new), minlength=4)
    new = counts / 1000
    np.testing.assert_allclose(report.clusters["train_share"], train)
    np.testing.assert_allclose(report.clusters["new_share"], new)
    assert report.psi == pytest.approx(np.sum((new - train) * np.log(new / train)), rel=1e-12)
    chi2 = stats.chisquare(counts, train * 1000)
    assert report.chi2_statistic == pytest.approx(chi2.statistic, rel=1e-12)
    assert report.chi2_p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    # Anomalies: beyond the 99% quantile of the training distances of the row's cluster.
    profile = fit_monitor(km, X_train)
    labels = km.predict(X_new)
    d = np.linalg.norm(X_new - km.cluster_centers_[labels], axis=1)
    beyond = int(np.sum(d > profile.quantile(0.99)[labels]))
    assert report.n_anomalies == beyond
    assert report.anomaly_p_value == pytest.approx(
        stats.binomtest(beyond, 1000, 0.01, alternative="greater").pvalue, rel=1e-9)
    np.testing.assert_allclose(report.clusters["train_mean_distance"], profile.mean_distances)
    np.testing.assert_allclose(report.clusters["new_mean_distance"],
                               [d[labels == j].mean() for j in range(4)], rtol=1e-10)


def test_to_dict_is_plain_json(setup):
    _, path, _, _ = setup
    report = drift_report(path, draw(500, seed=4, shift=0))
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["verdict"] == "drift" and payload["drift"] is True
    assert len(payload["clusters"]) == 4
    assert set(payload["clusters"][0]) >= {"cluster", "train_share", "new_share", "psi", "train_mean_distance",
                                          "new_mean_distance"}
    # The model file stores quantiles, not means: unknown, not a made-up number.
    assert payload["clusters"][0]["train_mean_distance"] is None
    assert payload["reference_source"] == "model file"
    assert isinstance(report, DriftReport)


def test_a_file_without_quantiles_still_checks_the_shares(tmp_path, setup):
    km, _, X_train, _ = setup
    bare = tmp_path / "bare.kmk"
    save(km, bare)
    report = drift_report(bare, draw(2000, seed=5, shift=1))
    assert not report.distance_checked and report.anomaly_rate is None and report.verdict == "no drift"
    assert math.isnan(report.clusters["distance_psi"][0])
    report = drift_report(bare, draw(2000, seed=5, shift=1), reference=X_train)
    assert report.distance_checked and report.verdict == "drift"


@pytest.mark.parametrize("kwargs, message", [
    ({"alpha": 0}, "alpha must be a number strictly between 0 and 1"),
    ({"alpha": 1.5}, "alpha"),
    ({"psi_threshold": -1}, "psi_threshold must be a positive number"),
    ({"anomaly_factor": 0.5}, "anomaly_factor must be a number >= 1"),
    ({"anomaly_level": 1.0}, "anomaly_level"),
])
def test_bad_settings_are_refused(setup, kwargs, message):
    _, path, _, _ = setup
    with pytest.raises(ValueError, match=message):
        drift_report(path, draw(10, seed=0), **kwargs)


def test_empty_new_data_is_refused(setup):
    _, path, _, _ = setup
    with pytest.raises(ValueError, match="X_new has no rows"):
        drift_report(path, np.empty((0, 3)))


def test_tied_distances_bin_by_their_true_training_shares(tmp_path):
    """Rows on a grid of few values (K-Modes' whole-number costs, duplicated rows) tie at the
    quantiles: the profile stores the share at or below each one, so the training rows
    themselves, or a resample of them, are no drift (binned by the levels they alarmed)."""
    rng = np.random.default_rng(0)
    X = np.repeat(rng.integers(0, 3, size=(400, 2)).astype(float), 10, axis=0)
    km = KMeans(2, random_state=0, n_init=1).fit(X)
    profile = fit_monitor(km, X)
    d = km.transform(X)[np.arange(X.shape[0]), km.labels_]
    for j in range(2):
        own = np.sort(d[km.labels_ == j])
        expected = np.searchsorted(own, profile.distance_quantiles[j], side="right") / own.size
        np.testing.assert_array_equal(profile.distance_at_or_below[j], expected)
        assert np.any(profile.distance_at_or_below[j] > np.array(profile.quantile_levels))  # ties exist
    save(km, tmp_path / "m.kmk", X=X)
    model, stored = load_monitored(tmp_path / "m.kmk")
    np.testing.assert_array_equal(stored.distance_at_or_below, profile.distance_at_or_below)
    for reference in (profile, stored):
        report = drift_report(model, X, reference=reference)
        assert not report.distance_drift, report.reasons
    resample = X[rng.integers(0, X.shape[0], size=X.shape[0])]
    assert not drift_report(km, resample, reference=profile).distance_drift


@pytest.mark.parametrize("bad", ["no", [[0.5, 0.9, 0.95, 0.99, 1.0]], "decreasing", "zero", "beyond one"])
def test_damaged_shares_at_the_quantiles_are_refused(setup, bad):
    from kmeanskit._analysis.monitoring.profile import TrainingProfile
    from kmeanskit._io.persistence import ModelFileError, load_with_manifest

    _, manifest = load_with_manifest(setup[1])
    summary = manifest["summary"]
    rows = summary["distance_at_or_below"]
    assert len(rows) == 4 and all(len(row) == 5 for row in rows)
    if bad == "decreasing":
        rows[0] = rows[0][::-1]
    elif bad == "zero":
        rows[1][0] = 0.0
    elif bad == "beyond one":
        rows[2][-1] = 1.5
    else:
        summary["distance_at_or_below"] = bad
    with pytest.raises(ModelFileError, match="invalid training summary in the model file: .*distance_at_or_below|"
                                             "invalid training summary in the model file: the shares at or below"):
        TrainingProfile.from_summary(summary)
