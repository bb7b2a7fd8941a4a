"""The HTTP service, in-process: predictions equal the model's, every bad request is a 4xx."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, ModelFileError, save
from kmeanskit.monitoring import anomaly_scores, fit_monitor
from kmeanskit.service import create_app

FEATURES = ["age", "income", "visits per month"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centers = np.array([[30, 40_000, 2], [50, 90_000, 8], [70, 60_000, 4]], dtype=float)
    y = rng.integers(0, 3, size=900)
    X = centers[y] + rng.normal(size=(900, 3)) * [5, 8_000, 1]
    return pd.DataFrame(X, columns=FEATURES)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, data):
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(data)
    path = tmp_path_factory.mktemp("service") / "customers.kmk"
    save(pipe, path, X=data)
    return path


@pytest.fixture(scope="module")
def client(model_path):
    with TestClient(create_app(model_path, max_rows=500), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def model(model_path):
    from kmeanskit import load

    return load(model_path)


def post(client, body, **kwargs):
    if isinstance(body, (bytes, str)):
        return client.post("/predict", content=body, headers={"content-type": "application/json"}, **kwargs)
    return client.post("/predict", json=body, **kwargs)


def test_instances_get_the_models_labels_distances_and_anomaly_flags(client, model, model_path, data):
    rows = data.iloc[:200]
    response = post(client, {"instances": rows.to_numpy().tolist()})
    assert response.status_code == 200, response.text
    body = response.json()
    Z = model[0].transform(rows)
    expected_labels = model.predict(rows)
    assert body["n_rows"] == 200
    assert body["labels"] == expected_labels.tolist()
    np.testing.assert_allclose(body["distances"], model[-1].transform(Z).min(axis=1), rtol=1e-12)
    scores = anomaly_scores(model_path, rows)
    np.testing.assert_allclose(body["anomaly_scores"], scores, rtol=1e-12)
    assert body["anomalies"] == (scores > 1).tolist()
    assert body["anomaly_level"] == 0.99
    assert "center_distances" not in body  # only on request


def test_records_give_the_same_answer_as_instances(client, data):
    rows = data.iloc[:50]
    by_instances = post(client, {"instances": rows.to_numpy().tolist()}).json()
    records = [dict(reversed(list(r.items()))) for r in rows.to_dict(orient="records")]  # key order is free
    by_records = post(client, {"records": records}).json()
    assert by_records == by_instances


def test_return_distances_gives_the_distance_to_every_center(client, model, data):
    rows = data.iloc[:5]
    body = post(client, {"instances": rows.to_numpy().tolist(), "return_distances": True}).json()
    expected = model[-1].transform(model[0].transform(rows))
    np.testing.assert_allclose(body["center_distances"], expected, rtol=1e-12)
    assert np.argmin(body["center_distances"], axis=1).tolist() == body["labels"]


def test_an_outlier_is_flagged(client):
    body = post(client, {"records": [{"age": 200, "income": 1e6, "visits per month": 50}]}).json()
    assert body["anomalies"] == [True] and body["anomaly_scores"][0] > 5


def test_integers_are_numbers(client):
    assert post(client, {"instances": [[40, 50000, 3]]}).status_code == 200


BAD_BODIES = [
    ({"instances": [[1.0, 2.0]]}, r"instances\[0\]: List should have at least 3 items"),
    ({"instances": [[1.0, 2.0, 3.0, 4.0]]}, r"instances\[0\]: List should have at most 3 items"),
    ({"instances": [[1.0, "2", 3.0]]}, r"instances\[0\]\[1\]: Input should be a valid number"),
    ({"instances": [[1.0, True, 3.0]]}, r"instances\[0\]\[1\]: Input should be a valid number"),
    ({"instances": [[1.0, None, 3.0]]}, r"instances\[0\]\[1\]"),
    ({"instances": []}, r"instances: List should have at least 1 item"),
    ({"instances": [[1.0, 2.0, 3.0]] * 501}, r"at most 500 items.*max_rows"),
    ({"records": []}, r"records: List should have at least 1 item"),
    ({"records": [{"age": 1, "income": 2}]}, r"records\[0\]\.visits per month: Field required"),
    ({"records": [{"age": 1, "income": 2, "visits per month": 3, "height": 4}]},
     r"records\[0\]\.height: Extra inputs are not permitted"),
    ({"instances": [[1.0, 2.0, 3.0]], "records": [{"age": 1}]}, r"records: Extra inputs are not permitted"),
    ({"instances": [[1.0, 2.0, 3.0]], "return_distances": "yes"}, r"return_distances"),
    ({"rows": [[1.0, 2.0, 3.0]]}, r"instances: Field required"),
    ([[1.0, 2.0, 3.0]], r"valid dictionary"),
    (b'{"instances": [[NaN, 1, 2]]}', r"instances\[0\]\[0\]: Input should be a finite number"),
    (b'{"instances": [[1, Infinity, 2]]}', r"instances\[0\]\[1\]: Input should be a finite number"),
    (b'{"instances": [[1, -Infinity, 2]]}', r"finite number"),
    (b'{"instances": [[1, 1e400, 2]]}', r"finite number"),
    (b'{"instances": [[1, 1e300, 2]]}', r"less than or equal to"),
    (b'{"instances": [[1, 2, 3]]', r"not valid JSON"),
    (b"", r"."),
    ("\u00e9t\u00e9", r"not valid JSON"),
    # What json.loads refuses other than by syntax is invalid JSON too (422), not a body FastAPI failed to parse (400).
    (b'{"instances": [[1, 2, "\xff"]]}', r"not valid JSON: the body is not UTF-8 text \(invalid start byte at byte 23\)"),
    (b"[" * 50_000 + b"]" * 50_000, r"not valid JSON: the body is nested too deeply"),
    (b'{"instances": [[1, 2, ' + b"9" * 5000 + b"]]}", r"not valid JSON: .*integer"),
]


@pytest.mark.parametrize("body, message", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_requests_get_422_with_a_message(client, body, message):
    response = post(client, body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert re.search(message, payload["detail"]), payload["detail"]
    assert isinstance(payload["errors"], list)
    assert len(response.content) < 5000  # the input is not echoed back


def test_bodies_over_the_limit_get_413_by_header_and_by_bytes(model_path):
    app = create_app(model_path, max_body_bytes=2_000)
    with TestClient(app) as c:
        small = {"instances": [[40.0, 50000.0, 3.0]]}
        assert post(c, small).status_code == 200
        big = json.dumps({"instances": [[40.0, 50000.0, 3.0]] * 200}).encode()
        response = post(c, big)
        assert response.status_code == 413
        assert "max_body_bytes" in response.json()["detail"]

        # No Content-Length (chunked): the bytes received are counted.
        def chunks():
            for i in range(0, len(big), 500):
                yield big[i:i + 500]

        response = c.post("/predict", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        # A lying Content-Length is no way around the limit either.
        response = c.post("/predict", content=chunks(), headers={"content-type": "application/json",
                                                                 "content-length": "100"})
        assert response.status_code in (400, 413)


def test_default_body_limit_fits_max_rows(model_path):
    app = create_app(model_path, max_rows=1000)
    with TestClient(app) as c:
        limit = c.get("/model").json()["max_body_bytes"]
        rows = [{"age": -1.2345678901234567e-300, "income": -1.2345678901234567e-300,
                 "visits per month": -1.2345678901234567e-300}] * 1000
        body = json.dumps({"records": rows, "return_distances": True}).encode()
        assert len(body) <= limit
        assert post(c, body).status_code == 200


def test_health_model_and_docs(client, model_path):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["n_features"] == 3 and health["n_clusters"] == 3
    assert health["feature_names"] == FEATURES and health["anomaly_detection"] is True
    info = client.get("/model").json()
    assert info["source"] == model_path.name  # never the directory on the server
    assert info["manifest"]["format"] == "kmeanskit-model"
    assert info["manifest"]["summary"]["n_samples"] == 900
    # Arrays are referred to by member name, never included.
    assert info["manifest"]["estimator"]["state"]["cluster_centers_"] == {"array": "model.cluster_centers_.npy"}
    assert info["training_profile"]["cluster_sizes"] == info["manifest"]["summary"]["cluster_sizes"]
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/health", "/model", "/metrics"} <= set(schema["paths"])
    assert {"413", "422"} <= set(schema["paths"]["/predict"]["post"]["responses"])
    assert client.get("/docs").status_code == 200


def _metric(text, name, **labels):
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name + (f"{{{wanted}}}" if labels else "")) + r" (\S+)$"
    match = re.search(pattern, text, flags=re.MULTILINE)
    return None if match is None else float(match.group(1))


def test_metrics_count_requests_rows_and_anomalies(model_path, data):
    with TestClient(create_app(model_path)) as c:
        post(c, {"instances": data.iloc[:10].to_numpy().tolist()})
        post(c, {"records": [{"age": 200, "income": 1e6, "visits per month": 50}]})
        post(c, {"instances": [[1.0]]})
        c.get("/health")
        response = c.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert _metric(text, "kmeanskit_http_requests_total", endpoint="/predict", method="POST", status="200") == 2
    assert _metric(text, "kmeanskit_http_requests_total", endpoint="/predict", method="POST", status="422") == 1
    assert _metric(text, "kmeanskit_http_requests_total", endpoint="/health", method="GET", status="200") == 1
    assert _metric(text, "kmeanskit_http_request_duration_seconds_count", endpoint="/predict") == 3
    assert _metric(text, "kmeanskit_http_request_duration_seconds_bucket", endpoint="/predict", le="+Inf") == 3
    assert _metric(text, "kmeanskit_rows_predicted_total") == 11
    assert sum(_metric(text, "kmeanskit_rows_by_cluster_total", cluster=str(j)) for j in range(3)) == 11
    anomalies = _metric(text, "kmeanskit_anomalies_total")
    assert anomalies >= 1
    assert _metric(text, "kmeanskit_anomaly_rate") == pytest.approx(anomalies / 11)
    # Every sample line is "name{labels} value" and every family is declared.
    for line in text.strip().splitlines():
        assert line.startswith("# ") or re.fullmatch(r'[a-z_]+(\{[^}]*\})? \S+', line), line
    assert text.count("# TYPE kmeanskit_http_request_duration_seconds histogram") == 1


def test_a_model_object_with_or_without_a_reference(data):
    km = KMeans(3, random_state=0).fit(data.to_numpy())
    with TestClient(create_app(km)) as c:
        body = post(c, {"instances": [[40.0, 50000.0, 3.0]]}).json()
        assert body["anomalies"] is None and body["anomaly_scores"] is None
        # No feature names: records are refused with the reason.
        response = post(c, {"records": [{"age": 1, "income": 2, "visits per month": 3}]})
        assert response.status_code == 422 and "records no feature names" in response.json()["detail"]
        assert c.get("/model").json()["manifest"]["model_class"] == "kmeanskit.KMeans"
    with TestClient(create_app(km, reference=fit_monitor(km, data.to_numpy()))) as c:
        body = post(c, {"instances": data.to_numpy()[:20].tolist()}).json()
        expected = anomaly_scores(km, data.to_numpy()[:20], reference=data.to_numpy())
        np.testing.assert_allclose(body["anomaly_scores"], expected, rtol=1e-12)


def test_float32_model_refuses_values_it_cannot_represent(data):
    X = data.to_numpy().astype(np.float32)
    km = KMeans(3, random_state=0).fit(X)
    with TestClient(create_app(km)) as c:
        bound = c.get("/model").json()["max_abs_value"]
        assert 1e10 <= bound < 3.4e38
        assert post(c, {"instances": [[bound, -bound, bound]], "return_distances": True}).status_code == 200
        response = post(c, {"instances": [[bound * 10, 1.0, 1.0]]})
        assert response.status_code == 422 and "less than or equal to" in response.json()["detail"]


def test_bad_settings_and_files_are_refused(tmp_path, model_path):
    with pytest.raises(ValueError, match="max_rows must be an integer >= 1"):
        create_app(model_path, max_rows=0)
    with pytest.raises(ValueError, match="max_body_bytes"):
        create_app(model_path, max_body_bytes=-5)
    with pytest.raises(ValueError, match="level must be a number strictly between 0 and 1"):
        create_app(model_path, anomaly_level=1.5)
    broken = tmp_path / "broken.kmk"
    broken.write_bytes(model_path.read_bytes()[:200])
    with pytest.raises(ModelFileError):
        create_app(broken)
    with pytest.raises(FileNotFoundError):
        create_app(tmp_path / "missing.kmk")


def test_without_fastapi_the_import_says_what_to_install():
    code = ("import sys\nsys.modules['fastapi'] = None  # as if not installed\n"
            "try:\n    import kmeanskit.service\nexcept ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "kmeanskit.service needs FastAPI and uvicorn: pip install 'kmeanskit[serve]'"


def test_the_model_is_named_by_its_file_name_or_the_name_given(model_path, data):
    for kwargs, name in (({}, model_path.name), ({"model_name": "customers v2"}, "customers v2")):
        with TestClient(create_app(model_path, **kwargs)) as c:
            assert c.get("/model").json()["source"] == name
            text = c.get("/metrics").text
        assert str(model_path.parent) not in text
        assert re.search(rf'^kmeanskit_model_info\{{.*source="{name}".*\}} 1$', text, flags=re.MULTILINE), text
    with TestClient(create_app(KMeans(2, random_state=0).fit(data), model_name="m")) as c:
        assert c.get("/model").json()["source"] == "m"


#: An ASGI request to /predict, for the tests that drive the app by hand.
_PREDICT_SCOPE = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                  "path": "/predict", "raw_path": b"/predict", "query_string": b"", "root_path": "",
                  "headers": [(b"content-type", b"application/json")], "scheme": "http",
                  "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}


def test_a_client_gone_before_the_response_is_counted_as_aborted_not_500(model_path):
    """The body limit sees the client disconnect mid-upload and sends nothing: no status to count."""
    import asyncio

    app = create_app(model_path)
    sent = []

    async def receive_parts():
        yield {"type": "http.request", "body": b'{"instances": [[1, ', "more_body": True}
        yield {"type": "http.disconnect"}

    async def run():
        parts = receive_parts()

        async def receive():
            return await anext(parts)

        async def send(message):
            sent.append(message)

        await app(_PREDICT_SCOPE, receive, send)

    asyncio.run(run())
    assert sent == []
    text = app.state.metrics.render()
    assert _metric(text, "kmeanskit_requests_aborted_total", endpoint="/predict", method="POST") == 1
    assert _metric(text, "kmeanskit_http_requests_total", endpoint="/predict", method="POST", status="500") is None
    assert "# TYPE kmeanskit_requests_aborted_total counter" in text


def test_a_body_not_received_within_body_timeout_gets_408(model_path):
    import asyncio

    app = create_app(model_path, body_timeout=0.2)
    sent = []

    async def run():
        first = [{"type": "http.request", "body": b'{"instances": ', "more_body": True}]

        async def receive():
            if first:
                return first.pop()
            await asyncio.sleep(3600)  # the client stalls

        async def send(message):
            sent.append(message)

        await asyncio.wait_for(app(_PREDICT_SCOPE, receive, send), 10)

    asyncio.run(run())
    assert sent[0]["status"] == 408 and (b"connection", b"close") in sent[0]["headers"]
    assert "within 0.2 s" in json.loads(sent[1]["body"])["detail"]
    text = app.state.metrics.render()
    assert _metric(text, "kmeanskit_http_requests_total", endpoint="/predict", method="POST", status="408") == 1


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "5", True])
def test_a_bad_body_timeout_is_refused(model_path, value):
    with pytest.raises(ValueError, match="body_timeout"):
        create_app(model_path, body_timeout=value)
