"""HTTP/1.x requests off one connection, parsed by httptools (llhttp, Node.js's
parser): the request limits (gunicorn's settings), pipelining, ``Expect`` and the
refusals the keep-alive worker (zaqar.transport.wsgi.worker) answers. No I/O here: the
worker feeds bytes in, takes complete requests out, and sends what :attr:`Connection.
outbox` holds.
"""
from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any

import httptools

# Headers naming one thing: sent twice with different values, which one counts would be
# undefined (400).
SINGLE_VALUED = (b"x-project-id", b"client-id", b"x-auth-token")
MAX_HEAD = 64 * 1024


class RequestRefused(Exception):
    """The input cannot be served: answer ``status``, then end the connection."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


class _StopReading(Exception):
    """Raised from a parser callback once the requests so far are all that will be
    served on the connection."""


class Limits:
    """Request limits: gunicorn's settings (0 means none) and the application's body
    limit."""

    def __init__(self, request_line: int, fields: int, field_size: int, body: int) -> None:
        self.request_line = request_line or sys.maxsize
        self.fields = fields or sys.maxsize
        self.field_size = field_size or sys.maxsize
        # A head still incomplete past this is refused (431): bounds what a connection
        # buffers before a request is complete, whatever the per-field limits allow.
        self.head = min(self.request_line + self.fields * self.field_size, MAX_HEAD)
        self.body = body


class HttpRequest:
    __slots__ = ("method", "url", "version", "headers", "body", "keep_alive")

    def __init__(self) -> None:
        self.method = ""  # set once the head is complete
        self.url = b""
        self.version = "1.1"
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.keep_alive = False


class Connection:
    """One client connection: its parser, the request being read, the complete requests
    waiting for their answers (pipelining), and how the connection is to end."""

    def __init__(self, sock: Any, address: Any, limits: Limits) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.closed = False
        self.address = address
        self.limits = limits
        self.parser = httptools.HttpRequestParser(self)
        self.current: HttpRequest | None = None
        self.ready: deque[HttpRequest] = deque()
        self.head_size = 0
        self.body_size = 0
        self.since = time.monotonic()  # start of the request being read, or of idleness
        self.refused: RequestRefused | None = None  # answered after the ready ones
        self.closing = False  # ends once the ready requests are answered
        self.lingering = False  # answered and shut for writing; input is dropped
        self.dropped = 0  # bytes dropped while lingering
        self.outbox = bytearray()  # answers not yet taken by the client
        self.write_since = 0.0  # when the outbox last went from empty to not empty
        self.ending = False  # shut for writing once the outbox is sent
        self.handshaking = False  # TLS handshake under way
        self.parked: Any = None  # a long poll waiting (zaqar.transport.wsgi.worker)
        self.events = 0  # what the worker's epoll watches for

    # -- httptools callbacks, called during feed_data ---------------------------------

    def on_message_begin(self) -> None:
        self.current = HttpRequest()
        self.head_size = self.body_size = 0
        self.since = time.monotonic()

    def on_url(self, url: bytes) -> None:
        assert self.current is not None
        self.current.url += url
        if len(self.current.url) > self.limits.request_line:
            raise RequestRefused(414, "The request line is over "
                                      f"{self.limits.request_line} bytes.")

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.current is not None
        self.current.headers.append((name, value))
        if len(self.current.headers) > self.limits.fields:
            raise RequestRefused(431, f"The request has more than {self.limits.fields} "
                                      "header fields.")
        if len(name) + len(value) + 2 > self.limits.field_size:
            raise RequestRefused(431, "A header field is over "
                                      f"{self.limits.field_size} bytes.")

    def on_headers_complete(self) -> None:
        request = self.current
        assert request is not None
        request.method = self.parser.get_method().decode("ascii")
        request.version = self.parser.get_http_version()
        request.keep_alive = self.parser.should_keep_alive()
        headers = checked_headers(request)
        length = headers.get(b"content-length")
        if length is not None and int(length) > self.limits.body:
            # The application answers 413 from the head alone; the body is never read.
            self.ready.append(request)
            self.closing = True
            raise _StopReading
        # Not while earlier pipelined requests await their answers: those go first.
        if (headers.get(b"expect") == b"100-continue" and request.version == "1.1"
                and not self.ready):
            self.outbox += b"HTTP/1.1 100 Continue\r\n\r\n"

    def on_body(self, body: bytes) -> None:
        assert self.current is not None
        self.body_size += len(body)
        self.current.body.append(body)
        if self.body_size > self.limits.body:  # chunked: the application answers 413
            self.ready.append(self.current)
            self.closing = True
            raise _StopReading

    def on_message_complete(self) -> None:
        assert self.current is not None
        self.ready.append(self.current)
        self.current = None

    # -- input --------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse ``data``: complete requests land in :attr:`ready`; input that cannot be
        served sets :attr:`refused`."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # An upgrade (h2c, websocket) is declined by answering in HTTP/1.1, as the
            # protocol allows; the parser cannot go on past it, so the connection ends.
            self.closing = True
        except httptools.HttpParserError as error:
            cause = error.__context__
            if isinstance(cause, RequestRefused):
                self.refused = cause
            elif not isinstance(cause, _StopReading):
                self.refused = RequestRefused(400, f"Malformed HTTP request: {error}.")
            return
        if self.current is not None and not self.current.method:
            self.head_size += len(data)
            if self.head_size > self.limits.head:
                self.refused = RequestRefused(431, "The request head is too large.")

    @property
    def ends_after_ready(self) -> bool:
        return self.closing or self.refused is not None


def checked_headers(request: HttpRequest) -> dict[bytes, bytes]:
    """The request's headers by lower-cased name (the last of repeated ones). Raises
    RequestRefused: 400 for a single-valued header repeated with different values or a
    body framed by Transfer-Encoding in HTTP/1.0 (which has none: RFC 9112 section 6.1
    says such framing is faulty), 417 for an Expect other than 100-continue."""
    headers: dict[bytes, bytes] = {}
    for name, value in request.headers:
        name = name.lower()
        if name in SINGLE_VALUED and headers.get(name, value) != value:
            raise RequestRefused(400, f"The {name.decode('latin-1')} header is sent more "
                                      "than once with different values.")
        headers[name] = value
    if request.version == "1.0" and b"transfer-encoding" in headers:
        raise RequestRefused(400, "HTTP/1.0 requests cannot use Transfer-Encoding; send "
                                  "a Content-Length.")
    expect = headers.get(b"expect")
    if expect is not None:
        expect = headers[b"expect"] = expect.strip().lower()
        if expect != b"100-continue":
            raise RequestRefused(417, "The only expectation supported is 100-continue.")
    return headers
