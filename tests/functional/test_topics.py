"""Topics (upstream's ``/v2/topics`` API) against a real ``zaqar-server``: a REST
walkthrough, the same over websocket, fan-out of every message to several webhook
subscribers through the server's notifier, and bad input. Upstream 23's topic routes
answer 500 or 503 on its Redis store (docs/compatibility.md, "Topics"): the semantics
here are its API reference's."""
from collections.abc import Iterator

import pytest

from tests.functional.conftest import Rest, running_server
from tests.functional.receivers import webhook_receiver
from tests.functional.websocket_client import connections

JSON_PATCH = {"Content-Type": "application/openstack-messaging-v2.0-json-patch"}
NOTIFICATION = """
[notification]
allowed_destinations = 127.0.0.0/8, ::1
poll_interval = 0.2
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator:
    with running_server(tmp_path_factory.mktemp("topics"), NOTIFICATION,
                        websocket_ready=True) as running:
        yield running


@pytest.fixture
def rest(server) -> Iterator[Rest]:
    client = Rest(server.url)
    yield client
    client.close()


@pytest.fixture
def connect(server):
    with connections(server.ws_url) as open_client:
        yield open_client


def assert_error(response, status, *fragments):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"title", "description"}
    for fragment in fragments:
        assert fragment in body["description"]


def test_rest_walkthrough(rest):
    response = rest.put("/v2/topics/news", json={"_default_message_ttl": 600, "team": "ops"})
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/v2/topics/news"
    assert rest.put("/v2/topics/news", json={}).status_code == 204
    assert rest.get("/v2/topics/news").json() == {
        "_default_message_ttl": 600, "team": "ops", "_max_messages_post_size": 262144,
        "_default_message_delay": 0}
    listed = rest.get("/v2/topics?detailed=true").json()
    assert [(t["name"], t["href"], t["metadata"]["team"]) for t in listed["topics"]] == [
        ("news", "/v2/topics/news", "ops")]
    assert listed["links"][0]["href"].startswith("/v2/topics?")
    # Topics and queues are apart: the queue of the same name is another thing.
    assert rest.get("/v2/queues").json()["queues"] == []

    patched = rest.patch("/v2/topics/news", headers=JSON_PATCH, json=[
        {"op": "replace", "path": "/metadata/team", "value": "dev"}])
    assert patched.status_code == 200, patched.text
    assert patched.json()["team"] == "dev"

    posted = rest.post("/v2/topics/news/messages", json={"messages": [
        {"body": {"headline": 1}}, {"body": {"headline": 2}}]})
    assert posted.status_code == 201, posted.text
    ids = posted.json()["message_ids"]
    assert posted.json()["resources"] == [f"/v2/topics/news/messages/{i}" for i in ids]
    assert posted.headers["Location"] == f"/v2/topics/news/messages?ids={','.join(ids)}"
    page = rest.get("/v2/topics/news/messages?echo=true").json()
    assert [(m["href"], m["body"]) for m in page["messages"]] == [
        (f"/v2/topics/news/messages/{ids[0]}", {"headline": 1}),
        (f"/v2/topics/news/messages/{ids[1]}", {"headline": 2})]
    assert page["links"][0]["href"].startswith("/v2/topics/news/messages?")
    assert rest.get(f"/v2/topics/news/messages/{ids[0]}").json()["body"] == {"headline": 1}
    assert len(rest.get(f"/v2/topics/news/messages?ids={ids[1]}").json()["messages"]) == 1
    stats = rest.get("/v2/topics/news/stats").json()["messages"]
    assert (stats["total"], stats["oldest"]["href"]) == (
        2, f"/v2/topics/news/messages/{ids[0]}")
    assert rest.delete(f"/v2/topics/news/messages/{ids[0]}").status_code == 204
    assert rest.delete(f"/v2/topics/news/messages?ids={ids[1]}").status_code == 204
    assert rest.get("/v2/topics/news/stats").json()["messages"]["total"] == 0

    created = rest.post("/v2/topics/news/subscriptions",
                        json={"subscriber": "http://127.0.0.1:9/hook", "ttl": 600})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/v2/topics/news/subscriptions"
    subscription_id = created.json()["subscription_id"]
    path = f"/v2/topics/news/subscriptions/{subscription_id}"
    assert rest.get(path).json()["source"] == "news"
    assert [s["id"] for s in rest.get("/v2/topics/news/subscriptions").json()[
        "subscriptions"]] == [subscription_id]
    updated = rest.patch(path, json={"ttl": 900})
    assert (updated.status_code, updated.headers["Location"]) == (204, path)
    assert rest.put(f"{path}/confirm", json={"confirmed": True}).status_code == 204
    assert rest.delete(path).status_code == 204

    assert rest.post("/v2/topics/news/purge",
                     json={"resource_types": ["messages"]}).status_code == 204
    assert rest.delete("/v2/topics/news").status_code == 204
    assert_error(rest.get("/v2/topics/news"), 404, "Topic 'news' does not exist")
    assert rest.get("/v2/topics").json()["topics"] == []


def test_a_topic_is_not_found_until_made_or_posted_to(rest):
    assert_error(rest.get("/v2/topics/later"), 404, "Topic 'later' does not exist")
    assert_error(rest.patch("/v2/topics/later", headers=JSON_PATCH, json=[
        {"op": "add", "path": "/metadata/a", "value": 1}]), 404, "Topic 'later'")
    assert rest.post("/v2/topics/later/messages",
                     json={"messages": [{"body": 1}]}).status_code == 201
    assert rest.get("/v2/topics/later").status_code == 200


def test_every_message_goes_to_every_subscriber(rest):
    with webhook_receiver() as first, webhook_receiver() as second, \
            webhook_receiver() as third:
        for receiver in (first, second, third):
            response = rest.post("/v2/topics/alerts/subscriptions",
                                 json={"subscriber": receiver.url, "ttl": 600})
            assert response.status_code == 201, response.text
        bodies = [{"alert": n} for n in range(3)]
        assert rest.post("/v2/topics/alerts/messages", json={"messages": [
            {"body": body} for body in bodies]}).status_code == 201
        for receiver in (first, second, third):
            delivered = receiver.wait_for(3)
            assert [d.body["body"] for d in delivered] == bodies
            assert {d.body["queue_name"] for d in delivered} == {"alerts"}


def test_websocket_walkthrough(connect):
    client = connect()
    created = client.request("topic_create", {"topic_name": "feed",
                                              "metadata": {"team": "ops"}})
    assert created.status == 201, created.document
    posted = client.request("topic_message_post", {"topic_name": "feed",
                                                   "messages": [{"body": "hello"}]})
    assert posted.status == 201, posted.document
    listed = client.request("topic_message_list", {"topic_name": "feed", "echo": True})
    assert [m["body"] for m in listed.body["messages"]] == ["hello"]
    assert client.request("topic_get", {"topic_name": "feed"}).body["team"] == "ops"
    stats = client.request("topic_get_stats", {"topic_name": "feed"})
    assert stats.body["messages"]["total"] == 1
    topics = client.request("topic_list", {})
    assert [t["name"] for t in topics.body["topics"]] == ["feed"]
    subscribed = client.request("topic_subscription_create", {
        "topic_name": "feed", "subscriber": "http://127.0.0.1:9/hook"})
    assert subscribed.status == 201, subscribed.document
    assert client.request("topic_delete", {"topic_name": "feed"}).status == 204
    assert client.request("topic_get", {"topic_name": "feed"}).status == 404


def test_a_websocket_subscriber_of_a_topic_gets_its_messages_pushed(connect, rest):
    listener = connect(rest.project)
    subscribed = listener.request("topic_subscription_create", {"topic_name": "pushed",
                                                                "ttl": 3600})
    assert subscribed.status == 201, subscribed.document
    other = connect(rest.project)
    assert other.request("topic_subscription_create", {"topic_name": "pushed"}).status == 201
    posted = rest.post("/v2/topics/pushed/messages",
                       json={"messages": [{"body": {"n": 1}}, {"body": {"n": 2}}]})
    assert posted.status_code == 201, posted.text
    for client in (listener, other):  # every subscriber gets every message
        pushed = client.push(timeout=10)
        assert pushed.body["topic_name"] == "pushed"
        assert [m["body"] for m in pushed.body["messages"]] == [{"n": 1}, {"n": 2}]
        assert all(m["href"].startswith("/v2/topics/pushed/messages/")
                   for m in pushed.body["messages"])
    # A queue of the same name is another thing: its posts are not pushed here.
    rest.post("/v2/queues/pushed/messages", json={"messages": [{"body": "queue"}]})
    rest.post("/v2/topics/pushed/messages", json={"messages": [{"body": "topic"}]})
    assert [m["body"] for m in listener.push(timeout=10).body["messages"]] == ["topic"]


@pytest.mark.parametrize(("name", "fragment"), [
    ("no spaces", "Topic names may only contain"), ("x" * 65, "64 characters")])
def test_bad_topic_names_are_400(rest, name, fragment):
    assert_error(rest.put(f"/v2/topics/{name}", json={}), 400, fragment)
    assert rest.get("/v2/topics").json()["topics"] == []


@pytest.mark.parametrize("metadata", [
    {"_dead_letter_queue": "dlq"}, {"_max_claim_count": 2},
    {"_dead_letter_queue_messages_ttl": 3600}])
def test_dead_letter_settings_are_refused_on_topics(rest, metadata):
    assert_error(rest.put("/v2/topics/news", json=metadata), 400, "not claimed")
    assert rest.get("/v2/topics").json()["topics"] == []
    rest.put("/v2/topics/news", json={})
    [(key, value)] = metadata.items()
    assert_error(rest.patch("/v2/topics/news", headers=JSON_PATCH, json=[
        {"op": "add", "path": f"/metadata/{key}", "value": value}]), 400, key)
    assert key not in rest.get("/v2/topics/news").json()


@pytest.mark.parametrize(("body", "fragment"), [
    ({"_default_message_ttl": 59}, "_default_message_ttl"),
    ({"_max_messages_post_size": "big"}, "_max_messages_post_size"),
    ([], "JSON object")])
def test_bad_topic_metadata_is_400(rest, body, fragment):
    assert_error(rest.put("/v2/topics/news", json=body), 400, fragment)
    assert rest.get("/v2/topics").json()["topics"] == []


def test_bad_topic_posts_and_subscriptions_are_400(rest):
    assert_error(rest.post("/v2/topics/news/messages", json={"messages": []}), 400,
                 "messages")
    assert_error(rest.post("/v2/topics/news/messages",
                           json={"messages": [{"body": 1, "ttl": 10}]}), 400, "ttl")
    assert_error(rest.post("/v2/topics/news/subscriptions", json={"subscriber": "nope"}),
                 400, "subscriber")
    assert_error(rest.delete("/v2/topics/news/messages?pop=1"), 400, "no pop")
    assert rest.get("/v2/topics").json()["topics"] == []
