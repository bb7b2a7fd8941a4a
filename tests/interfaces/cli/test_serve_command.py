"""``kmeanskit serve``: its parser, and the errors it gives before starting a server."""

import socket

import numpy as np
import pytest

from kmeanskit import KMeans, save
from kmeanskit.cli import build_parser

from .running import run


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(100, 2))
    path = tmp_path_factory.mktemp("serve") / "m.kmk"
    save(KMeans(2, random_state=0).fit(X), path, X=X)
    return path


def test_help_lists_options_and_an_example(capsys):
    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0
    for option in ("--host", "--port", "--workers", "--threads", "--max-rows", "--max-body-bytes", "--body-timeout",
                   "--timeout-keep-alive", "--model-name"):
        assert option in out
    assert "curl -s localhost:8000/predict" in out


def test_defaults():
    args = build_parser().parse_args(["serve", "m.kmk"])
    assert (args.host, args.port, args.workers, args.max_rows, args.max_body_bytes) == (
        "127.0.0.1", 8000, 1, 10_000, None)
    assert (args.body_timeout, args.timeout_keep_alive, args.model_name) == (30.0, 5.0, None)


@pytest.mark.parametrize("args, message", [
    (["missing.kmk"], "No such file"),
    (["BAD"], "not a valid .kmk model file"),
    (["MODEL", "--workers", "0"], "--workers must be at least 1"),
    (["MODEL", "--port", "70000"], "--port must be at most 65535"),
    (["MODEL", "--max-rows", "0"], "--max-rows must be at least 1"),
    (["MODEL", "--port", "x"], "invalid int value"),
    (["MODEL", "--body-timeout", "0"], "--body-timeout must be a positive number of seconds"),
    (["MODEL", "--timeout-keep-alive", "nan"], "--timeout-keep-alive must be a positive number of seconds"),
])
def test_bad_arguments_exit_2_without_starting(capsys, tmp_path, model, args, message):
    bad = tmp_path / "bad.kmk"
    bad.write_bytes(b"PK\x03\x04 not really")
    args = [str(model) if a == "MODEL" else str(bad) if a == "BAD" else str(tmp_path / a) if a.endswith(".kmk")
            else a for a in args]
    code, _, err = run(capsys, "serve", *args)
    assert code == 2 and message in err


def test_a_port_in_use_is_refused(capsys, model):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "serve", model, "--port", port)
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err
