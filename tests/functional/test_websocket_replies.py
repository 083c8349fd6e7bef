"""The websocket reply of every action upstream Zaqar's websocket API has, in upstream's
shape (status, body keys and types), as a real server answers it. The shapes are
upstream 23.0.1's answers (its api/v2/endpoints.py), checked against a running one:
python-zaqarclient's websocket transport and other upstream clients parse these."""
from typing import Any

import pytest

from tests.functional.websocket_client import WsClient, connections, echoed

MESSAGE_KEYS = {"id", "claim_id", "ttl", "age", "body"}
SUBSCRIPTION_KEYS = {"id", "source", "subscriber", "ttl", "age", "options", "confirmed"}
QUEUE = "shapes"


@pytest.fixture(params=[False, True], ids=["json", "msgpack"])
def client(websocket_url, request) -> Any:
    with connections(websocket_url) as open_client:
        yield open_client(binary=request.param)


def call(client: WsClient, action: str, status: int, **body: Any) -> Any:
    reply = client.request(action, body)  # checks the echoed request too
    assert set(reply.document) == {"request", "headers", "body"}
    assert reply.document["headers"] == {"status": status}, reply.document
    return reply.body


def post(client: WsClient, count: int = 2) -> list[str]:
    return call(client, "message_post", 201, queue_name=QUEUE, messages=[
        {"body": {"n": n}, "ttl": 300} for n in range(count)])["message_ids"]


def claim(client: WsClient, limit: int = 1) -> Any:
    return call(client, "claim_create", 201, queue_name=QUEUE, limit=limit, ttl=120,
                grace=60)


def assert_message(item: Any, claim_id: str | None = None) -> None:
    assert set(item) == MESSAGE_KEYS, item
    assert isinstance(item["id"], str) and isinstance(item["ttl"], int)
    assert isinstance(item["age"], int) and item["claim_id"] == claim_id


def test_queue_list_answers_queues_by_name_without_links(client):
    call(client, "queue_create", 201, queue_name=QUEUE, metadata={"a": 1})
    assert call(client, "queue_list", 200) == {"queues": [{"name": QUEUE}]}
    detailed = call(client, "queue_list", 200, detailed=True)
    assert set(detailed) == {"queues"}
    [queue] = detailed["queues"]
    assert set(queue) == {"name", "metadata"} and queue["metadata"]["a"] == 1


def test_queue_create_answers_a_sentence_whether_or_not_it_existed(client):
    assert call(client, "queue_create", 201, queue_name=QUEUE) == f"Queue {QUEUE} created."
    assert call(client, "queue_create", 204, queue_name=QUEUE) == f"Queue {QUEUE} created."


def test_queue_delete_answers_a_sentence(client):
    call(client, "queue_create", 201, queue_name=QUEUE)
    assert call(client, "queue_delete", 204, queue_name=QUEUE) == f"Queue {QUEUE} removed."


def test_queue_get_answers_the_metadata(client):
    call(client, "queue_create", 201, queue_name=QUEUE, metadata={"color": "blue"})
    body = call(client, "queue_get", 200, queue_name=QUEUE)
    assert isinstance(body, dict) and body["color"] == "blue"


def test_queue_get_stats_answers_counts_and_the_ends_without_hrefs(client):
    call(client, "queue_create", 201, queue_name=QUEUE)
    empty = call(client, "queue_get_stats", 200, queue_name=QUEUE)
    assert empty == {"messages": {"claimed": 0, "free": 0, "total": 0}}
    post(client)
    counts = call(client, "queue_get_stats", 200, queue_name=QUEUE)["messages"]
    assert (counts["claimed"], counts["free"], counts["total"]) == (0, 2, 2)
    for end in ("oldest", "newest"):
        assert "href" not in counts[end]
        assert {"id", "age", "created"} <= set(counts[end])


def test_queue_purge_answers_an_empty_object(client):
    post(client)
    assert call(client, "queue_purge", 204, queue_name=QUEUE) == {}


def test_message_list_answers_messages_without_hrefs_or_links(client):
    post(client)
    body = call(client, "message_list", 200, queue_name=QUEUE, echo=True)
    assert set(body) == {"messages"} and len(body["messages"]) == 2
    for item in body["messages"]:
        assert_message(item)
    assert call(client, "message_list", 200, queue_name=QUEUE) == {"messages": []}


def test_message_list_names_the_claim_of_claimed_messages(client):
    post(client)
    claim_id = claim(client)["claim_id"]
    listed = call(client, "message_list", 200, queue_name=QUEUE, echo=True,
                  include_claimed=True)["messages"]
    assert_message(listed[0], claim_id)
    assert_message(listed[1], None)


def test_message_get_wraps_the_message_in_messages(client):
    ids = post(client)
    body = call(client, "message_get", 200, queue_name=QUEUE, message_id=ids[0])
    assert set(body) == {"messages"}
    assert_message(body["messages"])
    assert body["messages"]["id"] == ids[0] and body["messages"]["body"] == {"n": 0}


def test_message_get_many_answers_a_list_of_messages(client):
    ids = post(client)
    body = call(client, "message_get_many", 200, queue_name=QUEUE, message_ids=ids)
    assert set(body) == {"messages"}
    assert sorted(item["id"] for item in body["messages"]) == sorted(ids)
    for item in body["messages"]:
        assert_message(item)


def test_message_post_answers_the_message_ids_only(client):
    body = call(client, "message_post", 201, queue_name=QUEUE, messages=[
        {"body": "one", "ttl": 300}])
    assert set(body) == {"message_ids"}
    assert [type(message_id) for message_id in body["message_ids"]] == [str]


def test_message_delete_answers_an_empty_object(client):
    ids = post(client)
    assert call(client, "message_delete", 204, queue_name=QUEUE, message_id=ids[0]) == {}


def test_message_delete_many_answers_nothing_by_ids_and_the_messages_by_pop(client):
    ids = post(client, 3)
    assert call(client, "message_delete_many", 204, queue_name=QUEUE,
                message_ids=ids[:1]) == {}
    popped = call(client, "message_delete_many", 200, queue_name=QUEUE, pop=1)
    assert set(popped) == {"messages"}
    [item] = popped["messages"]  # upstream's pop items, on both of its APIs
    assert set(item) == {"id", "age", "ttl", "body", "claim_id", "claim_count"}
    assert item["id"] == ids[1]


def test_claim_create_answers_the_claim_and_its_messages(client):
    ids = post(client)
    body = claim(client, limit=2)
    assert set(body) == {"claim_id", "messages"} and isinstance(body["claim_id"], str)
    assert [item["id"] for item in body["messages"]] == ids
    for item in body["messages"]:
        assert_message(item, body["claim_id"])


def test_claim_create_with_nothing_to_claim_still_names_a_claim(client):
    call(client, "queue_create", 201, queue_name=QUEUE)
    body = call(client, "claim_create", 204, queue_name=QUEUE)
    assert set(body) == {"claim_id"} and isinstance(body["claim_id"], str)
    # As upstream's, that claim holds nothing and is not found.
    call(client, "claim_get", 404, queue_name=QUEUE, claim_id=body["claim_id"])


def test_claim_get_answers_age_ttl_and_messages(client):
    post(client)
    claim_id = claim(client)["claim_id"]
    body = call(client, "claim_get", 200, queue_name=QUEUE, claim_id=claim_id)
    assert set(body) == {"age", "ttl", "messages"} and body["ttl"] == 120
    assert_message(body["messages"][0], claim_id)


def test_claim_update_answers_a_sentence(client):
    post(client)
    claim_id = claim(client)["claim_id"]
    assert call(client, "claim_update", 204, queue_name=QUEUE, claim_id=claim_id, ttl=240,
                grace=60) == f"Claim {claim_id} updated."


def test_claim_delete_answers_a_sentence(client):
    post(client)
    claim_id = claim(client)["claim_id"]
    assert call(client, "claim_delete", 204, queue_name=QUEUE,
                claim_id=claim_id) == f"Claim {claim_id} deleted."


def subscribe(client: WsClient) -> Any:
    return call(client, "subscription_create", 201, queue_name=QUEUE, ttl=600,
                options={"x": 1})


def test_subscription_create_answers_the_id_and_a_sentence(client):
    body = subscribe(client)
    assert set(body) == {"subscription_id", "message"}
    assert isinstance(body["subscription_id"], str)
    assert body["message"] == f"Subscription {QUEUE} created."


def test_subscription_list_answers_subscriptions_without_links(client):
    subscription_id = subscribe(client)["subscription_id"]
    body = call(client, "subscription_list", 200, queue_name=QUEUE)
    assert set(body) == {"subscriptions"}
    [found] = body["subscriptions"]
    assert set(found) == SUBSCRIPTION_KEYS and found["id"] == subscription_id


def test_subscription_get_answers_the_subscription(client):
    subscription_id = subscribe(client)["subscription_id"]
    body = call(client, "subscription_get", 200, queue_name=QUEUE,
                subscription_id=subscription_id)
    assert set(body) == SUBSCRIPTION_KEYS
    assert (body["id"], body["source"], body["ttl"], body["options"]) == (
        subscription_id, QUEUE, 600, {"x": 1})


def test_subscription_delete_answers_a_sentence(client):
    subscription_id = subscribe(client)["subscription_id"]
    assert call(client, "subscription_delete", 204, queue_name=QUEUE,
                subscription_id=subscription_id) == f"Subscription {subscription_id} removed."


@pytest.mark.parametrize("action, body, status", [
    ("claim_get", {"queue_name": QUEUE, "claim_id": "nope"}, 404),
    ("queue_create", {"queue_name": "no spaces!"}, 400),
    ("queue_explode", {"queue_name": QUEUE}, 400),
])
def test_error_replies_carry_error_and_exception(client, action, body, status):
    """Upstream's error bodies: ``error`` (what python-zaqarclient reads) and
    ``exception``; ours keep title and description beside them."""
    reply = call(client, action, status, **body)
    assert set(reply) == {"title", "description", "error", "exception"}
    assert reply["error"] == reply["exception"] == reply["description"]
    assert all(isinstance(value, str) and value for value in reply.values())


def test_undecodable_frame_echoes_an_empty_request(client):
    client.send_raw(b"\xc1" if client.binary else "{not json", client.binary)
    reply = client.reply()
    assert reply.document["request"] == echoed(None)
    assert reply.status == 400 and isinstance(reply.body["error"], str)
