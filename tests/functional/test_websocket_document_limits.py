"""One codec for both transports (zaqar/codec.py), against a real server: documents
nested past the depth limit and integers past 64 bits get the same 400, with the same
wording, over REST, websocket JSON frames and websocket MsgPack frames, however deep
(past the decoders' own recursion limits too); a websocket connection that sent one
stays open and answers its next request. A stored value MsgPack cannot carry still
gets a reply."""
import json
from typing import Any

import msgpack
import pytest

from tests.conftest import make_conf
from tests.functional.websocket_client import WsClient, connections, echoed
from zaqar.storage import load_driver
from zaqar.storage.base import NewMessage

TOO_DEEP = "The request nests arrays and objects more than 100 levels deep."
OUT_OF_RANGE = ("The request holds an integer outside the signed 64-bit range "
                "(-9223372036854775808 to 9223372036854775807).")


def nested_json(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def post_document(body_json: str) -> str:
    """A REST message post whose one message has ``body_json`` (raw JSON text) as body."""
    return '{"messages": [{"ttl": 300, "body": ' + body_json + "}]}"


def post_frame_json(client: WsClient, queue: str, body_json: str) -> str:
    """A message_post text frame whose one message has ``body_json`` (raw JSON text) as
    its body: json.dumps could not write one that deep."""
    frame = json.dumps(client.frame("message_post", {"queue_name": queue, "messages": [
        {"ttl": 300, "body": "@BODY@"}]}))
    return frame.replace('"@BODY@"', body_json)


def post_frame_msgpack(client: WsClient, queue: str, body_msgpack: bytes) -> bytes:
    """The same as MsgPack; msgpack.packb stops at 512 levels, so the body is spliced in."""
    frame = msgpack.packb(client.frame("message_post", {"queue_name": queue, "messages": [
        {"ttl": 300, "body": "@BODY@"}]}), use_bin_type=True)
    return frame.replace(msgpack.packb("@BODY@"), body_msgpack)


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def assert_refused_and_still_open(client: WsClient, payload: str | bytes, binary: bool,
                                  description: str) -> None:
    client.send_raw(payload, binary)
    reply = client.reply()
    assert reply.binary == binary
    assert reply.status == 400, reply.document
    assert reply.body["description"] == reply.body["error"] == description
    assert client.request("ping").status == 204
    listed = client.request("message_list", {"queue_name": "deep", "echo": True})
    assert listed.status == 200 and listed.body["messages"] == []


# A bare frame may nest one level more than a request body: the frame object holds the
# body one level down (these are lists, so refused for that once decoded).
@pytest.mark.parametrize("payload", [nested_json(102), nested_json(3000), "[" * 200000,
                                     "[" * 100000 + "]" * 100000],
                         ids=["102-deep", "3000-deep", "200000-open-brackets",
                              "issue-13-100000-deep"])
def test_deep_json_frame_gets_a_400_reply_and_the_connection_answers_on(connect, payload):
    client = connect()
    assert_refused_and_still_open(client, payload, False, TOO_DEEP)


@pytest.mark.parametrize("depth", [101, 3000])
def test_deep_body_in_a_json_message_post_gets_a_400_reply(connect, depth):
    client = connect()
    frame = post_frame_json(client, "deep", nested_json(depth))
    client.send_raw(frame, binary=False)
    reply = client.reply()
    assert reply.status == 400, reply.document
    assert reply.body["description"] == TOO_DEEP
    # Past the decoder's own limit nothing of the frame is known to echo.
    expected = echoed(json.loads(frame)) if depth < 500 else echoed(None)
    assert reply.document["request"] == expected
    assert client.request("ping").status == 204
    listed = client.request("message_list", {"queue_name": "deep", "echo": True})
    assert listed.status == 200 and listed.body["messages"] == []


@pytest.mark.parametrize("depth", [102, 3000, 200000])
def test_deep_msgpack_frame_gets_a_400_reply_and_the_connection_answers_on(connect, depth):
    client = connect(binary=True)
    assert_refused_and_still_open(client, b"\x91" * depth + b"\x01", True, TOO_DEEP)


@pytest.mark.parametrize("depth", [101, 3000])
def test_deep_body_in_a_msgpack_message_post_gets_a_400_reply(connect, depth):
    client = connect(binary=True)
    frame = post_frame_msgpack(client, "deep", b"\x91" * depth + b"\x01")
    assert_refused_and_still_open(client, frame, True, TOO_DEEP)


def test_the_depth_limit_is_the_same_for_a_websocket_body_and_a_rest_body(connect, rest):
    """100 levels in the message list (the request document's own 3 levels included)
    pass on both transports; 101 fail on both."""
    client = connect(project=rest.project)
    for depth, status in ((97, 201), (98, 400)):
        frame = post_frame_json(client, "edge", nested_json(depth))
        client.send_raw(frame, binary=False)
        assert client.reply().status == status
        resp = rest.post("/v2/queues/edge/messages",
                         data=post_document(nested_json(depth)),
                         headers={"Content-Type": "application/json"})
        assert resp.status_code == status, resp.text


@pytest.mark.parametrize("payload", [
    post_document(nested_json(3000)),
    "[" * 200000,
], ids=["message-body-3000-deep", "bare-200000-deep"])
def test_deep_rest_body_gets_a_400(rest, payload):
    resp = rest.post("/v2/queues/deep/messages", data=payload,
                     headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"title": "Invalid API request", "description": TOO_DEEP}
    assert rest.get("/v2/queues/deep/messages?echo=true").json()["messages"] == []


@pytest.mark.parametrize("number", ["-9223372036854775809", "9223372036854775808",
                                    "18446744073709551616"])
def test_integer_past_64_bits_is_refused_over_rest_and_websocket_json(connect, rest, number):
    resp = rest.post("/v2/queues/big/messages",
                     data=post_document(number),
                     headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["description"] == OUT_OF_RANGE
    client = connect(project=rest.project)
    client.send_raw(post_frame_json(client, "big", number), binary=False)
    reply = client.reply()
    assert reply.status == 400 and reply.body["description"] == OUT_OF_RANGE
    assert client.request("message_list", {"queue_name": "big"}).body["messages"] == []


def test_msgpack_uint64_past_the_signed_range_is_refused(connect):
    client = connect(binary=True)
    reply = client.request("message_post", {"queue_name": "big", "messages": [
        {"ttl": 300, "body": 2 ** 63}]})
    assert reply.status == 400 and reply.body["description"] == OUT_OF_RANGE


def test_integers_at_the_64_bit_edges_round_trip_on_every_encoding(connect, rest):
    edges = [-(2 ** 63), 2 ** 63 - 1]
    posted = rest.post("/v2/queues/edges/messages", json={"messages": [
        {"ttl": 300, "body": edges}]})
    assert posted.status_code == 201, posted.text
    for binary in (False, True):
        client = connect(project=rest.project, binary=binary)
        listed = client.request("message_list", {"queue_name": "edges", "echo": True})
        assert [m["body"] for m in listed.body["messages"]] == [edges]


def test_stored_integer_msgpack_cannot_carry_gets_an_error_reply(connect, zaqar_server):
    """Stored before such integers were refused (here: through storage directly): a
    MsgPack reader gets a 500 naming why instead of no reply; JSON readers get it."""
    client = connect(binary=True)
    driver = load_driver(make_conf(zaqar_server.data_dir))
    try:
        driver.messages.post("legacy", client.project,
                             [NewMessage(body={"big": 2 ** 70}, ttl=300)], client.client_id)
    finally:
        driver.close()
    request: dict[str, Any] = {"queue_name": "legacy", "echo": True}
    reply = client.request("message_list", request)
    assert reply.status == 500, reply.document
    assert reply.body["title"] == "Reply not encodable"
    assert reply.document["request"] == echoed(client.frame("message_list", request))
    assert client.request("ping").status == 204
    listed = client.request("message_list", request, binary=False)
    assert [m["body"] for m in listed.body["messages"]] == [{"big": 2 ** 70}]


def test_issue_13_post_of_an_integer_below_int64_is_refused_then_listed_over_msgpack(
        connect, rest):
    """The issue's exact steps: the REST post is refused (it was 201), so the MsgPack
    message_list that followed has nothing it cannot encode and is answered."""
    resp = rest.post("/v2/queues/issue13/messages",
                     data='{"messages":[{"body":-9223372036854775809}]}',
                     headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["description"] == OUT_OF_RANGE
    client = connect(project=rest.project, binary=True)
    listed = client.request("message_list", {"queue_name": "issue13", "echo": True})
    assert listed.status == 200 and listed.body["messages"] == []


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_a_reply_larger_than_max_frame_size_is_sent_whole(connect, rest, binary):
    """max_frame_size (1 MiB) bounds what clients send; a page of large messages is a
    larger reply, and is answered (Autobahn's sendMessage used to raise for it: no
    reply at all)."""
    blob = "x" * 200_000
    for _ in range(6):
        assert rest.post("/v2/queues/large/messages", json={"messages": [
            {"ttl": 300, "body": blob}]}).status_code == 201
    client = connect(project=rest.project, binary=binary)
    listed = client.request("message_list", {"queue_name": "large", "echo": True})
    assert listed.status == 200
    assert [m["body"] for m in listed.body["messages"]] == [blob] * 6
