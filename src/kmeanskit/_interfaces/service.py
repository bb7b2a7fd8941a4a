"""An HTTP prediction service for a fitted K-Means model (FastAPI).

Endpoints:

- ``POST /predict``: ``{"instances": [[x0, x1, ...], ...]}`` (values in the
  model's feature order) or ``{"records": [{"name": value, ...}, ...]}`` (for
  models that record feature names), with ``"return_distances": true`` to get
  the distances to every center. Returns the cluster of each row, its
  distance to that cluster's center and, when the training profile has
  distance quantiles, an anomaly score and flag per row (score > 1: farther
  from the center than 99% of the cluster's training rows).
- ``GET /health``: liveness and the model's shape.
- ``GET /model``: the model's manifest (no arrays) and training summary.
- ``GET /metrics``: Prometheus text exposition (requests by endpoint and
  status, a latency histogram, rows predicted, rows per cluster, anomalies).
- ``GET /openapi.json`` and ``GET /docs``: the OpenAPI document.

Every malformed request gets a 4xx answer with a message, never a 5xx:
invalid JSON, a wrong number of values, text, booleans, ``NaN`` or
``Infinity``, unknown or missing record keys or an empty batch give 422; a
batch over ``max_rows`` rows gives 422; a body over ``max_body_bytes``
(by its ``Content-Length`` or by the bytes actually received) gives 413.

Predictions run on one worker thread per process, off the event loop, so
``/health`` and ``/metrics`` answer while a large batch is computed. Metrics
are per process: with several workers each keeps its own counters.

Run it with ``kmeanskit serve MODEL.kmk`` (uvicorn), or build the app with
:func:`create_app` and serve it with any ASGI server.
"""


import abc
import asyncio
import json
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, Union

import numpy as np

try:
    from fastapi import Body, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from pydantic import AllowInfNan, BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, create_model
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "kmeanskit.service needs FastAPI and uvicorn: pip install 'kmeanskit[serve]'"
    ) from exc

__all__ = ["ENV_MODEL", "ENV_MAX_ROWS", "ENV_MAX_BODY_BYTES", "ENV_THREADS", "app_from_env", "create_app"]

#: Environment variables read by :func:`app_from_env` (``kmeanskit serve`` sets them for its workers).
ENV_MODEL = "KMEANSKIT_SERVE_MODEL"
ENV_MAX_ROWS = "KMEANSKIT_SERVE_MAX_ROWS"
ENV_MAX_BODY_BYTES = "KMEANSKIT_SERVE_MAX_BODY_BYTES"
ENV_THREADS = "KMEANSKIT_SERVE_THREADS"

_METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_ENDPOINTS = ("/predict", "/health", "/model", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
_MAX_ERRORS_SHOWN = 20
# Up to this many row x center pairs, labels are the argmin of the distances (see monitoring.assign).
_SMALL_BATCH = 4096
# Enough for any float written by JSON encoders ("-1.2345678901234567e-308") and its separator.
_BYTES_PER_NUMBER = 26
_BODY_OVERHEAD = 64 * 1024



class ErrorResponse(BaseModel):
    """A 4xx answer: a one-line message and, for invalid bodies, the first errors."""

    detail: str
    errors: list[dict[str, Any]] | None = None


class PredictResponse(BaseModel):
    """Predictions for a batch of rows, one entry per row in request order."""

    n_rows: int
    labels: list[int] = Field(description="cluster of each row")
    distances: list[float] = Field(description="distance of each row to its cluster's center, in the space the "
                                               "model clusters in (after its scalers): Euclidean, cosine "
                                               "(1 - cos) for SphericalKMeans, L1 for KMedians")
    anomaly_scores: list[float | None] | None = Field(
        description="distance / the training distance quantile of the row's cluster (null for all rows when "
                    "the model has no training quantiles; null for a row whose score is not finite)")
    anomalies: list[bool] | None = Field(description="anomaly score above 1 (null without training quantiles)")
    anomaly_level: float | None = Field(description="training quantile an anomaly score of 1 corresponds to")
    center_distances: list[list[float]] | None = Field(
        default=None, description="distances to every center (only with return_distances)")


class HealthResponse(BaseModel):
    status: Literal["ok"]
    n_features: int
    n_clusters: int
    feature_names: list[str] | None
    anomaly_detection: bool
    uptime_seconds: float


class ModelResponse(BaseModel):
    source: str | None = Field(description="model file path, or null for a model given as an object")
    n_features: int
    n_clusters: int
    feature_names: list[str] | None
    anomaly_level: float | None
    max_rows: int
    max_body_bytes: int
    max_abs_value: float = Field(description="largest absolute value accepted in a row (the model's distances "
                                             "stay finite up to there)")
    training_profile: dict[str, Any] | None
    manifest: dict[str, Any] | None = Field(description="the model file's manifest (arrays are referred to "
                                                        "by member name, never included)")


# ------------------------------------------------------------------ metrics
class _Metrics:
    """Counters and histograms, rendered in the Prometheus text format (version 0.0.4)."""

    def __init__(self, n_clusters: int, info: dict[str, str]):
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}
        self.latency: dict[str, list] = {}  # endpoint -> [bucket counts..., sum, count]
        self.rows = 0
        self.rows_by_cluster = np.zeros(n_clusters, dtype=np.int64)
        self.rows_scored = 0
        self.anomalies = 0
        self.info = info
        self.start_time = time.time()

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (endpoint, method, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            hist = self.latency.get(endpoint)
            if hist is None:
                hist = self.latency[endpoint] = [0] * len(_LATENCY_BUCKETS) + [0.0, 0]
            for i, bound in enumerate(_LATENCY_BUCKETS):
                if seconds <= bound:
                    hist[i] += 1
            hist[-2] += seconds
            hist[-1] += 1

    def observe_predictions(self, labels: np.ndarray, anomalies: np.ndarray | None) -> None:
        counts = np.bincount(labels, minlength=self.rows_by_cluster.size)
        with self._lock:
            self.rows += int(labels.size)
            self.rows_by_cluster += counts
            if anomalies is not None:
                self.rows_scored += int(labels.size)
                self.anomalies += int(np.count_nonzero(anomalies))

    def render(self) -> str:
        with self._lock:
            lines = []

            def family(name, kind, help_text):
                lines.append(f"# HELP {name} {help_text}")
                lines.append(f"# TYPE {name} {kind}")

            family("kmeanskit_http_requests_total", "counter", "HTTP requests answered, by endpoint, method and status.")
            for (endpoint, method, status), n in sorted(self.requests.items()):
                labels = _labels(endpoint=endpoint, method=method, status=status)
                lines.append(f"kmeanskit_http_requests_total{labels} {n}")
            family("kmeanskit_http_request_duration_seconds", "histogram",
                   "Time from receiving a request to sending the end of its response.")
            for endpoint, hist in sorted(self.latency.items()):
                for bound, n in zip(_LATENCY_BUCKETS, hist, strict=False):
                    lines.append(f"kmeanskit_http_request_duration_seconds_bucket"
                                 f"{_labels(endpoint=endpoint, le=_float(bound))} {n}")
                lines.append(f"kmeanskit_http_request_duration_seconds_bucket"
                             f"{_labels(endpoint=endpoint, le='+Inf')} {hist[-1]}")
                lines.append(f"kmeanskit_http_request_duration_seconds_sum{_labels(endpoint=endpoint)} "
                             f"{_float(hist[-2])}")
                lines.append(f"kmeanskit_http_request_duration_seconds_count{_labels(endpoint=endpoint)} {hist[-1]}")
            family("kmeanskit_rows_predicted_total", "counter", "Rows assigned to a cluster.")
            lines.append(f"kmeanskit_rows_predicted_total {self.rows}")
            family("kmeanskit_rows_by_cluster_total", "counter", "Rows assigned, by cluster.")
            for j, n in enumerate(self.rows_by_cluster.tolist()):
                lines.append(f"kmeanskit_rows_by_cluster_total{_labels(cluster=str(j))} {n}")
            family("kmeanskit_anomalies_total", "counter",
                   "Rows farther from their center than the training quantile of their cluster.")
            lines.append(f"kmeanskit_anomalies_total {self.anomalies}")
            family("kmeanskit_anomaly_rate", "gauge",
                   "anomalies_total / rows scored since start (NaN before any row; about 1 - level when the data "
                   "look like the training data).")
            rate = self.anomalies / self.rows_scored if self.rows_scored else math.nan
            lines.append(f"kmeanskit_anomaly_rate {_float(rate)}")
            family("kmeanskit_model_info", "gauge", "The model served (always 1).")
            lines.append(f"kmeanskit_model_info{_labels(**self.info)} 1")
            family("kmeanskit_process_start_time_seconds", "gauge", "Start time of this process, Unix seconds.")
            lines.append(f"kmeanskit_process_start_time_seconds {_float(self.start_time)}")
            return "\n".join(lines) + "\n"


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")

    return "{" + ",".join(f'{key}="{escape(str(value))}"' for key, value in labels.items()) + "}"


# -------------------------------------------------------------- middleware
class _HTTPMiddleware(abc.ABC):
    """An ASGI middleware that handles HTTP requests (:meth:`http`) and passes anything else (lifespan) on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    @abc.abstractmethod
    async def http(self, scope, receive, send):
        """Handle one HTTP request (calling ``self.app`` to pass it on)."""


class _MetricsMiddleware(_HTTPMiddleware):
    """Counts every HTTP request (by a fixed set of endpoint labels) and times it."""

    def __init__(self, app, metrics: _Metrics):
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope, receive, send):
        start = time.perf_counter()
        status = [500]

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            path = scope.get("path", "")
            endpoint = path if path in _ENDPOINTS else "other"
            self.metrics.observe_request(endpoint, scope.get("method", ""), status[0], time.perf_counter() - start)


class _BodyLimitMiddleware(_HTTPMiddleware):
    """Refuses bodies over ``limit`` bytes with 413: by Content-Length, then by the bytes received.

    The body is read here (at most ``limit + 1`` bytes of it) and replayed to
    the application, so a client that lies about Content-Length, or sends a
    chunked body, is cut off all the same.
    """

    def __init__(self, app, limit: int):
        super().__init__(app)
        self.limit = limit

    async def http(self, scope, receive, send):
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                break
        if declared is not None and declared < 0:
            await _send_error(send, 400, "invalid Content-Length header")
            return
        if declared is not None and declared > self.limit:
            await _send_error(send, 413, self._message(declared))
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await _send_error(send, 413, self._message(None))
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay_receive():
            if replay:
                return replay.pop()
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay_receive, send)

    def _message(self, declared):
        size = f"{declared} bytes" if declared is not None else f"more than {self.limit} bytes"
        return (f"request body of {size} is over the limit of {self.limit} bytes (max_body_bytes); "
                "send fewer rows per request")


async def _send_error(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})


# -------------------------------------------------------------------- model
class _Predictor:
    """The model and its training quantiles; computes predictions on one worker thread."""

    def __init__(self, model, profile, anomaly_level: float, threads: int | None):
        from kmeanskit._estimators.pipeline import fitted_final_estimator

        self.model = model
        self.final = fitted_final_estimator(model, purpose="serving it")
        self.n_clusters = int(self.final.cluster_centers_.shape[0])
        self.n_features = int(model.n_features_in_)
        names = getattr(model, "feature_names_in_", None)
        self.feature_names = None if names is None else [str(n) for n in names]
        # Rows reach the model as arrays already in its feature order (records are mapped by
        # name), so a copy without feature names skips building a DataFrame per request and
        # scikit-learn's name checks, the larger part of a small request's time.
        self.array_model = _without_feature_names(model)
        self.profile = profile
        self.thresholds = None
        self.anomaly_level = None
        if profile is not None and profile.has_quantiles:
            self.thresholds = profile.quantile(anomaly_level)
            self.anomaly_level = float(anomaly_level)
        self._threads = threads
        self._executor = None
        self.max_abs_value = self._input_bound()

    def _input_bound(self) -> float:
        """A power of ten B such that rows of values within +-B are answered with finite distances.

        Probes the model itself with rows at corners of the box [-10**e, 10**e]^d
        (all +, all -, alternating signs) for the largest e in 0..300 that
        gives finite distances, then keeps a factor of 10 of margin. Published
        in the request schema, so that every value the schema allows can be
        answered rather than refused after validation.
        """
        from kmeanskit._analysis.monitoring.assignment import assign

        d = self.n_features
        signs = np.array([[1.0] * d, [-1.0] * d, [(-1.0) ** i for i in range(d)], [(-1.0) ** (i + 1) for i in range(d)]])

        def fits(exponent: int) -> bool:
            try:
                with np.errstate(all="ignore"):
                    _, distances, D = assign(self.array_model, signs * 10.0 ** exponent, all_distances=True)
            except (ValueError, TypeError, OverflowError, FloatingPointError):
                return False
            return bool(np.all(np.isfinite(D)))

        low, high = 0, 300
        if not fits(low):
            return 1.0
        while low < high:  # the largest exponent that fits (finite up to there, in practice)
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        return 10.0 ** max(low - 1, 0)

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmeanskit-predict",
                                                initializer=self._init_thread)
        return self._executor

    def _init_thread(self):
        if self._threads is not None:
            import numba

            # Thread-local in numba: applies to the prediction thread only.
            numba.set_num_threads(min(self._threads, numba.config.NUMBA_NUM_THREADS))

    def shutdown(self):
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def frame(self, rows):
        """The rows as an array of shape (n_rows, n_features), for `array_model`."""
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), self.n_features)

    def predict(self, rows, return_distances: bool) -> dict[str, Any]:
        from kmeanskit._analysis.monitoring.anomaly import threshold_scores
        from kmeanskit._analysis.monitoring.assignment import assign

        X = self.frame(rows)
        # Small batches: labels from the distances, one call to the model instead of two.
        labels_from = "distances" if len(rows) * self.n_clusters <= _SMALL_BATCH else "predict"
        labels, distances, D = assign(self.array_model, X, all_distances=return_distances, labels_from=labels_from)
        if not np.all(np.isfinite(distances)) or (D is not None and not np.all(np.isfinite(D))):
            raise ValueError("values too large: the distances to the centers overflow; check the units of the input")
        out = {"n_rows": int(labels.size), "labels": labels.tolist(), "distances": distances.tolist()}
        anomalies = None
        if self.thresholds is not None:
            scores = threshold_scores(distances, labels, self.thresholds)
            anomalies = scores > 1
            out["anomaly_scores"] = [s if math.isfinite(s) else None for s in scores.tolist()]
            out["anomalies"] = anomalies.tolist()
        else:
            out["anomaly_scores"] = out["anomalies"] = None
        out["anomaly_level"] = self.anomaly_level
        if D is not None:
            out["center_distances"] = D.tolist()
        return out, labels, anomalies


def _without_feature_names(model):
    """A deep copy of `model` whose steps record no feature names (it then takes plain arrays)."""
    import copy

    if getattr(model, "feature_names_in_", None) is None:
        return model
    bare = copy.deepcopy(model)
    steps = [step for _, step in bare.steps] if hasattr(bare, "steps") else [bare]
    for step in steps:
        if hasattr(step, "__dict__") and "feature_names_in_" in step.__dict__:
            del step.feature_names_in_
    return bare


def _default_max_body_bytes(max_rows: int, n_features: int, feature_names) -> int:
    per_row = n_features * _BYTES_PER_NUMBER + 4
    if feature_names is not None:
        per_row = max(per_row, sum(len(json.dumps(n)) + 2 + _BYTES_PER_NUMBER for n in feature_names) + 4)
    return _BODY_OVERHEAD + max_rows * per_row


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------- app
def create_app(
    model_or_path,
    *,
    reference=None,
    max_rows: int = 10_000,
    max_body_bytes: int | None = None,
    anomaly_level: float = 0.99,
    threads: int | None = None,
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
    manifest, source, profile = None, None, None
    if isinstance(model_or_path, (str, os.PathLike)):
        source = os.fspath(model_or_path)
        from kmeanskit._io.persistence import load_with_manifest

        model, manifest = load_with_manifest(source)
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
    predictor = _Predictor(model, profile, anomaly_level, threads)
    if max_body_bytes is None:
        max_body_bytes = _default_max_body_bytes(max_rows, predictor.n_features, predictor.feature_names)
    max_body_bytes = _positive_int("max_body_bytes", max_body_bytes)
    # Compile or load the kernels now, not on the first request. Ones, not zeros: SphericalKMeans
    # refuses a row without direction (a model that still refuses it compiles on the first request).
    try:
        predictor.predict([[1.0] * predictor.n_features], return_distances=True)
    except ValueError:
        pass

    from kmeanskit import __version__

    metrics = _Metrics(predictor.n_clusters, {
        "version": __version__, "n_clusters": str(predictor.n_clusters), "n_features": str(predictor.n_features),
        "source": source or "object",
    })
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(app):
        yield
        predictor.shutdown()

    body_type = _request_type(predictor, max_rows)
    errors = {
        413: {"model": ErrorResponse, "description": "Request body over max_body_bytes"},
        422: {"model": ErrorResponse, "description": "Invalid request: the message says what to fix"},
        400: {"model": ErrorResponse, "description": "Invalid Content-Length header"},
    }
    app = FastAPI(
        title=title,
        version=__version__,
        description=(
            f"Assigns rows to the {predictor.n_clusters} clusters of a K-Means model with "
            f"{predictor.n_features} features. At most {max_rows} rows and {max_body_bytes} bytes per request."
        ),
        lifespan=lifespan,
    )
    app.state.predictor = predictor
    app.state.metrics = metrics

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return JSONResponse(status_code=422, content=_validation_errors(exc.errors(), predictor))

    @app.post("/predict", response_model=PredictResponse, responses=errors,
              summary="Assign rows to clusters")
    async def predict(payload: Annotated[body_type, Body()]) -> Response:
        if getattr(payload, "records", None) is not None:
            names = predictor.feature_names
            rows = [[getattr(record, f"f{i}") for i in range(len(names))] for record in payload.records]
        else:
            rows = payload.instances
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
            "source": source, "n_features": predictor.n_features, "n_clusters": predictor.n_clusters,
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
        return Response(content=metrics.render(), media_type=_METRICS_CONTENT_TYPE)

    # Outermost first: metrics see every request, including the ones refused for their size.
    app.add_middleware(_BodyLimitMiddleware, limit=max_body_bytes)
    app.add_middleware(_MetricsMiddleware, metrics=metrics)
    return app


def _request_type(predictor: _Predictor, max_rows: int):
    """The pydantic type of a /predict body for this model: instances, or records by feature name."""
    d = predictor.n_features
    bound = predictor.max_abs_value
    # A value: a JSON number (ints accepted), never a string, a boolean, NaN or infinity, nor so
    # large that the distances would overflow.
    Value = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-bound, le=bound)]
    Row = Annotated[list[Value], Field(min_length=d, max_length=d)]
    strict_bool = Annotated[bool, Strict()]
    distances_field = (strict_bool, Field(default=False, description="also return the distances to every center"))

    instances = create_model(
        "InstancesRequest",
        __config__=ConfigDict(extra="forbid"),
        instances=(Annotated[list[Row], Field(min_length=1, max_length=max_rows)],
                   Field(description=f"rows of {d} numbers in the model's feature order")),
        return_distances=distances_field,
    )
    if predictor.feature_names is None:
        return instances
    record = create_model(
        "Record",
        __config__=ConfigDict(extra="forbid", populate_by_name=False),
        **{f"f{i}": (Value, Field(alias=name)) for i, name in enumerate(predictor.feature_names)},
    )
    records = create_model(
        "RecordsRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(Annotated[list[record], Field(min_length=1, max_length=max_rows)],
                 Field(description="rows as objects mapping every feature name to its value")),
        return_distances=distances_field,
    )

    def kind(value) -> str:
        if isinstance(value, dict):
            return "records" if "records" in value and "instances" not in value else "instances"
        return "records" if isinstance(value, records) else "instances"

    return Annotated[Union[Annotated[instances, Tag("instances")], Annotated[records, Tag("records")]],
                     Discriminator(kind)]


def _validation_errors(errors, predictor: _Predictor) -> dict[str, Any]:
    """A one-line message and the first errors, without echoing the input back."""
    union = predictor.feature_names is not None
    shown = []
    for error in errors[:_MAX_ERRORS_SHOWN]:
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"]:
            loc = loc[1:]
        if union and loc[:1] in (["instances"], ["records"]):
            loc = loc[1:]  # the tag of the request union, not something the client sent
        shown.append({"loc": loc, "msg": error.get("msg", ""), "type": error.get("type", "")})
    if not shown:
        return {"detail": "invalid request", "errors": []}
    first = shown[0]
    detail = f"{_where(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
    if first["type"] == "json_invalid":
        detail = "the body is not valid JSON: " + first["msg"]
    if any(e["type"] == "extra_forbidden" and e["loc"][:1] == ["records"] for e in shown) \
            and predictor.feature_names is None:
        detail = (f"this model records no feature names: send 'instances', rows of {predictor.n_features} "
                  "numbers in the model's feature order")
    elif first["type"] == "too_long" and first["loc"] in (["instances"], ["records"]):
        detail = f"{first['loc'][0]}: {first['msg']} (max_rows); send fewer rows per request"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return {"detail": detail, "errors": shown}


def _where(loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory kmeanskit.service:app_from_env``, configured by environment variables.

    ``KMEANSKIT_SERVE_MODEL`` (required: the ``.kmk`` path), ``KMEANSKIT_SERVE_MAX_ROWS``,
    ``KMEANSKIT_SERVE_MAX_BODY_BYTES`` and ``KMEANSKIT_SERVE_THREADS`` (optional integers).
    """
    path = os.environ.get(ENV_MODEL)
    if not path:
        raise RuntimeError(f"set {ENV_MODEL} to the path of a .kmk model file")
    options: dict[str, Callable] = {}
    for env, key in ((ENV_MAX_ROWS, "max_rows"), (ENV_MAX_BODY_BYTES, "max_body_bytes"), (ENV_THREADS, "threads")):
        text = os.environ.get(env)
        if text:
            try:
                options[key] = int(text)
            except ValueError:
                raise ValueError(f"{env} must be an integer, got {text!r}") from None
    return create_app(path, **options)
