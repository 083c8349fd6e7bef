"""A real ``zaqar-server`` on the MongoDB driver (the MongoDB of ``ZAQAR_TEST_MONGODB_URI``,
else the wire-protocol stand-in; tests/engines.py): the README walkthrough over REST,
and a websocket post, claim and push."""
from collections.abc import Iterator

import pytest

from tests import engines
from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.websocket_client import connections, subscribe_here

PUSH_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def mongodb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    engines.MONGODB.check_reachable()
    override = ("[drivers]\nmessage_store = mongodb\n"
                f"\n[{engines.MONGODB.group}]\n"
                f"uri = {engines.MONGODB.uri}\n"
                f"database = {engines.SESSION}_server\n")
    with running_server(tmp_path_factory.mktemp("zaqar-server-mongodb"), override,
                        websocket_ready=True) as server:
        yield server


def test_readme_walkthrough_over_rest(mongodb_server):
    rest = Rest(mongodb_server.url)
    created = rest.put("/v2/queues/orders", json={"_default_message_ttl": 600})
    assert created.status_code == 201 and created.headers["Location"] == "/v2/queues/orders"
    assert rest.put("/v2/queues/orders", json={}).status_code == 204

    posted = rest.post("/v2/queues/orders/messages", json={"messages": [
        {"body": {"order": 1}, "ttl": 300}, {"body": {"order": 2}}]})
    assert posted.status_code == 201, posted.text
    assert posted.json()["resources"] == ["/v2/queues/orders/messages/1",
                                          "/v2/queues/orders/messages/2"]

    listed = rest.get("/v2/queues/orders/messages?echo=true")
    assert listed.status_code == 200
    assert [(m["id"], m["ttl"], m["body"]) for m in listed.json()["messages"]] == [
        ("1", 300, {"order": 1}), ("2", 600, {"order": 2})]

    claimed = rest.post("/v2/queues/orders/claims?limit=5", json={"ttl": 60, "grace": 60})
    assert claimed.status_code == 201, claimed.text
    claim_id = claimed.json()["claim_id"]
    assert claimed.headers["Location"] == f"/v2/queues/orders/claims/{claim_id}"
    assert [m["id"] for m in claimed.json()["messages"]] == ["1", "2"]
    assert rest.post("/v2/queues/orders/claims", json={"ttl": 60}).status_code == 204

    deleted = rest.delete(f"/v2/queues/orders/messages/1?claim_id={claim_id}")
    assert deleted.status_code == 204
    refused = rest.delete("/v2/queues/orders/messages/2")
    assert refused.status_code == 403
    assert refused.json()["title"] == "Unable to delete"

    stats = rest.get("/v2/queues/orders/stats").json()["messages"]
    assert (stats["free"], stats["claimed"], stats["total"]) == (0, 1, 1)
    assert stats["oldest"]["href"] == "/v2/queues/orders/messages/2"

    assert rest.delete("/v2/queues/orders").status_code == 204
    assert rest.get("/v2/queues/orders/stats").json()["messages"]["total"] == 0
    again = rest.post("/v2/queues/orders/messages", json={"messages": [{"body": 3}]})
    assert again.json()["resources"] == ["/v2/queues/orders/messages/3"]  # never reissued
    rest.close()


def test_websocket_post_claim_and_push(mongodb_server):
    with connections(mongodb_server.ws_url) as connect:
        subscriber = connect()
        producer = connect(project=subscriber.project)
        subscription_id = subscribe_here(subscriber, "pushed")
        posted = producer.request("message_post", {"queue_name": "pushed", "messages": [
            {"body": "one", "ttl": 300}, {"body": "two", "ttl": 300}]})
        assert posted.status == 201, posted.document
        pushed = []
        while len(pushed) < 2:
            push = subscriber.push(PUSH_TIMEOUT)
            assert push.document["headers"]["subscription_id"] == subscription_id
            pushed += [m["body"] for m in push.body["messages"]]
        assert pushed == ["one", "two"]

        claim = producer.request("claim_create", {"queue_name": "pushed", "limit": 1,
                                                  "ttl": 120, "grace": 60})
        assert claim.status == 201, claim.document
        assert [m["body"] for m in claim.body["messages"]] == ["one"]
        stats = producer.request("queue_get_stats", {"queue_name": "pushed"})
        assert (stats.body["messages"]["claimed"], stats.body["messages"]["free"]) == (1, 1)
