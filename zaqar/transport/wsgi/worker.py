"""A gunicorn worker for the REST API: persistent connections, HTTP parsed in C, TLS,
long polls parked without a thread.

gunicorn's sync worker parses HTTP in Python and closes the connection after every
response, so each request also pays a TCP handshake, an accept and a graceful close on
both ends: under load that cost about as much CPU as the request itself. This worker
keeps connections open (HTTP/1.1 keep-alive and pipelining), parses with httptools
(zaqar.transport.wsgi.http_parsing), and runs the application in its one thread, a
request at a time: requests are short and storage calls block briefly, so one process
per core serving many connections is all the concurrency there is to have.

Every socket is non-blocking and epoll says when to read and write: an answer the client
does not take waits in that connection's outbox, and the connection is not read again
until it is sent, so a client that pipelines and never reads holds one answer and stalls
no one else; one whose outbox has not moved for ``timeout`` seconds is dropped. A long
poll that finds nothing (``wait=N``; zaqar.transport.wsgi.resources) is parked: the
connection waits, unread, until its queue is announced (zaqar.transport.long_poll)
or its time is up, and the request is run again.

The arbiter, settings, signals and process management stay gunicorn's. Its request
limits apply (``limit_request_line`` → 414, ``limit_request_fields`` and
``limit_request_field_size`` → 431, a whole head over 64 KiB → 431), ``keepalive`` is
how long an idle connection (or a TLS handshake) may take, ``worker_connections`` is how
many a worker holds at once (then it stops accepting), and a request not complete within
``timeout`` seconds gets 408. Every refusal is a JSON error body, then the connection
ends. With TLS (``certfile``/``keyfile``, set from ``[drivers:transport:wsgi]``), the
context comes from zaqar.transport.tls, read again by each new worker (so SIGHUP, which
replaces the workers, reloads certificates). Linux only (epoll).
"""
from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import os
import select
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable

from gunicorn.workers.base import Worker

from zaqar import codec, metrics
from zaqar.api.errors import ApiError, Unexpected
from zaqar.transport.long_poll import Key, PostWaker
from zaqar.transport.wsgi.http_parsing import (
    Connection,
    HttpRequest,
    Limits,
    RequestRefused,
)
from zaqar.transport.wsgi.resources import DEADLINE, PARK
from zaqar.transport.wsgi.wsgi_call import (
    HttpDate,
    Reply,
    build_environ,
    check_response_headers,
    response_head,
)

DEFAULT_BODY_LIMIT = 1024 * 1024
_READ_SIZE = 65536
_POLL_SECONDS = 1.0
# A connection ended after a refusal reads and drops what the client still sends for this
# long (or this much), so that the kernel does not reset it before the answer is read.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 4 * 1024 * 1024
# One idle worker, not all of them, wakes for each new connection.
_LISTENER_EVENTS = select.EPOLLIN | getattr(select, "EPOLLEXCLUSIVE", 0)
_READING = select.EPOLLIN | select.EPOLLRDHUP
_WRITING = select.EPOLLOUT | select.EPOLLRDHUP
_PARKED = select.EPOLLRDHUP  # not read while waiting; a client that leaves is seen
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                ssl.SSLWantWriteError)
_REASONS = {400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long",
            417: "Expectation Failed", 431: "Request Header Fields Too Large"}


class Parked:
    """A long poll waiting on ``key`` until ``deadline`` (time.monotonic())."""

    __slots__ = ("request", "waker", "key", "deadline", "consumes", "may_keep_alive")

    def __init__(self, request: HttpRequest, waker: PostWaker, key: Key, deadline: float,
                 consumes: bool, may_keep_alive: bool) -> None:
        self.request = request
        self.waker = waker
        self.key = key
        self.deadline = deadline
        self.consumes = consumes
        self.may_keep_alive = may_keep_alive


class KeepAliveWorker(Worker):  # type: ignore[misc]
    """Serves many persistent connections from one thread, with epoll."""

    def init_process(self) -> None:
        self.connections: dict[int, Connection] = {}
        # Bodies are read whole before the application runs, up to its own limit (past
        # it the application answers 413 from what was read).
        body_limit = getattr(self.app, "request_body_limit", DEFAULT_BODY_LIMIT)
        self.limits = Limits(self.cfg.limit_request_line, self.cfg.limit_request_fields,
                             self.cfg.limit_request_field_size, body_limit)
        tls_context: Callable[[], ssl.SSLContext] | None = getattr(self.app, "tls_context",
                                                                   None)
        self.tls = tls_context() if tls_context is not None else None
        # gunicorn hands workers half its timeout (for its own liveness check); requests
        # get the whole of it, as documented.
        self.request_timeout = self.cfg.timeout
        address = self.sockets[0].getsockname() if self.sockets else None
        self.server_name, self.server_port = (
            (str(address[0]), str(address[1])) if isinstance(address, tuple)
            else ("localhost", ""))
        self.date = HttpDate()
        self.waiting: dict[Key, deque[Connection]] = {}
        self.deadlines: list[tuple[float, int, Connection, Parked]] = []
        self.sequence = itertools.count()
        self.wakers: dict[int, PostWaker] = {}
        self.tls_pending: set[Connection] = set()  # TLS input decrypted but not read
        self.runnable: deque[Connection] = deque()  # pipelined requests waiting a turn
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
                for fd, events in self.poller.poll(self._poll_timeout()):
                    if fd in listeners:
                        self._accept(listeners[fd])
                    elif fd in self.connections:
                        self._on_events(self.connections[fd], events)
                    elif fd in self.wakers:
                        self._wake(self.wakers[fd])
                    elif fd == self.PIPE[0]:
                        _drain(fd)
                    if not self.alive:
                        break
                self._expire_waits()
                self._read_tls_pending()
                self._take_turns()
                now = time.monotonic()
                if now - last_sweep >= _POLL_SECONDS:
                    last_sweep = now
                    self.notify()  # the arbiter's liveness check: a syscall, so not per event
                    self._sweep(now)
                    if self.ppid != os.getppid():
                        self.log.info("Parent changed, shutting down: %s", self)
                        break
        finally:
            self._answer_waiting()
            for connection in list(self.connections.values()):
                self._close(connection)
            self.poller.close()

    def _poll_timeout(self) -> float:
        if self.tls_pending or self.runnable:
            return 0.0
        if self.deadlines:
            return max(0.0, min(_POLL_SECONDS, self.deadlines[0][0] - time.monotonic()))
        return _POLL_SECONDS

    # -- connections -------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, address = listener.accept()
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED):
                return
            raise
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        connection = Connection(sock, address, self.limits)
        connection.handshaking = self.tls is not None
        connection.events = _READING
        self.connections[connection.fd] = connection
        self.poller.register(connection.fd, _READING)
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

    def _on_events(self, connection: Connection, events: int) -> None:
        try:
            if connection.handshaking:
                self._handshake(connection)
            elif connection.parked is not None:
                self._close(connection)  # the client left (or sent more) while waiting
            elif connection.outbox:
                self._flush(connection)
                if not connection.outbox and not connection.closed:
                    self._advance(connection)
            elif events & ~select.EPOLLOUT:
                self._read(connection)
        except OSError:  # the client went away, or broke TLS
            self._close(connection)

    def _handshake(self, connection: Connection) -> None:
        try:
            connection.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(connection, _READING)
            return
        except ssl.SSLWantWriteError:
            self._watch(connection, _WRITING)
            return
        except OSError as error:  # a client that does not trust us, or speaks no TLS
            self.log.debug("TLS handshake with %s failed: %s", connection.address, error)
            self._close(connection)
            return
        connection.handshaking = False
        connection.since = time.monotonic()
        self._watch(connection, _READING)
        self._read(connection)

    def _read(self, connection: Connection) -> None:
        while True:
            try:
                data = connection.sock.recv(_READ_SIZE)
            except _WOULD_BLOCK:
                break
            except OSError:
                data = b""
            if not data:
                if connection.lingering or not (connection.ready or connection.outbox):
                    self._close(connection)
                    return
                connection.closing = True  # answer what was asked, then end
                break
            if connection.lingering:
                connection.dropped += len(data)
                if connection.dropped > _LINGER_BYTES:
                    self._close(connection)
                    return
                continue
            connection.feed(data)
            # A plain socket is read again when epoll says so; TLS input already taken
            # from the kernel would not wake epoll, so it is read here while it lasts.
            if connection.ready or connection.ends_after_ready or self.tls is None:
                break
        self._advance(connection)

    def _advance(self, connection: Connection) -> None:
        """Answer the ready requests as far as the client takes the answers, then watch
        the connection for what comes next: its input, its output or its wake-up."""
        served = False
        while not (connection.lingering or connection.ending or connection.closed):
            if connection.parked is not None:
                self._watch(connection, _PARKED)
                return
            if connection.outbox:
                self._flush(connection)
                if connection.outbox:
                    self._watch(connection, _WRITING)  # and not read: backpressure
                    return
            if not connection.ready:
                break
            if served:  # one request per turn: pipelining clients take turns with others
                self._watch(connection, _PARKED)
                self.runnable.append(connection)
                return
            served = True
            request = connection.ready.popleft()
            last = not connection.ready and connection.ends_after_ready
            if self._serve(connection, request, may_keep_alive=not last) is False:
                self._end(connection)
                return
        if connection.lingering or connection.ending or connection.closed:
            return
        if connection.refused is not None:
            self._send_error(connection, connection.refused)
            self._end(connection)
        elif connection.closing:
            self._end(connection)
        else:
            connection.since = time.monotonic()  # idle from the last answer
            self._watch(connection, _READING)
            if self.tls is not None and connection.sock.pending():
                self.tls_pending.add(connection)

    def _take_turns(self) -> None:
        for _ in range(len(self.runnable)):
            connection = self.runnable.popleft()
            if not connection.closed:
                try:
                    self._advance(connection)
                except OSError:
                    self._close(connection)

    def _read_tls_pending(self) -> None:
        pending, self.tls_pending = self.tls_pending, set()
        for connection in pending:
            if not connection.closed and connection.events == _READING:
                try:
                    self._read(connection)
                except OSError:
                    self._close(connection)

    def _watch(self, connection: Connection, events: int) -> None:
        if connection.events != events and not connection.closed:
            self.poller.modify(connection.fd, events)
            connection.events = events

    def _write(self, connection: Connection, data: bytes) -> None:
        connection.outbox += data

    def _flush(self, connection: Connection) -> None:
        """Send what the client takes of the outbox now; once it is all sent, a
        connection that is ending is shut for writing."""
        while connection.outbox:
            try:
                sent = connection.sock.send(connection.outbox)
            except _WOULD_BLOCK:
                break
            del connection.outbox[:sent]
            connection.write_since = 0.0
        if connection.outbox:
            connection.write_since = connection.write_since or time.monotonic()
        elif connection.ending and not connection.lingering:
            self._shut(connection)

    def _sweep(self, now: float) -> None:
        """End connections idle past ``keepalive``, requests not sent in time, and
        clients that took no output for ``timeout`` seconds."""
        for connection in list(self.connections.values()):
            age = now - connection.since
            if connection.lingering:
                if age > _LINGER_SECONDS:
                    self._close(connection)
            elif connection.outbox:
                if connection.write_since and now - connection.write_since > self.request_timeout:
                    self._close(connection)  # a client that does not read its answers
            elif connection.parked is not None:
                continue
            elif connection.current is None and not connection.ready:
                if age > self.cfg.keepalive:
                    self._close(connection)
            elif age > self.request_timeout:
                self._send_error(connection, RequestRefused(
                    408, f"The request was not complete within {self.request_timeout} "
                         "seconds."))
                with contextlib.suppress(OSError):
                    self._end(connection)

    def _end(self, connection: Connection) -> None:
        """Close gracefully once the outbox is sent: no more output, and what the client
        still sends is dropped until it closes too, or for _LINGER_SECONDS."""
        connection.ending = True
        connection.ready.clear()
        connection.refused = None
        self._flush(connection)
        if connection.outbox:
            self._watch(connection, _WRITING)

    def _shut(self, connection: Connection) -> None:
        try:
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(connection)
            return
        connection.lingering = True
        connection.since = time.monotonic()
        self._watch(connection, select.EPOLLIN)

    def _close(self, connection: Connection) -> None:
        if connection.closed:
            return
        connection.closed = True
        if self.connections.pop(connection.fd, None) is not None:
            self.poller.unregister(connection.fd)
        if connection.parked is not None:
            self._unpark(connection)
        self.tls_pending.discard(connection)
        connection.sock.close()
        if not self.accepting and len(self.connections) < self.cfg.worker_connections:
            self._accept_new(True)

    # -- long polls --------------------------------------------------------------------

    def _park(self, connection: Connection, parked: Parked) -> None:
        connection.parked = parked
        fd = parked.waker.fileno()
        if fd not in self.wakers:
            self.wakers[fd] = parked.waker
            self.poller.register(fd, select.EPOLLIN)
        parked.waker.watch(parked.key)
        self.waiting.setdefault(parked.key, deque()).append(connection)
        heapq.heappush(self.deadlines, (parked.deadline, next(self.sequence), connection,
                                        parked))
        metrics.metrics().long_polls_waiting.inc()

    def _unpark(self, connection: Connection) -> Parked:
        parked = connection.parked
        assert parked is not None
        connection.parked = None
        waiters = self.waiting.get(parked.key)
        if waiters is not None:
            with contextlib.suppress(ValueError):
                waiters.remove(connection)
            if not waiters:
                del self.waiting[parked.key]
        parked.waker.unwatch(parked.key)
        metrics.metrics().long_polls_waiting.dec()
        return parked

    def _resume(self, connection: Connection) -> bool:
        """Run a parked request again; True when it was answered (not parked again)."""
        parked = connection.parked
        assert parked is not None
        # Parked again, it watches again before it stops watching: the waker keeps its
        # cursor on the queue.
        parked.waker.watch(parked.key)
        self._unpark(connection)
        try:
            outcome = self._serve(connection, parked.request, parked.may_keep_alive,
                                  parked.deadline)
            if outcome is False:
                self._end(connection)
            else:
                self._advance(connection)
        except OSError:
            self._close(connection)
        finally:
            parked.waker.unwatch(parked.key)
        return connection.parked is None

    def _wake(self, waker: PostWaker) -> None:
        for key in waker.take_woken():
            for connection in list(self.waiting.get(key, ())):
                parked = connection.parked
                if parked is None or parked.key != key:
                    continue
                if not self._resume(connection) and parked.consumes:
                    break  # a claim found nothing: the claims behind it would not either

    def _answer_waiting(self) -> None:
        """Stopping: every waiting long poll gets the answer it would get now (sent as
        far as the client's socket takes it at once), not a closed connection."""
        for connection in list(self.connections.values()):
            if connection.parked is not None:
                connection.parked.deadline = time.monotonic()
                self._resume(connection)

    def _expire_waits(self) -> None:
        now = time.monotonic()
        while self.deadlines and self.deadlines[0][0] <= now:
            _, _, connection, parked = heapq.heappop(self.deadlines)
            if connection.parked is parked:
                self._resume(connection)  # past its deadline: answered as it is

    # -- serving -----------------------------------------------------------------------

    def _serve(self, connection: Connection, request: HttpRequest, may_keep_alive: bool,
               deadline: float | None = None) -> bool | None:
        """Run the application for ``request`` and queue its answer; True when the
        connection stays open after it, None when the request was parked."""
        begun = time.monotonic()
        reply = Reply()
        parking: list[Parked] = []

        def park(waker: PostWaker, key: Key, until: float, consumes: bool) -> None:
            parking.append(Parked(request, waker, key, until, consumes, may_keep_alive))

        environ = build_environ(request, connection.address,
                                (self.server_name, self.server_port),
                                "http" if self.tls is None else "https")
        environ[PARK] = park
        if deadline is not None:
            environ[DEADLINE] = deadline
        result: Iterable[bytes] = ()
        try:
            result = self.wsgi(environ, reply.start_response)
            body = b"".join([*reply.written, *result])
            check_response_headers(reply)
        except Exception:
            self.log.exception("Error handling request %s", request.url)
            reply.status = "500 Internal Server Error"
            reply.headers = [("Content-Type", "application/json")]
            body = codec.encode_error(Unexpected())
            parking.clear()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if parking:
            self._park(connection, parking[0])
            return None
        keep_alive = may_keep_alive and request.keep_alive and self.alive and not reply.closes
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
            keep_alive = False
        bodiless = request.method == "HEAD" or reply.status[:3] in ("204", "304")
        head = response_head(reply, request.version, len(body), keep_alive, self.date.now())
        self._write(connection, head if bodiless else head + body)
        if self.cfg.accesslog:
            self._log_access(connection, request, reply.status, len(body), begun)
        return keep_alive

    def _send_error(self, connection: Connection, refusal: RequestRefused) -> None:
        reason = _REASONS.get(refusal.status, "Error")
        body = codec.encode_error(ApiError(refusal.description, reason))
        head = (f"HTTP/1.1 {refusal.status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nDate: {self.date.now()}\r\n"
                "Connection: close\r\n\r\n")
        self._write(connection, head.encode("latin-1") + body)

    def _log_access(self, connection: Connection, request: HttpRequest, status: str,
                    length: int, begun: float) -> None:
        client = connection.address[0] if isinstance(connection.address, tuple) else "-"
        self.log.access_log.info('%s "%s %s HTTP/%s" %s %d %.1fms', client, request.method,
                                 request.url.decode("latin-1"), request.version, status[:3],
                                 length, (time.monotonic() - begun) * 1000)


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):  # empty: EAGAIN
        while os.read(fd, 4096):
            pass
