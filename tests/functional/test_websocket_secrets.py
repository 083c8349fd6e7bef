"""Credentials sent over the websocket API are never sent back nor logged: replies echo
their request with the values of X-Auth-Token and URL-Signature redacted (whatever the
action, the outcome or the header's case), and ``authenticate`` echoes its action
alone, as upstream Zaqar."""
import json
import uuid

import pytest

from tests.functional.websocket_client import connections

REDACTED = "<redacted>"


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def secret() -> str:
    return f"secret-{uuid.uuid4().hex}"


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_authenticate_answers_authentified_and_echoes_no_header(connect, zaqar_server,
                                                                 binary):
    client = connect(binary=binary)
    token = secret()
    client.send(client.frame("authenticate", headers={**client.headers,
                                                      "X-Auth-Token": token}))
    reply = client.reply()
    assert reply.status == 200
    assert reply.body == {"message": "Authentified."}
    assert reply.document["request"] == {"action": "authenticate", "body": {},
                                         "headers": {}, "api": "v2"}
    assert token not in zaqar_server.output()


# (action, body, status with a token, status with a (bogus) signature)
@pytest.mark.parametrize(("action", "body", "statuses"), [
    ("queue_list", {}, (200, 403)),
    ("message_list", {"queue_name": "secrets"}, (200, 403)),
    ("message_get", {"queue_name": "secrets", "message_id": "42"}, (404, 403)),
    ("queue_create", {"queue_name": "bad name!"}, (400, 403)),
    ("no_such_action", {}, (400, 400)),
])
@pytest.mark.parametrize("name", ["X-Auth-Token", "URL-Signature", "x-auth-token",
                                  "url-SIGNATURE"])
def test_replies_never_echo_credentials(connect, zaqar_server, action, body, statuses, name):
    status = statuses["signature" in name.lower()]
    client = connect()
    value = secret()
    headers = {**client.headers, name: value, "URL-Expires": "2099-01-01T00:00:00"}
    client.send(client.frame(action, body, headers=headers))
    reply = client.reply()
    assert reply.status == status, reply.document
    assert reply.document["request"]["headers"] == {**headers, name: REDACTED}
    assert value not in json.dumps(reply.document)
    assert value not in zaqar_server.output()


def test_a_frame_refused_before_its_action_runs_echoes_no_credentials(connect):
    client = connect()
    value = secret()
    frame = {"action": "queue_list", "headers": {"X-Auth-Token": value}, "body": [1]}
    client.send(frame)
    reply = client.reply()
    assert reply.status == 400
    assert reply.document["request"]["headers"] == {"X-Auth-Token": REDACTED}
