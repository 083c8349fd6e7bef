"""zaqar.transport.websocket.replies: upstream's reply envelope and error body."""
import msgpack
import pytest

from zaqar import codec
from zaqar.api.errors import NotFound
from zaqar.transport.websocket import replies

HEADERS = {"Client-ID": "3381af92-2b9e-11e3-b191-71861300734c", "X-Project-ID": "p"}


@pytest.mark.parametrize("request_frame, echoed", [
    ({"action": "queue_get", "headers": HEADERS, "body": {"queue_name": "q"}, "extra": 1},
     {"action": "queue_get", "body": {"queue_name": "q"}, "headers": HEADERS, "api": "v2"}),
    ({"action": "ping", "headers": None},
     {"action": "ping", "body": {}, "headers": {}, "api": "v2"}),
    ([1, 2], {"action": None, "body": {}, "headers": {}, "api": "v2"}),
    (None, {"action": None, "body": {}, "headers": {}, "api": "v2"}),
], ids=["object", "no-body-null-headers", "not-an-object", "undecodable"])
def test_the_request_is_echoed_as_upstream_rebuilds_it(request_frame, echoed):
    assert replies.reply(request_frame, 200) == {"request": echoed,
                                                  "headers": {"status": 200}, "body": {}}


def test_error_reply_adds_upstreams_error_and_exception():
    reply = replies.error_reply(None, NotFound("No such claim.", "Claim not found"))
    assert reply["headers"] == {"status": 404}
    assert reply["body"] == {"title": "Claim not found", "description": "No such claim.",
                             "error": "No such claim.", "exception": "No such claim."}


def test_actions_upstream_lacks_reply_with_the_rest_body():
    body = {"signature": "s", "expires": "2030-01-01T00:00:00"}
    assert replies.action_reply({}, "queue_share", {}, 200, body)["body"] == body


def test_the_unencodable_reply_error_encodes_in_msgpack():
    frame = replies.error_reply({"action": "message_list", "headers": HEADERS, "body": {}},
                                replies.UnencodableReply())
    decoded = msgpack.unpackb(codec.encode(frame, binary=True))
    assert decoded["headers"] == {"status": 500}
    assert decoded["body"]["title"] == "Reply not encodable"
