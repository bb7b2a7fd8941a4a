"""The service and rows with gaps: JSON null is a missing value for a missing='ignore' model, a 422 otherwise."""

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, load, save
from kmeanskit.service import create_app

FEATURES = ["age", "income", "visits"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centers = np.array([[30, 40_000, 2], [50, 90_000, 8], [70, 60_000, 4]], dtype=float)
    X = centers[rng.integers(0, 3, size=600)] + rng.normal(size=(600, 3)) * [5, 8_000, 1]
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 40.0
    return pd.DataFrame(X, columns=FEATURES)


def _client(tmp_path, data, missing):
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0, missing=missing))
    pipe.fit(data if missing == "ignore" else data.fillna(data.mean()))
    path = tmp_path / f"{missing}.kmk"
    save(pipe, path, X=data if missing == "ignore" else None)
    return TestClient(create_app(path), raise_server_exceptions=False), load(path)


def test_nulls_are_missing_values_for_an_ignore_model(tmp_path, data):
    client, model = _client(tmp_path, data, "ignore")
    with client:
        rows = data.iloc[:40]
        instances = [[None if np.isnan(v) else v for v in row] for row in rows.to_numpy().tolist()]
        response = client.post("/predict", json={"instances": instances})
        assert response.status_code == 200, response.text
        assert response.json()["labels"] == model.predict(rows).tolist()
        records = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in rows.to_dict("records")]
        response = client.post("/predict", json={"records": records})
        assert response.json()["labels"] == model.predict(rows).tolist()
        schema = client.get("/openapi.json").text
        assert "null: a missing value" in schema
        response = client.post("/predict", json={"instances": [[None, None, None]]})
        assert response.status_code == 422
        assert response.json()["detail"].startswith("instances[0]: every value is null (1 such row in all)")


def test_nulls_are_refused_clearly_otherwise(tmp_path, data):
    client, _ = _client(tmp_path, data, "error")
    with client:
        response = client.post("/predict", json={"instances": [[30.0, None, 2.0]]})
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "instances[0][1]: null (a missing value) is accepted only by a model fitted with missing='ignore'"
        )
