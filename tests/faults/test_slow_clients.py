"""Slow and vanishing clients of a real server (``kmeanskit serve`` under uvicorn, in a subprocess).

A client that sends its headers and then stalls gets 408 after
``--body-timeout`` and is disconnected; one that dribbles its headers, or
sends nothing at all, gets 408 after ``--header-timeout``; an idle connection
is closed after ``--timeout-keep-alive``; a client that disconnects mid-upload
is counted as aborted in ``/metrics``, never as a 500. Bounded: the timeouts
are 1 s here (the header timeout 1.5 s).
"""

import socket
import time

import httpx
import numpy as np
import pytest

from kmeanskit import KMeans, save

from ..serving import running_server

TIMEOUT = 1.0  # --body-timeout and --timeout-keep-alive
HEADER_TIMEOUT = 1.5
WAIT = 15.0  # the most a test waits for the server to act on a timeout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(300, 3))
    path = tmp_path_factory.mktemp("slow") / "model.kmk"
    save(KMeans(3, random_state=0).fit(X), path, X=X)
    options = ("--body-timeout", str(TIMEOUT), "--timeout-keep-alive", str(TIMEOUT), "--model-name", "churn",
               "--header-timeout", str(HEADER_TIMEOUT))
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


def _read_one_response(sock) -> bytes:
    """One whole response (headers and a Content-Length body), however the server's segments arrive."""
    sock.settimeout(WAIT)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    assert len(body) == length  # nothing of a next response read ahead
    return head + b"\r\n\r\n" + body


def _dribble(sock, data):
    """Send ``data`` a byte every 50 ms (each well within any idle timeout) until the server hangs up."""
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return
        time.sleep(0.05)


@pytest.mark.parametrize("sent", [b"", b"POST /predict HTTP/1.1\r\nHost: x\r\n"], ids=["nothing", "half the headers"])
def test_a_client_that_dribbles_its_headers_gets_408_and_is_disconnected(server, sent):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        start = time.monotonic()
        _dribble(sock, sent)
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - start
    assert response.startswith(b"HTTP/1.1 408 "), response
    assert response.endswith(b"request headers not received within the limit")
    assert HEADER_TIMEOUT * 0.9 <= elapsed < max(WAIT, 0.05 * len(sent) + WAIT)


def test_headers_dribbled_on_a_kept_alive_connection_are_timed_too(server):
    body = b'{"instances": [[0, 0, 0]]}'
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(_headers(server, len(body)) + body)
        assert _read_one_response(sock).startswith(b"HTTP/1.1 200 ")
        start = time.monotonic()
        _dribble(sock, b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - start
    assert response.startswith(b"HTTP/1.1 408 "), response
    assert HEADER_TIMEOUT * 0.9 <= elapsed < WAIT + 2


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
