"""Slow and vanishing clients of a real server (``kmeanskit serve`` under uvicorn, in a subprocess).

A client that sends its headers and then stalls gets 408 after
``--body-timeout`` and is disconnected; an idle connection is closed after
``--timeout-keep-alive``; a client that disconnects mid-upload is counted as
aborted in ``/metrics``, never as a 500. Bounded: both timeouts are 1 s here.
"""

import socket
import time

import httpx
import numpy as np
import pytest

from kmeanskit import KMeans, save

from ..serving import running_server

TIMEOUT = 1.0  # --body-timeout and --timeout-keep-alive
WAIT = 15.0  # the most a test waits for the server to act on a timeout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(300, 3))
    path = tmp_path_factory.mktemp("slow") / "model.kmk"
    save(KMeans(3, random_state=0).fit(X), path, X=X)
    options = ("--body-timeout", str(TIMEOUT), "--timeout-keep-alive", str(TIMEOUT), "--model-name", "churn")
    with running_server(path, tmp_path_factory.mktemp("log"), *options) as port:
        yield port


def _read_until_closed(sock) -> bytes:
    """Everything the server sends until it closes the connection (at most WAIT seconds)."""
    sock.settimeout(WAIT)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _headers(port, length):
    return (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def test_a_client_that_stalls_after_its_headers_gets_408_and_is_disconnected(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(_headers(server, 100) + b'{"instances": ')
        start = time.monotonic()
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - start
    assert response.startswith(b"HTTP/1.1 408 "), response
    assert b"not received within 1 s" in response
    assert TIMEOUT * 0.9 <= elapsed < WAIT


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(server):
    body = b'{"instances": [[0, 0, 0]]}'
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(_headers(server, len(body)) + body)
        start = time.monotonic()
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - start
    assert response.startswith(b"HTTP/1.1 200 "), response
    assert TIMEOUT * 0.9 <= elapsed < 4.5  # uvicorn's default is 5 s: the option reached it


def test_a_client_gone_mid_upload_is_counted_as_aborted_not_as_500(server):
    url = f"http://127.0.0.1:{server}"
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(_headers(server, 100) + b'{"instances": ')
        time.sleep(0.2)
    deadline = time.monotonic() + WAIT
    while True:
        text = httpx.get(f"{url}/metrics", timeout=5.0).text
        if 'kmeanskit_requests_aborted_total{endpoint="/predict",method="POST"} 1' in text or \
                time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert 'kmeanskit_requests_aborted_total{endpoint="/predict",method="POST"} 1' in text, text
    assert 'status="500"' not in text


def test_the_model_is_shown_by_name_not_by_path(server):
    url = f"http://127.0.0.1:{server}"
    assert httpx.get(f"{url}/model", timeout=5.0).json()["source"] == "churn"
    assert 'source="churn"' in httpx.get(f"{url}/metrics", timeout=5.0).text
