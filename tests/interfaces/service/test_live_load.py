"""A real server (``kmeanskit serve`` under uvicorn, in a subprocess) under a burst of good and bad requests.

Every well-formed request gets 200, every malformed one a 4xx, none a 5xx,
and the server survives. Bounded: one server, about 200 requests, a deadline.
"""

import asyncio
import json

import httpx
import numpy as np
import pandas as pd
import pytest

from kmeanskit import KMeans, save

from ...serving import running_server

BURST_SECONDS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 4)), columns=["a", "b", "c", "d"])
    path = tmp_path_factory.mktemp("live") / "model.kmk"
    save(KMeans(5, random_state=0).fit(X), path, X=X)
    options = ("--max-rows", "1000", "--max-body-bytes", "200000")
    with running_server(path, tmp_path_factory.mktemp("log"), *options) as port:
        yield f"http://127.0.0.1:{port}", X


def _requests(X):
    """(kind, body bytes) pairs: well-formed ones and malformed ones, interleaved."""
    rows = X.to_numpy()
    good = [
        json.dumps({"instances": rows[i:i + 1].tolist()}).encode() for i in range(80)
    ] + [
        json.dumps({"records": X.iloc[i:i + 100].to_dict(orient="records")}).encode() for i in range(0, 500, 50)
    ] + [json.dumps({"instances": rows[:1000 % 600].tolist(), "return_distances": True}).encode()] * 5
    bad = [
        b'{"instances": [[1, 2, 3]]}',                      # 3 values for 4 features
        b'{"instances": [[1, 2, 3, NaN]]}',
        b'{"instances": [[1, 2, 3, "4"]]}',
        b'{"instances": []}',
        b'{"records": [{"a": 1, "b": 2, "c": 3, "e": 4}]}',
        b'{"instances": [[1, 2, 3, 4]]',                    # truncated JSON
        json.dumps({"instances": [[0.5] * 4] * 1001}).encode(),  # over --max-rows
        b"x" * 300_000,                                      # over --max-body-bytes
    ] * 8
    out = [("good", b) for b in good] + [("bad", b) for b in bad]
    order = np.random.default_rng(1).permutation(len(out))
    return [out[i] for i in order]


async def _burst(url, requests, concurrency=12):
    limits = httpx.Limits(max_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=15.0, limits=limits) as client:
        async def one(kind, body):
            async with semaphore:
                response = await client.post("/predict", content=body, headers={"content-type": "application/json"})
                return kind, response.status_code, response.text

        return await asyncio.wait_for(asyncio.gather(*(one(k, b) for k, b in requests)), BURST_SECONDS)


def test_a_concurrent_burst_gets_200s_and_4xxs_and_no_5xx(server):
    url, X = server
    requests = _requests(X)
    results = asyncio.run(_burst(url, requests))
    assert len(results) == len(requests)
    server_errors = [(kind, status, text[:200]) for kind, status, text in results if status >= 500]
    assert server_errors == []
    assert all(status == 200 for kind, status, _ in results if kind == "good")
    assert all(400 <= status < 500 for kind, status, _ in results if kind == "bad")
    assert {status for kind, status, _ in results if kind == "bad"} == {413, 422}
    # The server is still healthy, and counted what it did.
    assert httpx.get(f"{url}/health", timeout=5).json()["status"] == "ok"
    metrics = httpx.get(f"{url}/metrics", timeout=5).text
    n_good = sum(kind == "good" for kind, _ in requests)
    assert f'kmeanskit_http_requests_total{{endpoint="/predict",method="POST",status="200"}} {n_good}' in metrics
