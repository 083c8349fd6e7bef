"""A gunicorn worker for the REST API: persistent connections, HTTP parsed in C.

gunicorn's sync worker parses HTTP in Python and closes the connection after every
response, so each request also pays a TCP handshake, an accept and a graceful close on
both ends: under load that cost about as much CPU as the request itself. This worker
keeps connections open (HTTP/1.1 keep-alive and pipelining), parses with httptools
(llhttp, Node.js's parser), and runs the application in its one thread, a request at a
time, as the sync worker does: requests are short and storage calls block briefly, so
one process per core serving many connections is all the concurrency there is to have.

The arbiter, settings, signals and process management stay gunicorn's. Its request
limits apply (``limit_request_line`` → 414, ``limit_request_fields`` and
``limit_request_field_size`` → 431), ``keepalive`` is how long an idle connection stays
open, ``worker_connections`` is how many a worker holds at once (then it stops
accepting), and a request not complete within ``timeout`` seconds gets 408. Every
refusal is a JSON error body, then the connection ends. Linux only (epoll).
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import select
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools
from gunicorn.workers.base import Worker

from zaqar import codec
from zaqar.api.errors import ApiError, Unexpected

DEFAULT_BODY_LIMIT = 1024 * 1024
_READ_SIZE = 65536
_POLL_SECONDS = 1.0
# A connection ended after a refusal reads and drops what the client still sends for this
# long (or this much), so that the kernel does not reset it before the answer is read.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 4 * 1024 * 1024
# One idle worker, not all of them, wakes for each new connection.
_LISTENER_EVENTS = select.EPOLLIN | getattr(select, "EPOLLEXCLUSIVE", 0)
_REASONS = {400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long",
            417: "Expectation Failed", 431: "Request Header Fields Too Large"}
# Headers naming one thing: sent twice with different values, which one counts would be
# undefined (400).
_SINGLE_VALUED = (b"x-project-id", b"client-id", b"x-auth-token")


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
        # A head still incomplete past this is refused: bounds what the parser buffers.
        self.head = min(self.request_line + self.fields * self.field_size, 1024 * 1024)
        self.body = body


class _Request:
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

    def __init__(self, sock: socket.socket, address: Any, limits: Limits) -> None:
        self.sock = sock
        self.address = address
        self.limits = limits
        self.parser = httptools.HttpRequestParser(self)
        self.current: _Request | None = None
        self.ready: deque[_Request] = deque()
        self.head_size = 0
        self.body_size = 0
        self.since = time.monotonic()  # start of the request being read, or of idleness
        self.refused: RequestRefused | None = None  # answered after the ready ones
        self.closing = False  # ends once the ready requests are answered
        self.lingering = False  # answered and shut for writing; input is dropped
        self.dropped = 0  # bytes dropped while lingering

    # -- httptools callbacks, called during feed_data ---------------------------------

    def on_message_begin(self) -> None:
        self.current = _Request()
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
        headers = _checked_headers(request)
        length = headers.get(b"content-length")
        if length is not None and int(length) > self.limits.body:
            # The application answers 413 from the head alone; the body is never read.
            self.ready.append(request)
            self.closing = True
            raise _StopReading
        # Not while earlier pipelined requests await their answers: those go first.
        if (headers.get(b"expect") == b"100-continue" and request.version == "1.1"
                and not self.ready):
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

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


class KeepAliveWorker(Worker):  # type: ignore[misc]
    """Serves many persistent connections from one thread, with epoll."""

    def init_process(self) -> None:
        self.connections: dict[int, Connection] = {}
        # Bodies are read whole before the application runs, up to its own limit (past
        # it the application answers 413 from what was read).
        body_limit = getattr(self.app, "request_body_limit", DEFAULT_BODY_LIMIT)
        self.limits = Limits(self.cfg.limit_request_line, self.cfg.limit_request_fields,
                             self.cfg.limit_request_field_size, body_limit)
        address = self.sockets[0].getsockname() if self.sockets else None
        self.server_name, self.server_port = (
            (str(address[0]), str(address[1])) if isinstance(address, tuple)
            else ("localhost", ""))
        self.date = (0, "")
        super().init_process()

    def run(self) -> None:
        self.poller = select.epoll()
        listeners = {listener.fileno(): listener for listener in self.sockets}
        self.accepting = False
        self._accept_new(True)
        self.poller.register(self.PIPE[0], select.EPOLLIN)  # signals wake us through it
        last_sweep = time.monotonic()
        self.notify()
        try:
            while self.alive:
                for fd, _events in self.poller.poll(_POLL_SECONDS):
                    if fd in listeners:
                        self._accept(listeners[fd])
                    elif fd in self.connections:
                        self._read(self.connections[fd])
                    elif fd == self.PIPE[0]:
                        _drain(fd)
                    if not self.alive:
                        break
                now = time.monotonic()
                if now - last_sweep >= _POLL_SECONDS:
                    last_sweep = now
                    self.notify()  # the arbiter's liveness check: a syscall, so not per event
                    self._sweep(now)
                    if self.ppid != os.getppid():
                        self.log.info("Parent changed, shutting down: %s", self)
                        break
        finally:
            for connection in list(self.connections.values()):
                self._close(connection)
            self.poller.close()

    # -- connections -------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, address = listener.accept()
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED):
                return
            raise
        # Reads happen only when epoll says there is data; the timeout bounds a send to
        # a client that does not read.
        sock.settimeout(self.timeout)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections[sock.fileno()] = Connection(sock, address, self.limits)
        self.poller.register(sock.fileno(), select.EPOLLIN)
        if len(self.connections) >= self.cfg.worker_connections:
            self._accept_new(False)

    def _accept_new(self, accepting: bool) -> None:
        """Watch the listeners, or stop while ``worker_connections`` are open (bounding
        what a worker buffers); other workers, or the kernel's backlog, take the rest."""
        if accepting == self.accepting:
            return
        for listener in self.sockets:
            if accepting:
                self.poller.register(listener.fileno(), _LISTENER_EVENTS)
            else:
                self.poller.unregister(listener.fileno())
        self.accepting = accepting

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(connection)
            return
        if connection.lingering:
            connection.dropped += len(data)
            if connection.dropped > _LINGER_BYTES:
                self._close(connection)
            return
        try:
            connection.feed(data)
            self._answer_ready(connection)
        except OSError:  # the client went away while we were writing
            self._close(connection)

    def _answer_ready(self, connection: Connection) -> None:
        while connection.ready:
            request = connection.ready.popleft()
            last = not connection.ready and connection.ends_after_ready
            if not self._serve(connection, request, may_keep_alive=not last):
                self._end(connection)
                return
        if connection.refused is not None:
            self._send_error(connection, connection.refused)
            self._end(connection)
        elif connection.closing:
            self._end(connection)
        else:
            connection.since = time.monotonic()  # idle from the last answer

    def _sweep(self, now: float) -> None:
        """End connections idle past ``keepalive``, and requests not sent in time."""
        for connection in list(self.connections.values()):
            age = now - connection.since
            if connection.lingering:
                if age > _LINGER_SECONDS:
                    self._close(connection)
            elif connection.current is None:
                if age > self.cfg.keepalive:
                    self._close(connection)
            elif age > self.timeout:
                self._send_error(connection, RequestRefused(
                    408, f"The request was not complete within {self.timeout} seconds."))
                self._end(connection)

    def _end(self, connection: Connection) -> None:
        """Close gracefully: no more output, and what the client still sends is dropped
        until it closes too, or for _LINGER_SECONDS."""
        try:
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(connection)
            return
        connection.lingering = True
        connection.since = time.monotonic()

    def _close(self, connection: Connection) -> None:
        fd = connection.sock.fileno()
        if self.connections.pop(fd, None) is not None:
            self.poller.unregister(fd)
        connection.sock.close()
        if not self.accepting and len(self.connections) < self.cfg.worker_connections:
            self._accept_new(True)

    # -- serving -----------------------------------------------------------------------

    def _serve(self, connection: Connection, request: _Request,
               may_keep_alive: bool) -> bool:
        """Run the application for ``request`` and send its answer; True when the
        connection stays open after it."""
        begun = time.monotonic()
        reply = _Reply()
        result: Iterable[bytes] = ()
        try:
            result = self.wsgi(self._environ(connection, request), reply.start_response)
            body = b"".join([*reply.written, *result])
        except Exception:
            self.log.exception("Error handling request %s", request.url)
            reply.status = "500 Internal Server Error"
            reply.headers = [("Content-Type", "application/json")]
            body = codec.encode_error(Unexpected())
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        keep_alive = may_keep_alive and request.keep_alive and self.alive and not reply.closes
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
            keep_alive = False
        bodiless = request.method == "HEAD" or reply.status[:3] in ("204", "304")
        head = self._head(reply, request.version, len(body), keep_alive)
        connection.sock.sendall(head if bodiless else head + body)
        if self.cfg.accesslog:
            self._log_access(connection, request, reply.status, len(body), begun)
        return keep_alive

    def _environ(self, connection: Connection, request: _Request) -> dict[str, Any]:
        url = httptools.parse_url(request.url)
        body = b"".join(request.body)
        peer = connection.address if isinstance(connection.address, tuple) else ("", "")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(url.path or b"/").decode("latin-1"),
            "QUERY_STRING": (url.query or b"").decode("latin-1"),
            "RAW_URI": request.url.decode("latin-1"),
            "SERVER_PROTOCOL": f"HTTP/{request.version}",
            "SERVER_NAME": self.server_name,
            "SERVER_PORT": self.server_port,
            "REMOTE_ADDR": str(peer[0]),
            "REMOTE_PORT": str(peer[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in request.headers:
            # With underscores, "X_Auth_Token" would pose as "X-Auth-Token" once renamed
            # for WSGI: such headers are dropped, as gunicorn does.
            if b"_" in name:
                continue
            key = name.decode("latin-1").upper().replace("-", "_")
            text = value.decode("latin-1")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            if key in environ and name.lower() in _SINGLE_VALUED:
                continue  # repeated with the same value (checked as the head was parsed)
            environ[key] = f"{environ[key]},{text}" if key in environ else text
        if "CONTENT_LENGTH" not in environ and body:  # was chunked
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _head(self, reply: _Reply, version: str, length: int, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {reply.status}"]
        lines += [f"{name}: {value}" for name, value in reply.headers
                  if name.lower() not in ("content-length", "connection")]
        if reply.status[:3] not in ("204", "304"):
            lines.append(f"Content-Length: {length}")
        lines.append(f"Date: {self._http_date()}")
        if not keep_alive:
            lines.append("Connection: close")
        elif version == "1.0":
            lines.append("Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send_error(self, connection: Connection, refusal: RequestRefused) -> None:
        reason = _REASONS.get(refusal.status, "Error")
        body = codec.encode_error(ApiError(refusal.description, reason))
        head = (f"HTTP/1.1 {refusal.status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nDate: {self._http_date()}\r\n"
                "Connection: close\r\n\r\n")
        with contextlib.suppress(OSError):  # the client is gone: nothing to tell
            connection.sock.sendall(head.encode("latin-1") + body)

    def _http_date(self) -> str:
        now = int(time.time())
        if self.date[0] != now:
            self.date = (now, formatdate(now, usegmt=True))
        return self.date[1]

    def _log_access(self, connection: Connection, request: _Request, status: str,
                    length: int, begun: float) -> None:
        client = connection.address[0] if isinstance(connection.address, tuple) else "-"
        self.log.access_log.info('%s "%s %s HTTP/%s" %s %d %.1fms', client, request.method,
                                 request.url.decode("latin-1"), request.version, status[:3],
                                 length, (time.monotonic() - begun) * 1000)


class _Reply:
    """What the application passed to ``start_response`` (and to ``write``)."""

    __slots__ = ("status", "headers", "closes", "written")

    def __init__(self) -> None:
        self.status = "500 Internal Server Error"
        self.headers: list[tuple[str, str]] = []
        self.closes = False  # the application asked for "Connection: close"
        self.written: list[bytes] = []

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        self.status, self.headers = status, list(headers)
        self.closes = any(name.lower() == "connection" and value.lower() == "close"
                          for name, value in headers)
        return self.written.append


def _checked_headers(request: _Request) -> dict[bytes, bytes]:
    """The request's headers by lower-cased name (the last of repeated ones). Raises
    RequestRefused: 400 for a single-valued header repeated with different values or a
    body framed by Transfer-Encoding in HTTP/1.0 (which has none: RFC 9112 section 6.1
    says such framing is faulty), 417 for an Expect other than 100-continue."""
    headers: dict[bytes, bytes] = {}
    for name, value in request.headers:
        name = name.lower()
        if name in _SINGLE_VALUED and headers.get(name, value) != value:
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


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):  # empty: EAGAIN
        while os.read(fd, 4096):
            pass
