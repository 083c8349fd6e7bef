"""Crash under load: what the server acknowledged survives SIGKILLs of the whole server.

On SQLite, PostgreSQL and Redis, producers post over REST and over websocket while
consumers claim and delete (REST and websocket too); the whole ``zaqar-server`` (its
process group: gunicorn master and workers, websocket processes) is SIGKILLed and
started again, several times, under that load. Afterwards every post answered 201 is
still listed (or was deleted by a delete answered 204) with the body it was posted
with, no message whose delete was acknowledged comes back, and no id was given twice.
tests/functional/test_durability.py checks one kill on SQLite over REST in detail
(live claims, bulk deletes); this is the same promise under more load and engines.
"""
import contextlib
import json
import threading
import time
import uuid
from typing import Any

import pytest
import requests
import websocket

from tests.functional.test_durability import QUEUE, _client, _list_everything, _wait_for
from tests.torture.server import TORTURE_ENGINES, TortureServer, storage_config, tracebacks

MAX_LOOPS = 200_000  # each worker's bound, whatever happens to the server
# Producers wait while this many acknowledged messages are not deleted yet, so the final
# listing stays within _list_everything's bound (1,000 pages of 20).
BACKLOG = 10_000


class Ledger:
    """What the server acknowledged, shared by every worker."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posted: dict[str, Any] = {}  # id -> body, POST answered 201
        self.posted_over: dict[str, int] = {"rest": 0, "websocket": 0}
        self.duplicate_ids: list[str] = []
        self.deleted: set[str] = set()  # DELETE answered 204
        self.maybe_deleted: set[str] = set()  # DELETE sent, answer lost
        self.failures = 0

    def record_post(self, transport: str, ids: list[str], bodies: list[Any]) -> None:
        with self.lock:
            self.posted_over[transport] += len(ids)
            for mid, body in zip(ids, bodies, strict=True):
                if mid in self.posted:
                    self.duplicate_ids.append(mid)
                self.posted[mid] = body

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.posted) + len(self.deleted)

    def backlogged(self) -> bool:
        with self.lock:
            return len(self.posted) - len(self.deleted) > BACKLOG

    def failed(self) -> None:
        with self.lock:
            self.failures += 1


class Worker(threading.Thread):
    def __init__(self, name: str, ledger: Ledger, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.ledger, self.stop = ledger, stop
        self.error: str | None = None

    def run(self) -> None:
        try:
            for n in range(MAX_LOOPS):
                if self.stop.is_set():
                    return
                try:
                    self.step(n)
                except (OSError, requests.RequestException, websocket.WebSocketException,
                        ValueError):  # the server is down, or went down mid-request
                    self.ledger.failed()
                    self.reset()
                    time.sleep(0.05)
        except Exception as error:  # anything else is a finding: the test reports it
            self.error = f"{self.name}: {error!r}"

    def step(self, n: int) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the connection after a failure."""


class RestProducer(Worker):
    def __init__(self, url: str, project: str, ledger: Ledger, stop: threading.Event) -> None:
        super().__init__("rest-producer", ledger, stop)
        self.session = _client(project)
        self.url = f"{url}/v2/queues/{QUEUE}/messages"

    def step(self, n: int) -> None:
        if self.ledger.backlogged():
            time.sleep(0.05)
            return
        bodies = [{"rest": n, "part": part, "pad": "x" * (n % 50)} for part in range(2)]
        response = self.session.post(self.url, timeout=5, json={
            "messages": [{"ttl": 3600, "body": body} for body in bodies]})
        if response.status_code == 201:
            self.ledger.record_post("rest", response.json()["message_ids"], bodies)


class RestConsumer(Worker):
    def __init__(self, url: str, project: str, ledger: Ledger, stop: threading.Event) -> None:
        super().__init__("rest-consumer", ledger, stop)
        self.session = _client(project)
        self.url = f"{url}/v2/queues/{QUEUE}"

    def step(self, n: int) -> None:
        claim = self.session.post(f"{self.url}/claims?limit=5", timeout=5,
                                  json={"ttl": 60, "grace": 60})
        if claim.status_code != 201:
            time.sleep(0.02)
            return
        claim_id = claim.json()["claim_id"]
        for message in claim.json()["messages"]:
            mid = message["id"]
            with self.ledger.lock:
                self.ledger.maybe_deleted.add(mid)
            response = self.session.delete(f"{self.url}/messages/{mid}", timeout=5,
                                           params={"claim_id": claim_id})
            if response.status_code == 204:
                with self.ledger.lock:
                    self.ledger.deleted.add(mid)


class WebsocketWorker(Worker):
    """One request at a time on one connection, reconnecting after a failure."""

    def __init__(self, name: str, ws_url: str, project: str, ledger: Ledger,
                 stop: threading.Event) -> None:
        super().__init__(name, ledger, stop)
        self.ws_url = ws_url
        self.headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": project}
        self.conn: websocket.WebSocket | None = None

    def call(self, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        if self.conn is None:
            self.conn = websocket.create_connection(self.ws_url, timeout=5)
        self.conn.send(json.dumps({"action": action, "headers": self.headers, "body": body}))
        while True:
            reply = json.loads(self.conn.recv())
            if reply.get("action") != "message_push":
                return reply["headers"]["status"], reply["body"]

    def reset(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                self.conn.close(timeout=0.1)
            self.conn = None


class WebsocketProducer(WebsocketWorker):
    def step(self, n: int) -> None:
        if self.ledger.backlogged():
            time.sleep(0.05)
            return
        bodies = [{"websocket": n, "part": part} for part in range(3)]
        status, body = self.call("message_post", {"queue_name": QUEUE, "messages": [
            {"ttl": 3600, "body": body} for body in bodies]})
        if status == 201:
            self.ledger.record_post("websocket", body["message_ids"], bodies)


class WebsocketConsumer(WebsocketWorker):
    def step(self, n: int) -> None:
        status, body = self.call("claim_create", {"queue_name": QUEUE, "limit": 5,
                                                  "ttl": 60, "grace": 60})
        if status != 201:
            time.sleep(0.02)
            return
        for message in body["messages"]:
            mid = message["id"]
            with self.ledger.lock:
                self.ledger.maybe_deleted.add(mid)
            status, _ = self.call("message_delete", {"queue_name": QUEUE, "message_id": mid,
                                                     "claim_id": body["claim_id"]})
            if status == 204:
                with self.ledger.lock:
                    self.ledger.deleted.add(mid)


@pytest.mark.parametrize("engine_name", TORTURE_ENGINES)
def test_acknowledged_writes_survive_repeated_sigkill_under_load(engine_name, tmp_path, scale,
                                                                  figures):
    server = TortureServer(tmp_path, storage_config(engine_name))
    server.start()
    try:
        _crash_under_load(server, engine_name, scale, figures)
    finally:
        server.kill()  # after a failure; a no-op once stopped


def _crash_under_load(server: TortureServer, engine_name: str, scale, figures) -> None:
    project = f"torture-{uuid.uuid4().hex}"
    ledger, stop = Ledger(), threading.Event()
    workers = [RestProducer(server.url, project, ledger, stop),
               WebsocketProducer("websocket-producer", server.ws_url, project, ledger, stop),
               RestConsumer(server.url, project, ledger, stop),
               WebsocketConsumer("websocket-consumer", server.ws_url, project, ledger, stop)]
    restarts: list[float] = []
    try:
        for worker in workers:
            worker.start()
        for _ in range(scale.crash_cycles):
            before = ledger.acknowledged()
            time.sleep(scale.traffic_seconds)
            _wait_for(lambda before=before: ledger.acknowledged() > before + 20, timeout=30)
            server.kill()  # mid-traffic: requests are in flight
            failures_at_kill = ledger.failures
            _wait_for(lambda at=failures_at_kill: ledger.failures > at)  # noticed the crash
            started = time.monotonic()
            server.start()
            restarts.append(round(time.monotonic() - started, 2))
        after_last = ledger.acknowledged()
        _wait_for(lambda: ledger.acknowledged() > after_last + 20, timeout=30)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)
    assert [worker.name for worker in workers if worker.is_alive()] == []
    assert [worker.error for worker in workers if worker.error] == []

    listed = {msg["id"]: msg for msg in _list_everything(_client(project), server.url)}
    must_exist = set(ledger.posted) - ledger.deleted - ledger.maybe_deleted
    lost = sorted(must_exist - set(listed))
    came_back = sorted(ledger.deleted & set(listed))
    wrong_body = sorted(mid for mid in set(listed) & set(ledger.posted)
                        if listed[mid]["body"] != ledger.posted[mid])
    figures.update(engine=engine_name, kills=len(restarts), restart_seconds=restarts,
                   acknowledged_posts_rest=ledger.posted_over["rest"],
                   acknowledged_posts_websocket=ledger.posted_over["websocket"],
                   acknowledged_deletes=len(ledger.deleted),
                   unanswered_deletes=len(ledger.maybe_deleted - ledger.deleted),
                   failed_requests=ledger.failures, listed_after=len(listed),
                   acknowledged_posts_lost=len(lost), deleted_messages_back=len(came_back),
                   ids_given_twice=len(ledger.duplicate_ids), bodies_changed=len(wrong_body))
    assert lost == [], "acknowledged posts were lost"
    assert came_back == [], "acknowledged deletes came back"
    assert ledger.duplicate_ids == [], "a message id was acknowledged twice"
    assert wrong_body == [], "a listed message's body is not the one posted with its id"
    assert ledger.posted_over["rest"] and ledger.posted_over["websocket"] and ledger.deleted
    figures["sigterm_stop_seconds"] = server.stop()
    assert tracebacks(server.output()) == []
