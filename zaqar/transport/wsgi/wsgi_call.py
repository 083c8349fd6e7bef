"""One WSGI call of the keep-alive worker (zaqar.transport.wsgi.worker): the environ
built from a parsed request, what the application gives ``start_response``, and the
response head written from it (PEP 3333)."""
from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools

from zaqar.transport.wsgi.http_parsing import SINGLE_VALUED, HttpRequest

# What a response header may not contain (it would split the head: response splitting).
FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")


def build_environ(request: HttpRequest, address: Any, server: tuple[str, str],
                  scheme: str) -> dict[str, Any]:
    """The WSGI environ of ``request`` from the client at ``address`` (PEP 3333)."""
    url = httptools.parse_url(request.url)
    body = b"".join(request.body)
    peer = address if isinstance(address, tuple) else ("", "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(url.path or b"/").decode("latin-1"),
        "QUERY_STRING": (url.query or b"").decode("latin-1"),
        "RAW_URI": request.url.decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{request.version}",
        "SERVER_NAME": server[0],
        "SERVER_PORT": server[1],
        "REMOTE_ADDR": str(peer[0]),
        "REMOTE_PORT": str(peer[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
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
        if key in environ and name.lower() in SINGLE_VALUED:
            continue  # repeated with the same value (checked as the head was parsed)
        environ[key] = f"{environ[key]},{text}" if key in environ else text
    if "CONTENT_LENGTH" not in environ and body:  # was chunked
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def response_head(reply: Reply, version: str, length: int, keep_alive: bool, date: str
                  ) -> bytes:
    """The status line and headers of an answer (Content-Length, Date and Connection
    are the server's)."""
    lines = [f"HTTP/1.1 {reply.status}"]
    lines += [f"{name}: {value}" for name, value in reply.headers
              if name.lower() not in ("content-length", "connection")]
    if reply.status[:3] not in ("204", "304"):
        lines.append(f"Content-Length: {length}")
    lines.append(f"Date: {date}")
    if not keep_alive:
        lines.append("Connection: close")
    elif version == "1.0":
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpDate:
    """The Date header's value, formatted once a second."""

    def __init__(self) -> None:
        self._cached = (0, "")

    def now(self) -> str:
        now = int(time.time())
        if self._cached[0] != now:
            self._cached = (now, formatdate(now, usegmt=True))
        return self._cached[1]


class Reply:
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


def check_response_headers(reply: Reply) -> None:
    """Raises ValueError for a status or header the application gave that would break
    the response head (a line break: response splitting) or is not Latin-1."""
    for text in (reply.status, *(part for header in reply.headers for part in header)):
        if any(char in text for char in FORBIDDEN_IN_HEADERS):
            raise ValueError(f"A response header contains a line break: {text!r}")
        text.encode("latin-1")
