"""The service's ASGI middlewares: request metrics, and the body size limit (413) and deadline (408).

Plain ASGI middlewares: the body limit reads the body itself (at most
``limit + 1`` bytes, within ``timeout`` seconds) before the app sees it, so
a wrong or absent ``Content-Length`` does not get past it, nor does a client
that stalls; the metrics middleware is the outermost, so it counts every
request, the refused ones included, and the ones whose client went away
before any response was sent as aborted (not as a status).
"""

import abc
import asyncio
import json
import time

from kmeanskit._interfaces.service.metrics import Metrics

__all__ = ["BodyLimitMiddleware", "MetricsMiddleware"]

_ENDPOINTS = ("/predict", "/health", "/model", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect")


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


class MetricsMiddleware(_HTTPMiddleware):
    """Counts every HTTP request (by a fixed set of endpoint labels) and times it.

    A request whose client disconnected before a response started is counted
    as aborted: no status was sent.
    """

    def __init__(self, app, metrics: Metrics):
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope, receive, send):
        start = time.perf_counter()
        status = [None]
        disconnected = [False]

        async def receive_and_record():
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected[0] = True
            return message

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive_and_record, send_and_record)
        finally:
            path = scope.get("path", "")
            endpoint = path if path in _ENDPOINTS else "other"
            method = scope.get("method", "")
            if status[0] is None and disconnected[0]:
                self.metrics.observe_aborted(endpoint, method)
            else:  # no response and no disconnect: an error, answered 500 by the server
                self.metrics.observe_request(endpoint, method, status[0] or 500, time.perf_counter() - start)


class BodyLimitMiddleware(_HTTPMiddleware):
    """Refuses bodies over ``limit`` bytes with 413 (by Content-Length, then by the bytes received),
    and bodies not received within ``timeout`` seconds with 408.

    The body is read here (at most ``limit + 1`` bytes of it) and replayed to
    the application, so a client that lies about Content-Length, or sends a
    chunked body, is cut off all the same; so is a client that stalls.
    """

    def __init__(self, app, limit: int, timeout: float = 30.0):
        super().__init__(app)
        self.limit = limit
        self.timeout = timeout

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
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                await _send_error(send, 408, f"request body not received within {self.timeout:g} s; "
                                             "send the body without pausing")
                return
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

