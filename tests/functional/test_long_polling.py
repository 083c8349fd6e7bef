"""Long polling (``wait=N`` on claims and listings, beyond upstream) against real servers:
an answer comes as soon as another client posts, or after N seconds with nothing; waiting
requests hold no thread of the keep-alive worker, so hundreds of them cost little memory
and never delay other clients.

SQLite has no post announcements: a post served by another worker process is found by
the waker's look at the watched queues (``long_poll_interval``); Redis announces posts.
"""
import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from tests import engines
from tests.functional.conftest import Rest, ServerProcess, running_server, server_processes

WAITERS = 500
PROMPT = 0.1  # seconds: the most a waiting claim may answer after the post


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    override = ""
    if request.param == "redis":
        engines.REDIS.check_reachable()
        override = ("[drivers]\nmessage_store = redis\n"
                    f"[{engines.REDIS.group}]\nuri = {engines.REDIS.uri}\n"
                    f"key_prefix = {engines.SESSION}:longpoll\n")
    with running_server(tmp_path_factory.mktemp(f"long-poll-{request.param}"), override,
                        websocket_ready=True) as running:
        yield running


@pytest.fixture
def rest(server: ServerProcess) -> Iterator[Rest]:
    client = Rest(server.url)
    yield client
    client.close()


def _post(rest: Rest, queue: str, count: int = 1) -> None:
    response = rest.post(f"/v2/queues/{queue}/messages",
                         json={"messages": [{"body": n} for n in range(count)]})
    assert response.status_code == 201, response.text


def _answer_after_post(request: callable, poster: Rest, queue: str) -> tuple[object, float]:
    """Start ``request`` (which waits), post from another client a second later: the
    answer and how long after the post was sent it came."""
    outcome: dict = {}

    def wait() -> None:
        outcome["response"] = request()
        outcome["at"] = time.monotonic()

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1.0)
    assert "response" not in outcome, "answered before anything was posted"
    posted_at = time.monotonic()
    _post(poster, queue)
    waiter.join(15)
    return outcome["response"], outcome["at"] - posted_at


def test_a_waiting_claim_returns_as_soon_as_another_client_posts(server, rest) -> None:
    queue = f"lp-{uuid.uuid4().hex[:8]}"
    claimer = rest.peer()
    response, latency = _answer_after_post(
        lambda: claimer.post(f"/v2/queues/{queue}/claims?wait=10",
                             json={"ttl": 60, "grace": 60}), rest, queue)
    print(f"\nclaim with wait=10 answered {latency * 1000:.1f} ms after the post")
    assert response.status_code == 201, response.text
    assert len(response.json()["messages"]) == 1
    assert latency < PROMPT


def test_a_waiting_listing_returns_as_soon_as_another_client_posts(server, rest) -> None:
    queue = f"lp-{uuid.uuid4().hex[:8]}"
    reader = rest.peer()
    response, latency = _answer_after_post(
        lambda: reader.get(f"/v2/queues/{queue}/messages?wait=10"), rest, queue)
    print(f"\nlisting with wait=10 answered {latency * 1000:.1f} ms after the post")
    assert response.status_code == 200, response.text
    assert len(response.json()["messages"]) == 1
    assert latency < PROMPT


def test_a_claim_with_nothing_to_claim_answers_204_after_its_wait(rest) -> None:
    begun = time.monotonic()
    response = rest.post(f"/v2/queues/empty-{uuid.uuid4().hex[:8]}/claims?wait=2",
                         json={"ttl": 60})
    waited = time.monotonic() - begun
    assert response.status_code == 204
    assert 1.9 <= waited < 3.0, waited


def test_messages_already_there_are_answered_at_once(rest) -> None:
    queue = f"lp-{uuid.uuid4().hex[:8]}"
    _post(rest, queue, 2)
    begun = time.monotonic()
    response = rest.post(f"/v2/queues/{queue}/claims?wait=20&limit=5", json={"ttl": 60})
    assert response.status_code == 201 and len(response.json()["messages"]) == 2
    assert time.monotonic() - begun < 1.0


@pytest.mark.parametrize("wait", ["21", "-1", "abc", "1.5"])
def test_a_wait_out_of_range_is_refused(rest, wait: str) -> None:
    for response in (rest.post(f"/v2/queues/q/claims?wait={wait}", json={"ttl": 60}),
                     rest.get(f"/v2/queues/q/messages?wait={wait}")):
        assert response.status_code == 400, response.text
        assert "wait" in response.json()["description"]


def _ws_send(connection: websocket.WebSocket, action: str, body: dict, project: str) -> None:
    connection.send(json.dumps({"action": action, "body": body, "headers": {
        "Client-ID": str(uuid.uuid4()), "X-Project-ID": project}}))


def test_websocket_refuses_a_wait_out_of_range(server) -> None:
    connection = websocket.create_connection(server.ws_url, timeout=10)
    try:
        _ws_send(connection, "claim_create", {"queue_name": "q", "wait": 60}, "lp")
        reply = json.loads(connection.recv())
        assert reply["headers"]["status"] == 400
        assert "wait" in json.dumps(reply["body"])
    finally:
        connection.close()


def test_a_waiting_websocket_claim_returns_as_soon_as_another_client_posts(server, rest
                                                                          ) -> None:
    """The connection serves other requests meanwhile; the claim's answer comes when
    another client posts over REST."""
    queue = f"lp-{uuid.uuid4().hex[:8]}"
    connection = websocket.create_connection(server.ws_url, timeout=15)
    try:
        _ws_send(connection, "claim_create", {"queue_name": queue, "wait": 10, "ttl": 60},
                 rest.project)
        time.sleep(1.0)
        _ws_send(connection, "queue_list", {}, rest.project)
        first = json.loads(connection.recv())
        assert first["request"]["action"] == "queue_list", first
        posted_at = time.monotonic()
        _post(rest, queue)
        reply = json.loads(connection.recv())
        latency = time.monotonic() - posted_at
        print(f"\nwebsocket claim with wait=10 answered {latency * 1000:.1f} ms after the "
              "post")
        assert reply["request"]["action"] == "claim_create"
        assert reply["headers"]["status"] == 201, reply
        assert len(reply["body"]["messages"]) == 1
        assert latency < PROMPT
    finally:
        connection.close()


def test_a_websocket_claim_with_nothing_to_claim_answers_204_after_its_wait(server
                                                                           ) -> None:
    connection = websocket.create_connection(server.ws_url, timeout=15)
    try:
        begun = time.monotonic()
        _ws_send(connection, "claim_create",
                 {"queue_name": f"empty-{uuid.uuid4().hex[:8]}", "wait": 2}, "lp")
        reply = json.loads(connection.recv())
        waited = time.monotonic() - begun
        assert reply["headers"]["status"] == 204
        assert 1.9 <= waited < 3.0, waited
    finally:
        connection.close()


def _worker_pids(server: ServerProcess) -> list[int]:
    """The gunicorn workers."""
    return server_processes(server.process.pid, "rest")


def _rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def test_hundreds_of_waiting_claims_hold_little_memory_and_block_no_one(server, rest
                                                                        ) -> None:
    queue = f"lp-{uuid.uuid4().hex[:8]}"
    assert rest.get("/v2/ping").status_code == 204
    workers = _worker_pids(server)
    before = _rss_kib(workers)
    host, port = server.url.removeprefix("http://").split(":")
    request = (f"POST /v2/queues/{queue}/claims?wait=20&limit=1 HTTP/1.1\r\nHost: {host}\r\n"
               f"Client-ID: {uuid.uuid4()}\r\nX-Project-ID: {rest.project}\r\n"
               "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
               '{"ttl": 60}').encode()
    sockets = []
    try:
        for _ in range(WAITERS):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(request)
            sockets.append(sock)
        time.sleep(1.0)  # every request read and parked
        held = _rss_kib(workers) - before
        begun = time.monotonic()
        assert rest.get("/v2/ping").status_code == 204
        served_in = time.monotonic() - begun
        print(f"\n{WAITERS} waiting claims: worker memory +{held / 1024:.1f} MiB; another "
              f"client served in {served_in * 1000:.1f} ms")
        assert held < 8 * 1024, f"{held} KiB held by {WAITERS} waiting claims"
        assert served_in < 0.1
        _post(rest, queue, 3)
        time.sleep(1.0)
        answered = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                if sock.recv(65536).startswith(b"HTTP/1.1 201"):
                    answered += 1
            except BlockingIOError:
                pass
        assert answered == 3, f"{answered} waiting claims got the 3 messages posted"
    finally:
        for sock in sockets:
            sock.close()
    assert os.path.exists(f"/proc/{server.process.pid}")


def test_a_server_stopping_answers_its_waiting_claims(tmp_path: Path) -> None:
    with running_server(tmp_path) as stopping:
        client = Rest(stopping.url)
        outcome: dict = {}

        def wait() -> None:
            outcome["response"] = client.post(
                f"/v2/queues/{uuid.uuid4().hex[:8]}/claims?wait=20", json={"ttl": 60})

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(1.0)
        stopping.process.send_signal(signal.SIGTERM)
        waiter.join(15)
        assert outcome["response"].status_code == 204
        assert stopping.process.wait(15) == 0


def test_under_gthread_a_waiting_claim_holds_a_thread_and_still_returns_at_once(
        tmp_path: Path) -> None:
    """threads > 1 runs gunicorn's gthread worker: no event loop to park in, so the
    request's thread waits for the announcement."""
    with running_server(tmp_path, "[drivers:transport:wsgi]\nthreads = 4\n") as threaded:
        poster = Rest(threaded.url)
        queue = f"lp-{uuid.uuid4().hex[:8]}"
        response, latency = _answer_after_post(
            lambda: poster.peer().post(f"/v2/queues/{queue}/claims?wait=10",
                                       json={"ttl": 60}), poster, queue)
        print(f"\ngthread: claim with wait=10 answered {latency * 1000:.1f} ms after the post")
        assert response.status_code == 201, response.text
        assert latency < PROMPT
