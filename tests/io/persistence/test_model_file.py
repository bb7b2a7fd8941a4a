"""The .kmk model file: faithful round trips, a checked manifest, and refusal of bad files."""

import hashlib
import io
import json
import pickle
import zipfile
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from kmeanskit import KMeans
from kmeanskit._io import persistence
from kmeanskit._io.persistence import FORMAT_VERSION, ModelFileError, load, save

from .model_files import assert_same_predictions, loads_of_damaged_copies, npy, read_manifest, reseal

N_TRAIN = 400


def _blobs(dtype=np.float64, n=N_TRAIN + 100, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=10.0, size=(4, 5)) + 1000.0  # far from the origin: _X_mean matters
    X = centers[rng.integers(0, 4, size=n)] + rng.normal(size=(n, 5))
    X[:, 2] *= 50.0  # unequal scales, so the scalers do something
    return X[:N_TRAIN].astype(dtype), X[N_TRAIN:].astype(dtype)


def _assert_same_params(a, b):
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for key in pa:
        if isinstance(pa[key], np.ndarray):
            assert np.array_equal(pa[key], pb[key]), key
        else:
            assert pa[key] == pb[key], key


def _assert_same_kmeans_state(a, b):
    for attr in ("cluster_centers_", "labels_", "inertia_history_"):
        assert getattr(a, attr).dtype == getattr(b, attr).dtype
        assert np.array_equal(getattr(a, attr), getattr(b, attr)), attr
    if a._X_mean is None:
        assert b._X_mean is None
    else:
        assert b._X_mean.dtype == a._X_mean.dtype and np.array_equal(a._X_mean, b._X_mean)
    assert (a.inertia_, a.n_iter_, a.n_features_in_, a._n_features_out) == (
        b.inertia_, b.n_iter_, b.n_features_in_, b._n_features_out
    )



def _roundtrip(model, tmp_path, **kwargs):
    path = tmp_path / "model.kmk"
    save(model, path, **kwargs)
    return load(path)



def _rewrite(path, *, manifest=None, members=None, extra=None):
    """Copy the zip at ``path`` with a replaced manifest (resealed) and/or member bytes (checksums untouched)."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    if manifest is not None:
        contents["manifest.json"] = json.dumps(manifest).encode()
        reseal(contents)
    contents.update(members or {})
    contents.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())



@pytest.fixture
def saved(tmp_path):
    X, _ = _blobs()
    km = KMeans(4, random_state=0).fit(X)
    path = tmp_path / "model.kmk"
    save(km, path, X=X)
    return km, path


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_roundtrip_is_bitwise_identical(tmp_path, dtype):
    X, X_test = _blobs(dtype)
    km = KMeans(4, random_state=0, n_init=3, tol=1e-6).fit(X)
    loaded = _roundtrip(km, tmp_path, X=X)
    assert type(loaded) is KMeans
    assert loaded.cluster_centers_.dtype == np.dtype(dtype)
    _assert_same_params(km, loaded)
    _assert_same_kmeans_state(km, loaded)
    assert_same_predictions(km, loaded, X_test)
    assert_same_predictions(km, loaded, X)
    assert not hasattr(loaded, "feature_names_in_")


def test_init_array_is_a_member_not_inline(tmp_path):
    X, X_test = _blobs(np.float32)
    init = X[:3].copy()
    km = KMeans(3, init=init).fit(X)
    path = tmp_path / "m.kmk"
    save(km, path)
    loaded = load(path)
    assert isinstance(loaded.init, np.ndarray) and np.array_equal(loaded.init, init)
    _assert_same_params(km, loaded)
    assert_same_predictions(km, loaded, X_test)
    reference = read_manifest(path)["estimator"]["params"]["init"]
    assert reference == {"array": "model.init.npy"}


def test_dataframe_feature_names_roundtrip(tmp_path):
    X, X_test = _blobs()
    columns = ["age", "income", "visits", "basket", "tenure"]
    frame, frame_test = pd.DataFrame(X, columns=columns), pd.DataFrame(X_test, columns=columns)
    km = KMeans(4, random_state=1).fit(frame)
    loaded = _roundtrip(km, tmp_path)
    assert list(loaded.feature_names_in_) == columns
    assert loaded.feature_names_in_.dtype == km.feature_names_in_.dtype
    assert_same_predictions(km, loaded, frame_test)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame_test.rename(columns={"age": "AGE"}))


def test_sparse_fitted_roundtrip(tmp_path):
    rng = np.random.default_rng(3)
    X = sp.random(N_TRAIN + 100, 30, density=0.1, format="csr", random_state=3, dtype=np.float64)
    X.data = rng.normal(size=X.nnz)
    km = KMeans(5, random_state=0).fit(X[:N_TRAIN])
    assert km._X_mean is None  # sparse fit: no centering
    loaded = _roundtrip(km, tmp_path, X=X[:N_TRAIN])
    _assert_same_kmeans_state(km, loaded)
    assert_same_predictions(km, loaded, X[N_TRAIN:])
    assert_same_predictions(km, loaded, X[N_TRAIN:].toarray())


SCALERS = [
    StandardScaler(),
    StandardScaler(with_mean=False),
    StandardScaler(with_std=False),
    MinMaxScaler(),
    MinMaxScaler(feature_range=(-2.0, 3.0), clip=True),
    RobustScaler(),
    RobustScaler(quantile_range=(10.0, 90.0), unit_variance=True, with_centering=False),
    RobustScaler(with_scaling=False),
    MaxAbsScaler(),
    MaxAbsScaler(clip=True),
]


@pytest.mark.parametrize("scaler", SCALERS, ids=repr)
def test_pipeline_with_each_scaler_roundtrips(tmp_path, scaler):
    X, X_test = _blobs()
    pipe = make_pipeline(scaler, KMeans(4, random_state=0)).fit(X)
    loaded = _roundtrip(pipe, tmp_path, X=X)
    assert type(loaded) is Pipeline
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipe.steps]
    for (_, a), (_, b) in zip(pipe.steps, loaded.steps, strict=True):
        assert type(a) is type(b)
        _assert_same_params(a, b)
    _assert_same_kmeans_state(pipe[-1], loaded[-1])
    # Outside the training range too, where clip matters.
    assert_same_predictions(pipe, loaded, np.vstack([X_test, X_test * 3.0]))


def test_two_chained_scalers_with_feature_names(tmp_path):
    X, X_test = _blobs(np.float32)
    columns = [f"f{i}" for i in range(5)]
    frame, frame_test = pd.DataFrame(X, columns=columns), pd.DataFrame(X_test, columns=columns)
    pipe = Pipeline([
        ("robust", RobustScaler(quantile_range=(5.0, 95.0))),
        ("minmax", MinMaxScaler(feature_range=(0.0, 10.0))),
        ("cluster", KMeans(3, random_state=2)),
    ]).fit(frame)
    path = tmp_path / "pipe.kmk"
    save(pipe, str(path), X=frame)  # str path too
    loaded = load(str(path))
    assert list(loaded.feature_names_in_) == columns
    assert loaded[-1].cluster_centers_.dtype == np.float32
    assert_same_predictions(pipe, loaded, frame_test)
    assert read_manifest(path)["feature_names_in"] == columns
    assert [s["class"] for s in read_manifest(path)["preprocessing"]] == [
        "sklearn.preprocessing.RobustScaler", "sklearn.preprocessing.MinMaxScaler",
    ]


def test_pipeline_without_preprocessing(tmp_path):
    X, X_test = _blobs()
    pipe = Pipeline([("km", KMeans(2, random_state=0))]).fit(X)
    loaded = _roundtrip(pipe, tmp_path)
    assert type(loaded) is Pipeline and len(loaded) == 1
    assert_same_predictions(pipe, loaded, X_test)


def test_pandas_output_config_roundtrips(tmp_path):
    X, X_test = _blobs()
    columns = [f"c{i}" for i in range(5)]
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).set_output(transform="pandas")
    pipe.fit(pd.DataFrame(X, columns=columns))
    loaded = _roundtrip(pipe, tmp_path)
    frame_test = pd.DataFrame(X_test, columns=columns)
    assert np.array_equal(pipe.predict(frame_test), loaded.predict(frame_test))
    assert isinstance(loaded.transform(frame_test), pd.DataFrame)
    assert list(loaded[-1].feature_names_in_) == columns


def test_pickle_roundtrip_predicts_identically():
    X, X_test = _blobs(np.float32)
    km = KMeans(4, random_state=0).fit(X)
    clone = pickle.loads(pickle.dumps(km))
    _assert_same_kmeans_state(km, clone)
    assert_same_predictions(km, clone, X_test)


# ---------------------------------------------------------------------- manifest
def test_manifest_content(saved):
    km, path = saved
    manifest = read_manifest(path)
    assert manifest["format"] == "kmeanskit-model"
    assert manifest["format_version"] == 3 and FORMAT_VERSION == 4  # KMeans files stay version 3
    assert manifest["kmeanskit_version"] == __import__("kmeanskit").__version__
    created = datetime.fromisoformat(manifest["created"].replace("Z", "+00:00"))
    assert created.utcoffset().total_seconds() == 0
    assert manifest["model_class"] == "kmeanskit.KMeans"
    assert manifest["estimator"]["class"] == "kmeanskit.KMeans"
    assert manifest["estimator"]["params"]["n_clusters"] == 4
    assert manifest["n_features_in"] == 5 and manifest["centers_dtype"] == "float64"
    assert manifest["feature_names_in"] is None and manifest["preprocessing"] == []

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist()) - {"manifest.json", "integrity.json"}
        assert set(manifest["members"]) == names
        assert "model.cluster_centers_.npy" in names and "model._X_mean.npy" in names
        for name in names:
            assert manifest["members"][name] == hashlib.sha256(archive.read(name)).hexdigest()
            assert archive.read(name).startswith(b"\x93NUMPY")

    summary = manifest["summary"]
    assert summary["n_samples"] == N_TRAIN == sum(summary["cluster_sizes"])
    assert summary["cluster_sizes"] == np.bincount(km.labels_, minlength=4).tolist()
    assert summary["inertia"] == km.inertia_ and summary["n_iter"] == km.n_iter_
    assert summary["distance_quantile_levels"] == [0.5, 0.9, 0.95, 0.99, 1.0]
    quantiles = np.array(summary["distance_quantiles"])
    assert quantiles.shape == (4, 5)
    assert np.all(np.diff(quantiles, axis=1) >= 0) and np.all(quantiles > 0)
    # The largest distance of each cluster is that of its farthest training row.
    X, _ = _blobs()
    distances = np.sqrt(((X - km.cluster_centers_[km.labels_]) ** 2).sum(axis=1))
    farthest = [distances[km.labels_ == j].max() for j in range(4)]
    assert np.allclose(quantiles[:, -1], farthest, rtol=1e-9)


def test_quantiles_are_null_without_x(tmp_path):
    X, _ = _blobs()
    km = KMeans(3, random_state=0).fit(X)
    save(km, tmp_path / "m.kmk")
    summary = read_manifest(tmp_path / "m.kmk")["summary"]
    assert summary["distance_quantiles"] is None
    assert sum(summary["cluster_sizes"]) == N_TRAIN


def test_pipeline_quantiles_are_in_the_preprocessed_space(tmp_path):
    X, _ = _blobs()
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    save(pipe, tmp_path / "p.kmk", X=X)
    quantiles = np.array(read_manifest(tmp_path / "p.kmk")["summary"]["distance_quantiles"])
    Xs = pipe[0].transform(X)
    km = pipe[-1]
    distances = np.sqrt(((Xs - km.cluster_centers_[km.labels_]) ** 2).sum(axis=1))
    assert np.allclose(quantiles[:, 0], [np.median(distances[km.labels_ == j]) for j in range(3)], rtol=1e-9)


def test_x_that_is_not_the_training_data_is_refused(tmp_path):
    X, X_test = _blobs()
    km = KMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="training data"):
        save(km, tmp_path / "m.kmk", X=X_test)


# ---------------------------------------------------------------- refused saves
@pytest.mark.parametrize(
    "model, error, match",
    [
        (KMeans(3), ValueError, "not fitted"),
        (SklearnKMeans(3, n_init=1).fit(np.arange(20.0).reshape(10, 2)), TypeError, "sklearn.cluster"),
        (make_pipeline(PCA(2), KMeans(2)).fit(np.arange(40.0).reshape(10, 4)), TypeError, "PCA"),
        (make_pipeline(StandardScaler(), SklearnKMeans(2, n_init=1)).fit(np.arange(40.0).reshape(10, 4)),
         TypeError, "final step"),
        (make_pipeline(StandardScaler(), KMeans(2)), ValueError, "not fitted"),
        (KMeans(2, init=lambda X, k, random_state: X[:k]).fit(np.arange(20.0).reshape(10, 2)),
         ValueError, "callable init"),
        (KMeans(2, random_state=np.random.RandomState(0)).fit(np.arange(20.0).reshape(10, 2)),
         ValueError, "RandomState"),
        ("not a model", TypeError, "str"),
    ],
    ids=["unfitted", "sklearn-kmeans", "pca-step", "sklearn-final", "unfitted-pipeline", "callable-init",
         "randomstate", "string"],
)
def test_unsupported_models_are_refused(tmp_path, model, error, match):
    with pytest.raises(error, match=match):
        save(model, tmp_path / "m.kmk")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_centers_are_refused(tmp_path, bad):
    X, _ = _blobs()
    km = KMeans(4, random_state=0).fit(X)
    km.cluster_centers_[1, 2:4] = bad
    with pytest.raises(ValueError, match="KMeans: 2 of its 20 center coordinates are NaN or infinite"):
        save(km, tmp_path / "m.kmk")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_leaves_existing_file_untouched(saved):
    _, path = saved
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save(SklearnKMeans(2, n_init=1).fit(np.arange(20.0).reshape(10, 2)), path)
    assert path.read_bytes() == before


def test_crash_midway_leaves_existing_file_untouched(saved, monkeypatch):
    km, path = saved
    before = path.read_bytes()
    original = zipfile.ZipFile.writestr
    calls = []

    def failing_writestr(self, name, data, *args, **kwargs):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        save(km, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


# ---------------------------------------------------------------- refused loads
def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "junk.kmk"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match="not a valid .kmk"):
        load(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.kmk"
    path.write_bytes(b"")
    with pytest.raises(ModelFileError, match="not a valid .kmk"):
        load(path)


def test_truncated_file_is_refused(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="truncated"):
        load(path)


def test_tampered_member_is_refused(saved):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        data = bytearray(archive.read("model.cluster_centers_.npy"))
    data[-1] ^= 0x01  # one bit of one center
    _rewrite(path, members={"model.cluster_centers_.npy": bytes(data)})
    with pytest.raises(ModelFileError, match="SHA-256.*model.cluster_centers_.npy"):
        load(path)


def test_newer_format_version_is_refused(saved):
    _, path = saved
    manifest = read_manifest(path)
    manifest["format_version"] = 999
    _rewrite(path, manifest=manifest)
    with pytest.raises(ModelFileError, match="format version 999.*upgrade"):
        load(path)


def test_zip_without_manifest_is_refused(tmp_path):
    path = tmp_path / "other.kmk"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("centers.npy", npy(np.zeros((2, 2))))
    with pytest.raises(ModelFileError, match="manifest.json"):
        load(path)


@pytest.mark.parametrize("where", ["estimator", "step"])
def test_unknown_class_is_refused(tmp_path, where):
    X, _ = _blobs()
    pipe = make_pipeline(StandardScaler(), KMeans(2, random_state=0)).fit(X)
    path = tmp_path / "p.kmk"
    save(pipe, path)
    manifest = read_manifest(path)
    if where == "estimator":
        manifest["estimator"]["class"] = "os.system"
    else:
        manifest["preprocessing"][0]["class"] = "sklearn.preprocessing.FunctionTransformer"
    _rewrite(path, manifest=manifest)
    with pytest.raises(ModelFileError, match="unknown .*class"):
        load(path)


def test_wrong_shape_centers_are_refused(saved):
    _, path = saved
    manifest = read_manifest(path)
    data = npy(np.zeros((3, 5)))  # n_clusters is 4
    manifest["members"]["model.cluster_centers_.npy"] = hashlib.sha256(data).hexdigest()
    _rewrite(path, manifest=manifest, members={"model.cluster_centers_.npy": data})
    with pytest.raises(ModelFileError, match=r"cluster_centers_ has shape \(3, 5\); \(4, 5\)"):
        load(path)


def test_wrong_dtype_array_is_refused(saved):
    _, path = saved
    manifest = read_manifest(path)
    data = npy(np.zeros((4, 5), dtype=np.int64))
    manifest["members"]["model.cluster_centers_.npy"] = hashlib.sha256(data).hexdigest()
    _rewrite(path, manifest=manifest, members={"model.cluster_centers_.npy": data})
    with pytest.raises(ModelFileError, match="cluster_centers_"):
        load(path)


def test_path_traversal_member_is_refused(saved):
    _, path = saved
    _rewrite(path, extra={"../evil.npy": npy(np.zeros(1))})
    with pytest.raises(ModelFileError, match="forbidden name.*evil"):
        load(path)


def test_missing_member_is_refused(saved):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        contents = {n: archive.read(n) for n in archive.namelist() if n != "model._X_mean.npy"}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="missing member.*_X_mean"):
        load(path)


def test_huge_declared_size_is_refused(saved, monkeypatch):
    _, path = saved
    monkeypatch.setattr(persistence.reader, "_MAX_TOTAL_BYTES", 1000)
    with pytest.raises(ModelFileError, match="limit"):
        load(path)
    monkeypatch.setattr(persistence.reader, "_MAX_MEMBER_BYTES", 100)
    with pytest.raises(ModelFileError, match="declares .* bytes uncompressed"):
        load(path)


def test_invalid_param_is_refused(saved):
    _, path = saved
    manifest = read_manifest(path)
    manifest["estimator"]["params"]["n_clusters"] = -3
    _rewrite(path, manifest=manifest)
    with pytest.raises(ModelFileError, match="n_clusters"):
        load(path)


def test_unknown_attribute_is_refused(saved):
    _, path = saved
    manifest = read_manifest(path)
    manifest["estimator"]["state"]["predict"] = 1
    _rewrite(path, manifest=manifest)
    with pytest.raises(ModelFileError, match="unknown fitted attribute 'predict'"):
        load(path)


def test_model_file_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)


def test_loading_never_unpickles(saved, monkeypatch):
    km, path = saved

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading a model file")

    original_load = np.load

    def np_load(*args, allow_pickle=False, **kwargs):
        if allow_pickle:
            forbidden()
        return original_load(*args, allow_pickle=allow_pickle, **kwargs)

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(np, "load", np_load)
    loaded = load(path)
    X, X_test = _blobs()
    assert_same_predictions(km, loaded, X_test)


def test_dropped_preprocessing_step_is_refused(tmp_path):
    X, _ = _blobs()
    pipe = make_pipeline(StandardScaler(), KMeans(2, random_state=0)).fit(X)
    path = tmp_path / "p.kmk"
    save(pipe, path)
    manifest = read_manifest(path)
    manifest["preprocessing"] = []  # its arrays are still there, listed and checksummed
    _rewrite(path, manifest=manifest)
    with pytest.raises(ModelFileError, match="not used"):
        load(path)


def test_missing_file_is_a_plain_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.kmk")


def test_corrupted_bytes_are_refused_or_harmless(saved):
    km, path = saved
    X, X_test = _blobs()
    for loaded in loads_of_damaged_copies(path, times=200, seed=7):
        # Only bytes that carry no model content (zip timestamps, padding) may change.
        assert_same_predictions(km, loaded, X_test)
