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
  status, requests aborted by their client before any response, a latency
  histogram, rows predicted, rows per cluster, anomalies).
- ``GET /openapi.json`` and ``GET /docs``: the OpenAPI document, and Swagger UI
  on it, which works offline (its assets, from ``fastapi-offline``, are
  served by the app under ``/docs-assets``).

Every malformed request gets a 4xx answer with a message, never a 5xx: a
body without a JSON ``Content-Type`` gets 415 ("send Content-Type:
application/json");
invalid JSON (not UTF-8, nested too deeply or with an integer over
Python's digit limit included), a wrong number of values, text, booleans, ``NaN`` or
``Infinity``, unknown or missing record keys or an empty batch give 422; a
batch over ``max_rows`` rows gives 422; a body over ``max_body_bytes``
(by its ``Content-Length`` or by the bytes actually received) gives 413; a
body not received within ``body_timeout`` seconds gives 408. Responses name
the model by its file name (or ``model_name``), never by its path.

Predictions run on one worker thread per process, off the event loop, so
``/health`` and ``/metrics`` answer while a large batch is computed. Metrics
are per process: with several workers each keeps its own counters.

Run it with ``kmeanskit serve MODEL.kmk`` (uvicorn), or build the app with
:func:`create_app` and serve it with any ASGI server.

The package: :mod:`.schemas` (the request and response models, the messages
of invalid requests), :mod:`.metrics` (the Prometheus counters),
:mod:`.middleware` (the ASGI middlewares that count requests and bound their
bodies), :mod:`.predictor` (the model on its worker thread) and :mod:`.app`
(:func:`create_app`, :func:`app_from_env`).
"""

try:  # the serve extra
    import fastapi  # noqa: F401
    import pydantic  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "kmeanskit.service needs FastAPI and uvicorn: pip install 'kmeanskit[serve]'"
    ) from exc

from kmeanskit._interfaces.service.app import (
    ENV_MAX_BODY_BYTES,
    ENV_MAX_ROWS,
    ENV_MODEL,
    ENV_THREADS,
    app_from_env,
    create_app,
)

__all__ = ["ENV_MODEL", "ENV_MAX_ROWS", "ENV_MAX_BODY_BYTES", "ENV_THREADS", "app_from_env", "create_app"]
