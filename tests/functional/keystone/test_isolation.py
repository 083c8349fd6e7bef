"""A token for one project can never read, post, claim or delete in another, and learns
nothing about the other project's queues (not even whether they exist)."""
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.functional.keystone.conftest import Client


@pytest.fixture
def bobs_queue(bob: Client) -> Iterator[str]:
    """A queue of project B with two messages and a webhook subscription (to a loopback
    subscriber the test server never sends to: it allows no destination)."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    assert bob.put(f"/v2/queues/{name}", json={"owner": "bob"}).status_code == 201
    assert bob.post(f"/v2/queues/{name}/messages",
                    json={"messages": [{"body": "b1"}, {"body": "b2"}]}).status_code == 201
    subscribed = bob.post(f"/v2/queues/{name}/subscriptions",
                          json={"subscriber": "http://127.0.0.1:9/bob", "ttl": 3600})
    assert subscribed.status_code == 201, subscribed.text
    yield name


def snapshot(bob: Client, queue: str) -> tuple:
    messages = bob.get(f"/v2/queues/{queue}/messages",
                       params={"echo": "true", "include_claimed": "true"}).json()["messages"]
    return (bob.get(f"/v2/queues/{queue}").json(),
            sorted(message["body"] for message in messages),
            bob.get(f"/v2/queues/{queue}/stats").json()["messages"]["total"],
            len(bob.get(f"/v2/queues/{queue}/subscriptions").json()["subscriptions"]))


ATTEMPTS = [
    ("GET", "/v2/queues", None),
    ("GET", "/v2/queues/{q}", None),
    ("PUT", "/v2/queues/{q}", {"owner": "mallory"}),
    ("DELETE", "/v2/queues/{q}", None),
    ("GET", "/v2/queues/{q}/stats", None),
    ("POST", "/v2/queues/{q}/purge", {"resource_types": ["messages", "subscriptions"]}),
    ("POST", "/v2/queues/{q}/share", {"methods": ["GET", "DELETE"]}),
    ("GET", "/v2/queues/{q}/messages?echo=true", None),
    ("POST", "/v2/queues/{q}/messages", {"messages": [{"body": "intruder"}]}),
    ("DELETE", "/v2/queues/{q}/messages?pop=5", None),
    ("DELETE", "/v2/queues/{q}/messages?ids=1,2", None),
    ("GET", "/v2/queues/{q}/messages/1", None),
    ("DELETE", "/v2/queues/{q}/messages/1", None),
    ("POST", "/v2/queues/{q}/claims", {"ttl": 60, "grace": 60}),
    ("GET", "/v2/queues/{q}/subscriptions", None),
    ("POST", "/v2/queues/{q}/subscriptions", {"subscriber": "http://evil.test", "ttl": 600}),
]


@pytest.mark.parametrize("method, path, body", ATTEMPTS)
def test_naming_another_project_is_refused_whether_or_not_the_queue_exists(
        zaqar, accounts, bob, bobs_queue, method, path, body):
    mallory = Client(zaqar.url, accounts.alice, project=accounts.project_b)
    before = snapshot(bob, bobs_queue)
    answers = []
    for queue in (bobs_queue, "no-such-queue-anywhere"):
        response = mallory.request(method, path.format(q=queue), json=body)
        answers.append((response.status_code, response.json()))
    assert answers[0][0] == 403
    assert answers[0] == answers[1]  # nothing tells the two apart
    assert snapshot(bob, bobs_queue) == before


@pytest.mark.parametrize("method, path, body", ATTEMPTS)
def test_own_token_on_a_name_only_the_other_project_has_acts_in_its_own_project(
        alice, bob, bobs_queue, method, path, body):
    before = snapshot(bob, bobs_queue)
    alice.request(method, path.format(q=bobs_queue), json=body)
    assert snapshot(bob, bobs_queue) == before


def test_the_other_projects_queue_reads_exactly_like_a_missing_one(alice, bobs_queue):
    for path in ("/v2/queues/{q}", "/v2/queues/{q}/messages/1",
                 "/v2/queues/{q}/subscriptions"):
        existing = alice.get(path.format(q=bobs_queue))
        missing = alice.get(path.format(q="no-such-queue-anywhere"))
        assert existing.status_code == missing.status_code
        assert (existing.text.replace(bobs_queue, "<name>")
                == missing.text.replace("no-such-queue-anywhere", "<name>"))
    listed = alice.get("/v2/queues", params={"limit": 20}).json()["queues"]
    assert bobs_queue not in [queue["name"] for queue in listed]


def test_claims_of_the_other_project_cannot_be_read_renewed_or_released(
        zaqar, accounts, bob, bobs_queue):
    claim = bob.post(f"/v2/queues/{bobs_queue}/claims", json={"ttl": 300, "grace": 60})
    assert claim.status_code == 201
    claim_path = urlsplit(claim.headers["Location"]).path
    alice = Client(zaqar.url, accounts.alice)
    mallory = Client(zaqar.url, accounts.alice, project=accounts.project_b)
    assert alice.get(claim_path).status_code == 404
    assert alice.delete(claim_path).status_code == 204  # a no-op in project A
    assert mallory.get(claim_path).status_code == 403
    assert mallory.patch(claim_path, json={"ttl": 60}).status_code == 403
    assert mallory.delete(claim_path).status_code == 403
    assert bob.get(claim_path).status_code == 200
