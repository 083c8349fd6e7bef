"""Pre-signed URLs against the Keystone-protected server: a share grants exactly its
methods on its queue's paths, without a token, until it expires; anything altered is 403."""
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.functional.keystone.conftest import Client
from tests.functional.websocket_client import connections


def share(client: Client, queue: str, **document: Any) -> dict:
    response = client.post(f"/v2/queues/{queue}/share", json=document)
    assert response.status_code == 200, response.text
    return response.json()


def signed_headers(document: dict, **changes: str) -> dict[str, str]:
    headers = {"URL-Signature": document["signature"], "URL-Expires": document["expires"],
               "URL-Methods": ",".join(document["methods"]),
               "URL-Paths": ",".join(document["paths"]), "X-Project-ID": document["project"],
               "Client-ID": str(uuid.uuid4())}
    headers.update(changes)
    return headers


def anonymous(zaqar, method: str, path: str, headers: dict[str, str],
              **kwargs: Any) -> requests.Response:
    """A request with no token at all."""
    return requests.request(method, zaqar.url + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture
def shared_queue(alice: Client, queue_name: str) -> str:
    assert alice.put(f"/v2/queues/{queue_name}").status_code == 201
    assert alice.post(f"/v2/queues/{queue_name}/messages",
                      json={"messages": [{"body": "first"}]}).status_code == 201
    return queue_name


def remaining(alice: Client, queue: str) -> list:
    listed = alice.get(f"/v2/queues/{queue}/messages", params={"echo": "true"})
    return [message["body"] for message in listed.json()["messages"]]


def test_share_needs_a_token(zaqar, queue_name):
    response = anonymous(zaqar, "POST", f"/v2/queues/{queue_name}/share",
                         {"Client-ID": str(uuid.uuid4())}, json={})
    assert response.status_code == 401


def test_share_document_is_signed_for_the_token_project(alice, accounts, shared_queue):
    document = share(alice, shared_queue, methods=["GET", "POST"])
    assert document["project"] == accounts.project_a
    assert document["paths"] == [f"/v2/queues/{shared_queue}/messages"]
    assert document["methods"] == ["GET", "POST"]
    expires = datetime.strptime(document["expires"], "%Y-%m-%dT%H:%M:%S")
    now = datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(hours=23) < expires - now <= timedelta(days=1)


def test_signed_methods_work_without_a_token(zaqar, alice, shared_queue):
    document = share(alice, shared_queue, methods=["GET", "POST"])
    headers = signed_headers(document)
    path = f"/v2/queues/{shared_queue}/messages"
    posted = anonymous(zaqar, "POST", path, headers, json={"messages": [{"body": "signed"}]})
    assert posted.status_code == 201, posted.text
    listed = anonymous(zaqar, "GET", path + "?echo=true", headers)
    assert listed.status_code == 200
    assert [m["body"] for m in listed.json()["messages"]] == ["first", "signed"]
    one = anonymous(zaqar, "GET", posted.json()["resources"][0], headers)
    assert one.status_code == 200 and one.json()["body"] == "signed"


@pytest.mark.parametrize("method, path, body", [
    ("DELETE", "/v2/queues/{q}/messages?pop=1", None),  # method not signed
    ("DELETE", "/v2/queues/{q}/messages/1", None),
    ("POST", "/v2/queues/{q}/claims", {"ttl": 60}),  # path not signed
    ("GET", "/v2/queues/{q}/subscriptions", None),
    ("GET", "/v2/queues/{q}", None),  # the queue itself
    ("DELETE", "/v2/queues/{q}", None),
    ("GET", "/v2/queues/{q}/stats", None),
    ("POST", "/v2/queues/{q}/share", {}),
    ("GET", "/v2/queues", None),
    ("GET", "/v2/queues/other-queue/messages", None),  # another queue
    ("GET", "/v2/health", None),
])
def test_unsigned_methods_and_paths_are_refused(zaqar, alice, shared_queue, method, path,
                                                body):
    headers = signed_headers(share(alice, shared_queue, methods=["GET", "POST"]))
    response = anonymous(zaqar, method, path.format(q=shared_queue), headers, json=body)
    assert response.status_code == 403, response.text
    assert remaining(alice, shared_queue) == ["first"]


@pytest.mark.parametrize("header, value", [
    ("URL-Signature", "0" * 64),
    ("URL-Signature", "not hex at all"),
    ("URL-Expires", "2099-12-31T23:59:59"),
    ("URL-Expires", "yesterday"),
    ("URL-Methods", "GET,POST,DELETE"),
    ("URL-Methods", "DELETE"),
    ("URL-Paths", "/v2/queues/other-queue/messages"),
    ("URL-Paths", "/v2/queues/{q}/messages,/v2/queues/{q}/claims"),
    ("X-Project-ID", "another-project"),
])
def test_any_tampered_field_is_refused(zaqar, alice, shared_queue, header, value):
    document = share(alice, shared_queue, methods=["GET"])
    headers = signed_headers(document, **{header: value.format(q=shared_queue)})
    response = anonymous(zaqar, "GET", f"/v2/queues/{shared_queue}/messages", headers)
    assert response.status_code == 403, response.text
    assert "Traceback" not in response.text


def test_missing_signature_fields_are_refused(zaqar, alice, shared_queue):
    document = share(alice, shared_queue)
    for missing in ("URL-Expires", "URL-Methods", "URL-Paths", "X-Project-ID"):
        headers = signed_headers(document)
        del headers[missing]
        response = anonymous(zaqar, "GET", f"/v2/queues/{shared_queue}/messages", headers)
        assert response.status_code in (400, 403), (missing, response.text)


def test_signature_of_another_projects_share_does_not_open_this_project(
        zaqar, alice, bob, accounts, shared_queue):
    # Bob shares his own queue of the same name; his signature names his project.
    assert bob.put(f"/v2/queues/{shared_queue}").status_code == 201
    document = share(bob, shared_queue, methods=["GET", "POST", "DELETE"])
    headers = signed_headers(document, **{"X-Project-ID": accounts.project_a})
    response = anonymous(zaqar, "DELETE", f"/v2/queues/{shared_queue}/messages?pop=5",
                         headers)
    assert response.status_code == 403
    assert remaining(alice, shared_queue) == ["first"]


def test_expired_signature_is_refused(zaqar, alice, shared_queue):
    expires = (datetime.now(UTC) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    headers = signed_headers(share(alice, shared_queue, expires=expires))
    path = f"/v2/queues/{shared_queue}/messages"
    assert anonymous(zaqar, "GET", path, headers).status_code == 200
    time.sleep(4)
    assert anonymous(zaqar, "GET", path, headers).status_code == 403


@pytest.mark.parametrize("document", [
    {"expires": "2000-01-01T00:00:00"}, {"expires": 4102444800}, {"methods": ["TRACE"]},
    {"paths": ["../../other/messages"]}, {"paths": ["queues"]}, {"methods": "GET"},
    {"unexpected": True},
])
def test_bad_share_documents_are_400(alice, shared_queue, document):
    response = alice.post(f"/v2/queues/{shared_queue}/share", json=document)
    assert response.status_code == 400, response.text


def test_signature_works_over_websocket_without_authenticate(zaqar, alice, accounts,
                                                            shared_queue):
    document = share(alice, shared_queue, methods=["GET"])
    with connections(zaqar.ws_url) as connect:
        client = connect(project=accounts.project_a)
        headers = signed_headers(document, **{"Client-ID": client.client_id})
        listed = client.request("message_list", {"queue_name": shared_queue, "echo": True},
                                headers=headers)
        assert listed.status == 200
        assert [m["body"] for m in listed.body["messages"]] == ["first"]
        posted = client.request("message_post", {"queue_name": shared_queue,
                                                 "messages": [{"body": "no"}]},
                                headers=headers)
        assert posted.status == 403  # POST was not signed
        tampered = {**headers, "URL-Methods": "GET,POST"}
        assert client.request("message_post", {"queue_name": shared_queue,
                                                "messages": [{"body": "no"}]},
                              headers=tampered).status == 403
        assert client.request("queue_list").status == 403  # still not authenticated
    assert remaining(alice, shared_queue) == ["first"]
