"""Model files of KPrototypes and KModes (format version 4): round trips, and hostile entries refused."""

import inspect
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KModes, KPrototypes, UnseenCategoryWarning
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit._io.persistence import FORMAT_VERSION, ModelFileError, load, load_with_manifest, save, write_model
from kmeanskit._io.persistence.format import MAX_STORED_LEVELS

from .model_files import npy, reseal


def _table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame({
        "amount": np.array([10.0, 50.0, 90.0])[group] + rng.normal(0, 5, n),
        "region": np.asarray(["north", "south", "east"], dtype=object)[(group + (rng.random(n) < 0.1)) % 3],
        "visits": np.array([1.0, 5.0, 9.0])[group] + rng.normal(0, 1, n),
        "store": rng.integers(1, 4, n),  # integer codes, named categorical
    })


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    X = _table()
    model = Pipeline([("scale", NumericScaler(categorical=("region", "store"))),
                      ("kprototypes", KPrototypes(3, categorical=("region", "store"), random_state=0))]).fit(X)
    path = tmp_path_factory.mktemp("mixed") / "model.kmk"
    save(model, path, X=X)
    return model, path, X


def _same(a, b, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        assert np.array_equal(a.predict(X), b.predict(X))
        assert np.array_equal(a.transform(X), b.transform(X))  # bitwise
        assert a.score(X) == b.score(X)


def test_pipeline_of_numeric_scaler_and_kprototypes_round_trips(mixed):
    model, path, X = mixed
    loaded, manifest = load_with_manifest(path)
    assert manifest["format_version"] == 4 == FORMAT_VERSION
    assert [s["class"] for s in manifest["preprocessing"]] == ["kmeanskit.NumericScaler"]
    assert manifest["preprocessing"][0]["scaler"]["class"] == "sklearn.preprocessing.StandardScaler"
    assert manifest["estimator"]["class"] == "kmeanskit.KPrototypes"
    assert manifest["estimator"]["state"]["categories_"] == {"levels": [["east", "north", "south"], [1, 2, 3]]}
    assert manifest["summary"]["distance"] == "mixed"
    final, saved = loaded[-1], model[-1]
    assert final.gamma_ == saved.gamma_ and final.categorical_.tolist() == [1, 3]
    assert [c.tolist() for c in final.categories_] == [c.tolist() for c in saved.categories_]
    assert final.cluster_centers_.tolist() == saved.cluster_centers_.tolist()
    assert np.array_equal(loaded[0].numeric_, [0, 2])
    _same(model, loaded, X)
    # New rows with categories never seen: the same costs (gamma added to every center) after the round trip.
    new = X.head(5).assign(region=["west", "north", "mars", "east", "south"], store=[7, 1, 2, 3, 1])
    _same(model, loaded, new)


def test_kmodes_alone_round_trips_with_its_levels():
    X = pd.DataFrame({"a": list("xxyyzzxy") * 5, "b": [1, 1, 2, 2, 3, 3, 1, 2] * 5, "c": [True, False] * 20})
    model = KModes(3, init="Cao").fit(X)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kmodes.kmk"
        save(model, path, X=X, key="secret")
        loaded, manifest = load_with_manifest(path, key="secret")
    assert manifest["estimator"]["state"]["categories_"] == {"levels": [["x", "y", "z"], [1, 2, 3], [False, True]]}
    assert type(loaded.categories_[2][0]) is bool
    _same(model, loaded, X)


def test_kmeans_files_stay_version_3(tmp_path):
    from kmeanskit import KMeans

    save(KMeans(2, random_state=0).fit(np.arange(20.0).reshape(10, 2)), tmp_path / "k.kmk")
    assert load_with_manifest(tmp_path / "k.kmk")[1]["format_version"] == 3


def test_public_save_has_no_table_parameter_and_write_model_stores_it(mixed, tmp_path):
    model, _, X = mixed
    assert list(inspect.signature(save).parameters) == ["model", "path", "X", "key"]
    with pytest.raises(TypeError, match="table"):
        save(model, tmp_path / "m.kmk", table={})
    from kmeanskit._io.roles import assign_roles

    roles = assign_roles(X, categorical=["store"], mixed=True)
    write_model(model, tmp_path / "m.kmk", X=X, key="k", table=roles.to_dict())
    loaded, manifest = load_with_manifest(tmp_path / "m.kmk", key="k")
    assert manifest["table"]["features"] == ["amount", "region", "visits", "store"]
    assert manifest["table"]["columns"][1]["levels"] == ["east", "north", "south"]


def _edited(path, out, change, *, members=None):
    """A copy of the file at `path` whose manifest `change` edits (resealed: only the model checks refuse it)."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(contents["manifest.json"])
    change(manifest)
    contents.update(members or {})
    contents["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in reseal(contents).items():
            archive.writestr(name, data)
    return out


def _levels(manifest):
    return manifest["estimator"]["state"]["categories_"]["levels"]


@pytest.mark.parametrize("change, match", [
    (lambda m: m["estimator"]["state"].update(categories_={"levels": "east"}),
     r"categorical_ has a length given by the number of lists of levels \(categories_\)"),
    (lambda m: _levels(m).__setitem__(0, ["east", ["north"], "south"]), "a level of categorical column 0 is"),
    (lambda m: _levels(m).__setitem__(0, []), "must be a non-empty list"),
    (lambda m: _levels(m).__setitem__(0, ["east", "east", "south"]), "lists a level twice"),
    (lambda m: _levels(m).__setitem__(0, [None, "a", "b"]), "levels are strings, numbers or bools"),
    (lambda m: _levels(m).pop(), r"_numeric_columns has shape \(2,\); \(3,\) is expected"),
    (lambda m: _levels(m).__setitem__(1, list(range(MAX_STORED_LEVELS + 1))),
     f"has {MAX_STORED_LEVELS + 1} levels; a model file holds at most {MAX_STORED_LEVELS}"),
    (lambda m: m["estimator"]["state"].update(gamma_=-1.0), "gamma_ must be a positive finite number"),
    (lambda m: m["preprocessing"][0]["params"].update(categorical={"tuple": ["region"]}),
     r"preprocessing step state mean_ has shape \(2,\); \(3,\) is expected .*step0.scaler.mean_"),
    (lambda m: m["preprocessing"][0]["params"].update(categorical={"tuple": ["region", "nowhere"]}),
     "must be distinct feature names"),
    (lambda m: m["preprocessing"][0]["scaler"].update({"class": "sklearn.preprocessing.RobustScaler"}),
     "scale='standard' but its scaler is"),
])
def test_hostile_entries_are_refused_with_clear_errors(mixed, tmp_path, change, match):
    _, path, _ = mixed
    with pytest.raises(ModelFileError, match=match):
        load(_edited(path, tmp_path / "bad.kmk", change))


def test_center_codes_beyond_the_levels_are_refused(mixed, tmp_path):
    model, path, _ = mixed
    centers = model[-1]._centers.copy()
    centers[0, -1] = 3.0  # 'store' has three levels: codes 0..2
    bad = _edited(path, tmp_path / "bad.kmk", lambda m: m["members"].update(
        {"model._centers.npy": __import__("hashlib").sha256(npy(centers)).hexdigest()}),
        members={"model._centers.npy": npy(centers)})
    with pytest.raises(ModelFileError, match=r"category codes must be levels of their column .*\[3, 3\]"):
        load(bad)


def test_edited_levels_break_the_signature(mixed, tmp_path):
    model, _, X = mixed
    signed = tmp_path / "signed.kmk"
    save(model, signed, X=X, key="secret")
    with zipfile.ZipFile(signed) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents["manifest.json"] = contents["manifest.json"].replace(b'"north"', b'"nowhere"')
    with zipfile.ZipFile(tmp_path / "forged.kmk", "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError):
        load(tmp_path / "forged.kmk", key="secret")


def test_a_scaler_step_cannot_come_before_kprototypes_nor_numeric_scaler_before_kmeans(tmp_path):
    X = _table()
    numbers = X[["amount", "visits"]]
    from kmeanskit import KMeans

    wrong = Pipeline([("scale", NumericScaler()), ("kmeans", KMeans(2, random_state=0))]).fit(numbers)
    save(wrong, tmp_path / "wrong.kmk")
    with pytest.raises(ModelFileError, match="a NumericScaler step is the only step before a KPrototypes"):
        load(tmp_path / "wrong.kmk")
    with pytest.raises(ValueError, match="could not convert|not a number"):
        Pipeline([("scale", StandardScaler()), ("kp", KPrototypes(2))]).fit(X)
