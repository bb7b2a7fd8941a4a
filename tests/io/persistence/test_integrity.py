"""The integrity record of a model file: edits are refused, and a signed file loads only with its key."""

import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans
from kmeanskit._io.persistence import ModelFileError, load, read_manifest, save
from kmeanskit._io.persistence.integrity import INTEGRITY

from .model_files import assert_same_predictions, reseal

DATA = __import__("pathlib").Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) * [1.0, 10.0, 100.0, 0.1] + rng.integers(0, 3, size=(300, 1)) * 5
    return X, rng.normal(size=(50, 4))


@pytest.fixture
def pipeline_file(tmp_path, data):
    X, _ = data
    model = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    path = tmp_path / "model.kmk"
    save(model, path, X=X)
    return model, path


def _contents(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path, contents):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def _edit_manifest(path, change, *, resealed=False):
    contents = _contents(path)
    manifest = json.loads(contents["manifest.json"])
    change(manifest)
    contents["manifest.json"] = json.dumps(manifest, indent=2).encode()
    if resealed:
        reseal(contents)
    _write(path, contents)


def _swap_mean_and_scale(manifest):
    state = manifest["preprocessing"][0]["state"]
    state["mean_"], state["scale_"] = state["scale_"], state["mean_"]


def _repoint_x_mean(manifest):
    manifest["estimator"]["state"]["_X_mean"] = manifest["preprocessing"][0]["state"]["mean_"]


def _second_scaler(manifest):
    manifest["preprocessing"].append(dict(manifest["preprocessing"][0], name="again"))


# The edits a probe made to the manifest, which all loaded and predicted differently before the record.
EDITS = {
    "with_std false": lambda m: m["preprocessing"][0]["params"].update(with_std=False),
    "mean_ and scale_ swapped": _swap_mean_and_scale,
    "an extra scaler": _second_scaler,
    "_X_mean repointed": _repoint_x_mean,
    "one whitespace": lambda m: m.update(created=m["created"] + " "),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edited_manifest_is_refused(pipeline_file, edit):
    _, path = pipeline_file
    _edit_manifest(path, edit)
    with pytest.raises(ModelFileError, match="does not match its SHA-256 in integrity.json: the file was damaged or"):
        load(path)


def test_a_file_without_its_record_is_refused(pipeline_file):
    _, path = pipeline_file
    contents = _contents(path)
    del contents[INTEGRITY]
    _write(path, contents)
    with pytest.raises(ModelFileError, match="has no integrity.json, which every file of format version 3"):
        load(path)


@pytest.mark.parametrize("record, match", [
    (b"not json", "integrity.json is not valid JSON"),
    (b'{"manifest_sha256": "00"}', "must hold exactly"),
    (b'{"manifest_sha256": "zz", "hmac_sha256": null}', "'manifest_sha256' is not a SHA-256 hex digest"),
    (b"x" * 5000, "declares 5000 bytes uncompressed; the limit is 4096"),
])
def test_a_damaged_record_is_refused(pipeline_file, record, match):
    _, path = pipeline_file
    contents = _contents(path)
    contents[INTEGRITY] = record
    _write(path, contents)
    with pytest.raises(ModelFileError, match=match):
        load(path)


@pytest.mark.parametrize("key", [b"\x00secret bytes", "a passphrase, in UTF-8: \u00e9"])
def test_a_signed_file_loads_with_its_key_only(tmp_path, data, key):
    X, X_test = data
    model = KMeans(3, random_state=0).fit(X)
    path = tmp_path / "signed.kmk"
    save(model, path, key=key)
    assert_same_predictions(model, load(path, key=key), X_test)
    assert_same_predictions(model, load(path), X_test)  # without a key: checksums only, as for any file
    other = key + (b"!" if isinstance(key, bytes) else "!")
    with pytest.raises(ModelFileError, match="signature does not match the key: the file was altered, or signed"):
        load(path, key=other)


def test_a_forger_without_the_key_cannot_make_a_file_that_loads_with_it(pipeline_file):
    _, path = pipeline_file
    save(load(path), path, key=b"k")
    signature = json.loads(_contents(path)[INTEGRITY])["hmac_sha256"]
    assert isinstance(signature, str) and len(signature) == 64
    # Edit, then recompute the checksum and keep the old signature: what anyone without the key can do.
    contents = _contents(path)
    manifest = json.loads(contents["manifest.json"])
    _swap_mean_and_scale(manifest)
    contents["manifest.json"] = json.dumps(manifest).encode()
    record = json.loads(reseal(contents)[INTEGRITY])
    contents[INTEGRITY] = json.dumps(dict(record, hmac_sha256=signature)).encode()
    _write(path, contents)
    load(path)  # consistent, so it loads when no key is asked for: the README says so
    with pytest.raises(ModelFileError, match="signature does not match"):
        load(path, key=b"k")
    reseal(contents)  # a signature dropped
    _write(path, contents)
    with pytest.raises(ModelFileError, match="is not signed, but a key was given"):
        load(path, key=b"k")


@pytest.mark.parametrize("name", ["kmeans_v1.kmk", "pipeline_v1.kmk"])
def test_files_of_versions_before_the_record_load_but_are_unsigned(name):
    assert read_manifest(DATA / name)["format_version"] == 1
    with pytest.raises(ModelFileError, match="is not signed .it has no integrity.json., but a key was given"):
        load(DATA / name, key="k")


@pytest.mark.parametrize("key, error, match", [
    (b"", ValueError, "key must not be empty"),
    ("", ValueError, "key must not be empty"),
    (12345, TypeError, "key must be bytes or str, got int"),
])
def test_invalid_keys_are_refused_before_anything_is_read(tmp_path, data, key, error, match):
    X, _ = data
    model = KMeans(2, random_state=0).fit(X)
    with pytest.raises(error, match=match):
        save(model, tmp_path / "m.kmk", key=key)
    assert not (tmp_path / "m.kmk").exists()
    with pytest.raises(error, match=match):
        load(tmp_path / "absent.kmk", key=key)


# ---------------------------------------------------- settings that would change behaviour once loaded
def test_a_scaler_with_copy_false_is_not_saved(tmp_path, data):
    X, _ = data
    model = make_pipeline(StandardScaler(copy=False), KMeans(2, random_state=0)).fit(X.copy())
    with pytest.raises(ValueError, match="with copy=False: the loaded model would overwrite the arrays passed to"):
        save(model, tmp_path / "m.kmk")


def test_a_file_asking_for_copy_false_is_refused(pipeline_file, data):
    _, path = pipeline_file
    _edit_manifest(path, lambda m: m["preprocessing"][0]["params"].update(copy=False), resealed=True)
    with pytest.raises(ModelFileError, match="copy=False would make predict overwrite the caller's arrays"):
        load(path)


@pytest.mark.filterwarnings("ignore:X has feature names")
def test_output_containers_are_numpy_or_pandas(tmp_path, pipeline_file, data):
    X, X_test = data
    model, path = pipeline_file
    model.set_output(transform="pandas")
    save(model, path)
    loaded = load(path)
    assert np.array_equal(loaded.predict(X_test), model.predict(X_test))
    assert loaded[0]._sklearn_output_config["transform"] == "pandas"
    _edit_manifest(path, lambda m: m["preprocessing"][0].update(output="polars"), resealed=True)
    with pytest.raises(ModelFileError, match="unknown output config 'polars'"):
        load(path)
    model[0]._sklearn_output_config = {"transform": "polars"}  # what set_output does when polars is installed
    with pytest.raises(ValueError, match=r"set_output\(transform='polars'\): a model file keeps only 'default' or"):
        save(model, tmp_path / "polars.kmk")
