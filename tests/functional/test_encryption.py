"""Encryption at rest (queue metadata ``_enable_encrypt_messages``) against a real
``zaqar-server`` on SQLite with no key configured: the key it generates, plaintext on
every read path of both transports, ciphertext in the database file, an altered body
answering an error for that message alone. The other engines' rows are checked in
tests/storage/test_encryption.py."""
import sqlite3
import stat

import pytest

from tests.functional.conftest import Rest, running_server
from tests.functional.websocket_client import connections

SECRET = {"launch": "code 0000"}
JSON_PATCH = {"Content-Type": "application/openstack-messaging-v2.0-json-patch"}


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def database(zaqar_server) -> sqlite3.Connection:
    return sqlite3.connect(zaqar_server.data_dir / "zaqar.sqlite3", timeout=30)


def stored_bodies(zaqar_server, project, queue="vault") -> dict[str, str]:
    with database(zaqar_server) as conn:
        return {str(seq): body for seq, body in conn.execute(
            "SELECT m.seq, m.body FROM messages m JOIN queues q ON q.id = m.queue_id "
            "WHERE q.project = ? AND q.name = ?", (project, queue))}


def encrypted_queue(rest, queue="vault"):
    response = rest.put(f"/v2/queues/{queue}", json={"_enable_encrypt_messages": True})
    assert response.status_code == 201, response.text
    assert rest.get(f"/v2/queues/{queue}").json()["_enable_encrypt_messages"] is True


def post(rest, bodies, queue="vault"):
    response = rest.post(f"/v2/queues/{queue}/messages",
                         json={"messages": [{"body": body} for body in bodies]})
    assert response.status_code == 201, response.text
    return response.json()["message_ids"]


def test_generated_key_is_kept_in_data_dir_mode_0600(rest, zaqar_server):
    encrypted_queue(rest)
    key_file = zaqar_server.data_dir / "message_encryption_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert "message_encryption_key" in zaqar_server.output()


def test_every_rest_read_answers_plaintext_while_the_row_holds_ciphertext(rest, zaqar_server):
    encrypted_queue(rest)
    [first, second] = post(rest, [SECRET, "plain words"])

    for text in stored_bodies(zaqar_server, rest.project).values():
        assert "code 0000" not in text and "plain words" not in text
    base = "/v2/queues/vault/messages"
    listed = rest.get(f"{base}?echo=true").json()["messages"]
    assert [msg["body"] for msg in listed] == [SECRET, "plain words"]
    assert rest.get(f"{base}/{first}").json()["body"] == SECRET
    assert [m["body"] for m in rest.get(f"{base}?ids={first},{second}").json()["messages"]] \
        == [SECRET, "plain words"]
    stats = rest.get("/v2/queues/vault/stats").json()["messages"]
    assert (stats["oldest"]["body"], stats["newest"]["body"]) == (SECRET, "plain words")
    claim = rest.post("/v2/queues/vault/claims?limit=1", json={"ttl": 60, "grace": 60}).json()
    assert [msg["body"] for msg in claim["messages"]] == [SECRET]  # upstream: ciphertext
    held = rest.get(f"/v2/queues/vault/claims/{claim['claim_id']}").json()
    assert [msg["body"] for msg in held["messages"]] == [SECRET]
    popped = rest.delete(f"{base}?pop=1").json()["messages"]
    assert [msg["body"] for msg in popped] == ["plain words"]


def test_websocket_reads_answer_plaintext(connect):
    client = connect()
    client.request("queue_create", {"queue_name": "vault",
                                    "metadata": {"_enable_encrypt_messages": True}})
    client.request("message_post", {"queue_name": "vault", "messages": [{"body": SECRET}]})
    listed = client.request("message_list", {"queue_name": "vault", "echo": True})
    assert [msg["body"] for msg in listed.body["messages"]] == [SECRET]
    claimed = client.request("claim_create", {"queue_name": "vault", "ttl": 60, "grace": 60})
    assert [msg["body"] for msg in claimed.body["messages"]] == [SECRET]


def test_an_altered_row_answers_an_error_for_that_message_alone(rest, zaqar_server):
    encrypted_queue(rest)
    [first, second, third] = post(rest, ["one", "two", "three"])
    stored = stored_bodies(zaqar_server, rest.project)
    altered = stored[second][:-6] + ("AAAA==" if not stored[second].endswith("AAAA==")
                                     else "BBBB==")
    with database(zaqar_server) as conn:
        conn.execute("UPDATE messages SET body = ? WHERE body = ?", (altered, stored[second]))

    listed = rest.get("/v2/queues/vault/messages?echo=true").json()["messages"]
    assert [msg["body"] for msg in listed] == ["one", None, "three"]
    assert listed[1]["error"]["title"] == "Message body unreadable"
    assert "cannot be decrypted" in listed[1]["error"]["description"]
    assert "error" not in listed[0]

    single = rest.get(f"/v2/queues/vault/messages/{second}")
    assert single.status_code == 500
    assert single.json()["title"] == "Message body unreadable"
    assert rest.get(f"/v2/queues/vault/messages/{third}").json()["body"] == "three"
    claim = rest.post("/v2/queues/vault/claims?limit=3", json={"ttl": 60, "grace": 60})
    assert [msg["body"] for msg in claim.json()["messages"]] == ["one", None, "three"]


def test_turning_encryption_off_keeps_old_bodies_readable(rest):
    encrypted_queue(rest)
    post(rest, ["sealed"])
    response = rest.patch("/v2/queues/vault", headers=JSON_PATCH, json=[
        {"op": "replace", "path": "/metadata/_enable_encrypt_messages", "value": False}])
    assert response.status_code == 200, response.text
    post(rest, ["plain"])
    listed = rest.get("/v2/queues/vault/messages?echo=true").json()["messages"]
    assert [msg["body"] for msg in listed] == ["sealed", "plain"]


@pytest.mark.parametrize("value", ["true", 1, 0, "", [], {}])
def test_a_flag_that_is_not_a_boolean_is_400_and_stores_nothing(rest, value):
    response = rest.put("/v2/queues/vault", json={"_enable_encrypt_messages": value})
    assert response.status_code == 400, response.text
    assert "_enable_encrypt_messages must be true or false" in response.json()["description"]
    assert rest.get("/v2/queues").json()["queues"] == []


def test_a_null_flag_is_the_default_as_upstream(rest):
    assert rest.put("/v2/queues/vault", json={"_enable_encrypt_messages": None}
                    ).status_code == 201
    post(rest, ["open"])
    assert rest.get("/v2/queues/vault/messages?echo=true").json()["messages"][0]["body"] \
        == "open"


def test_a_server_that_cannot_keep_a_key_refuses_encryption(tmp_path):
    with running_server(tmp_path) as server:
        (server.data_dir / "message_encryption_key").mkdir()  # unreadable as a key
        rest = Rest(server.url)
        response = rest.put("/v2/queues/vault", json={"_enable_encrypt_messages": True})
        assert response.status_code == 400, response.text
        assert "[transport] message_encryption_key" in response.json()["description"]
        assert rest.get("/v2/queues").json()["queues"] == []
        rest.close()
