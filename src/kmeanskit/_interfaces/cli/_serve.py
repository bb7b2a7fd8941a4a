"""``kmeanskit serve``: an HTTP prediction service for a saved model (uvicorn)."""

from __future__ import annotations

import argparse
import os
import socket
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  kmeanskit fit --seed 0 -o iris.kmk                     # a model of the bundled iris data (4 features)
  kmeanskit serve iris.kmk                               # http://127.0.0.1:8000/docs
  kmeanskit serve iris.kmk --host 0.0.0.0 --port 8080 --workers 2
  curl -s localhost:8000/predict -H 'content-type: application/json' \\
       -d '{"instances": [[5.1, 3.5, 1.4, 0.2]], "return_distances": true}'
  curl -s localhost:8000/predict -H 'content-type: application/json' \\
       -d '{"records": [{"sepal length (cm)": 5.1, "sepal width (cm)": 3.5,
                         "petal length (cm)": 1.4, "petal width (cm)": 0.2}]}'
  curl -s localhost:8000/metrics                         # Prometheus text format

/predict takes the model's features in its order ("instances"), or by name
("records"; GET /model lists them), as JSON with Content-Type: application/json.
endpoints: POST /predict, GET /health, GET /model, GET /metrics, GET /docs (works offline).
Bad requests get 422 (415 without a JSON Content-Type, 413 over --max-body-bytes,
408 after --header-timeout or --body-timeout), with a message.
Each worker is a process with its own copy of the model and its own metrics.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit serve``."""
    common.add_model_argument(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes (default: %(default)s)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="threads per worker for the numba kernels (default: CPUs / workers)")
    parser.add_argument("--max-rows", type=int, default=10_000, metavar="N",
                        help="largest batch per request (default: %(default)s)")
    parser.add_argument("--max-body-bytes", type=int, metavar="N",
                        help="largest request body (default: room for --max-rows rows)")
    parser.add_argument("--body-timeout", type=float, default=30.0, metavar="S",
                        help="seconds a client has to send a request body, else 408 (default: %(default)s)")
    parser.add_argument("--header-timeout", type=float, default=10.0, metavar="S",
                        help="seconds a client has to send a request's headers, else 408 and the connection "
                             "is closed (default: %(default)s)")
    parser.add_argument("--timeout-keep-alive", type=float, default=5.0, metavar="S",
                        help="seconds an idle connection is kept open between requests (default: %(default)s)")
    parser.add_argument("--model-name", metavar="NAME",
                        help="the model's name in GET /model and /metrics (default: the file's name)")
    parser.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info",
                        help="uvicorn log level (default: %(default)s)")
    parser.add_argument("--no-access-log", action="store_true", help="do not log each request")


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_port_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise common.CommandError(f"--host: cannot resolve {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            raise common.CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit serve`` with parsed arguments; blocks until the server stops."""
    for option, value, minimum in (("--port", args.port, 1), ("--workers", args.workers, 1),
                                   ("--max-rows", args.max_rows, 1), ("--threads", args.threads, 1),
                                   ("--max-body-bytes", args.max_body_bytes, 1)):
        if value is not None and value < minimum:
            raise common.CommandError(f"{option} must be at least {minimum}, got {value}")
    for option, value in (("--body-timeout", args.body_timeout), ("--header-timeout", args.header_timeout),
                          ("--timeout-keep-alive", args.timeout_keep_alive)):
        if not 0 < value < float("inf"):
            raise common.CommandError(f"{option} must be a positive number of seconds, got {value}")
    if args.port > 65535:
        raise common.CommandError(f"--port must be at most 65535, got {args.port}")
    try:
        import uvicorn

        from kmeanskit import service
        from kmeanskit._interfaces.service.app import ENV_BODY_TIMEOUT, ENV_MODEL_NAME
        from kmeanskit._interfaces.service.protocol import ENV_HEADER_TIMEOUT, PROTOCOL
    except ImportError as exc:
        raise common.CommandError(f"{exc}") from None
    path = os.path.abspath(args.model)
    model = common.load_model(path)  # refuse a bad model here, with one line, rather than in every worker
    _check_port_free(args.host, args.port)

    threads = args.threads if args.threads is not None else max(1, _cpus() // args.workers)
    # Workers are spawned processes: they get their settings from the environment.
    os.environ[service.ENV_MODEL] = path
    os.environ[service.ENV_MAX_ROWS] = str(args.max_rows)
    os.environ[service.ENV_THREADS] = str(threads)
    os.environ[ENV_BODY_TIMEOUT] = repr(args.body_timeout)
    os.environ[ENV_HEADER_TIMEOUT] = repr(args.header_timeout)
    if args.model_name is not None:
        os.environ[ENV_MODEL_NAME] = args.model_name
    else:
        os.environ.pop(ENV_MODEL_NAME, None)
    if args.max_body_bytes is not None:
        os.environ[service.ENV_MAX_BODY_BYTES] = str(args.max_body_bytes)
    else:
        os.environ.pop(service.ENV_MAX_BODY_BYTES, None)
    print(
        f"kmeanskit: serving {args.model} ({model.n_features_in_} features) on http://{args.host}:{args.port} "
        f"with {args.workers} worker(s) x {threads} thread(s); docs at /docs, Ctrl-C to stop",
        file=sys.stderr,
    )
    sys.stderr.flush()
    try:
        uvicorn.run(
            "kmeanskit.service:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=not args.no_access_log,
            timeout_keep_alive=args.timeout_keep_alive,
            http=PROTOCOL,  # h11 with a deadline for the request headers
        )
    except SystemExit as exc:  # uvicorn exits when it cannot start
        if exc.code not in (None, 0):
            print("kmeanskit: error: the server could not start (see the log above)", file=sys.stderr)
            return common.EXIT_INTERNAL
    return common.EXIT_OK
