"""MiniBatchKMeans, SphericalKMeans and KMedians in .kmk files (format version 2), and version 1 files.

Round trips are bitwise (centers, labels, distances, scores, every fitted
attribute inference or ``partial_fit`` reads), a loaded MiniBatchKMeans
continues ``partial_fit`` exactly as the original, the training summary holds
distance quantiles in the model's own distance, and monitoring, the HTTP
service and ``kmeanskit predict`` use such files.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from fastapi.testclient import TestClient
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from kmeanskit import KMeans
from kmeanskit._estimators.kmedians import KMedians
from kmeanskit._estimators.minibatch import MiniBatchKMeans
from kmeanskit._estimators.spherical import SphericalKMeans
from kmeanskit._io.persistence import FORMAT_VERSION, ModelFileError, describe, load, load_with_manifest, save
from kmeanskit.cli import main
from kmeanskit.monitoring import anomaly_scores, drift_report, load_monitored
from kmeanskit.service import create_app

from .model_files import assert_same_predictions, loads_of_damaged_copies, npy, read_manifest, reseal

DATA = Path(__file__).parent / "data"
N_TRAIN = 400
LEVELS = [0.5, 0.9, 0.95, 0.99, 1.0]

# Fitted attributes compared after a round trip (those the estimator has).
STATE = {
    MiniBatchKMeans: ("cluster_centers_", "labels_", "inertia_", "n_iter_", "n_steps_", "_n_features_out", "_X_mean",
                      "_scale", "_counts", "_n_since_last_reassign", "_batch_size", "n_features_in_"),
    SphericalKMeans: ("cluster_centers_", "labels_", "inertia_", "n_iter_", "inertia_history_", "_n_features_out",
                      "n_features_in_"),
    KMedians: ("cluster_centers_", "labels_", "inertia_", "n_iter_", "inertia_history_", "_n_features_out",
               "n_features_in_"),
}
CLASS_NAMES = {MiniBatchKMeans: "kmeanskit.MiniBatchKMeans", SphericalKMeans: "kmeanskit.SphericalKMeans",
               KMedians: "kmeanskit.KMedians"}
DISTANCES = {MiniBatchKMeans: "euclidean", SphericalKMeans: "cosine", KMedians: "manhattan"}


def _blobs(dtype=np.float64, n=N_TRAIN + 100, seed=0):
    """Four blobs far from the origin (so MiniBatchKMeans centers its data), unequal scales."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=10.0, size=(4, 5)) + 1000.0
    centers[:, 1] *= rng.choice([-1.0, 1.0], size=4)  # distinct directions, for SphericalKMeans
    X = centers[rng.integers(0, 4, size=n)] + rng.normal(size=(n, 5))
    X[:, 2] *= 50.0
    return X[:N_TRAIN].astype(dtype), X[N_TRAIN:].astype(dtype)


def _directions(n=N_TRAIN + 100, seed=1):
    """Rows around four distinct directions, of random lengths: cosine distances of order 0.01-0.1."""
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.normal(size=(5, 5)))[0][:4]
    X = axes[rng.integers(0, 4, size=n)] + rng.normal(scale=0.15, size=(n, 5))
    X *= rng.uniform(0.5, 20.0, size=(n, 1))
    return X[:N_TRAIN], X[N_TRAIN:]


def _estimator(cls, **kwargs):
    if cls is MiniBatchKMeans:
        kwargs.setdefault("batch_size", 64)
    return cls(4, random_state=0, **kwargs)


def _same_value(a, b, what):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, what
        assert np.array_equal(a, b), what  # bitwise: no tolerance
    else:
        assert type(a) is type(b) or {type(a), type(b)} <= {float, np.float64}, what
        assert a == b, what


def _assert_same_state(a, b):
    for attr in STATE[type(a)]:
        assert hasattr(a, attr) == hasattr(b, attr), attr
        if hasattr(a, attr):
            _same_value(getattr(a, attr), getattr(b, attr), attr)


def _assert_same_params(a, b):
    pa, pb = a.get_params(), b.get_params()
    assert pa.keys() == pb.keys()
    for key in pa:
        if isinstance(pa[key], np.ndarray):
            assert np.array_equal(pa[key], pb[key]), key
        elif not hasattr(pa[key], "get_params"):
            assert pa[key] == pb[key] and type(pa[key]) is type(pb[key]), key




def _rewrite(path, manifest=None, members=None):
    """Copy the zip at ``path`` with a replaced manifest and/or members, their checksums updated."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    manifest = manifest or json.loads(contents["manifest.json"])
    for name, data in (members or {}).items():
        contents[name] = data
        manifest["members"][name] = hashlib.sha256(data).hexdigest()
    contents["manifest.json"] = json.dumps(manifest).encode()
    reseal(contents)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())



def _reference_distances(cls, X, centers):
    """Plain NumPy distances of every row to every center, float64."""
    X, centers = X.astype(np.float64), centers.astype(np.float64)
    if cls is SphericalKMeans:
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        return 1.0 - Xn @ (centers / np.linalg.norm(centers, axis=1, keepdims=True)).T
    if cls is KMedians:
        return np.abs(X[:, None, :] - centers[None, :, :]).sum(axis=2)
    return np.sqrt(((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls", [MiniBatchKMeans, SphericalKMeans, KMedians])
def test_roundtrip_is_bitwise_identical(tmp_path, cls, dtype):
    X, X_test = _blobs(dtype)
    model = _estimator(cls).fit(X)
    path = tmp_path / "m.kmk"
    save(model, path, X=X)
    loaded, manifest = load_with_manifest(path)
    assert type(loaded) is cls
    assert loaded.cluster_centers_.dtype == np.dtype(dtype)
    _assert_same_params(model, loaded)
    _assert_same_state(model, loaded)
    assert_same_predictions(model, loaded, X_test)
    assert_same_predictions(model, loaded, X)
    assert manifest["format_version"] == 3 and FORMAT_VERSION == 4
    assert manifest["model_class"] == manifest["estimator"]["class"] == CLASS_NAMES[cls]
    assert manifest["summary"]["distance"] == DISTANCES[cls]


@pytest.mark.parametrize("cls", [MiniBatchKMeans, SphericalKMeans])
def test_sparse_fitted_roundtrip(tmp_path, cls):
    X = sp.random(N_TRAIN + 100, 30, density=0.2, format="csr", random_state=3, dtype=np.float64)
    X.data = np.random.default_rng(3).uniform(0.5, 2.0, size=X.nnz)
    X = X[np.flatnonzero(X.getnnz(axis=1))]  # SphericalKMeans refuses rows of zeros
    model = _estimator(cls).fit(X[:N_TRAIN])
    save(model, tmp_path / "m.kmk", X=X[:N_TRAIN])
    loaded = load(tmp_path / "m.kmk")
    if cls is MiniBatchKMeans:
        assert model._X_mean is None and loaded._X_mean is None  # sparse rows are never centered
    _assert_same_state(model, loaded)
    assert_same_predictions(model, loaded, X[N_TRAIN:])
    assert_same_predictions(model, loaded, X[N_TRAIN:].toarray())


@pytest.mark.parametrize("cls", [MiniBatchKMeans, SphericalKMeans, KMedians])
def test_non_default_params_and_init_array_roundtrip(tmp_path, cls):
    X, X_test = _blobs(np.float32)
    extra = {"tol": 1e-6, "max_iter": 50, "init": X[[0, 100, 200, 300]].copy()}
    if cls is MiniBatchKMeans:
        extra.update(compute_labels=False, max_no_improvement=None, init_size=100, reassignment_ratio=0.05,
                     verbose=False, n_init=1)
    elif cls is SphericalKMeans:
        extra.update(copy_x=False, n_init=1, verbose=0)
    model = _estimator(cls, **extra).fit(X)
    save(model, tmp_path / "m.kmk")
    loaded = load(tmp_path / "m.kmk")
    _assert_same_params(model, loaded)
    assert isinstance(loaded.init, np.ndarray) and loaded.init.dtype == np.float32
    _assert_same_state(model, loaded)
    assert_same_predictions(model, loaded, X_test)


@pytest.mark.parametrize("cls", [MiniBatchKMeans, SphericalKMeans, KMedians])
@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(), RobustScaler(), MaxAbsScaler()], ids=repr)
def test_pipeline_roundtrip(tmp_path, cls, scaler):
    X, X_test = _blobs()
    columns = [f"f{i}" for i in range(5)]
    frame, frame_test = pd.DataFrame(X, columns=columns), pd.DataFrame(X_test, columns=columns)
    if cls is SphericalKMeans:
        frame, frame_test = frame + 3.0, frame_test + 3.0  # no all-zero scaled row
    pipe = make_pipeline(scaler, _estimator(cls)).fit(frame)
    path = tmp_path / "p.kmk"
    save(pipe, path, X=frame)
    loaded = load(path)
    assert type(loaded) is Pipeline and type(loaded[-1]) is cls
    assert list(loaded.feature_names_in_) == columns
    _assert_same_state(pipe[-1], loaded[-1])
    assert_same_predictions(pipe, loaded, frame_test)
    manifest = read_manifest(path)
    assert manifest["model_class"] == "sklearn.pipeline.Pipeline"
    assert manifest["estimator"]["class"] == CLASS_NAMES[cls] and manifest["format_version"] == 3


# ----------------------------------------------------- MiniBatchKMeans partial_fit
def _batches(X, size=50):
    return [X[i:i + size] for i in range(0, X.shape[0], size)]


def test_partial_fit_continues_exactly_after_loading(tmp_path):
    batches = _batches(np.vstack(_blobs()))
    # Six centers for four blobs and a high reassignment ratio: centers keep being
    # reassigned to rows drawn by the model's generator, whose position the file must keep.
    original = MiniBatchKMeans(6, batch_size=50, random_state=7, reassignment_ratio=0.5)
    for batch in batches[:3]:
        original.partial_fit(batch)
    path = tmp_path / "mb.kmk"
    save(original, path)
    loaded = load(path)
    _assert_same_state(original, loaded)
    assert loaded._random_state.get_state(legacy=False)["state"]["pos"] == \
        original._random_state.get_state(legacy=False)["state"]["pos"]
    # A model whose generator restarts from random_state would diverge: the test exercises it.
    restarted = load(path)
    del restarted._random_state
    for batch in batches[3:]:
        original.partial_fit(batch)
        loaded.partial_fit(batch)
        restarted.partial_fit(batch)
        _assert_same_state(original, loaded)
    assert original.n_steps_ == len(batches)
    assert not np.array_equal(restarted.cluster_centers_, original.cluster_centers_)


def test_partial_fit_continues_after_fit_and_without_labels(tmp_path):
    X, X_test = _blobs(np.float32)
    for model in (MiniBatchKMeans(4, batch_size=64, random_state=1).fit(X),
                  MiniBatchKMeans(4, batch_size=64, random_state=1, compute_labels=False).partial_fit(X[:100])):
        save(model, tmp_path / "mb.kmk")
        loaded = load(tmp_path / "mb.kmk")
        for batch in _batches(X_test, 25):
            model.partial_fit(batch)
            loaded.partial_fit(batch)
        _assert_same_state(model, loaded)
        assert_same_predictions(model, loaded, X)


# --------------------------------------------------------------- training summary
@pytest.mark.parametrize("cls", [MiniBatchKMeans, SphericalKMeans, KMedians])
def test_summary_quantiles_are_in_the_model_distance(tmp_path, cls):
    X, _ = _directions() if cls is SphericalKMeans else _blobs()
    model = _estimator(cls).fit(X)
    summary = describe(model, X=X)["summary"]
    labels = model.labels_
    assert summary["cluster_sizes"] == np.bincount(labels, minlength=4).tolist()
    assert summary["n_samples"] == N_TRAIN and summary["inertia"] == model.inertia_
    assert summary["distance_quantile_levels"] == LEVELS
    distances = _reference_distances(cls, X, model.cluster_centers_)[np.arange(N_TRAIN), labels]
    expected = [np.quantile(distances[labels == j], LEVELS) for j in range(4)]
    assert np.min(expected) > 1e-3  # distances well above rounding
    assert np.allclose(summary["distance_quantiles"], expected, rtol=1e-9, atol=0)


def test_minibatch_summary_after_partial_fit(tmp_path):
    X, X_test = _blobs()
    model = MiniBatchKMeans(4, batch_size=64, random_state=0)
    for batch in _batches(X, 100):
        model.partial_fit(batch)
    # labels_ are the last batch's: without X the file cannot tell the cluster sizes.
    summary = describe(model)["summary"]
    assert summary["cluster_sizes"] is None and summary["n_samples"] is None
    assert summary["distance_quantiles"] is None and summary["n_iter"] is None and summary["n_steps"] == 4
    # With rows (any sample), the summary is that of the rows as the model assigns them.
    summary = describe(model, X=X_test)["summary"]
    labels = model.predict(X_test)
    assert summary["n_samples"] == 100 and summary["cluster_sizes"] == np.bincount(labels, minlength=4).tolist()
    distances = _reference_distances(MiniBatchKMeans, X_test, model.cluster_centers_)[np.arange(100), labels]
    for j, row in enumerate(summary["distance_quantiles"]):
        assert row is None if not np.any(labels == j) else np.allclose(row, np.quantile(distances[labels == j], LEVELS))
    unlabeled = MiniBatchKMeans(4, batch_size=64, random_state=0, compute_labels=False).fit(X)
    assert describe(unlabeled)["summary"]["cluster_sizes"] is None


def test_kmeans_summary_names_its_distance(tmp_path):
    X, _ = _blobs()
    manifest = describe(KMeans(3, random_state=0).fit(X), X=X)
    assert manifest["format_version"] == 3
    # The version 1 fields, the distance (version 3), the per-feature statistics of drift reports and the
    # shares at or below the quantiles (optional keys, which older readers ignore).
    assert set(manifest["summary"]) == {"n_samples", "cluster_sizes", "inertia", "n_iter", "distance_quantile_levels",
                                        "distance_quantiles", "distance", "features", "distance_at_or_below"}
    assert manifest["summary"]["distance"] == "euclidean"


# ---------------------------------------------------- monitoring, service and CLI
def test_monitoring_uses_the_model_distance(tmp_path):
    X, X_test = _directions()
    model = SphericalKMeans(4, random_state=0).fit(X)
    path = tmp_path / "s.kmk"
    save(model, path, X=X)
    loaded, profile = load_monitored(path)
    assert profile.has_quantiles
    scores = anomaly_scores(path, X_test, level=0.9)
    labels = model.predict(X_test)
    cosine = _reference_distances(SphericalKMeans, X_test, model.cluster_centers_)[np.arange(100), labels]
    assert np.allclose(scores, cosine / profile.quantile(0.9)[labels], rtol=1e-9)
    assert drift_report(path, X).verdict == "no drift"  # the training rows themselves


def test_monitoring_refuses_a_file_without_profile_unless_given_a_reference(tmp_path):
    X, X_test = _blobs()
    model = MiniBatchKMeans(4, batch_size=64, random_state=0).partial_fit(X)
    path = tmp_path / "mb.kmk"
    save(model, path)
    with pytest.raises(ModelFileError, match="holds no training profile.*save\\(model, path, X=X_train\\)"):
        load_monitored(path)
    with pytest.raises(ModelFileError, match="no training profile"):
        anomaly_scores(path, X_test)
    report = drift_report(path, X_test, reference=X)
    assert report.n_reference == N_TRAIN and report.reference_source == "reference data"


@pytest.mark.parametrize("cls", [MiniBatchKMeans, SphericalKMeans, KMedians])
def test_service_serves_each_class(tmp_path, cls):
    X, X_test = _blobs()
    model = _estimator(cls).fit(X)
    path = tmp_path / "m.kmk"
    save(model, path, X=X)
    with TestClient(create_app(path)) as client:
        response = client.post("/predict", json={"instances": X_test[:20].tolist(), "return_distances": True})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["labels"] == model.predict(X_test[:20]).tolist()
        D = model.transform(X_test[:20])
        assert np.array_equal(body["center_distances"], D)
        assert np.array_equal(body["distances"], D[np.arange(20), body["labels"]])
        assert len(body["anomaly_scores"]) == 20
        info = client.get("/model").json()
        assert info["manifest"]["estimator"]["class"] == CLASS_NAMES[cls]
        assert info["manifest"]["summary"]["distance"] == DISTANCES[cls]
        if cls is SphericalKMeans:  # a row of zeros has no direction: a 422 that says so
            response = client.post("/predict", json={"instances": [[0.0] * 5]})
            assert response.status_code == 422 and "zero norm" in response.json()["detail"]


def test_service_serves_a_file_without_profile_without_anomaly_scores(tmp_path):
    X, X_test = _blobs()
    model = MiniBatchKMeans(4, batch_size=64, random_state=0).partial_fit(X)
    save(model, tmp_path / "mb.kmk")
    with TestClient(create_app(tmp_path / "mb.kmk")) as client:
        body = client.post("/predict", json={"instances": X_test[:5].tolist()}).json()
        assert body["labels"] == model.predict(X_test[:5]).tolist() and body["anomaly_scores"] is None
        assert client.get("/health").json()["anomaly_detection"] is False


@pytest.mark.parametrize("cls", [SphericalKMeans, KMedians, MiniBatchKMeans])
def test_cli_predict_on_each_class(tmp_path, capsys, cls):
    X, X_test = _blobs()
    columns = ["a", "b", "c", "d", "e"]
    pipe = make_pipeline(MaxAbsScaler(), _estimator(cls)).fit(pd.DataFrame(X, columns=columns))
    save(pipe, tmp_path / "m.kmk")
    table = pd.DataFrame(X_test, columns=columns).assign(id=np.arange(100))
    table.to_csv(tmp_path / "new.csv", index=False)
    code = main(["predict", str(tmp_path / "m.kmk"), str(tmp_path / "new.csv"), "-o", str(tmp_path / "out.csv")])
    assert code == 0, capsys.readouterr().err
    out = pd.read_csv(tmp_path / "out.csv")
    frame = pd.DataFrame(X_test, columns=columns)
    labels = pipe.predict(frame)
    assert out["cluster"].tolist() == labels.tolist() and out["id"].tolist() == list(range(100))
    assert np.allclose(out["distance"], pipe.transform(frame)[np.arange(100), labels], rtol=1e-12)


# -------------------------------------------------------------------- refusals
def _saved(tmp_path, model, X=None):
    path = tmp_path / "m.kmk"
    save(model, path, X=X)
    return path


@pytest.mark.parametrize("name", ["kmeanskit.Foo", "sklearn.cluster.MiniBatchKMeans", "builtins.eval", 3])
def test_unknown_estimator_class_name_is_refused(tmp_path, name):
    path = _saved(tmp_path, KMedians(2, random_state=0).fit(_blobs()[0]))
    manifest = read_manifest(path)
    manifest["estimator"]["class"] = name
    manifest["model_class"] = name
    _rewrite(path, manifest)
    with pytest.raises(ModelFileError, match="unknown (model|estimator) class"):
        load(path)


def test_model_class_must_match_the_estimator(tmp_path):
    path = _saved(tmp_path, KMedians(2, random_state=0).fit(_blobs()[0]))
    manifest = read_manifest(path)
    manifest["model_class"] = "kmeanskit.KMeans"
    _rewrite(path, manifest)
    with pytest.raises(ModelFileError, match="model class 'kmeanskit.KMeans' but the estimator is a kmeanskit.KMedians"):
        load(path)


def _minibatch_file(tmp_path):
    X, _ = _blobs()
    return _saved(tmp_path, MiniBatchKMeans(4, batch_size=64, random_state=0).partial_fit(X))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda s: s["_random_state"]["mt19937"].update(pos=625), "generator position"),
        (lambda s: s["_random_state"]["mt19937"].update(has_gauss=True), "has_gauss"),
        (lambda s: s["_random_state"]["mt19937"].pop("gauss"), "needs key, pos"),
        (lambda s: s.update(_random_state=3), "_random_state must be a random generator"),
        (lambda s: s.update(_scale=0.0), "_scale must be a positive finite"),
        (lambda s: s.update(_batch_size=0), "_batch_size must be an int >= 1"),
        (lambda s: s.update(_n_since_last_reassign=-1), "_n_since_last_reassign"),
        (lambda s: s.pop("_counts"), "missing fitted attribute"),
        (lambda s: s.pop("_X_mean"), "missing fitted attribute"),
        (lambda s: s.update(n_steps_=True), "n_steps_ must be an int"),
        (lambda s: s.update(inertia_=-1.0), "inertia_ must be a number >= 0"),
    ],
    ids=["pos", "has-gauss-bool", "incomplete-generator", "not-a-generator", "scale", "batch-size",
         "reassign-counter", "no-counts", "no-mean", "steps-bool", "negative-inertia"],
)
def test_damaged_minibatch_state_is_refused(tmp_path, change, match):
    path = _minibatch_file(tmp_path)
    manifest = read_manifest(path)
    change(manifest["estimator"]["state"])
    _rewrite(path, manifest)
    with pytest.raises(ModelFileError, match=match):
        load(path)


@pytest.mark.parametrize(
    "member, array, match",
    [
        ("model._counts.npy", -np.ones(4), "_counts must hold 4 non-negative"),
        ("model._counts.npy", np.ones(3), r"_counts has shape \(3,\)"),
        ("model._random_state.npy", np.zeros(624, dtype=np.int64), "624 uint32 words"),
        ("model._random_state.npy", np.zeros(10, dtype=np.uint32), "624 uint32 words"),
    ],
)
def test_damaged_minibatch_arrays_are_refused(tmp_path, member, array, match):
    path = _minibatch_file(tmp_path)
    _rewrite(path, members={member: npy(array)})
    with pytest.raises(ModelFileError, match=match):
        load(path)


def test_corrupted_minibatch_file_is_refused_or_harmless(tmp_path):
    X, X_test = _blobs()
    model = MiniBatchKMeans(4, batch_size=64, random_state=0).partial_fit(X)
    path = _saved(tmp_path, model)
    expected = load(path)
    expected.partial_fit(X_test)
    for loaded in loads_of_damaged_copies(path, times=100, seed=11):
        # Only bytes that carry no model content (zip timestamps, padding) may change.
        assert_same_predictions(model, loaded, X_test)
        loaded.partial_fit(X_test)
        _assert_same_state(expected, loaded)


def test_zero_spherical_center_is_refused(tmp_path):
    path = _saved(tmp_path, SphericalKMeans(3, random_state=0).fit(_blobs()[0]))
    centers = load(path).cluster_centers_.copy()
    centers[1] = 0.0
    _rewrite(path, members={"model.cluster_centers_.npy": npy(centers)})
    with pytest.raises(ModelFileError, match="zero vector"):
        load(path)


def test_random_state_instance_as_parameter_is_refused(tmp_path):
    path = _minibatch_file(tmp_path)
    manifest = read_manifest(path)
    manifest["estimator"]["params"]["random_state"] = manifest["estimator"]["state"]["_random_state"]
    _rewrite(path, manifest)
    with pytest.raises(ModelFileError, match="parameter 'random_state' has an unsupported RandomState"):
        load(path)


@pytest.mark.parametrize(
    "model, match",
    [
        (MiniBatchKMeans(2, random_state=np.random.RandomState(0)), "RandomState"),
        (MiniBatchKMeans(2, init=lambda X, k, random_state: X[:k], random_state=0), "callable init"),
        (SphericalKMeans(2), "not fitted"),
    ],
    ids=["randomstate-param", "callable-init", "unfitted"],
)
def test_unsupported_models_are_refused(tmp_path, model, match):
    if match != "not fitted":
        model.fit(_blobs()[0])
    with pytest.raises(ValueError, match=match):
        save(model, tmp_path / "m.kmk")
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------- version 1 files
@pytest.mark.parametrize("name", ["kmeans_v1.kmk", "pipeline_v1.kmk"])
def test_version_1_files_load_unchanged(name):
    """Files written by the version 1 writer (see data/make_v1_files.py) load and predict as they did."""
    path = DATA / name
    model, manifest = load_with_manifest(path)
    assert manifest["format_version"] == 1
    expected = json.loads((DATA / "v1_expected.json").read_text())[name]
    final = model[-1] if isinstance(model, Pipeline) else model
    assert type(final) is KMeans
    with zipfile.ZipFile(path) as archive:
        stored = np.load(io.BytesIO(archive.read("model.cluster_centers_.npy")), allow_pickle=False)
    assert final.cluster_centers_.dtype == stored.dtype and np.array_equal(final.cluster_centers_, stored)

    X, X_test = _v1_blobs(np.float32 if "pipeline" in name else np.float64)
    if isinstance(model, Pipeline):
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
        X_test = pd.DataFrame(X_test, columns=X.columns)
    X_test = X_test[:25]
    assert model.predict(X_test).tolist() == expected["labels"]
    distances = np.array([[float.fromhex(v) for v in row] for row in expected["distances"]])
    assert np.allclose(model.transform(X_test), distances, rtol=1e-6 if "pipeline" in name else 1e-12)
    # The current writer describes the model as the version 1 writer did, but for the version and the
    # summary's distance (both from version 3), and adds the per-feature statistics of drift reports and
    # the shares at or below the distance quantiles.
    current = describe(model, X=X)
    for key in ("created", "kmeanskit_version", "members", "format_version"):
        manifest.pop(key)
        current.pop(key, None)
    assert current["summary"].pop("distance") == "euclidean"
    assert current["summary"].pop("features")["n_samples"] == 400
    assert len(current["summary"].pop("distance_at_or_below")) == final.n_clusters
    # A parameter added since version 1 is described at its default (and absent from old files).
    assert current["estimator"]["params"].pop("missing") == "error"
    assert "missing" not in manifest["estimator"]["params"] and final.missing == "error"
    assert current == manifest


def _v1_blobs(dtype):
    """The data of the version 1 files (data/make_v1_files.py)."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=10.0, size=(4, 5)) + 1000.0
    X = centers[rng.integers(0, 4, size=500)] + rng.normal(size=(500, 5))
    X[:, 2] *= 50.0
    return X[:400].astype(dtype), X[400:].astype(dtype)


def _v1_module():
    """The version 1 reader (from git history), or skip when the history is not available."""
    import importlib.util
    import subprocess

    spec = importlib.util.spec_from_file_location("_make_v1_files", DATA / "make_v1_files.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    try:
        return make.v1_module()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the version 1 writer is not in this checkout's git history")


def test_version_1_reader_refuses_version_3_files(tmp_path):
    # Version 3 files hold an integrity record the version 1 reader does not know: it refuses them
    # (a member it does not allow) rather than loading a file whose manifest it cannot check.
    v1 = _v1_module()
    X, _ = _blobs()
    for model in (make_pipeline(StandardScaler(), KMeans(3, random_state=0)), KMedians(3, random_state=0)):
        save(model.fit(X), tmp_path / "m.kmk", X=X)
        with pytest.raises(v1.ModelFileError, match="integrity.json"):
            v1.load(tmp_path / "m.kmk")
