"""The websocket API of a real ``zaqar-server`` (both transports running), spoken by a
real websocket client: the documented examples, every action in JSON text frames and in
MsgPack binary frames, and server push to websocket subscriptions."""
import json
import time

import pytest

from tests.functional.conftest import Rest
from tests.functional.websocket_client import WsClient, connections, echoed, subscribe_here

PUSH_TIMEOUT = 5.0

# The documented request frames, verbatim (upstream Zaqar's websocket examples).
SEED_HEADERS = ('"headers": {"Client-ID": "355186cd-d1e8-4108-a3ac-a2183697232a", '
                '"X-Project-ID": "7530fad032ca431e9dc8ed4a5de5d99c"}')
SEED_FRAMES = [
    ('{"action": "queue_create", "body": {"queue_name": "samplequeue"}, '
     + SEED_HEADERS + '}', 201),
    ('{"action": "message_post", "body": {"queue_name": "samplequeue", "messages": '
     '[{"body": "message1", "ttl": 3600}]}, ' + SEED_HEADERS + '}', 201),
    ('{"action": "claim_create", "body": {"queue_name": "samplequeue", "limit": 10, '
     '"ttl": 300, "grace": 300}, ' + SEED_HEADERS + '}', 201),
    # The documented example subscribes a webhook; without a subscriber the connection
    # itself subscribes, which this test goes on to use.
    ('{"action": "subscription_create", "body": {"queue_name": "samplequeue", '
     '"ttl": 3600, "options": {}}, ' + SEED_HEADERS + '}', 201),
]


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def rest_for(server_url: str, client: WsClient) -> Rest:
    """A REST client (its own Client-ID) in the websocket client's project."""
    return Rest(server_url, client.project)


def test_documented_examples_are_answered_as_documented(connect):
    client = connect()
    replies = []
    for text, status in SEED_FRAMES:
        client.send_raw(text, binary=False)
        reply = client.reply()
        assert not reply.binary
        assert reply.document["request"] == echoed(json.loads(text))
        assert reply.status == status, reply.document
        replies.append(reply.body)
    created, posted, claimed, subscribed = replies
    assert created == "Queue samplequeue created."
    [message_id] = posted["message_ids"]
    [message] = claimed["messages"]
    assert (message["id"], message["body"], message["ttl"]) == (message_id, "message1", 3600)
    assert message["claim_id"] == claimed["claim_id"]
    assert subscribed["subscription_id"]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_every_action_is_answered_in_the_request_encoding(connect, binary):
    client = connect(binary=binary)
    queue = "walk-msgpack" if binary else "walk-json"

    def call(action: str, status: int, **body):
        reply = client.request(action, body)
        assert reply.status == status, reply.document
        return reply.body

    assert call("ping", 204) == {}
    assert call("authenticate", 200) == {"message": "Authentified."}
    assert call("queue_create", 201, queue_name=queue,
                metadata={"color": "blue"}) == f"Queue {queue} created."
    call("queue_create", 204, queue_name=queue)
    listed = call("queue_list", 200)
    assert [q["name"] for q in listed["queues"]] == [queue]
    assert call("queue_get", 200, queue_name=queue)["color"] == "blue"
    patched = call("queue_update", 200, queue_name=queue,
                   patch=[{"op": "replace", "path": "/metadata/color", "value": "red"}])
    assert patched["color"] == "red"

    ids = call("message_post", 201, queue_name=queue,
               messages=[{"body": {"n": n}, "ttl": 300} for n in range(4)])["message_ids"]
    assert len(ids) == 4
    listed = call("message_list", 200, queue_name=queue, echo=True)
    assert [m["body"] for m in listed["messages"]] == [{"n": n} for n in range(4)]
    assert call("message_list", 200, queue_name=queue)["messages"] == []  # echo off
    got = call("message_get", 200, queue_name=queue, message_id=ids[0])
    assert got["messages"]["body"] == {"n": 0}
    many = call("message_get_many", 200, queue_name=queue, message_ids=ids[:2])
    assert sorted(m["id"] for m in many["messages"]) == sorted(ids[:2])

    claim = call("claim_create", 201, queue_name=queue, limit=2, ttl=120, grace=60)
    claim_id = claim["claim_id"]
    assert [m["id"] for m in claim["messages"]] == ids[:2]
    got = call("claim_get", 200, queue_name=queue, claim_id=claim_id)
    assert got["ttl"] == 120 and len(got["messages"]) == 2
    call("claim_update", 204, queue_name=queue, claim_id=claim_id, ttl=240, grace=60)
    assert call("claim_get", 200, queue_name=queue, claim_id=claim_id)["ttl"] == 240
    call("message_delete", 204, queue_name=queue, message_id=ids[0], claim_id=claim_id)
    call("claim_delete", 204, queue_name=queue, claim_id=claim_id)
    call("claim_get", 404, queue_name=queue, claim_id=claim_id)
    call("message_delete_many", 204, queue_name=queue, message_ids=[ids[1]])

    popped = call("message_pop", 200, queue_name=queue, pop=1)
    assert [m["id"] for m in popped["messages"]] == [ids[2]]
    popped = call("message_delete_many", 200, queue_name=queue, pop=1)
    assert [m["id"] for m in popped["messages"]] == [ids[3]]
    call("message_get", 404, queue_name=queue, message_id=ids[3])

    call("message_post", 201, queue_name=queue, messages=[{"body": "left", "ttl": 300}])
    stats = call("queue_get_stats", 200, queue_name=queue)["messages"]
    assert (stats["free"], stats["claimed"], stats["total"]) == (1, 0, 1)

    subscription_id = call("subscription_create", 201, queue_name=queue, ttl=600,
                           options={"x": 1})["subscription_id"]
    listed = call("subscription_list", 200, queue_name=queue)["subscriptions"]
    assert [s["id"] for s in listed] == [subscription_id]
    got = call("subscription_get", 200, queue_name=queue, subscription_id=subscription_id)
    assert (got["subscriber"].startswith("websocket:"), got["ttl"], got["options"]) == (
        True, 600, {"x": 1})
    call("subscription_update", 204, queue_name=queue, subscription_id=subscription_id,
         ttl=900)
    call("subscription_delete", 204, queue_name=queue, subscription_id=subscription_id)
    call("subscription_get", 404, queue_name=queue, subscription_id=subscription_id)

    call("queue_purge", 204, queue_name=queue, resource_types=["messages"])
    assert call("queue_get_stats", 200, queue_name=queue)["messages"]["total"] == 0
    call("queue_delete", 204, queue_name=queue)
    assert queue not in [q["name"] for q in call("queue_list", 200)["queues"]]


def test_one_connection_mixes_json_and_msgpack_frames(connect):
    client = connect()
    for binary in (False, True, True, False):
        reply = client.request("queue_list", {}, binary=binary)
        assert reply.binary == binary and reply.status == 200


def test_push_delivers_messages_posted_over_rest(connect, zaqar_server):
    subscriber = connect()
    subscription_id = subscribe_here(subscriber, "pushed-rest")
    rest = rest_for(zaqar_server.url, subscriber)
    resp = rest.post("/v2/queues/pushed-rest/messages",
                     json={"messages": [{"body": {"from": "rest"}, "ttl": 300}]})
    assert resp.status_code == 201, resp.text
    [message_id] = resp.json()["message_ids"]
    push = subscriber.push(PUSH_TIMEOUT)
    assert push.status == 200
    assert push.document["headers"]["subscription_id"] == subscription_id
    assert push.body["queue_name"] == "pushed-rest"
    assert [(m["id"], m["body"]) for m in push.body["messages"]] == [
        (message_id, {"from": "rest"})]
    rest.close()


def test_push_delivers_messages_posted_over_another_connection_in_its_encoding(connect):
    subscriber = connect(binary=True)
    subscribe_here(subscriber, "pushed-ws")
    producer = connect(project=subscriber.project)
    posted = producer.request("message_post", {"queue_name": "pushed-ws", "messages": [
        {"body": "one", "ttl": 300}, {"body": "two", "ttl": 300}]})
    assert posted.status == 201
    received = []
    deadline = time.monotonic() + PUSH_TIMEOUT
    while len(received) < 2 and time.monotonic() < deadline:
        push = subscriber.push(PUSH_TIMEOUT)
        assert push.binary  # subscribed in MsgPack: pushed in MsgPack
        received += [m["body"] for m in push.body["messages"]]
    assert received == ["one", "two"]


def test_messages_posted_before_subscribing_are_not_pushed(connect):
    subscriber = connect()
    subscriber.request("message_post", {"queue_name": "pushed-late",
                                        "messages": [{"body": "old", "ttl": 300}]})
    subscribe_here(subscriber, "pushed-late")
    subscriber.request("message_post", {"queue_name": "pushed-late",
                                        "messages": [{"body": "new", "ttl": 300}]})
    push = subscriber.push(PUSH_TIMEOUT)
    assert [m["body"] for m in push.body["messages"]] == ["new"]


def test_closing_the_connection_ends_its_subscriptions(connect, zaqar_server):
    subscriber = connect()
    subscription_id = subscribe_here(subscriber, "pushed-gone")
    rest = rest_for(zaqar_server.url, subscriber)
    listed = rest.get("/v2/queues/pushed-gone/subscriptions").json()["subscriptions"]
    assert [s["id"] for s in listed] == [subscription_id]
    subscriber.close()
    deadline = time.monotonic() + 5
    while listed and time.monotonic() < deadline:
        time.sleep(0.05)
        listed = rest.get("/v2/queues/pushed-gone/subscriptions").json()["subscriptions"]
    assert listed == []
    assert rest.get(f"/v2/queues/pushed-gone/subscriptions/{subscription_id}"
                    ).status_code == 404
    rest.close()


def test_subscription_deleted_over_rest_gets_no_later_messages(connect, zaqar_server):
    subscriber = connect()
    subscription_id = subscribe_here(subscriber, "pushed-deleted")
    rest = rest_for(zaqar_server.url, subscriber)
    deleted = rest.delete(f"/v2/queues/pushed-deleted/subscriptions/{subscription_id}")
    assert deleted.status_code == 204
    posted = rest.post("/v2/queues/pushed-deleted/messages",
                       json={"messages": [{"body": "unseen", "ttl": 300}]})
    assert posted.status_code == 201
    rest.close()
    time.sleep(0.5)  # ten push intervals
    assert subscriber.request("ping").status == 204
    assert subscriber.pushes == []


def test_connection_answers_after_errors(connect):
    client = connect()
    client.send_raw("{not json", binary=False)
    assert client.reply().status == 400
    assert client.request("queue_explode").status == 400
    assert client.request("claim_get", {"queue_name": "nowhere",
                                        "claim_id": "nope"}).status == 404
    assert client.request("queue_create", {"queue_name": "still-here"}).status == 201
    assert client.request("queue_get", {"queue_name": "still-here"}).status == 200
