"""KMEANSKIT_MODEL_KEY: the command line signs the files it writes and loads only signed ones; so does the service."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from kmeanskit import KMeans, ModelFileError, load, save
from kmeanskit.service import app_from_env, create_app

from .cli.running import assert_one_line_error, run

IRIS_ROWS = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])


def _iris_csv(tmp_path):
    from sklearn.datasets import load_iris

    path = tmp_path / "iris.csv"
    load_iris(as_frame=True).data.to_csv(path, index=False)
    return path


def test_fit_signs_and_every_command_checks(tmp_path, capsys, monkeypatch):
    data = _iris_csv(tmp_path)
    model = tmp_path / "model.kmk"
    monkeypatch.setenv("KMEANSKIT_MODEL_KEY", "s3cret")
    code, _, err = run(capsys, "fit", data, "-k", 3, "--seed", 0, "-o", model)
    assert code == 0, err
    load(model, key="s3cret")  # signed with the variable's key
    with pytest.raises(ModelFileError, match="signature does not match"):
        load(model, key="other")
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0, err

    monkeypatch.setenv("KMEANSKIT_MODEL_KEY", "other")
    for command in (["predict", model, data], ["evaluate", model, data], ["drift", model, data]):
        code, _, err = run(capsys, *command)
        assert code == 2
        assert_one_line_error(err, "signature does not match the key")


def test_an_unsigned_file_is_refused_when_a_key_is_set(tmp_path, capsys, monkeypatch):
    data = _iris_csv(tmp_path)
    model = tmp_path / "model.kmk"
    code, _, err = run(capsys, "fit", data, "-k", 3, "--seed", 0, "-o", model)
    assert code == 0, err
    monkeypatch.setenv("KMEANSKIT_MODEL_KEY", "s3cret")
    code, _, err = run(capsys, "predict", model, data)
    assert code == 2
    assert_one_line_error(err, "is not signed, but a key was given")


def test_an_empty_key_is_refused_before_the_fit(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KMEANSKIT_MODEL_KEY", "")
    code, out, err = run(capsys, "fit", _iris_csv(tmp_path), "-k", 3, "-o", tmp_path / "m.kmk")
    assert code == 2 and out == ""
    assert_one_line_error(err, "KMEANSKIT_MODEL_KEY is set but empty")
    assert not (tmp_path / "m.kmk").exists()


def test_the_service_loads_only_files_signed_with_its_key(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    km = KMeans(2, random_state=0).fit(rng.normal(size=(60, 4)))
    signed, unsigned = tmp_path / "signed.kmk", tmp_path / "unsigned.kmk"
    save(km, signed, key=b"k")
    save(km, unsigned)
    with pytest.raises(ModelFileError, match="is not signed"):
        create_app(unsigned, key=b"k")
    monkeypatch.setenv("KMEANSKIT_SERVE_MODEL", str(signed))
    monkeypatch.setenv("KMEANSKIT_MODEL_KEY", "k")
    with TestClient(app_from_env()) as client:
        response = client.post("/predict", json={"instances": IRIS_ROWS.tolist()})
    assert response.status_code == 200
    assert response.json()["labels"] == km.predict(IRIS_ROWS).tolist()
    monkeypatch.setenv("KMEANSKIT_MODEL_KEY", "wrong")
    with pytest.raises(ModelFileError, match="signature does not match"):
        app_from_env()
