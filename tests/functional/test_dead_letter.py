"""Dead-letter queues and max claim count over REST and websocket against a real
``zaqar-server`` (upstream's queue metadata ``_max_claim_count``, ``_dead_letter_queue``,
``_dead_letter_queue_messages_ttl``); the storage side is in
tests/storage/test_dead_letter.py and test_concurrent_claims.py."""
import pytest

from tests.functional.websocket_client import connections

JSON_PATCH = {"Content-Type": "application/openstack-messaging-v2.0-json-patch"}
POLICY = {"_max_claim_count": 2, "_dead_letter_queue": "dead",
          "_dead_letter_queue_messages_ttl": 7200}


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def claim(rest, queue="orders", limit=10):
    response = rest.post(f"/v2/queues/{queue}/claims?limit={limit}",
                         json={"ttl": 60, "grace": 60})
    assert response.status_code in (201, 204), response.text
    return response.json() if response.status_code == 201 else None


def claim_and_release(rest, queue="orders"):
    found = claim(rest, queue)
    if found is not None:
        assert rest.delete(f"/v2/queues/{queue}/claims/{found['claim_id']}").status_code == 204
    return found


def listed(rest, queue):
    response = rest.get(f"/v2/queues/{queue}/messages?echo=true&include_claimed=true")
    assert response.status_code == 200
    return response.json()["messages"]


def assert_400(response, *fragments):
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"title", "description"}
    for fragment in fragments:
        assert fragment in body["description"]


def test_message_claimed_max_times_moves_to_the_dead_letter_queue(rest):
    assert rest.put("/v2/queues/orders", json=POLICY).status_code == 201
    assert rest.get("/v2/queues/orders").json()["_dead_letter_queue"] == "dead"
    rest.post("/v2/queues/orders/messages", json={"messages": [{"body": {"order": 1}}]})

    assert claim_and_release(rest) is not None
    assert claim_and_release(rest) is not None
    assert claim(rest) is None  # 204: the third claim moved it instead

    assert listed(rest, "orders") == []
    [moved] = listed(rest, "dead")
    assert moved["body"] == {"order": 1}
    assert moved["ttl"] == 7200
    stats = rest.get("/v2/queues/dead/stats").json()["messages"]
    assert stats["free"] == 1
    assert stats["oldest"]["claim_count"] == 2  # where upstream shows the count
    assert rest.get("/v2/queues/orders/stats").json()["messages"]["total"] == 0


def test_claims_skip_past_dead_letters_to_free_messages(rest):
    rest.put("/v2/queues/orders", json=POLICY)
    rest.post("/v2/queues/orders/messages", json={"messages": [{"body": 1}]})
    claim_and_release(rest)
    claim_and_release(rest)
    rest.post("/v2/queues/orders/messages", json={"messages": [{"body": 2}]})

    found = claim(rest, limit=1)

    assert [msg["body"] for msg in found["messages"]] == [2]
    assert [msg["body"] for msg in listed(rest, "dead")] == [1]


def test_policy_added_by_patch_takes_effect(rest):
    rest.put("/v2/queues/orders", json={})
    patch = [{"op": "add", "path": f"/metadata/{key}", "value": value}
             for key, value in POLICY.items()]
    response = rest.patch("/v2/queues/orders", json=patch, headers=JSON_PATCH)
    assert response.status_code == 200, response.text
    rest.post("/v2/queues/orders/messages", json={"messages": [{"body": 1}]})
    for _ in range(2):
        claim_and_release(rest)
    assert claim(rest) is None
    assert [msg["body"] for msg in listed(rest, "dead")] == [1]


@pytest.mark.parametrize("policy", [{"_max_claim_count": 1},
                                    {"_dead_letter_queue": "dead"}])
def test_half_a_policy_moves_nothing_as_upstream(rest, policy):
    rest.put("/v2/queues/orders", json=policy)
    rest.post("/v2/queues/orders/messages", json={"messages": [{"body": 1}]})
    for _ in range(3):
        assert claim_and_release(rest) is not None
    assert rest.get("/v2/queues/dead/stats").json()["messages"]["total"] == 0


def test_websocket_claims_move_dead_letters_too(connect):
    client = connect()
    reply = client.request("queue_create", {"queue_name": "orders",
                                            "metadata": {**POLICY, "_max_claim_count": 1}})
    assert reply.status == 201, reply.document
    client.request("message_post", {"queue_name": "orders", "messages": [{"body": "x"}]})
    first = client.request("claim_create", {"queue_name": "orders", "ttl": 60, "grace": 60})
    assert first.status == 201, first.document
    client.request("claim_delete", {"queue_name": "orders",
                                    "claim_id": first.body["claim_id"]})
    second = client.request("claim_create", {"queue_name": "orders", "ttl": 60, "grace": 60})
    assert second.status == 204, second.document
    moved = client.request("message_list", {"queue_name": "dead", "echo": True})
    assert [msg["body"] for msg in moved.body["messages"]] == ["x"]


BAD_POLICIES = [
    ({"_dead_letter_queue": 7}, "_dead_letter_queue"),
    ({"_dead_letter_queue": ""}, "_dead_letter_queue"),
    ({"_dead_letter_queue": "no spaces"}, "Queue names may only contain"),
    ({"_dead_letter_queue": "x" * 65}, "64 characters"),
    ({"_dead_letter_queue": "orders"}, "may not be the queue itself"),
    ({"_max_claim_count": "3"}, "_max_claim_count"),
    ({"_max_claim_count": 2.5}, "_max_claim_count"),
    ({"_max_claim_count": True}, "_max_claim_count"),
    ({"_max_claim_count": -1}, "_max_claim_count"),
    ({"_max_claim_count": 2 ** 31}, "_max_claim_count"),
    ({"_dead_letter_queue_messages_ttl": 59}, "_dead_letter_queue_messages_ttl"),
    ({"_dead_letter_queue_messages_ttl": 1209601}, "_dead_letter_queue_messages_ttl"),
    ({"_dead_letter_queue_messages_ttl": "3600"}, "_dead_letter_queue_messages_ttl"),
]


@pytest.mark.parametrize(("metadata", "fragment"), BAD_POLICIES)
def test_bad_policy_on_create_is_400_and_stores_nothing(rest, metadata, fragment):
    assert_400(rest.put("/v2/queues/orders", json=metadata), fragment)
    assert rest.get("/v2/queues").json()["queues"] == []


@pytest.mark.parametrize(("metadata", "fragment"), BAD_POLICIES)
def test_bad_policy_on_patch_is_400_and_changes_nothing(rest, metadata, fragment):
    rest.put("/v2/queues/orders", json={"kept": 1})
    patch = [{"op": "add", "path": f"/metadata/{key}", "value": value}
             for key, value in metadata.items()]
    assert_400(rest.patch("/v2/queues/orders", json=patch, headers=JSON_PATCH), fragment)
    shown = rest.get("/v2/queues/orders").json()
    assert shown["kept"] == 1
    assert (shown["_dead_letter_queue"], shown["_max_claim_count"],
            shown["_dead_letter_queue_messages_ttl"]) == (None, None, None)


@pytest.mark.parametrize(("metadata", "fragment"), BAD_POLICIES[:3])
def test_bad_policy_over_websocket_is_400(connect, metadata, fragment):
    client = connect()
    reply = client.request("queue_create", {"queue_name": "orders", "metadata": metadata})
    assert reply.status == 400, reply.document
    assert fragment in reply.body["description"]
