"""Anomaly scores: distance to the nearest center over the cluster's training quantile."""

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, ModelFileError, save
from kmeanskit.monitoring import (
    DEFAULT_QUANTILE_LEVELS,
    TrainingProfile,
    anomaly_scores,
    assign,
    fit_monitor,
    load_monitored,
)

from ...io.persistence.model_files import reseal

CENTERS = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    return CENTERS[y] + rng.normal(size=(n, 3))


@pytest.fixture(scope="module")
def X_train():
    return blobs(2000, seed=0)


@pytest.fixture(scope="module")
def km(X_train):
    return KMeans(4, random_state=0).fit(X_train)


def reference_profile(km, X):
    """Plain NumPy: labels, distance to the assigned center, per-cluster quantiles."""
    labels = km.predict(X)
    d = np.linalg.norm(X - km.cluster_centers_[labels], axis=1)
    q = np.array([np.quantile(d[labels == j], DEFAULT_QUANTILE_LEVELS) for j in range(4)])
    return labels, d, q


def test_fit_monitor_matches_a_numpy_reference(km, X_train):
    profile = fit_monitor(km, X_train)
    labels, d, q = reference_profile(km, X_train)
    assert profile.n_samples == 2000 and profile.n_clusters == 4
    np.testing.assert_array_equal(profile.cluster_sizes, np.bincount(labels, minlength=4))
    np.testing.assert_allclose(profile.distance_quantiles, q, rtol=1e-10)
    np.testing.assert_allclose(profile.mean_distances, [d[labels == j].mean() for j in range(4)], rtol=1e-10)
    assert profile.source == "reference data"


def test_scores_are_distance_over_the_cluster_quantile(km, X_train):
    X_new = blobs(500, seed=1)
    _, _, q = reference_profile(km, X_train)
    labels = km.predict(X_new)
    expected = np.linalg.norm(X_new - km.cluster_centers_[labels], axis=1) / q[labels, 3]  # level 0.99
    scores = anomaly_scores(km, X_new, reference=X_train)
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    # The 90% level: about 10% of rows like the training data score above 1.
    scores90 = anomaly_scores(km, X_new, reference=X_train, level=0.9)
    assert 0.06 < np.mean(scores90 > 1) < 0.14


def test_training_rows_above_1_are_the_top_1_percent_of_each_cluster(km, X_train):
    scores = anomaly_scores(km, X_train, reference=X_train)
    sizes = np.bincount(km.predict(X_train), minlength=4)
    # np.quantile interpolates between order statistics: in a cluster of n distinct distances,
    # the rows strictly above the 99% quantile are those ranked above floor(0.99 * (n - 1)).
    expected = sum(n - 1 - np.floor(0.99 * (n - 1)) for n in sizes)
    assert np.sum(scores > 1) == expected
    assert 0.008 < expected / 2000 < 0.012


def test_model_file_profile_gives_the_same_scores(tmp_path, km, X_train):
    path = tmp_path / "model.kmk"
    save(km, path, X=X_train)
    X_new = blobs(300, seed=2)
    from_file = anomaly_scores(path, X_new)
    from_data = anomaly_scores(km, X_new, reference=fit_monitor(km, X_train))
    np.testing.assert_allclose(from_file, from_data, rtol=1e-12)
    model, profile = load_monitored(path)
    assert profile.source == "model file" and profile.mean_distances is None
    np.testing.assert_allclose(anomaly_scores(model, X_new, reference=profile), from_file, rtol=0)


def test_pipeline_distances_are_in_the_scaled_space(tmp_path):
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"age": rng.normal(40, 10, 600), "income": rng.normal(5e4, 1e4, 600)})
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    labels, distances, D = assign(pipe, X, all_distances=True)
    Z = pipe[0].transform(X)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    np.testing.assert_allclose(distances, np.linalg.norm(Z - pipe[-1].cluster_centers_[labels], axis=1), rtol=1e-9)
    assert D.shape == (600, 3)
    save(pipe, tmp_path / "p.kmk", X=X)
    scores = anomaly_scores(tmp_path / "p.kmk", X)
    sizes = np.bincount(labels, minlength=3)
    assert np.sum(scores > 1) == sum(n - 1 - np.floor(0.99 * (n - 1)) for n in sizes)


def test_inputs_are_not_modified(km, X_train):
    X_new = blobs(100, seed=4)
    before, train_before = X_new.copy(), X_train.copy()
    anomaly_scores(km, X_new, reference=X_train)
    np.testing.assert_array_equal(X_new, before)
    np.testing.assert_array_equal(X_train, train_before)


def test_a_cluster_of_identical_training_rows_has_threshold_zero():
    X = np.array([[0.0, 0.0]] * 10 + [[5.0, 5.0]] * 10)
    km = KMeans(2, random_state=0).fit(X)
    scores = anomaly_scores(km, np.array([[0.0, 0.0], [0.1, 0.0]]), reference=X)
    assert scores[0] == 0.0 and scores[1] == np.inf


def test_file_saved_without_X_asks_for_training_data(tmp_path, km, X_train):
    path = tmp_path / "bare.kmk"
    save(km, path)
    with pytest.raises(ValueError, match=r"save\(model, path, X=X_train\)"):
        anomaly_scores(path, X_train[:5])
    # A reference given explicitly works.
    assert anomaly_scores(path, X_train[:5], reference=X_train).shape == (5,)


def test_errors_name_the_problem(km, X_train):
    with pytest.raises(ValueError, match="no training profile"):
        anomaly_scores(km, X_train[:5])
    with pytest.raises(ValueError, match="level=0.98 is not stored.*0.5, 0.9, 0.95, 0.99, 1"):
        anomaly_scores(km, X_train[:5], reference=X_train, level=0.98)
    with pytest.raises(ValueError, match="level must be a number strictly between 0 and 1"):
        anomaly_scores(km, X_train[:5], reference=X_train, level=1.0)
    other = KMeans(4, random_state=1).fit(X_train + 1.0)
    with pytest.raises(ValueError, match="TrainingProfile of another model"):
        anomaly_scores(km, X_train[:5], reference=fit_monitor(other, X_train))
    with pytest.raises(ValueError, match="3 features"):
        anomaly_scores(km, X_train[:5, :2], reference=X_train)
    with pytest.raises(TypeError, match="fitted K-Means estimator"):
        anomaly_scores(StandardScaler().fit(X_train), X_train[:5], reference=X_train)
    with pytest.raises(ValueError, match="quantile_levels must be increasing"):
        fit_monitor(km, X_train, quantile_levels=(0.9, 0.5))


def _rewrite_summary(path, change):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["manifest.json"])
    change(manifest["summary"])
    members["manifest.json"] = json.dumps(manifest).encode()
    reseal(members)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(cluster_sizes=[1, 2]), "n_samples"),
    (lambda s: s["distance_quantiles"][1].reverse(), "non-decreasing"),
    (lambda s: s.update(distance_quantile_levels=[0.9, 0.5, 0.95, 0.99, 1.0]), "increasing"),
    (lambda s: s.update(distance_quantiles="x"), "one entry per cluster"),
])
def test_a_tampered_training_summary_is_refused(tmp_path, km, X_train, change, message):
    path = tmp_path / "m.kmk"
    save(km, path, X=X_train)
    _rewrite_summary(path, change)
    with pytest.raises(ModelFileError, match=message):
        load_monitored(path)


def test_profile_round_trips_to_json(km, X_train):
    profile = fit_monitor(km, X_train)
    as_json = json.loads(json.dumps(profile.to_dict(), allow_nan=False))
    assert as_json["cluster_sizes"] == profile.cluster_sizes.tolist()
    summary = {"n_samples": profile.n_samples, "cluster_sizes": as_json["cluster_sizes"],
               "distance_quantile_levels": as_json["quantile_levels"],
               "distance_quantiles": as_json["distance_quantiles"]}
    again = TrainingProfile.from_summary(summary)
    np.testing.assert_array_equal(again.distance_quantiles, profile.distance_quantiles)
