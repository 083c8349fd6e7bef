"""The v2 REST API walked through over HTTP against a real server: queues, messages,
claims, subscriptions and the service documents, with the reference's statuses, bodies
and headers."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.functional.conftest import Rest

JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"


def post_messages(rest: Rest, queue: str, bodies: list, ttl: int | None = 300,
                  **fields: int) -> list[str]:
    """Post one message per body (``ttl`` None: the queue's default); the ids in order."""
    if ttl is not None:
        fields["ttl"] = ttl
    resp = rest.post(f"/v2/queues/{queue}/messages",
                     json={"messages": [{"body": body, **fields} for body in bodies]})
    assert resp.status_code == 201, resp.text
    return [href.rsplit("/", 1)[1] for href in resp.json()["resources"]]


def claim(rest: Rest, queue: str, limit: int = 10, ttl: int = 300, grace: int = 60):
    return rest.post(f"/v2/queues/{queue}/claims?limit={limit}",
                     json={"ttl": ttl, "grace": grace})


def next_href(body: dict) -> str:
    [link] = [link for link in body["links"] if link["rel"] == "next"]
    return link["href"]


def assert_error(resp, status: int) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["title"] and body["description"]


# -- service documents ------------------------------------------------------------------

def test_root_answers_the_versions_document_with_multiple_choices(rest):
    resp = rest.get("/")
    assert resp.status_code == 300
    [version] = [v for v in resp.json()["versions"] if v["id"] == "2"]
    assert version["status"] == "CURRENT"
    assert {"href": "/v2/", "rel": "self"} in version["links"]
    assert version["media-types"][0]["type"] == "application/vnd.openstack.messaging-v2+json"


def test_ping_answers_204_to_get_and_head(rest):
    for method in ("GET", "HEAD"):
        resp = rest.request(method, "/v2/ping")
        assert resp.status_code == 204
        assert resp.content == b""


@pytest.mark.parametrize("path", ["/v2/ping", "/v2/queues", "/v2/queues/q/messages"])
def test_requests_without_client_id_are_refused(rest, path):
    assert_error(rest.get(path, headers={"Client-ID": None}), 400)


# -- queues -----------------------------------------------------------------------------

def test_queue_put_creates_with_201_and_answers_204_when_it_exists(rest):
    created = rest.put("/v2/queues/fresh", json={"color": "red"})
    assert created.status_code == 201
    assert created.headers["Location"] == "/v2/queues/fresh"
    again = rest.put("/v2/queues/fresh", json={"color": "blue"})
    assert again.status_code == 204
    assert again.content == b""
    # Creating an existing queue leaves it as it was.
    assert rest.get("/v2/queues/fresh").json()["color"] == "red"


def test_queue_get_shows_metadata_with_reserved_defaults(rest):
    rest.put("/v2/queues/meta", json={"color": "red", "_default_message_ttl": 120})
    resp = rest.get("/v2/queues/meta")
    assert resp.status_code == 200
    metadata = resp.json()
    assert metadata["color"] == "red"
    assert metadata["_default_message_ttl"] == 120
    assert metadata["_max_messages_post_size"] == 256 * 1024


def test_missing_queue_answers_the_default_metadata(rest):
    """v2 queues are lazy: one not created yet has the defaults (upstream's 200)."""
    resp = rest.get("/v2/queues/nowhere")
    assert resp.status_code == 200
    assert resp.json()["_default_message_ttl"] == 3600
    assert resp.json()["_max_claim_count"] is None


def test_queue_list_pages_with_next_links(rest):
    for name in ("q-a", "q-b", "q-c"):
        assert rest.put(f"/v2/queues/{name}", json={"name": name}).status_code == 201
    first = rest.get("/v2/queues?limit=2&detailed=true&with_count=true")
    assert first.status_code == 200
    body = first.json()
    assert [q["name"] for q in body["queues"]] == ["q-a", "q-b"]
    assert body["queues"][0]["href"] == "/v2/queues/q-a"
    assert body["queues"][0]["metadata"]["name"] == "q-a"
    assert body["count"] == 3
    second = rest.get(next_href(body)).json()
    assert [q["name"] for q in second["queues"]] == ["q-c"]
    assert "metadata" in second["queues"][0]  # the next link keeps detailed
    last = rest.get(next_href(second)).json()
    assert last == {"queues": [], "links": []}


def test_queues_are_scoped_by_project(rest, zaqar_server):
    rest.put("/v2/queues/mine", json={"owner": "me"})
    post_messages(rest, "mine", ["secret"])
    stranger = Rest(zaqar_server.url)
    assert stranger.get("/v2/queues").json()["queues"] == []
    assert "owner" not in stranger.get("/v2/queues/mine").json()
    listed = stranger.get("/v2/queues/mine/messages?echo=true")
    assert listed.json()["messages"] == []


def test_queue_metadata_is_patched_with_json_patch(rest):
    rest.put("/v2/queues/patched", json={"color": "red", "size": 1})
    changes = [{"op": "add", "path": "/metadata/shape", "value": "round"},
               {"op": "replace", "path": "/metadata/color", "value": "green"},
               {"op": "remove", "path": "/metadata/size"}]
    resp = rest.patch("/v2/queues/patched", data=json.dumps(changes),
                      headers={"Content-Type": JSON_PATCH})
    assert resp.status_code == 200, resp.text
    metadata = resp.json()
    assert metadata["shape"] == "round" and metadata["color"] == "green"
    assert "size" not in metadata
    assert metadata["_default_message_ttl"] == 3600
    assert rest.get("/v2/queues/patched").json() == metadata


def test_reserved_metadata_can_be_patched_back_as_get_shows_it(rest):
    rest.put("/v2/queues/reserved")
    shown = rest.get("/v2/queues/reserved").json()
    changes = [{"op": "replace", "path": "/metadata/_default_message_ttl", "value": 600},
               {"op": "remove", "path": "/metadata/_max_messages_post_size"}]
    resp = rest.patch("/v2/queues/reserved", data=json.dumps(changes),
                      headers={"Content-Type": JSON_PATCH})
    assert resp.status_code == 200, resp.text
    assert resp.json()["_default_message_ttl"] == 600
    assert resp.json()["_max_messages_post_size"] == shown["_max_messages_post_size"]


def test_request_bodies_sent_in_chunks_are_read_whole(rest):
    def chunks(document):
        encoded = json.dumps(document).encode()
        return (encoded[start:start + 7] for start in range(0, len(encoded), 7))

    json_type = {"Content-Type": "application/json"}
    created = rest.put("/v2/queues/chunked", data=chunks({"color": "red"}), headers=json_type)
    assert created.status_code == 201
    assert rest.get("/v2/queues/chunked").json()["color"] == "red"
    posted = rest.post("/v2/queues/chunked/messages", headers=json_type,
                       data=chunks({"messages": [{"ttl": 120, "body": "streamed"}]}))
    assert posted.status_code == 201, posted.text
    [message] = rest.get("/v2/queues/chunked/messages?echo=true").json()["messages"]
    assert (message["body"], message["ttl"]) == ("streamed", 120)


def test_queue_delete_removes_queue_and_its_messages(rest):
    rest.put("/v2/queues/doomed", json={"color": "red"})
    post_messages(rest, "doomed", [1, 2])
    resp = rest.delete("/v2/queues/doomed")
    assert resp.status_code == 204
    assert rest.get("/v2/queues").json()["queues"] == []
    assert "color" not in rest.get("/v2/queues/doomed").json()
    stats = rest.get("/v2/queues/doomed/stats").json()["messages"]
    assert (stats["free"], stats["claimed"], stats["total"]) == (0, 0, 0)
    assert rest.delete("/v2/queues/doomed").status_code == 204


# -- messages ---------------------------------------------------------------------------

def test_message_post_answers_resources_in_post_order(rest):
    resp = rest.post("/v2/queues/posted/messages",
                     json={"messages": [{"ttl": 300, "body": {"n": 1}},
                                        {"body": "two", "delay": 0}]})
    assert resp.status_code == 201
    resources = resp.json()["resources"]
    assert len(resources) == 2
    assert all(href.startswith("/v2/queues/posted/messages/") for href in resources)
    ids = [href.rsplit("/", 1)[1] for href in resources]
    assert resp.headers["Location"] == f"/v2/queues/posted/messages?ids={','.join(ids)}"
    # Posting created the queue lazily.
    assert rest.get("/v2/queues/posted").status_code == 200
    listed = rest.get(f"/v2/queues/posted/messages?ids={','.join(ids)}").json()
    assert [m["body"] for m in listed["messages"]] == [{"n": 1}, "two"]
    assert listed["messages"][1]["ttl"] == 3600  # the default TTL


def test_client_does_not_see_its_own_messages_unless_echo(rest):
    post_messages(rest, "echo", ["mine"])
    assert rest.get("/v2/queues/echo/messages").json() == {"messages": [], "links": []}
    echoed = rest.get("/v2/queues/echo/messages?echo=true").json()["messages"]
    assert [m["body"] for m in echoed] == ["mine"]
    seen_by_peer = rest.peer().get("/v2/queues/echo/messages").json()["messages"]
    assert [m["body"] for m in seen_by_peer] == ["mine"]


def test_message_list_pages_with_next_markers_in_post_order(rest):
    ids = post_messages(rest, "paged", list(range(5)))
    bodies, path = [], "/v2/queues/paged/messages?limit=2&echo=true"
    for _ in range(5):
        page = rest.get(path).json()
        if not page["messages"]:
            assert page["links"] == []
            break
        assert len(page["messages"]) <= 2
        bodies += [m["body"] for m in page["messages"]]
        path = next_href(page)
        assert parse_qs(urlsplit(path).query)["marker"] == [page["messages"][-1]["id"]]
    assert bodies == list(range(5))
    assert [m["id"] for m in rest.get("/v2/queues/paged/messages?echo=true&limit=5")
            .json()["messages"]] == ids


def test_message_get_shows_id_href_ttl_age_and_body(rest):
    [message_id] = post_messages(rest, "single", [{"event": "created"}], ttl=120)
    resp = rest.get(f"/v2/queues/single/messages/{message_id}")
    assert resp.status_code == 200
    message = resp.json()
    assert message["id"] == message_id
    assert message["href"] == f"/v2/queues/single/messages/{message_id}"
    assert message["ttl"] == 120
    assert 0 <= message["age"] <= 5
    assert message["body"] == {"event": "created"}


def test_messages_are_fetched_many_at_once_by_ids(rest):
    ids = post_messages(rest, "many", ["a", "b", "c"])
    resp = rest.get(f"/v2/queues/many/messages?ids={ids[0]},{ids[2]},999999999")
    assert resp.status_code == 200
    assert [m["body"] for m in resp.json()["messages"]] == ["a", "c"]


def test_message_delete_removes_it_and_is_idempotent(rest):
    [message_id] = post_messages(rest, "deleting", ["bye"])
    assert rest.delete(f"/v2/queues/deleting/messages/{message_id}").status_code == 204
    assert_error(rest.get(f"/v2/queues/deleting/messages/{message_id}"), 404)
    assert rest.delete(f"/v2/queues/deleting/messages/{message_id}").status_code == 204


def test_message_ids_are_never_reused_after_the_newest_is_deleted(rest):
    [first] = post_messages(rest, "reuse", ["first"])
    assert rest.delete(f"/v2/queues/reuse/messages/{first}").status_code == 204
    [second] = post_messages(rest, "reuse", ["second"])
    assert second != first
    # A stale delete of the first id must not take the second message with it.
    assert rest.delete(f"/v2/queues/reuse/messages/{first}").status_code == 204
    assert rest.get(f"/v2/queues/reuse/messages/{second}").json()["body"] == "second"


def test_messages_are_deleted_many_at_once_by_ids(rest):
    ids = post_messages(rest, "bulk", ["a", "b", "c"])
    resp = rest.delete(f"/v2/queues/bulk/messages?ids={ids[0]},{ids[1]}")
    assert resp.status_code == 204
    left = rest.get("/v2/queues/bulk/messages?echo=true").json()["messages"]
    assert [m["id"] for m in left] == [ids[2]]


def test_pop_removes_and_returns_the_oldest_messages(rest):
    ids = post_messages(rest, "popped", ["a", "b", "c"])
    resp = rest.delete("/v2/queues/popped/messages?pop=2")
    assert resp.status_code == 200
    assert [m["body"] for m in resp.json()["messages"]] == ["a", "b"]
    left = rest.get("/v2/queues/popped/messages?echo=true").json()["messages"]
    assert [m["id"] for m in left] == [ids[2]]
    empty = rest.delete("/v2/queues/empty/messages?pop=1")
    assert empty.status_code == 200 and empty.json() == {"messages": []}


def test_delayed_message_is_hidden_and_unclaimable_until_its_delay(rest):
    post_messages(rest, "delayed", ["later"], delay=600)
    assert rest.get("/v2/queues/delayed/messages?echo=true").json()["messages"] == []
    shown = rest.get("/v2/queues/delayed/messages?echo=true&include_delayed=true").json()
    assert [m["body"] for m in shown["messages"]] == ["later"]
    assert claim(rest, "delayed").status_code == 204


# -- claims -----------------------------------------------------------------------------

def test_claim_answers_201_with_location_and_claimed_message_hrefs(rest):
    ids = post_messages(rest, "work", ["a", "b", "c"])
    resp = claim(rest, "work", limit=2)
    assert resp.status_code == 201
    location = resp.headers["Location"]
    assert location.startswith("/v2/queues/work/claims/")
    claim_id = location.rsplit("/", 1)[1]
    messages = resp.json()["messages"]
    assert [m["id"] for m in messages] == ids[:2]
    assert [m["body"] for m in messages] == ["a", "b"]
    for message in messages:
        assert message["href"] == f"/v2/queues/work/messages/{message['id']}?claim_id={claim_id}"
        assert message["ttl"] >= 300 and "age" in message


def test_claim_answers_204_when_nothing_is_claimable(rest):
    assert claim(rest, "nothing").status_code == 204
    post_messages(rest, "all-taken", ["a"])
    assert claim(rest, "all-taken").status_code == 201
    resp = claim(rest, "all-taken")
    assert resp.status_code == 204
    assert resp.content == b""


def test_claimed_message_is_not_claimed_twice(rest):
    post_messages(rest, "once", ["a", "b"])
    first = {m["id"] for m in claim(rest, "once", limit=1).json()["messages"]}
    second = {m["id"] for m in rest.peer().post("/v2/queues/once/claims",
                                                json={"ttl": 60}).json()["messages"]}
    assert len(first) == len(second) == 1
    assert first.isdisjoint(second)


def test_claim_is_read_renewed_and_released(rest):
    ids = post_messages(rest, "renew", ["a"])
    claim_path = claim(rest, "renew", ttl=120, grace=60).headers["Location"]
    got = rest.get(claim_path)
    assert got.status_code == 200
    body = got.json()
    assert body["ttl"] == 120 and 0 <= body["age"] <= 5
    assert body["href"] == claim_path
    assert [m["id"] for m in body["messages"]] == ids
    assert rest.patch(claim_path, json={"ttl": 600, "grace": 120}).status_code == 204
    assert rest.get(claim_path).json()["ttl"] == 600
    assert rest.delete(claim_path).status_code == 204
    assert_error(rest.get(claim_path), 404)
    # Released messages are free again.
    assert claim(rest, "renew").status_code == 201


def test_claimed_message_cannot_be_deleted_without_its_claim(rest):
    [message_id] = post_messages(rest, "guarded", ["a"])
    claimed = claim(rest, "guarded").json()["messages"][0]
    path = f"/v2/queues/guarded/messages/{message_id}"
    assert_error(rest.delete(path), 403)
    # No such claim: 400; another live claim: 403 (upstream's statuses).
    assert_error(rest.delete(f"{path}?claim_id=0123456789abcdef0123456789abcdef"), 400)
    post_messages(rest, "guarded", ["b"])
    other = claim(rest, "guarded").headers["Location"].rsplit("/", 1)[1]
    assert_error(rest.delete(f"{path}?claim_id={other}"), 403)
    assert rest.get(path).status_code == 200
    assert rest.delete(claimed["href"]).status_code == 204
    assert_error(rest.get(path), 404)


def test_unclaimed_message_with_a_claim_id_is_a_bad_request(rest):
    [message_id] = post_messages(rest, "unclaimed", ["a"])
    resp = rest.delete(f"/v2/queues/unclaimed/messages/{message_id}"
                       "?claim_id=0123456789abcdef0123456789abcdef")
    assert_error(resp, 400)
    assert rest.get(f"/v2/queues/unclaimed/messages/{message_id}").status_code == 200


def test_claimed_messages_are_listed_with_include_claimed_and_their_claim(rest):
    ids = post_messages(rest, "listed", ["a", "b"])
    claim_id = claim(rest, "listed", limit=1).headers["Location"].rsplit("/", 1)[1]
    default = rest.get("/v2/queues/listed/messages?echo=true").json()["messages"]
    assert [m["id"] for m in default] == ids[1:]
    everything = rest.get("/v2/queues/listed/messages?echo=true&include_claimed=true")
    hrefs = [m["href"] for m in everything.json()["messages"]]
    assert hrefs == [f"/v2/queues/listed/messages/{ids[0]}?claim_id={claim_id}",
                     f"/v2/queues/listed/messages/{ids[1]}"]
    single = rest.get(f"/v2/queues/listed/messages/{ids[0]}").json()
    assert single["href"].endswith(f"?claim_id={claim_id}")


def test_claimed_messages_are_deleted_in_bulk_with_their_claim_ids(rest):
    ids = post_messages(rest, "bulk-claimed", ["a", "b", "c"])
    claim_id = claim(rest, "bulk-claimed", limit=2).headers["Location"].rsplit("/", 1)[1]
    resp = rest.delete(f"/v2/queues/bulk-claimed/messages?ids={ids[0]},{ids[1]}"
                       f"&claim_ids={claim_id}")
    assert resp.status_code == 204
    left = rest.get("/v2/queues/bulk-claimed/messages?echo=true&include_claimed=true")
    assert [m["id"] for m in left.json()["messages"]] == [ids[2]]


def test_stats_count_free_and_claimed_with_oldest_and_newest(rest):
    ids = post_messages(rest, "counted", ["a", "b", "c"])
    claim(rest, "counted", limit=1)
    resp = rest.get("/v2/queues/counted/stats")
    assert resp.status_code == 200
    stats = resp.json()["messages"]
    assert (stats["free"], stats["claimed"], stats["total"]) == (2, 1, 3)
    assert stats["oldest"]["href"] == f"/v2/queues/counted/messages/{ids[0]}"
    assert stats["newest"]["href"] == f"/v2/queues/counted/messages/{ids[2]}"
    for end in (stats["oldest"], stats["newest"]):
        assert 0 <= end["age"] <= 5
        assert end["created"].endswith("Z")
    rest.put("/v2/queues/quiet")
    quiet = rest.get("/v2/queues/quiet/stats").json()["messages"]
    assert quiet == {"free": 0, "claimed": 0, "total": 0}


def subscriptions(rest, queue: str, count: int) -> list[str]:
    """``count`` webhook subscriptions of ``queue``; ids in creation order. Their
    loopback subscribers are never sent anything: the test server allows no destination
    ([notification] allowed_destinations)."""
    ids = []
    for n in range(count):
        resp = rest.post(f"/v2/queues/{queue}/subscriptions", json={
            "subscriber": f"http://127.0.0.1:9/hook/{n}", "ttl": 3600, "options": {"n": n}})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["subscription_id"])
    return ids


def test_purge_of_messages_keeps_the_queue_and_its_subscriptions(rest):
    rest.put("/v2/queues/purged", json={"color": "red"})
    post_messages(rest, "purged", ["a", "b"])
    subscriptions(rest, "purged", 1)
    resp = rest.post("/v2/queues/purged/purge", json={"resource_types": ["messages"]})
    assert resp.status_code == 204
    assert rest.get("/v2/queues/purged/stats").json()["messages"]["total"] == 0
    assert rest.get("/v2/queues/purged").json()["color"] == "red"
    assert len(rest.get("/v2/queues/purged/subscriptions").json()["subscriptions"]) == 1
    resp = rest.post("/v2/queues/purged/purge", json={"resource_types": ["subscriptions"]})
    assert resp.status_code == 204
    assert rest.get("/v2/queues/purged/subscriptions").json()["subscriptions"] == []


# -- subscriptions ----------------------------------------------------------------------

def test_subscription_is_listed_read_updated_and_deleted(rest):
    base = "/v2/queues/crud/subscriptions"
    ids = subscriptions(rest, "crud", 3)
    first = rest.get(f"{base}?limit=2").json()
    assert len(first["subscriptions"]) == 2
    second = rest.get(next_href(first)).json()
    assert {s["id"] for s in first["subscriptions"] + second["subscriptions"]} == set(ids)

    path = f"{base}/{ids[0]}"
    got = rest.get(path)
    assert got.status_code == 200
    subscription = got.json()
    assert subscription["id"] == ids[0]
    assert subscription["source"] == "crud"
    assert subscription["subscriber"] == "http://127.0.0.1:9/hook/0"
    assert subscription["ttl"] == 3600 and subscription["options"] == {"n": 0}
    assert "age" in subscription and subscription["confirmed"] is False

    assert rest.patch(path, json={"ttl": 7200, "options": {"n": 9}}).status_code == 204
    updated = rest.get(path).json()
    assert (updated["ttl"], updated["options"]) == (7200, {"n": 9})

    assert rest.delete(path).status_code == 204
    assert_error(rest.get(path), 404)
    assert rest.delete(path).status_code == 204


def test_subscription_is_confirmed_and_unconfirmed(rest):
    [subscription_id] = subscriptions(rest, "confirming", 1)
    path = f"/v2/queues/confirming/subscriptions/{subscription_id}"
    assert rest.put(f"{path}/confirm", json={"confirmed": True}).status_code == 204
    assert rest.get(path).json()["confirmed"] is True
    assert rest.put(f"{path}/confirm", json={"confirmed": False}).status_code == 204
    assert rest.get(path).json()["confirmed"] is False


# -- the whole story --------------------------------------------------------------------

def test_producer_and_consumer_walk_a_job_through_a_queue(rest):
    producer, consumer = rest, rest.peer()
    assert producer.put("/v2/queues/jobs", json={"_default_message_ttl": 600}).status_code \
        == 201
    post_messages(producer, "jobs", [{"job": n} for n in range(3)], ttl=None)

    claimed = claim(consumer, "jobs", limit=2)
    assert claimed.status_code == 201
    stats = consumer.get("/v2/queues/jobs/stats").json()["messages"]
    assert (stats["free"], stats["claimed"]) == (1, 2)

    for message in claimed.json()["messages"]:
        assert consumer.delete(message["href"]).status_code == 204
    assert consumer.delete(claimed.headers["Location"]).status_code == 204

    rest_of_work = claim(consumer, "jobs")
    assert [m["body"] for m in rest_of_work.json()["messages"]] == [{"job": 2}]
    assert [m["ttl"] for m in rest_of_work.json()["messages"]] == [600]
    for message in rest_of_work.json()["messages"]:
        assert consumer.delete(message["href"]).status_code == 204

    stats = producer.get("/v2/queues/jobs/stats").json()["messages"]
    assert stats == {"free": 0, "claimed": 0, "total": 0}
    assert producer.delete("/v2/queues/jobs").status_code == 204
    assert producer.get("/v2/queues").json()["queues"] == []
