"""Three ``zaqar-server`` nodes on a Redis Cluster of three masters
(``[drivers:message_store:redis] uri = redis+cluster://...``): the several-nodes checks
of test_several_nodes.py run here too (post on one node, claim on another, pushes of
every node's posts, concurrent claimers), and a dead letter moved over REST lands in
its queue, in another hash slot, once."""
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests import engines
from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.test_several_nodes import (
    NODES,
    SMALL,
    test_a_message_posted_on_one_node_is_claimed_on_another_and_seen_by_the_third,
    test_a_subscriber_on_any_node_gets_the_posts_of_every_node,
    test_concurrent_claimers_on_three_nodes_never_share_a_message,
)

__all__ = [
    "test_a_message_posted_on_one_node_is_claimed_on_another_and_seen_by_the_third",
    "test_a_subscriber_on_any_node_gets_the_posts_of_every_node",
    "test_concurrent_claimers_on_three_nodes_never_share_a_message",
]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    engine = engines.REDIS_CLUSTER
    engine.check_reachable()  # starts the session's cluster
    override = ("[drivers]\nmessage_store = redis\n"
                f"[{engine.group}]\nuri = {engine.uri}\n"
                f"key_prefix = {engines.SESSION}:cluster-nodes\n" + SMALL)
    with ExitStack() as stack:
        yield [stack.enter_context(running_server(tmp_path_factory.mktemp(f"node{n}"),
                                                  override, websocket_ready=True))
               for n in range(NODES)]


def test_a_dead_letter_moves_across_slots_over_rest(nodes):
    project = f"cluster-{uuid.uuid4().hex}"
    first, second = Rest(nodes[0].url, project), Rest(nodes[1].url, project)
    policy = {"_max_claim_count": 1, "_dead_letter_queue": "dead"}
    assert first.put("/v2/queues/orders", json=policy).status_code == 201
    assert first.post("/v2/queues/orders/messages",
                      json={"messages": [{"body": {"order": 1}, "ttl": 300}]}
                      ).status_code == 201
    claimed = second.post("/v2/queues/orders/claims", json={"ttl": 60, "grace": 60})
    assert claimed.status_code == 201, claimed.text
    assert second.delete(claimed.headers["Location"]).status_code == 204

    assert first.post("/v2/queues/orders/claims", json={"ttl": 60, "grace": 60}
                      ).status_code == 204  # the next claim moved it instead
    moved = second.get("/v2/queues/dead/messages?echo=true").json()["messages"]
    assert [m["body"] for m in moved] == [{"order": 1}]
    assert second.get("/v2/queues/orders/stats").json()["messages"]["total"] == 0
    names = [q["name"] for q in first.get("/v2/queues").json()["queues"]]
    assert names == ["dead", "orders"]
