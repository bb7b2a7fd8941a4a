"""uvicorn's h11 protocol with a deadline for the request line and headers.

uvicorn times out idle keep-alive connections, and the service times out slow
bodies (408, ``--body-timeout``), but nothing limits a client that opens a
connection and sends nothing, or dribbles its headers a byte at a time: each
such client holds a connection for as long as it likes. This protocol gives
every request ``KMEANSKIT_SERVE_HEADER_TIMEOUT`` seconds (default 10) from the
connection or from the first byte of a request on a kept-alive connection to
complete its headers, then answers 408 and closes the connection.

Selected in ``uvicorn.run(http="kmeanskit._interfaces.service.protocol:HeaderTimeoutH11Protocol")``:
an import string, so that spawned workers load it too.
"""

import os

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DEFAULT_HEADER_TIMEOUT", "ENV_HEADER_TIMEOUT", "HeaderTimeoutH11Protocol", "PROTOCOL"]

ENV_HEADER_TIMEOUT = "KMEANSKIT_SERVE_HEADER_TIMEOUT"
DEFAULT_HEADER_TIMEOUT = 10.0
PROTOCOL = f"{__name__}:HeaderTimeoutH11Protocol"
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     b"connection: close\r\ncontent-length: 45\r\n\r\n"
                     b"request headers not received within the limit")


def header_timeout() -> float:
    """Seconds from ``KMEANSKIT_SERVE_HEADER_TIMEOUT`` (a positive number), or the default."""
    text = os.environ.get(ENV_HEADER_TIMEOUT)
    if not text:
        return DEFAULT_HEADER_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ValueError(f"{ENV_HEADER_TIMEOUT} must be a positive number of seconds, got {text!r}")
    return value


class HeaderTimeoutH11Protocol(H11Protocol):
    """:class:`H11Protocol` that closes a connection whose request headers are not complete in time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout()
        self._header_timer = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm()

    def data_received(self, data):
        super().data_received(data)
        # Part of a request line or headers is buffered: the clock runs (from the first byte of a
        # request on a kept-alive connection). Otherwise the headers are in, or the connection is
        # idle between requests, which uvicorn's keep-alive timeout covers.
        partial = self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])
        if partial and not self.transport.is_closing():
            if self._header_timer is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)

    def _arm(self):
        self._header_timer = self.loop.call_later(self._header_timeout, self._expired)

    def _disarm(self):
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self):
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()
