"""Three ``zaqar-server`` nodes on one shared store, nothing in front but their ports: a
message posted on one node is claimable on another, its claim is seen by the third, a
websocket subscriber connected to any node gets pushes of posts made on every node, and
a webhook gets each message once although every node runs a notifier (the delivery
lease), from another node when the one delivering is killed.

SQLite shares one file (the nodes of one host); Redis is the store of nodes on several
hosts (docs/storage.md, "Several API nodes").
"""
import os
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis

from tests import engines
from tests.functional.conftest import (
    SHUTDOWN_TIMEOUT,
    Rest,
    ServerProcess,
    _free_ports,
    _server_command,
    _wait_until_serving,
    _write_config,
    running_server,
)
from tests.functional.receivers import Webhook, wait_until, webhook_receiver
from tests.functional.websocket_client import connections, subscribe_here

NODES = 3
LEASE = 3  # [notification] delivery_lease: how long a killed node's subscriptions wait
SMALL = ("[drivers:transport:wsgi]\nworkers = 1\n"
         "[drivers:transport:websocket]\nworkers = 1\n"
         "[notification]\nallowed_destinations = 127.0.0.0/8\npoll_interval = 0.2\n"
         f"delivery_lease = {LEASE}\n")


def store_override(engine: str, shared: Path) -> str:
    if engine == "sqlite":
        return f"[DEFAULT]\ndata_dir = {shared}\n"
    engines.REDIS.check_reachable()
    return ("[drivers]\nmessage_store = redis\n"
            f"[{engines.REDIS.group}]\nuri = {engines.REDIS.uri}\n"
            f"key_prefix = {engines.SESSION}:nodes\n")


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def nodes(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    shared = tmp_path_factory.mktemp("shared-store")
    override = store_override(request.param, shared) + SMALL
    with ExitStack() as stack:
        yield [stack.enter_context(running_server(tmp_path_factory.mktemp(f"node{n}"),
                                                  override, websocket_ready=True))
               for n in range(NODES)]


def test_a_message_posted_on_one_node_is_claimed_on_another_and_seen_by_the_third(nodes):
    project = f"nodes-{uuid.uuid4().hex}"
    first, second, third = (Rest(node.url, project) for node in nodes)
    posted = first.post("/v2/queues/shared/messages",
                        json={"messages": [{"body": {"n": n}, "ttl": 300} for n in range(3)]})
    assert posted.status_code == 201, posted.text
    claimed = second.post("/v2/queues/shared/claims?limit=2", json={"ttl": 300, "grace": 60})
    assert claimed.status_code == 201, claimed.text
    assert [m["body"] for m in claimed.json()["messages"]] == [{"n": 0}, {"n": 1}]
    claim_path = claimed.headers["Location"]
    seen = third.get(claim_path)
    assert seen.status_code == 200
    assert [m["body"] for m in seen.json()["messages"]] == [{"n": 0}, {"n": 1}]
    # The third node gets only what no claim holds, and deletes with the claim's id.
    rest = third.post("/v2/queues/shared/claims", json={"ttl": 300, "grace": 60})
    assert [m["body"] for m in rest.json()["messages"]] == [{"n": 2}]
    for message in claimed.json()["messages"]:
        assert third.delete(message["href"]).status_code == 204
    assert first.get("/v2/queues/shared/stats").json()["messages"]["total"] == 1


def test_a_subscriber_on_any_node_gets_the_posts_of_every_node(nodes):
    project = f"nodes-{uuid.uuid4().hex}"
    with connections(nodes[2].ws_url) as open_client:
        listener = open_client(project)
        subscribe_here(listener, "watched")
        for number, node in enumerate(nodes):
            posted = Rest(node.url, project).post(
                "/v2/queues/watched/messages",
                json={"messages": [{"body": {"from": number}, "ttl": 300}]})
            assert posted.status_code == 201, posted.text
            pushed = listener.push(timeout=10)
            assert [m["body"] for m in pushed.body["messages"]] == [{"from": number}]


def test_concurrent_claimers_on_three_nodes_never_share_a_message(nodes):
    project = f"nodes-{uuid.uuid4().hex}"
    Rest(nodes[0].url, project).post(
        "/v2/queues/work/messages", json={"messages": [{"body": n, "ttl": 300}
                                                       for n in range(100)]})

    def claim_until_empty(node: ServerProcess) -> list[int]:
        client, taken = Rest(node.url, project), []
        while True:
            reply = client.post("/v2/queues/work/claims?limit=3",
                                json={"ttl": 300, "grace": 60})
            if reply.status_code == 204:
                return taken
            assert reply.status_code == 201, reply.text
            taken += [m["body"] for m in reply.json()["messages"]]

    with ThreadPoolExecutor(2 * NODES) as pool:  # two claimers on each node at once
        batches = list(pool.map(claim_until_empty, [*nodes, *nodes]))
    taken = [body for batch in batches for body in batch]
    assert sorted(taken) == list(range(100))  # each exactly once
    assert sum(1 for batch in batches if batch) > 1  # the work was really shared


# -- webhooks: one delivery per message, whichever node delivers -------------------------

def subscribe_webhook(node: ServerProcess, project: str, queue: str, hook: Webhook) -> str:
    created = Rest(node.url, project).post(f"/v2/queues/{queue}/subscriptions",
                                           json={"subscriber": hook.url, "ttl": 3600})
    assert created.status_code == 201, created.text
    return created.json()["subscription_id"]


def post_round_robin(nodes: list[ServerProcess], project: str, queue: str,
                     count: int) -> None:
    for number in range(count):
        posted = Rest(nodes[number % len(nodes)].url, project).post(
            f"/v2/queues/{queue}/messages", json={"messages": [{"body": number, "ttl": 300}]})
        assert posted.status_code == 201, posted.text


def delivered(node: ServerProcess, project: str, queue: str, subscription_id: str) -> int:
    found = Rest(node.url, project).get(f"/v2/queues/{queue}/subscriptions/{subscription_id}")
    return found.json()["delivery"].get("delivered", 0)


def test_each_message_reaches_a_webhook_once_from_three_notifiers(nodes):
    """Every node runs a notifier on the shared store. Once the subscription's record
    counts every message delivered (record and cursor are stored together by the lease
    holder, and the receiver logs a request before answering it), nothing more is owed
    to anyone, so the receiver's log is final."""
    project, count = f"nodes-{uuid.uuid4().hex}", 30
    with webhook_receiver() as hook:
        subscription_id = subscribe_webhook(nodes[0], project, "hooked", hook)
        post_round_robin(nodes, project, "hooked", count)
        wait_until(lambda: delivered(nodes[1], project, "hooked", subscription_id) >= count,
                   60, lambda: f"{len(hook.received)} requests so far")
        bodies = [item["body"] for item in hook.bodies()]
    assert sorted(bodies) == list(range(count))  # each exactly once
    assert bodies == list(range(count))  # in post order


def lease_holder_pid(engine: str, shared: Path, subscription_id: str) -> int | None:
    """The pid of the notifier holding the subscription's delivery lease (holders are
    host:pid:random), read from the store; None when none holds it."""
    if engine == "sqlite":
        with sqlite3.connect(shared / "zaqar.sqlite3") as conn:
            row = conn.execute("SELECT lease_holder FROM subscriptions WHERE id = ?",
                               (subscription_id,)).fetchone()
        holder = row[0] if row else None
    else:
        client = redis.Redis.from_url(str(engines.REDIS.uri))
        found = client.hget(f"{engines.SESSION}:killable:delivery-lease:{subscription_id}",
                            "holder")
        client.close()
        holder = found.decode() if found else None
    return int(holder.split(":")[-2]) if holder else None


@contextmanager
def killable_node(directory: Path, override: str) -> Iterator[ServerProcess]:
    """A node in a session (process group) of its own: SIGKILL reaches all its
    processes at once, as a machine crash would."""
    port, websocket_port = _free_ports(2)
    (directory / "override.conf").write_text(override)
    command = _server_command(_write_config(directory, port, websocket_port)) + [
        "--config-file", str(directory / "override.conf")]
    log_path = directory / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=directory, start_new_session=True)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=SHUTDOWN_TIMEOUT)


@pytest.fixture(params=["sqlite", "redis"])
def killable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple]:
    shared = tmp_path / "shared"
    shared.mkdir()
    override = SMALL + (f"[DEFAULT]\ndata_dir = {shared}\n" if request.param == "sqlite"
                        else store_override("redis", shared).replace(":nodes", ":killable"))
    with ExitStack() as stack:
        started = []
        for number in range(NODES):
            directory = tmp_path / f"node{number}"
            directory.mkdir()
            started.append(stack.enter_context(killable_node(directory, override)))
        yield request.param, shared, started


def test_a_killed_nodes_deliveries_go_on_from_another_node(killable):
    """A slow receiver keeps the lease held; the node holding it is killed (every
    process at once); another node takes the lease once it expires and delivers the
    rest from the stored cursor. At least once: what the killed node had sent of its
    page may come again, nothing is lost."""
    engine, shared, nodes = killable
    project, count = f"nodes-{uuid.uuid4().hex}", 12
    with webhook_receiver(delay=0.5) as hook:
        subscription_id = subscribe_webhook(nodes[0], project, "failover", hook)
        post_round_robin(nodes, project, "failover", count)
        hook.wait_for(2, timeout=30)
        pid = wait_until(lambda: lease_holder_pid(engine, shared, subscription_id), 10,
                         lambda: "no lease holder", lambda: lease_holder_pid(
                             engine, shared, subscription_id))
        [holder] = [node for node in nodes if os.getpgid(pid) == node.process.pid]
        os.killpg(holder.process.pid, signal.SIGKILL)
        holder.process.wait()
        # The killed node may have one request in flight; the rest comes from another.
        assert len(hook.received) < count - 1
        wait_until(lambda: received_numbers(hook) == set(range(count)), 60,
                   lambda: f"received {sorted(received_numbers(hook))}")
        survivor = next(node for node in nodes if node is not holder)
        wait_until(lambda: delivered(survivor, project, "failover", subscription_id) > 0,
                   30, lambda: "the survivor recorded no delivery")


def received_numbers(hook: Webhook) -> set[int]:
    return {item["body"] for item in hook.bodies()}
