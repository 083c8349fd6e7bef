"""What a client was told stays true across a crash of the whole server.

A real ``zaqar-server`` (gunicorn master and two workers, embedded SQLite in a temporary
``data_dir``) is killed with SIGKILL, every process of it at once, while a client keeps
posting and deleting; then it is started again on the same ``data_dir``. Every message
whose POST got a 201 must still be there, no message whose DELETE got a 204 may come
back, and claims that were live must still hold their messages. A SIGTERM, by contrast,
must stop the server cleanly and quickly.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.conftest import ServerProcess, _wait_until_serving

SHUTDOWN_TIMEOUT = 5.0
QUEUE = "durable"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CrashableServer:
    """One ``zaqar-server`` that can be killed and started again on the same data.

    It runs in a session (process group) of its own, so a SIGKILL reaches the gunicorn
    master and its workers at once, as a machine crash or the OOM killer of a container
    would.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "server.log"
        self.config = directory / "zaqar.conf"
        self.config.write_text(
            "[DEFAULT]\n"
            f"data_dir = {directory / 'data'}\n"
            "[drivers]\n"
            "transport = wsgi\n"
            "[drivers:transport:wsgi]\n"
            "bind = 127.0.0.1\n"
            f"port = {self.port}\n"
            "workers = 2\n"
            "access_log = false\n"
            "[gc]\n"
            "interval = 0\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        script = Path(sys.executable).parent / "zaqar-server"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([str(script), "--config-file", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.directory, start_new_session=True)
        _wait_until_serving(ServerProcess(self.url, self.process, self.log_path))

    def kill(self) -> None:
        """SIGKILL the master and its workers together."""
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def terminate(self) -> int:
        """SIGTERM the master; its exit code. Fails the test past ``SHUTDOWN_TIMEOUT``."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"zaqar-server ignored SIGTERM for {SHUTDOWN_TIMEOUT} s:\n"
                        f"{self.output()}", pytrace=False)
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def crashable_server(tmp_path: Path) -> Iterator[CrashableServer]:
    server = CrashableServer(tmp_path)
    server.start()
    yield server
    server.kill()


def _client(project: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Client-ID": str(uuid.uuid4()), "X-Project-ID": project})
    return session


class Traffic(threading.Thread):
    """Posts a pair of messages and deletes one of the previous pair, again and again,
    remembering exactly which requests were acknowledged."""

    def __init__(self, url: str, project: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{url}/v2/queues/{QUEUE}/messages"
        self.session = _client(project)
        self.stop = threading.Event()
        self.posted: set[str] = set()  # POST answered 201
        self.deleted: set[str] = set()  # DELETE answered 204
        self.maybe_deleted: set[str] = set()  # DELETE sent, answer lost
        self.failures = 0

    def run(self) -> None:
        previous: list[str] = []
        for n in range(5000):  # bounded, whatever happens to the server
            if self.stop.is_set():
                return
            try:
                if previous:
                    victim = previous.pop()
                    self.maybe_deleted.add(victim)
                    if self.session.delete(f"{self.url}/{victim}", timeout=5).status_code == 204:
                        self.deleted.add(victim)
                response = self.session.post(self.url, timeout=5, json={"messages": [
                    {"ttl": 3600, "body": {"traffic": n, "part": part}} for part in range(2)]})
                if response.status_code == 201:
                    previous = response.json()["message_ids"]
                    self.posted.update(previous)
            except requests.RequestException:
                self.failures += 1
                time.sleep(0.02)

    def acknowledged(self) -> int:
        return len(self.posted)


def _list_everything(session: requests.Session, url: str) -> list[dict[str, Any]]:
    """Every live message, claimed ones included, following the ``next`` links."""
    href = f"/v2/queues/{QUEUE}/messages?echo=true&include_claimed=true&limit=20"
    listed: list[dict[str, Any]] = []
    for _ in range(1000):  # bounded: each page moves the marker on
        response = session.get(url + href, timeout=10)
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["messages"]:
            return listed
        listed += page["messages"]
        href = next(link["href"] for link in page["links"] if link["rel"] == "next")
    raise AssertionError("the listing did not end")


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the traffic"
        time.sleep(0.01)


def test_acknowledged_writes_survive_sigkill_of_the_whole_server(crashable_server):
    server, project = crashable_server, f"project-{uuid.uuid4().hex}"
    client = _client(project)
    messages = f"{server.url}/v2/queues/{QUEUE}/messages"
    posted: list[str] = []
    for batch in range(10):
        response = client.post(messages, json={"messages": [
            {"ttl": 3600, "body": {"batch": batch, "part": part}} for part in range(5)]})
        assert response.status_code == 201, response.text
        posted += response.json()["message_ids"]
    claim = client.post(f"{server.url}/v2/queues/{QUEUE}/claims?limit=10",
                        json={"ttl": 300, "grace": 60})
    assert claim.status_code == 201, claim.text
    claim_id = claim.json()["claim_id"]
    claimed = [msg["id"] for msg in claim.json()["messages"]]
    free = [mid for mid in posted if mid not in claimed]
    # Acknowledged deletes: one by one, in bulk, and a claimed one with its claim.
    deleted = {free[0], free[1], free[2], free[3], claimed[0]}
    for mid in free[:2]:
        assert client.delete(f"{messages}/{mid}").status_code == 204
    assert client.delete(messages, params={"ids": f"{free[2]},{free[3]}"}).status_code == 204
    assert client.delete(f"{messages}/{claimed[0]}",
                         params={"claim_id": claim_id}).status_code == 204

    traffic = Traffic(server.url, project)
    traffic.start()
    try:
        _wait_for(lambda: traffic.acknowledged() >= 40)
        server.kill()  # mid-traffic: requests are in flight
        failures_at_kill = traffic.failures
        _wait_for(lambda: traffic.failures > failures_at_kill)  # it noticed the crash
        server.start()
        acknowledged_before_restart = traffic.acknowledged()
        _wait_for(lambda: traffic.acknowledged() >= acknowledged_before_restart + 20)
    finally:
        traffic.stop.set()
        traffic.join(timeout=10)
        traffic.session.close()
    assert not traffic.is_alive()

    listed = {msg["id"]: msg for msg in _list_everything(client, server.url)}
    deleted |= traffic.deleted
    must_exist = (set(posted) | traffic.posted) - deleted - traffic.maybe_deleted
    assert sorted(must_exist - set(listed)) == [], "acknowledged posts were lost"
    assert sorted(deleted & set(listed)) == [], "acknowledged deletes came back (or ids reused)"
    for mid in sorted(deleted)[:5]:
        assert client.get(f"{messages}/{mid}").status_code == 404

    # The claim taken before the crash still holds what it held.
    held = claimed[1:]
    assert client.delete(f"{messages}/{held[0]}").status_code == 403
    found = client.get(f"{server.url}/v2/queues/{QUEUE}/claims/{claim_id}")
    assert found.status_code == 200, found.text
    assert sorted(msg["id"] for msg in found.json()["messages"]) == sorted(held)
    unclaimed = client.get(messages, params={"echo": "true", "limit": 20}).json()["messages"]
    assert not {msg["id"] for msg in unclaimed} & set(held)
    assert client.delete(f"{messages}/{held[0]}",
                         params={"claim_id": claim_id}).status_code == 204
    assert "Traceback" not in server.output(), server.output()


def test_sigterm_stops_the_server_cleanly_and_quickly(crashable_server):
    server = crashable_server
    client = _client(f"project-{uuid.uuid4().hex}")
    response = client.post(f"{server.url}/v2/queues/{QUEUE}/messages",
                           json={"messages": [{"ttl": 60, "body": "before shutdown"}]})
    assert response.status_code == 201, response.text

    assert server.terminate() == 0, server.output()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/v2/ping", timeout=2)
    assert "Traceback" not in server.output(), server.output()
