"""Three ``zaqar-server`` nodes on one shared store, nothing in front but their ports: a
message posted on one node is claimable on another, its claim is seen by the third, and a
websocket subscriber connected to any node gets pushes of posts made on every node.

SQLite shares one file (the nodes of one host); Redis is the store of nodes on several
hosts (docs/storage.md, "Several API nodes").
"""
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests import engines
from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.websocket_client import connections, subscribe_here

NODES = 3
SMALL = ("[drivers:transport:wsgi]\nworkers = 1\n"
         "[drivers:transport:websocket]\nworkers = 1\n")


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
