"""The websocket API behind a real Keystone: ``authenticate`` with a token first, then
the connection acts as that token, in its project only, until the token expires."""
import struct
import time
from collections.abc import Iterator

import pytest
import websocket

from tests.functional.keystone.conftest import Accounts
from tests.functional.keystone.keystone_server import SHORT_TOKEN_LIFETIME
from tests.functional.websocket_client import Frame, WsClient, connections
from zaqar.transport.websocket.protocol import CLOSE_AUTH_EXPIRED


@pytest.fixture
def connect(zaqar) -> Iterator:
    with connections(zaqar.ws_url) as open_client:
        yield open_client


def authenticate(client: WsClient, token: str | None, **headers: str) -> Frame:
    sent = {**client.headers, **headers}
    if token is not None:
        sent["X-Auth-Token"] = token
    return client.request("authenticate", headers=sent)


def test_every_action_is_refused_until_authenticated(connect, accounts: Accounts, queue_name):
    client = connect(project=accounts.project_a)
    for action, body in (("queue_list", {}), ("queue_create", {"queue_name": queue_name}),
                         ("ping", {}), ("message_post", {"queue_name": queue_name,
                                                         "messages": [{"body": 1}]})):
        reply = client.request(action, body)
        assert reply.status == 403, reply.document
        assert reply.body["title"] == "Not authenticated"


def test_authenticated_connection_works_in_the_token_project(connect, accounts, alice,
                                                             queue_name):
    client = connect(project=accounts.project_a)
    assert authenticate(client, accounts.alice).status == 200
    assert client.request("queue_create", {"queue_name": queue_name}).status == 201
    posted = client.request("message_post", {"queue_name": queue_name,
                                             "messages": [{"body": "over ws"}]})
    assert posted.status == 201
    # The same queue over REST with the same project's token.
    listed = alice.get(f"/v2/queues/{queue_name}/messages", params={"echo": "true"})
    assert [m["body"] for m in listed.json()["messages"]] == ["over ws"]


@pytest.mark.parametrize("token", [None, "", "garbage", "gAAAAAB" + "x" * 150])
def test_missing_or_invalid_token_fails_authentication(connect, accounts, token):
    client = connect(project=accounts.project_a)
    reply = authenticate(client, token)
    assert reply.status == 401, reply.document
    assert client.request("queue_list").status == 403


def test_failed_authentication_ends_the_previous_one(connect, accounts):
    client = connect(project=accounts.project_a)
    assert authenticate(client, accounts.alice).status == 200
    assert client.request("queue_list").status == 200
    assert authenticate(client, "garbage").status == 401
    assert client.request("queue_list").status == 403


def test_revoked_token_fails_authentication(connect, accounts):
    token = accounts.token("alice")
    accounts.identity.revoke(token)
    client = connect(project=accounts.project_a)
    assert authenticate(client, token).status == 401


def test_authenticate_for_another_project_than_the_token_is_refused(connect, accounts):
    client = connect(project=accounts.project_b)
    reply = authenticate(client, accounts.alice)
    assert reply.status == 403
    assert client.request("queue_list").status == 403


def test_requests_naming_another_project_are_refused(connect, accounts, bob, queue_name):
    assert bob.put(f"/v2/queues/{queue_name}", json={"owner": "bob"}).status_code == 201
    assert bob.post(f"/v2/queues/{queue_name}/messages",
                    json={"messages": [{"body": "b"}]}).status_code == 201
    client = connect(project=accounts.project_a)
    assert authenticate(client, accounts.alice).status == 200
    other = {**client.headers, "X-Project-ID": accounts.project_b}
    for action, body in (
            ("queue_list", {}), ("queue_get", {"queue_name": queue_name}),
            ("message_list", {"queue_name": queue_name, "echo": True}),
            ("message_post", {"queue_name": queue_name, "messages": [{"body": "x"}]}),
            ("claim_create", {"queue_name": queue_name}),
            ("message_delete_many", {"queue_name": queue_name, "pop": 5}),
            ("queue_delete", {"queue_name": queue_name})):
        reply = client.request(action, body, headers=other)
        assert reply.status == 403, (action, reply.document)
    # In its own project the same name is someone else's business: it reads exactly as a
    # queue never made (v2 queues are lazy: 200 with the default metadata).
    own = client.request("queue_get", {"queue_name": queue_name})
    never_made = client.request("queue_get", {"queue_name": "no-such-queue-anywhere"})
    assert own.status == never_made.status == 200
    assert own.body == never_made.body and "owner" not in own.body
    listed = bob.get(f"/v2/queues/{queue_name}/messages", params={"echo": "true"})
    assert [m["body"] for m in listed.json()["messages"]] == ["b"]


def test_health_over_websocket_is_for_admins(connect, accounts):
    member = connect(project=accounts.project_a)
    assert authenticate(member, accounts.alice).status == 200
    assert member.request("health").status == 403
    admin = connect(project=accounts.project_a)
    assert authenticate(admin, accounts.carol).status == 200
    assert admin.request("health").status == 200


def test_token_expiry_closes_the_connection_with_4003(connect, accounts):
    token = accounts.token("alice", short_lived=True)
    client = connect(project=accounts.project_a)
    started = time.monotonic()
    assert authenticate(client, token).status == 200
    assert client.request("queue_list").status == 200
    client.conn.settimeout(SHORT_TOKEN_LIFETIME + 5)
    opcode, frame = client.conn.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    [code] = struct.unpack("!H", frame.data[:2])
    assert code == CLOSE_AUTH_EXPIRED == 4003
    assert frame.data[2:] == b"Authentication expired."
    assert time.monotonic() - started <= SHORT_TOKEN_LIFETIME + 2
