"""A real ``kmeanskit serve`` in a subprocess, for the tests that talk to it over sockets."""

import contextlib
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

STARTUP_SECONDS = 60  # a guard for overloaded machines; about 3 s on an idle one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(model_path, log_dir, *options):
    """Start ``kmeanskit serve MODEL --port P --workers 1 OPTIONS``; yield P once /health answers; stop it."""
    port = free_port()
    log = open(log_dir / "server.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "kmeanskit", "serve", str(model_path), "--port", str(port), "--workers", "1",
         *options, "--no-access-log", "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /health within {STARTUP_SECONDS} s")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
