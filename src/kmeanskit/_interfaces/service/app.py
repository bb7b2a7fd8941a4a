"""The FastAPI application: :func:`create_app` for a model, :func:`app_from_env` for ``kmeanskit serve``."""

import asyncio
import json
import os
import time
from contextlib import asynccontextmanager
from typing import Annotated

import numpy as np
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from kmeanskit._interfaces.service.metrics import METRICS_CONTENT_TYPE, Metrics
from kmeanskit._interfaces.service.middleware import BodyLimitMiddleware, MetricsMiddleware
from kmeanskit._interfaces.service.predictor import Predictor
from kmeanskit._interfaces.service.schemas import (
    ErrorResponse,
    HealthResponse,
    ModelResponse,
    PredictResponse,
    UnreadableBody,
    read_json,
    request_type,
    validation_errors,
)

__all__ = ["ENV_MODEL", "ENV_MODEL_NAME", "ENV_MAX_ROWS", "ENV_MAX_BODY_BYTES", "ENV_THREADS", "ENV_BODY_TIMEOUT",
           "app_from_env", "create_app"]

#: Environment variables read by :func:`app_from_env` (``kmeanskit serve`` sets them for its workers).
ENV_MODEL = "KMEANSKIT_SERVE_MODEL"
ENV_MAX_ROWS = "KMEANSKIT_SERVE_MAX_ROWS"
ENV_MAX_BODY_BYTES = "KMEANSKIT_SERVE_MAX_BODY_BYTES"
ENV_THREADS = "KMEANSKIT_SERVE_THREADS"
ENV_MODEL_NAME = "KMEANSKIT_SERVE_MODEL_NAME"
ENV_BODY_TIMEOUT = "KMEANSKIT_SERVE_BODY_TIMEOUT"

# Where the script, styles and icon of /docs (Swagger UI) are served.
_ASSETS = "/docs-assets"

# Enough for any float written by JSON encoders ("-1.2345678901234567e-308") and its separator.
_BYTES_PER_NUMBER = 26
_BODY_OVERHEAD = 64 * 1024


def _default_max_body_bytes(max_rows: int, n_features: int, feature_names, levels=None) -> int:
    # A value: a number, or for a categorical column (`levels`: position -> levels) its longest level.
    value = [max([_BYTES_PER_NUMBER, *(len(json.dumps(v)) + 2 for v in (levels or {}).get(j, ()))])
             for j in range(n_features)]
    per_row = sum(value) + 4
    if feature_names is not None:
        per_row = max(per_row, sum(len(json.dumps(n)) + 2 + v for n, v in zip(feature_names, value, strict=True)) + 4)
    return _BODY_OVERHEAD + max_rows * per_row


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class _JSONRequest(Request):
    """A request whose JSON body is read by :func:`read_json` (every unreadable body is invalid JSON: 422)."""

    async def json(self):
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names JSON (``application/json`` or a ``+json`` type, any parameters)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _not_json(content_type: str | None) -> JSONResponse:
    got = f"it was {content_type.split(';', 1)[0].strip()!r}" if content_type else "the request had none"
    return JSONResponse(status_code=415, content={
        "detail": f"send Content-Type: application/json with a JSON body ({got})"})


class _JSONRoute(APIRoute):
    """The routes of the service: their requests are :class:`_JSONRequest` (FastAPI's custom route class), and
    a body that does not say it is JSON gets 415 with a message that says what to send."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def route_handler(request: Request) -> Response:
            content_type = request.headers.get("content-type")
            if takes_body and not _is_json(content_type):
                return _not_json(content_type)
            return await handler(_JSONRequest(request.scope, request.receive))

        return route_handler


def _add_offline_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) with its script, style and icon served by the app itself.

    FastAPI's own pages load them from a CDN, so they are blank without the internet; the assets come from
    the ``fastapi-offline`` package (a dependency of the ``serve`` extra), served under ``/docs-assets``.
    ReDoc (FastAPI's ``/redoc``) is left out: it loads its logo from its own CDN whatever it is told.
    """
    from importlib.resources import files

    from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    try:
        assets = files("fastapi_offline") / "static"
    except ModuleNotFoundError:
        raise ImportError(
            "kmeanskit.service serves its /docs page offline with the assets of fastapi-offline: "
            "pip install 'kmeanskit[serve]'"
        ) from None
    app.mount(_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    title = app.title

    def urls(request: Request):
        """The OpenAPI document's URL and a function giving an asset's, behind any proxy prefix."""
        root = request.scope.get("root_path", "")
        return f"{root}{app.openapi_url}", lambda name: f"{root}{_ASSETS}/{name}"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        openapi, asset = urls(request)
        return get_swagger_ui_html(
            openapi_url=openapi, title=f"{title} - Swagger UI", swagger_js_url=asset("swagger-ui-bundle.js"),
            swagger_css_url=asset("swagger-ui.css"), swagger_favicon_url=asset("favicon.png"),
            oauth2_redirect_url=f"{request.scope.get('root_path', '')}/docs/oauth2-redirect",
            swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()



def create_app(
    model_or_path,
    *,
    reference=None,
    max_rows: int = 10_000,
    max_body_bytes: int | None = None,
    anomaly_level: float = 0.99,
    threads: int | None = None,
    body_timeout: float = 30.0,
    model_name: str | None = None,
    key=None,
    title: str = "kmeanskit prediction service",
) -> FastAPI:
    """Build the FastAPI application serving a K-Means model.

    Parameters
    ----------
    model_or_path : str, os.PathLike, KMeans or Pipeline
        A ``.kmk`` model file (its training summary gives the anomaly
        thresholds), or a fitted model.
    reference : TrainingProfile, array-like or None, default=None
        The training profile (:func:`kmeanskit.monitoring.fit_monitor`) or the
        training rows, for anomaly scores. None: the model file's summary;
        for a model object, no anomaly scores.
    max_rows : int, default=10000
        Largest batch accepted by ``POST /predict``.
    max_body_bytes : int or None, default=None
        Largest request body, in bytes. None: 64 KiB plus room for `max_rows`
        rows of the model's features with 24-character numbers (and the
        feature names, for records).
    anomaly_level : float, default=0.99
        Training distance quantile beyond which a row is flagged.
    threads : int or None, default=None
        Threads for the numba kernels of each prediction; None keeps numba's
        default. With several server processes on few cores, 1 avoids
        oversubscription.
    body_timeout : float, default=30.0
        Seconds a client has to send the whole request body once its headers
        are in; a slower client gets 408 and the connection is closed.
    model_name : str or None, default=None
        The model's name in ``GET /model`` and ``/metrics``. None: the model
        file's name (never its directory), or nothing for a model object.
    key : bytes, str or None, default=None
        Load the model file only if it is signed with this secret (see
        :func:`kmeanskit.load`). :func:`app_from_env` takes it from
        ``KMEANSKIT_MODEL_KEY``.
    title : str
        Title of the OpenAPI document.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    kmeanskit.ModelFileError
        If the model file is invalid.
    ValueError
        If a setting is out of range.

    Examples
    --------
    >>> from kmeanskit.service import create_app
    >>> app = create_app("model.kmk")                      # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, port=8000)         # doctest: +SKIP
    """
    from kmeanskit._analysis.monitoring.anomaly import check_level
    from kmeanskit._analysis.monitoring.profile import profile_from_manifest, resolve_reference

    max_rows = _positive_int("max_rows", max_rows)
    anomaly_level = check_level(anomaly_level)
    if threads is not None:
        threads = _positive_int("threads", threads)
    if isinstance(body_timeout, bool) or not isinstance(body_timeout, (int, float, np.integer, np.floating)) \
            or not 0 < body_timeout < np.inf:
        raise ValueError(f"body_timeout must be a positive number of seconds, got {body_timeout!r}")
    manifest, source, profile = None, None, None
    if isinstance(model_or_path, (str, os.PathLike)):
        source = os.fspath(model_or_path)
        from kmeanskit._io.persistence import load_with_manifest

        model, manifest = load_with_manifest(source, key=key)
        # A file without a training profile (see kmeanskit.save) is served without anomaly scores.
        profile = profile_from_manifest(model, manifest, source, required=False)
        if reference is not None:
            model, profile = resolve_reference(model, reference)
    else:
        model = model_or_path
        if reference is not None:
            model, profile = resolve_reference(model, reference)
        try:
            from kmeanskit._io.persistence import describe

            manifest = describe(model)
        except (TypeError, ValueError):
            manifest = None  # a model the file format does not support: still servable
    # The name shown to clients: never the model's directory on the server.
    name = model_name if model_name is not None else (None if source is None else os.path.basename(source))
    predictor = Predictor(model, profile, anomaly_level, threads)
    if max_body_bytes is None:
        max_body_bytes = _default_max_body_bytes(max_rows, predictor.n_features, predictor.feature_names,
                                                 predictor.levels)
    max_body_bytes = _positive_int("max_body_bytes", max_body_bytes)
    # Compile or load the kernels now, not on the first request. Ones, not zeros: SphericalKMeans
    # refuses a row without direction (a model that still refuses it compiles on the first request).
    try:
        predictor.predict([[1.0] * predictor.n_features], return_distances=True)
    except ValueError:
        pass

    from kmeanskit import __version__

    metrics = Metrics(predictor.n_clusters, {
        "version": __version__, "n_clusters": str(predictor.n_clusters), "n_features": str(predictor.n_features),
        "source": name or "object",
    })
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(app):
        yield
        predictor.shutdown()

    body_type = request_type(predictor, max_rows)
    errors = {
        413: {"model": ErrorResponse, "description": "Request body over max_body_bytes"},
        422: {"model": ErrorResponse, "description": "Invalid request: the message says what to fix"},
        400: {"model": ErrorResponse, "description": "Invalid Content-Length header"},
        408: {"model": ErrorResponse, "description": "Request body not received within body_timeout"},
        415: {"model": ErrorResponse, "description": "Content-Type is not application/json"},
    }
    app = FastAPI(
        title=title,
        version=__version__,
        description=(
            f"Assigns rows to the {predictor.n_clusters} clusters of a K-Means model with "
            f"{predictor.n_features} features. At most {max_rows} rows and {max_body_bytes} bytes per request."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = _JSONRoute
    _add_offline_docs(app)
    app.state.predictor = predictor
    app.state.metrics = metrics

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        unreadable = exc.__cause__ if isinstance(exc.__cause__, UnreadableBody) else None
        return JSONResponse(status_code=422, content=validation_errors(exc.errors(), predictor, unreadable))

    @app.post("/predict", response_model=PredictResponse, responses=errors,
              summary="Assign rows to clusters")
    async def predict(payload: Annotated[body_type, Body()]) -> Response:
        field = "records" if getattr(payload, "records", None) is not None else "instances"
        if field == "records":
            names = predictor.feature_names
            rows = [[getattr(record, f"f{i}") for i in range(len(names))] for record in payload.records]
        else:
            rows = payload.instances
        if predictor.accepts_missing:  # (null only passes validation then)
            empty = [i for i, row in enumerate(rows) if all(value is None for value in row)]
            if empty:
                return JSONResponse(status_code=422, content={"detail": (
                    f"{field}[{empty[0]}]: every value is null ({len(empty)} such row{'s' if len(empty) > 1 else ''}"
                    " in all); a row is assigned by its observed values and needs at least one")})
        loop = asyncio.get_running_loop()
        try:
            out, labels, anomalies = await loop.run_in_executor(
                predictor.executor(), predictor.predict, rows, payload.return_distances)
        except (ValueError, TypeError) as exc:
            return JSONResponse(status_code=422, content={"detail": " ".join(str(exc).split())})
        metrics.observe_predictions(labels, anomalies)
        return Response(content=json.dumps(out, allow_nan=False), media_type="application/json")

    @app.get("/health", response_model=HealthResponse, summary="Liveness and the model's shape")
    async def health() -> dict:
        return {
            "status": "ok", "n_features": predictor.n_features, "n_clusters": predictor.n_clusters,
            "feature_names": predictor.feature_names, "anomaly_detection": predictor.thresholds is not None,
            "uptime_seconds": time.monotonic() - started,
        }

    @app.get("/model", response_model=ModelResponse, summary="The model's manifest and training summary")
    async def model_info() -> dict:
        return {
            "source": name, "n_features": predictor.n_features, "n_clusters": predictor.n_clusters,
            "feature_names": predictor.feature_names, "anomaly_level": predictor.anomaly_level,
            "max_rows": max_rows, "max_body_bytes": max_body_bytes, "max_abs_value": predictor.max_abs_value,
            "training_profile": None if profile is None else profile.to_dict(),
            "manifest": manifest,
        }

    @app.get("/metrics", summary="Prometheus metrics (text exposition format 0.0.4)",
             response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "Metrics of this server process"}})
    async def metrics_endpoint() -> Response:
        return Response(content=metrics.render(), media_type=METRICS_CONTENT_TYPE)

    # Outermost first: metrics see every request, including the ones refused for their size.
    app.add_middleware(BodyLimitMiddleware, limit=max_body_bytes, timeout=float(body_timeout))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app



def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory kmeanskit.service:app_from_env``, configured by environment variables.

    ``KMEANSKIT_SERVE_MODEL`` (required: the ``.kmk`` path), ``KMEANSKIT_SERVE_MAX_ROWS``,
    ``KMEANSKIT_SERVE_MAX_BODY_BYTES`` and ``KMEANSKIT_SERVE_THREADS`` (optional integers),
    ``KMEANSKIT_SERVE_BODY_TIMEOUT`` (optional, seconds), ``KMEANSKIT_SERVE_MODEL_NAME`` (optional) and
    ``KMEANSKIT_MODEL_KEY`` (optional: only a model file signed with it is loaded).
    """
    from kmeanskit._interfaces.model_key import model_key

    path = os.environ.get(ENV_MODEL)
    if not path:
        raise RuntimeError(f"set {ENV_MODEL} to the path of a .kmk model file")
    options: dict[str, object] = {}
    for env, key in ((ENV_MAX_ROWS, "max_rows"), (ENV_MAX_BODY_BYTES, "max_body_bytes"), (ENV_THREADS, "threads")):
        text = os.environ.get(env)
        if text:
            try:
                options[key] = int(text)
            except ValueError:
                raise ValueError(f"{env} must be an integer, got {text!r}") from None
    text = os.environ.get(ENV_BODY_TIMEOUT)
    if text:
        try:
            options["body_timeout"] = float(text)
        except ValueError:
            raise ValueError(f"{ENV_BODY_TIMEOUT} must be a number of seconds, got {text!r}") from None
    if os.environ.get(ENV_MODEL_NAME):
        options["model_name"] = os.environ[ENV_MODEL_NAME]
    return create_app(path, key=model_key(), **options)
