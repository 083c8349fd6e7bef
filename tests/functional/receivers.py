"""Real receivers of notifications on loopback ports: a webhook (HTTP) server, and an
SMTP server (aiosmtpd), each recording what it is sent, for the notification tests."""
import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Delivery:
    at: float  # time.monotonic() when it arrived
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Webhook:
    """What the receiver answers: ``fail_first`` requests with ``fail_status``, then
    ``status``; each after ``delay`` seconds."""

    url: str
    status: int = 200
    fail_first: int = 0
    fail_status: int = 500
    delay: float = 0.0
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            count = len(self.received)
        return self.fail_status if count < self.fail_first else self.status

    def bodies(self) -> list[Any]:
        with self.lock:
            return [item.body for item in self.received]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Delivery]:
        """The first ``count`` requests; fails if they do not come within ``timeout``."""
        return wait_until(lambda: len(self.received) >= count, timeout,
                          lambda: f"{len(self.received)} of {count} requests arrived",
                          lambda: list(self.received[:count]))


def wait_until(done: Callable[[], bool], timeout: float, describe: Callable[[], str],
               result: Callable[[], Any] = lambda: None) -> Any:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s: {describe()}")
        time.sleep(0.02)
    return result()


@contextmanager
def webhook_receiver(**behaviour: Any) -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 recording every POST."""
    hook = Webhook(url="", **behaviour)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            arrived = time.monotonic()
            if hook.delay:
                time.sleep(hook.delay)
            status = hook.answer()
            with hook.lock:
                hook.received.append(Delivery(arrived, self.path, dict(self.headers),
                                              json.loads(raw) if raw else None))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mail:
    sender: str  # the envelope's
    recipients: list[str]
    message: email.message.EmailMessage


@dataclass
class MailServer:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Mail]:
        return wait_until(lambda: len(self.mails) >= count, timeout,
                          lambda: f"{len(self.mails)} of {count} mails arrived",
                          lambda: list(self.mails[:count]))


@contextmanager
def smtp_receiver() -> Iterator[MailServer]:
    """An SMTP server (aiosmtpd, no TLS) on 127.0.0.1 recording every mail."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = MailServer("127.0.0.1", port)
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
