"""Bad input over the websocket API of a real server: each bad frame gets an error reply
(in its own encoding, with title and description), the same connection answers the
next request, and the data stored before is untouched. A frame over max_frame_size
closes the connection with 1009 instead."""
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
import websocket

from tests.functional.websocket_client import WsClient, connections

QUEUE = "kept"
STORED = [{"body": {"n": 1}, "ttl": 300}, {"body": "two", "ttl": 600}]
MAX_FRAME_SIZE = 1024 * 1024  # [drivers:transport:websocket] max_frame_size default
MAX_POST_SIZE = 256 * 1024  # [transport] max_messages_post_size default


@dataclass(frozen=True)
class Case:
    id: str
    status: int
    # The frame to send, from the connection's client: a document (encoded as JSON
    # text or, with binary, MsgPack) or raw bytes/text sent as they are.
    frame: Callable[[WsClient], Any]
    binary: bool = False
    raw: bool = False


def request(action: str, body: Any = None, headers: Any = None) -> Callable[[WsClient], Any]:
    return lambda client: client.frame(action, body, headers)


def post(*messages: Any, queue: str = QUEUE) -> Callable[[WsClient], Any]:
    return request("message_post", {"queue_name": queue, "messages": list(messages)})


def without_header(name: str) -> Callable[[WsClient], Any]:
    return lambda client: client.frame("queue_list", {}, {
        key: value for key, value in client.headers.items() if key != name})


def with_header(name: str, value: Any) -> Callable[[WsClient], Any]:
    return lambda client: client.frame("queue_list", {}, {**client.headers, name: value})


def raw(payload: str | bytes) -> Callable[[WsClient], Any]:
    return lambda client: payload


def nested(depth: int) -> Any:
    document: Any = 1
    for _ in range(depth):
        document = [document]
    return document


CASES = [
    # -- the frame itself --------------------------------------------------------------
    Case("malformed-json", 400, raw('{"action": "queue_list", "headers": {'), raw=True),
    Case("malformed-msgpack", 400, raw(b"\xc1\xc1\xc1"), binary=True, raw=True),
    Case("truncated-msgpack", 400, raw(msgpack.packb({"action": "queue_list"})[:-3]),
         binary=True, raw=True),
    Case("frame-is-a-list", 400, raw('[{"action": "queue_list"}]'), raw=True),
    Case("frame-is-a-string", 400, raw('"queue_list"'), raw=True),
    Case("frame-is-a-number", 400, raw("42"), raw=True),
    Case("frame-is-null", 400, raw("null"), raw=True),
    Case("msgpack-frame-is-a-list", 400, raw(msgpack.packb(["queue_list"])), binary=True,
         raw=True),
    Case("missing-action", 400, lambda c: {"headers": c.headers, "body": {}}),
    Case("action-not-a-string", 400, lambda c: {"action": 7, "headers": c.headers}),
    Case("unknown-action", 400, request("queue_explode", {"queue_name": QUEUE})),
    Case("headers-not-an-object", 400, request("queue_list", {}, ["Client-ID"])),
    Case("body-not-an-object", 400, request("queue_get", [QUEUE])),
    Case("body-a-string", 400, request("queue_get", QUEUE)),
    # -- headers -----------------------------------------------------------------------
    Case("missing-client-id", 400, without_header("Client-ID")),
    Case("malformed-client-id", 400, with_header("Client-ID", "not-a-uuid")),
    Case("client-id-not-a-string", 400, with_header("Client-ID", 12345)),
    Case("missing-project-id", 400, without_header("X-Project-ID")),
    Case("empty-project-id", 400, with_header("X-Project-ID", "")),
    # -- parameters --------------------------------------------------------------------
    Case("missing-queue-name", 400, request("message_list", {"echo": True})),
    Case("invalid-queue-name", 400, request("queue_create", {"queue_name": "no spaces!"})),
    Case("queue-name-too-long", 400, request("queue_create", {"queue_name": "q" * 65})),
    Case("queue-name-not-a-string", 400, request("queue_get", {"queue_name": 5})),
    Case("missing-claim-is-not-found", 404,
         request("claim_get", {"queue_name": QUEUE, "claim_id": "absent"})),
    Case("ttl-as-string", 400, post({"body": 1, "ttl": "300"})),
    Case("ttl-as-float", 400, post({"body": 1, "ttl": 300.0})),
    Case("limit-as-list", 400, request("message_list", {"queue_name": QUEUE, "limit": [5]})),
    Case("limit-as-bool", 400, request("message_list", {"queue_name": QUEUE, "limit": True})),
    Case("ttl-below-minimum", 400, post({"body": 1, "ttl": 59})),
    Case("ttl-above-maximum", 400, post({"body": 1, "ttl": 1209601})),
    Case("delay-above-maximum", 400, post({"body": 1, "ttl": 300, "delay": 901})),
    Case("claim-limit-above-maximum", 400,
         request("claim_create", {"queue_name": QUEUE, "limit": 21})),
    Case("claim-grace-below-minimum", 400,
         request("claim_create", {"queue_name": QUEUE, "ttl": 60, "grace": 1})),
    Case("claim-update-without-claim-id", 400,
         request("claim_update", {"queue_name": QUEUE, "ttl": 60})),
    Case("oversize-message-post", 400, post({"body": "x" * (MAX_POST_SIZE + 1), "ttl": 300})),
    Case("empty-messages", 400, post()),
    Case("messages-not-a-list", 400,
         request("message_post", {"queue_name": QUEUE, "messages": {"body": 1}})),
    Case("message-without-body", 400, post({"ttl": 300})),
    Case("both-message-ids-and-pop", 400, request("message_delete_many", {
        "queue_name": QUEUE, "message_ids": ["1"], "pop": 1})),
    Case("neither-message-ids-nor-pop", 400,
         request("message_delete_many", {"queue_name": QUEUE})),
    Case("pop-with-claim-ids", 400, request("message_delete_many", {
        "queue_name": QUEUE, "pop": 1, "claim_ids": ["c"]})),
    Case("get-many-without-ids", 400, request("message_get_many", {"queue_name": QUEUE})),
    Case("message-ids-not-strings", 400, request("message_get_many", {
        "queue_name": QUEUE, "message_ids": [1, 2]})),
    Case("unsupported-subscriber", 400, request("subscription_create", {
        "queue_name": QUEUE, "subscriber": "ftp://127.0.0.1/", "ttl": 3600})),
    Case("subscription-ttl-as-string", 400, request("subscription_create", {
        "queue_name": QUEUE, "subscriber": "http://127.0.0.1:1/", "ttl": "3600"})),
    Case("metadata-not-an-object", 400,
         request("queue_create", {"queue_name": "other", "metadata": ["a"]})),
    Case("purge-unknown-resource-type", 400,
         request("queue_purge", {"queue_name": QUEUE, "resource_types": ["claims"]})),
    # -- documents JSON cannot carry -----------------------------------------------------
    Case("nested-too-deep", 400, post({"body": nested(150), "ttl": 300})),
    Case("nan-in-body", 400, lambda client: json.dumps(post({"body": "NaN!", "ttl": 300})(
        client)).replace('"NaN!"', "NaN"), raw=True),  # Python's json reads NaN
    Case("lone-surrogate-in-body", 400, post({"body": "\ud800", "ttl": 300})),
    Case("msgpack-binary-in-body", 400, post({"body": b"\x00\x01", "ttl": 300}),
         binary=True),
    Case("msgpack-extension-in-body", 400,
         post({"body": msgpack.ExtType(5, b"x"), "ttl": 300}), binary=True),
    Case("msgpack-integer-key-in-body", 400, post({"body": {1: "one"}, "ttl": 300}),
         binary=True),
]


def _payload(case: Case, client: WsClient) -> str | bytes:
    frame = case.frame(client)
    if case.raw:
        return frame
    if case.binary:
        return msgpack.packb(frame, use_bin_type=True)
    return json.dumps(frame)


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def store_data(client: WsClient) -> list[str]:
    assert client.request("queue_create", {"queue_name": QUEUE,
                                           "metadata": {"owner": "me"}}).status == 201
    posted = client.request("message_post", {"queue_name": QUEUE, "messages": STORED})
    assert posted.status == 201
    return posted.body["message_ids"]


def assert_data_intact(client: WsClient, ids: list[str]) -> None:
    listed = client.request("message_list", {"queue_name": QUEUE, "echo": True})
    assert listed.status == 200, listed.document
    assert [(m["id"], m["body"], m["ttl"]) for m in listed.body["messages"]] == [
        (message_id, stored["body"], stored["ttl"]) for message_id, stored in zip(ids, STORED,
                                                                              strict=True)]
    meta = client.request("queue_get", {"queue_name": QUEUE})
    assert meta.status == 200 and meta.body["owner"] == "me"
    listed = client.request("queue_list", {})
    assert [q["name"] for q in listed.body["queues"]] == [QUEUE]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_frame_gets_an_error_reply_and_the_connection_goes_on(connect, case):
    client = connect()
    ids = store_data(client)
    client.send_raw(_payload(case, client), case.binary)
    reply = client.reply()
    assert reply.binary == case.binary  # the error uses the request's encoding
    assert reply.status == case.status, reply.document
    assert isinstance(reply.body["title"], str) and reply.body["title"]
    assert isinstance(reply.body["description"], str) and reply.body["description"]
    assert reply.body["error"] == reply.body["exception"] == reply.body["description"]
    assert client.request("ping").status == 204  # the same connection still answers
    assert_data_intact(client, ids)


def test_frame_over_max_frame_size_closes_the_connection_with_1009(connect):
    keeper = connect()
    ids = store_data(keeper)
    sender = connect(project=keeper.project)
    oversize = "x" * (MAX_FRAME_SIZE + 1)
    sender.send_raw(json.dumps(sender.frame("message_post", {
        "queue_name": QUEUE, "messages": [{"body": oversize, "ttl": 300}]})), binary=False)
    opcode, frame = sender.conn.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    [code] = struct.unpack("!H", frame.data[:2])
    assert code == 1009
    # A new connection works, and nothing of the oversize frame was stored.
    fresh = connect(project=keeper.project)
    assert fresh.request("ping").status == 204
    assert_data_intact(fresh, ids)
    assert_data_intact(keeper, ids)


def test_text_frame_that_is_not_utf8_closes_the_connection_with_1007(connect):
    keeper = connect()
    ids = store_data(keeper)
    sender = connect(project=keeper.project)
    sender.conn.send(b'{"action": "queue_list", "body": {"x": "\xff"}}',
                     opcode=websocket.ABNF.OPCODE_TEXT)
    opcode, frame = sender.conn.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    [code] = struct.unpack("!H", frame.data[:2])
    assert code == 1007
    fresh = connect(project=keeper.project)
    assert fresh.request("ping").status == 204
    assert_data_intact(fresh, ids)
