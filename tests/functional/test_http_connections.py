"""HTTP connection handling of the REST server (zaqar/transport/wsgi/worker.py), over
plain sockets: persistent connections, pipelining, ``Expect: 100-continue``, HTTP/1.0,
the request limits and the timeouts. Every refusal is a JSON error body, then a close.
"""
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.functional.conftest import ServerProcess, running_server, server_processes


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class RawConnection:
    """One TCP connection to the server, reading answers off it one by one."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.netloc
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def answer(self) -> Answer:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"closed before a whole answer: {self.buffer!r}"
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in
                   (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", 0))
        while len(self.buffer) < length:
            assert self._fill(), "closed in the middle of a body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(int(status_line.split()[1]), headers, body)

    def closed_by_server(self, within: float = 5.0) -> bool:
        self.sock.settimeout(within)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


def request(host: str, method: str, path: str, body: bytes = b"", version: str = "1.1",
            project: str = "http-connections", extra: tuple[str, ...] = ()) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", f"Host: {host}",
             f"Client-ID: {uuid.uuid4()}", f"X-Project-ID: {project}", *extra]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


POST = json.dumps({"messages": [{"body": {"n": 1}, "ttl": 60}]}).encode()


@pytest.fixture
def conn(zaqar_server: ServerProcess) -> Iterator[RawConnection]:
    connection = RawConnection(zaqar_server.url)
    yield connection
    connection.close()


def assert_json_error(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"].startswith("application/json")
    assert set(answer.json()) == {"title", "description"}
    assert answer.json()["description"]


def test_one_connection_serves_many_requests(conn: RawConnection) -> None:
    for _ in range(3):
        conn.send(request(conn.host, "POST", "/v2/queues/kept/messages", POST))
        answer = conn.answer()
        assert answer.status == 201
        assert "connection" not in answer.headers
    conn.send(request(conn.host, "GET", "/v2/queues/kept/stats"))
    assert conn.answer().json()["messages"]["total"] == 3
    assert not conn.closed_by_server(within=0.3)


def test_pipelined_requests_are_answered_in_order(conn: RawConnection) -> None:
    conn.send(b"".join([request(conn.host, "PUT", "/v2/queues/piped"),
                        request(conn.host, "POST", "/v2/queues/piped/messages", POST),
                        request(conn.host, "GET", "/v2/queues/piped/stats"),
                        request(conn.host, "DELETE", "/v2/queues/piped")]))
    assert [conn.answer().status for _ in range(4)][:2] == [201, 201]
    conn.send(request(conn.host, "GET", "/v2/queues/piped/stats"))
    assert conn.answer().json()["messages"]["total"] == 0


def test_connection_close_is_honoured(conn: RawConnection) -> None:
    conn.send(request(conn.host, "GET", "/v2/queues", extra=("Connection: close",)))
    answer = conn.answer()
    assert answer.status == 200
    assert answer.headers["connection"] == "close"
    assert conn.closed_by_server()


def test_http_1_0_closes_unless_asked_to_keep_alive(zaqar_server: ServerProcess) -> None:
    plain = RawConnection(zaqar_server.url)
    plain.send(request(plain.host, "GET", "/v2/queues", version="1.0"))
    assert plain.answer().status == 200
    assert plain.closed_by_server()
    kept = RawConnection(zaqar_server.url)
    for _ in range(2):
        kept.send(request(kept.host, "GET", "/v2/queues", version="1.0",
                          extra=("Connection: keep-alive",)))
        answer = kept.answer()
        assert answer.status == 200
        assert answer.headers["connection"] == "keep-alive"
    plain.close()
    kept.close()


def test_expect_100_continue_is_answered_before_the_body(conn: RawConnection) -> None:
    head = request(conn.host, "POST", "/v2/queues/expecting/messages", POST,
                   extra=("Expect: 100-continue",))[:-len(POST)]
    conn.send(head)
    assert conn.answer().status == 100
    conn.send(POST)
    assert conn.answer().status == 201


def test_expect_100_continue_with_a_body_over_the_limit_gets_413_at_once(
        conn: RawConnection) -> None:
    conn.send(request(conn.host, "POST", "/v2/queues/expecting/messages",
                      extra=("Expect: 100-continue", "Content-Type: application/json",
                             f"Content-Length: {64 * 1024 * 1024}")))
    assert_json_error(conn.answer(), 413)
    assert conn.closed_by_server()


def test_chunked_body_is_read_whole(conn: RawConnection) -> None:
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece)
                      for piece in (POST[:7], POST[7:20], POST[20:])) + b"0\r\n\r\n"
    head = request(conn.host, "POST", "/v2/queues/chunks/messages",
                   extra=("Content-Type: application/json", "Transfer-Encoding: chunked"))
    conn.send(head + chunks)
    assert conn.answer().status == 201
    conn.send(request(conn.host, "GET", "/v2/queues/chunks/stats"))
    assert conn.answer().json()["messages"]["total"] == 1


@pytest.mark.parametrize("name, data, status", [
    ("request-line-over-the-limit", lambda host: request(
        host, "GET", "/v2/queues?x=" + "a" * 8000), 414),
    ("header-over-the-limit", lambda host: request(host, "GET", "/v2/queues",
                                                   extra=("X-Big: " + "b" * 9000,)), 431),
    ("too-many-headers", lambda host: request(host, "GET", "/v2/queues", extra=tuple(
        f"X-Padding-{n}: {n}" for n in range(120))), 431),
    ("not-http", lambda host: b"HELLO THERE\r\n\r\n", 400),
    ("content-length-and-chunked", lambda host: request(
        host, "POST", "/v2/queues/q/messages", POST,
        extra=("Transfer-Encoding: chunked",)), 400),
    ("two-content-lengths", lambda host: request(
        host, "POST", "/v2/queues/q/messages", POST, extra=("Content-Length: 3",)), 400),
    ("bad-chunk-size", lambda host: request(
        host, "POST", "/v2/queues/q/messages",
        extra=("Transfer-Encoding: chunked",)) + b"zz\r\n{}\r\n0\r\n\r\n", 400),
], ids=lambda value: value if isinstance(value, str) else "")
def test_malformed_or_oversize_requests_get_a_json_error_then_a_close(
        conn: RawConnection, name: str, data, status: int) -> None:
    conn.send(data(conn.host))
    assert_json_error(conn.answer(), status)
    assert conn.closed_by_server()


@pytest.mark.parametrize("protocol", ["h2c", "websocket"])
def test_upgrade_requests_are_answered_in_http_1_1_then_closed(conn: RawConnection,
                                                                protocol: str) -> None:
    conn.send(request(conn.host, "GET", "/v2/queues",
                      extra=("Connection: Upgrade", f"Upgrade: {protocol}")))
    answer = conn.answer()
    assert answer.status == 200
    assert answer.headers["connection"] == "close"
    assert conn.closed_by_server()


def test_headers_with_underscores_are_dropped(conn: RawConnection) -> None:
    """``X_Project_ID`` must not pass for ``X-Project-ID`` (both are HTTP_X_PROJECT_ID
    to a WSGI application)."""
    conn.send(b"GET /v2/queues HTTP/1.1\r\nHost: x\r\nClient-ID: %s\r\n"
              b"X_Project_ID: sneaky\r\n\r\n" % str(uuid.uuid4()).encode())
    answer = conn.answer()
    assert_json_error(answer, 400)
    assert "X-PROJECT-ID" in answer.json()["description"]


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that keeps idle connections 1 s and waits 2 s for a request's head."""
    directory: Path = tmp_path_factory.mktemp("impatient")
    with running_server(directory, "[drivers:transport:wsgi]\ntimeout = 2\n"
                                           "keepalive = 1\n") as server:
        yield server


def test_idle_connections_are_closed(impatient_server: ServerProcess) -> None:
    conn = RawConnection(impatient_server.url)
    conn.send(request(conn.host, "GET", "/v2/queues"))
    assert conn.answer().status == 200
    started = time.monotonic()
    assert conn.closed_by_server(within=10)
    assert time.monotonic() - started < 8
    conn.close()


def test_a_request_not_sent_in_time_gets_408(impatient_server: ServerProcess) -> None:
    conn = RawConnection(impatient_server.url)
    conn.send(request(conn.host, "POST", "/v2/queues/slow/messages", POST)[:-5])
    conn.sock.settimeout(10)
    assert_json_error(conn.answer(), 408)
    assert conn.closed_by_server()
    conn.close()


def test_stopping_with_idle_connections_open_is_clean(tmp_path: Path) -> None:
    """``running_server`` asserts the exit after SIGTERM is prompt and clean."""
    with running_server(tmp_path) as server:
        idle = [RawConnection(server.url) for _ in range(4)]
        for conn in idle:
            conn.send(request(conn.host, "GET", "/v2/queues"))
            assert conn.answer().status == 200
    for conn in idle:
        assert conn.closed_by_server()
        conn.close()


def test_a_worker_at_its_connection_limit_accepts_more_once_one_closes(tmp_path: Path) -> None:
    with running_server(tmp_path, "[drivers:transport:wsgi]\nworkers = 1\n"
                                  "worker_connections = 2\n") as server:
        held = [RawConnection(server.url) for _ in range(2)]
        for conn in held:
            conn.send(request(conn.host, "GET", "/v2/queues"))
            assert conn.answer().status == 200
        waiting = RawConnection(server.url)  # queued by the kernel, not yet accepted
        waiting.send(request(waiting.host, "GET", "/v2/queues"))
        waiting.sock.settimeout(1)
        with pytest.raises(TimeoutError):
            waiting.sock.recv(1)
        held[0].close()
        waiting.sock.settimeout(10)
        assert waiting.answer().status == 200
        held[1].close()
        waiting.close()


# -- leniencies refused (issue 13) ---------------------------------------------------------


def test_x_project_id_sent_twice_with_different_values_gets_400(conn: RawConnection) -> None:
    conn.send(request(conn.host, "GET", "/v2/queues", project="first",
                      extra=("X-Project-ID: second",)))
    answer = conn.answer()
    assert_json_error(answer, 400)
    assert "x-project-id" in answer.json()["description"]
    assert conn.closed_by_server()


@pytest.mark.parametrize("header", ["Client-ID: 8c1a9c20-4f52-4a0e-9b0e-2d8d4f1c3b7a",
                                    "X-Auth-Token: one", "x-project-id: other"])
def test_other_single_valued_headers_sent_twice_differently_get_400(
        zaqar_server: ServerProcess, header: str) -> None:
    conn = RawConnection(zaqar_server.url)
    extra = (header,) if not header.startswith("X-Auth") else (header, "X-Auth-Token: two")
    conn.send(request(conn.host, "GET", "/v2/queues", extra=extra))
    assert_json_error(conn.answer(), 400)
    conn.close()


def test_x_project_id_repeated_with_the_same_value_is_one_project(conn: RawConnection) -> None:
    conn.send(request(conn.host, "PUT", "/v2/queues/twice", project="same-project",
                      extra=("X-Project-ID: same-project",)))
    assert conn.answer().status == 201
    conn.send(request(conn.host, "GET", "/v2/queues", project="same-project"))
    assert [q["name"] for q in conn.answer().json()["queues"]] == ["twice"]


def test_chunked_body_on_http_1_0_gets_400(conn: RawConnection) -> None:
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(POST), POST)
    conn.send(request(conn.host, "POST", "/v2/queues/old-chunks/messages", version="1.0",
                      extra=("Content-Type: application/json",
                             "Transfer-Encoding: chunked")) + body)
    assert_json_error(conn.answer(), 400)
    assert conn.closed_by_server()


@pytest.mark.parametrize("expect", ["200-ok", "100-continue, foo", "nothing"])
def test_expect_other_than_100_continue_gets_417(conn: RawConnection, expect: str) -> None:
    conn.send(request(conn.host, "POST", "/v2/queues/expecting/messages", POST,
                      extra=(f"Expect: {expect}",)))
    answer = conn.answer()
    assert_json_error(answer, 417)
    assert answer.json()["title"] == "Expectation Failed"
    assert conn.closed_by_server()


def test_expect_100_continue_in_any_case_is_honoured(conn: RawConnection) -> None:
    head = request(conn.host, "POST", "/v2/queues/expecting/messages", POST,
                   extra=("Expect: 100-Continue",))[:-len(POST)]
    conn.send(head)
    assert conn.answer().status == 100
    conn.send(POST)
    assert conn.answer().status == 201


# -- clients that are slow on purpose (issue 14) -----------------------------------------

SLOW_CLIENTS = 200
PROMPT = 0.1  # seconds: the most a normal client may wait while slow clients hang on


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One worker process, so that every slow client shares it with the normal client."""
    with running_server(tmp_path_factory.mktemp("one-worker"),
                        "[drivers:transport:wsgi]\nworkers = 1\ntimeout = 20\n"
                        "access_log = false\n") as server:
        yield server


def _rest_workers(server: ServerProcess) -> list[int]:
    return server_processes(server.process.pid, "rest")


def _wait_until_idle(pids: list[int], limit: float = 15.0) -> None:
    """Until the processes spend no CPU for a moment: the work the slow clients asked
    for is done as far as they let it be."""
    def cpu() -> int:
        return sum(sum(int(field) for field in
                       Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
                   for pid in pids)
    deadline = time.monotonic() + limit
    last = cpu()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu()
        if now - last <= 1:
            return
        last = now


def _served_in(server: ServerProcess) -> float:
    conn = RawConnection(server.url)
    try:
        begun = time.monotonic()
        conn.send(request(conn.host, "GET", "/v2/queues"))
        assert conn.answer().status == 200
        return time.monotonic() - begun
    finally:
        conn.close()


def test_slowloris_connections_do_not_delay_a_normal_client(one_worker: ServerProcess
                                                            ) -> None:
    slow = [RawConnection(one_worker.url) for _ in range(SLOW_CLIENTS)]
    try:
        for number, conn in enumerate(slow):  # heads that never end, a byte at a time
            conn.send(f"POST /v2/queues/q{number}/messages HTTP/1.1\r\nHost: x\r\n".encode())
        times = []
        for _ in range(5):
            for conn in slow:
                conn.send(b"X")
            times.append(_served_in(one_worker))
        worst = max(times)
        print(f"\n{SLOW_CLIENTS} slowloris connections open: a normal request served in "
              f"{worst * 1000:.1f} ms at worst")
        assert worst < PROMPT
    finally:
        for conn in slow:
            conn.close()


def test_clients_that_never_read_their_answers_do_not_delay_a_normal_client(
        one_worker: ServerProcess) -> None:
    """Each pipelines requests for the OpenAPI document (large) and never reads: its
    answers fill the socket buffers, and the server must not wait on them."""
    slow = [RawConnection(one_worker.url) for _ in range(SLOW_CLIENTS)]
    try:
        for conn in slow:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.send(request(conn.host, "GET", "/v2/openapi.json") * 20)
        _wait_until_idle(_rest_workers(one_worker))
        times = [_served_in(one_worker) for _ in range(5)]
        worst = max(times)
        print(f"\n{SLOW_CLIENTS} clients not reading: a normal request served in "
              f"{worst * 1000:.1f} ms at worst")
        assert worst < PROMPT
    finally:
        for conn in slow:
            conn.close()


def test_a_client_that_never_reads_is_dropped_after_the_timeout(tmp_path: Path) -> None:
    with running_server(tmp_path, "[drivers:transport:wsgi]\nworkers = 1\ntimeout = 2\n"
                                  "access_log = false\n") as server:
        _never_reading_client_is_dropped(server)


def _never_reading_client_is_dropped(server: ServerProcess) -> None:
    conn = RawConnection(server.url)
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn.send(request(conn.host, "GET", "/v2/openapi.json") * 400)
    time.sleep(5)  # timeout = 2: dropped at a sweep after 2 s without progress
    # Data sent to a socket the server closed is answered with a reset, which also
    # discards what the client had not read yet; a live connection would answer more.
    with contextlib.suppress(OSError):
        conn.send(request(conn.host, "GET", "/v2/queues"))
    time.sleep(0.5)
    conn.sock.settimeout(3)
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        while conn.sock.recv(65536):
            pass
    conn.close()
