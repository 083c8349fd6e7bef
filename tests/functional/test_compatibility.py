"""Queues, messages and claims answer as upstream Zaqar 23 does: the statuses and body
keys of docs/compatibility.md ("Queues, messages, claims", "Extra keys of ours", "Where
upstream has a bug and we stay correct"), one test per row, over REST and, where the
action exists there too, over the websocket API (its status, and the body keys the
shared api layer decides)."""
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.functional.conftest import Rest
from tests.functional.websocket_client import WsClient, connections

JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"
RESERVED_DEFAULTS = {
    "_max_messages_post_size": 262144, "_default_message_ttl": 3600,
    "_default_message_delay": 0, "_dead_letter_queue": None,
    "_dead_letter_queue_messages_ttl": None, "_max_claim_count": None,
    "_enable_encrypt_messages": False,
}
# Ids we could never have issued: another service's formats, a negative number, too long.
NEVER_ISSUED = [str(uuid.uuid4()), "5f0a5f0a5f0a5f0a5f0a5f0a", "-1", "9" * 100]
# The keyword arguments of python-zaqarclient's Message(): any other key in a message
# item raises TypeError there.
CLIENT_MESSAGE_KEYS = {"id", "href", "ttl", "age", "body", "checksum", "claim_id",
                       "claim_count"}
UPSTREAM_MESSAGE_KEYS = {"id", "href", "ttl", "age", "body"}


@pytest.fixture
def ws(websocket_url: str, rest: Rest) -> Iterator[WsClient]:
    """A websocket client in ``rest``'s project."""
    with connections(websocket_url) as open_client:
        yield open_client(rest.project)


def post(rest: Rest, queue: str, *bodies: object) -> list[str]:
    resp = rest.post(f"/v2/queues/{queue}/messages",
                     json={"messages": [{"body": body} for body in bodies]})
    assert resp.status_code == 201, resp.text
    return [href.rsplit("/", 1)[1] for href in resp.json()["resources"]]


def claim(rest: Rest, queue: str, limit: int = 10) -> tuple[str, list[dict]]:
    resp = rest.post(f"/v2/queues/{queue}/claims?limit={limit}",
                     json={"ttl": 300, "grace": 60})
    assert resp.status_code == 201, resp.text
    return resp.headers["Location"].rsplit("/", 1)[1], resp.json()["messages"]


def assert_error(resp, status: int) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["title"] and resp.json()["description"]


def patch_queue(rest: Rest, queue: str, document: object):
    return rest.patch(f"/v2/queues/{queue}", data=json.dumps(document),
                      headers={"Content-Type": JSON_PATCH})


# -- queues -----------------------------------------------------------------------------

def test_missing_or_deleted_queue_answers_200_with_the_default_metadata(rest, ws):
    resp = rest.get("/v2/queues/never-made")
    assert (resp.status_code, resp.json()) == (200, RESERVED_DEFAULTS)
    rest.put("/v2/queues/gone", json={"color": "red"})
    assert rest.delete("/v2/queues/gone").status_code == 204
    assert rest.get("/v2/queues/gone").json() == RESERVED_DEFAULTS
    assert ws.request("queue_get", {"queue_name": "never-made"}).status == 200


def test_queue_document_lists_every_reserved_key_in_get_list_and_patch(rest, ws):
    rest.put("/v2/queues/full", json={"color": "red", "_default_message_ttl": 120})
    expected = {**RESERVED_DEFAULTS, "color": "red", "_default_message_ttl": 120}
    assert rest.get("/v2/queues/full").json() == expected
    [entry] = rest.get("/v2/queues?detailed=true").json()["queues"]
    assert entry["metadata"] == expected
    patched = patch_queue(rest, "full", [{"op": "add", "path": "/metadata/size", "value": 1}])
    assert (patched.status_code, patched.json()) == (200, {**expected, "size": 1})
    listed = ws.request("queue_list", {"detailed": True})
    assert listed.status == 200


def test_empty_json_patch_answers_the_metadata_unchanged(rest):
    rest.put("/v2/queues/still", json={"color": "red"})
    resp = patch_queue(rest, "still", [])
    assert (resp.status_code, resp.json()) == (200, {**RESERVED_DEFAULTS, "color": "red"})
    assert_error(patch_queue(rest, "never-made", []), 404)


def test_purge_bodies_answer_upstreams_statuses(rest, ws):
    """An empty list purges nothing (204); unknown keys are no error; no body purges all."""
    post(rest, "purged", "a", "b")
    purge = "/v2/queues/purged/purge"
    assert rest.post(purge, json={"resource_types": []}).status_code == 204
    assert rest.get("/v2/queues/purged/stats").json()["messages"]["total"] == 2
    assert ws.request("queue_purge", {"queue_name": "purged",
                                      "resource_types": []}).status == 204
    assert rest.post(purge, json={"resource_types": ["subscriptions"],
                                  "unknown": 1}).status_code == 204
    assert rest.get("/v2/queues/purged/stats").json()["messages"]["total"] == 2
    assert_error(rest.post(purge, json={"resource_types": ["queues"]}), 400)
    for document in ({}, [], {"unknown": 1}):  # a REST body must name resource_types
        assert_error(rest.post(purge, json=document), 400)
    assert rest.get("/v2/queues/purged/stats").json()["messages"]["total"] == 2
    assert ws.request("queue_purge", {"queue_name": "purged"}).status == 204  # all
    post(rest, "purged", "a", "b")
    assert rest.post(purge).status_code == 204
    assert rest.get("/v2/queues/purged/stats").json()["messages"]["total"] == 0


# -- messages ---------------------------------------------------------------------------

def test_get_many_with_no_id_found_is_404(rest, ws):
    post(rest, "some", "a")
    ids = ",".join(NEVER_ISSUED)
    assert_error(rest.get(f"/v2/queues/some/messages?ids={ids}"), 404)
    assert_error(rest.get(f"/v2/queues/never-made/messages?ids={ids}"), 404)
    reply = ws.request("message_get_many", {"queue_name": "some",
                                            "message_ids": NEVER_ISSUED})
    assert reply.status == 404


def test_delete_many_with_ids_never_issued_is_204(rest, ws):
    [kept] = post(rest, "kept", "a")
    for message_id in NEVER_ISSUED:
        assert rest.delete(f"/v2/queues/kept/messages?ids={message_id}").status_code == 204
        assert rest.delete(f"/v2/queues/never-made/messages?ids={message_id}"
                           ).status_code == 204
    reply = ws.request("message_delete_many", {"queue_name": "kept",
                                               "message_ids": NEVER_ISSUED})
    assert reply.status == 204
    assert rest.get(f"/v2/queues/kept/messages/{kept}").status_code == 200


def test_get_of_a_message_id_never_issued_is_404_with_an_error_body(rest, ws):
    post(rest, "some", "a")
    for message_id in NEVER_ISSUED:
        assert_error(rest.get(f"/v2/queues/some/messages/{message_id}"), 404)
        reply = ws.request("message_get", {"queue_name": "some", "message_id": message_id})
        assert reply.status == 404


def test_delete_of_a_message_id_never_issued_is_204(rest, ws):
    post(rest, "some", "a")
    for message_id in NEVER_ISSUED:
        assert rest.delete(f"/v2/queues/some/messages/{message_id}").status_code == 204
        reply = ws.request("message_delete", {"queue_name": "some", "message_id": message_id})
        assert reply.status == 204


def test_unknown_keys_in_message_post_and_claim_bodies_are_accepted(rest, ws):
    resp = rest.post("/v2/queues/loose/messages",
                     json={"messages": [{"body": 1, "extra": True}], "extra": True})
    assert resp.status_code == 201
    resp = rest.post("/v2/queues/loose/claims", json={"ttl": 60, "extra": True})
    assert resp.status_code == 201
    claim_id = resp.headers["Location"].rsplit("/", 1)[1]
    assert rest.patch(f"/v2/queues/loose/claims/{claim_id}",
                      json={"ttl": 60, "extra": True}).status_code == 204
    reply = ws.request("message_post", {"queue_name": "loose", "extra": True,
                                        "messages": [{"body": 2, "extra": True}]})
    assert reply.status == 201


def test_pop_items_have_upstreams_keys(rest, ws):
    post(rest, "popped", "a", "b")
    [item] = rest.delete("/v2/queues/popped/messages?pop=1").json()["messages"]
    assert set(item) == {"id", "age", "ttl", "body", "claim_id", "claim_count"}
    assert (item["body"], item["claim_id"]) == ("a", None)
    assert ws.request("message_delete_many", {"queue_name": "popped", "pop": 1}).status == 200


def test_stats_oldest_and_newest_have_upstreams_keys(rest, ws):
    post(rest, "counted", "a", "b")
    claim_id, _ = claim(rest, "counted", limit=1)
    stats = rest.get("/v2/queues/counted/stats").json()["messages"]
    upstream = {"age", "ttl", "body", "claim_id", "claim_count", "created", "href"}
    for end in ("oldest", "newest"):
        assert upstream <= set(stats[end]) <= upstream | {"id"}
    assert (stats["oldest"]["body"], stats["oldest"]["claim_id"]) == ("a", claim_id)
    assert (stats["newest"]["body"], stats["newest"]["claim_id"]) == ("b", None)
    assert ws.request("queue_get_stats", {"queue_name": "counted"}).status == 200


def test_message_items_carry_only_keys_clients_accept(rest, ws):
    """Upstream's keys always; ours (claim_id) only among python-zaqarclient's."""
    ids = post(rest, "shaped", "a", "b")
    claim_id, claimed = claim(rest, "shaped", limit=1)
    items = [*claimed,
             *rest.get("/v2/queues/shaped/messages?echo=true&include_claimed=true"
                       ).json()["messages"],
             rest.get(f"/v2/queues/shaped/messages/{ids[0]}").json(),
             *rest.get(f"/v2/queues/shaped/messages?ids={','.join(ids)}").json()["messages"],
             *rest.get(f"/v2/queues/shaped/claims/{claim_id}").json()["messages"]]
    for item in items:
        assert UPSTREAM_MESSAGE_KEYS <= set(item) <= CLIENT_MESSAGE_KEYS, item
    reply = ws.request("message_get", {"queue_name": "shaped", "message_id": ids[1]})
    assert reply.status == 200


def test_claim_get_has_upstreams_keys(rest, ws):
    post(rest, "held", "a")
    claim_id, _ = claim(rest, "held")
    document = rest.get(f"/v2/queues/held/claims/{claim_id}").json()
    assert {"age", "ttl", "messages", "href"} <= set(document) <= {
        "age", "ttl", "messages", "href", "grace"}
    assert document["href"] == f"/v2/queues/held/claims/{claim_id}"
    assert ws.request("claim_get", {"queue_name": "held", "claim_id": claim_id}).status == 200


# -- claims -----------------------------------------------------------------------------

def test_claim_ids_never_issued_are_not_found(rest, ws):
    for claim_id in NEVER_ISSUED:
        path = f"/v2/queues/some/claims/{claim_id}"
        assert_error(rest.get(path), 404)
        assert_error(rest.patch(path, json={"ttl": 60}), 404)
        assert rest.delete(path).status_code == 204
        body = {"queue_name": "some", "claim_id": claim_id}
        assert ws.request("claim_get", body).status == 404
        assert ws.request("claim_update", {**body, "ttl": 60}).status == 404
        assert ws.request("claim_delete", body).status == 204


def test_claim_patch_with_an_empty_body_is_400(rest):
    post(rest, "renewed", "a")
    claim_id, _ = claim(rest, "renewed")
    path = f"/v2/queues/renewed/claims/{claim_id}"
    assert_error(rest.patch(path), 400)
    assert rest.patch(path, json={}).status_code == 204  # the defaults


def test_claimed_message_deleted_with_an_unknown_claim_is_400(rest, ws):
    held, _ = post(rest, "guarded", "a", "b")
    claim_id, _ = claim(rest, "guarded", limit=1)
    other_claim, _ = claim(rest, "guarded", limit=1)
    path = f"/v2/queues/guarded/messages/{held}"
    for unknown in NEVER_ISSUED:
        assert_error(rest.delete(f"{path}?claim_id={unknown}"), 400)
        reply = ws.request("message_delete", {"queue_name": "guarded", "message_id": held,
                                              "claim_id": unknown})
        assert reply.status == 400
    assert_error(rest.delete(f"{path}?claim_id={other_claim}"), 403)
    assert_error(rest.delete(path), 403)
    assert rest.delete(f"{path}?claim_id={claim_id}").status_code == 204


def test_claim_renewal_takes_a_grace_under_60_but_a_new_claim_does_not(rest, ws):
    """The openstack CLI's ``claim renew --grace 30``: upstream checks the grace of new
    claims only."""
    post(rest, "renewed", "a")
    claim_id, _ = claim(rest, "renewed")
    path = f"/v2/queues/renewed/claims/{claim_id}"
    assert rest.patch(path, json={"ttl": 120, "grace": 30}).status_code == 204
    assert rest.patch(path, json={"grace": 0}).status_code == 204
    reply = ws.request("claim_update", {"queue_name": "renewed", "claim_id": claim_id,
                                        "ttl": 120, "grace": 30})
    assert reply.status == 204
    assert_error(rest.post("/v2/queues/renewed/claims", json={"ttl": 60, "grace": 30}), 400)
    assert ws.request("claim_create", {"queue_name": "renewed", "grace": 30}).status == 400


def test_claim_renewal_refuses_a_negative_grace(rest):
    post(rest, "renewed", "a")
    claim_id, _ = claim(rest, "renewed")
    assert_error(rest.patch(f"/v2/queues/renewed/claims/{claim_id}",
                            json={"ttl": 60, "grace": -5}), 400)


# -- where upstream has a bug -----------------------------------------------------------

def test_releasing_a_claim_frees_only_its_own_messages(rest):
    """Upstream claims again a message another live claim still holds."""
    [first, second] = post(rest, "fair", "a", "b")
    released, _ = claim(rest, "fair", limit=1)
    holding, _ = claim(rest, "fair", limit=1)
    assert rest.delete(f"/v2/queues/fair/claims/{released}").status_code == 204
    _, reclaimed = claim(rest, "fair", limit=5)
    assert [m["id"] for m in reclaimed] == [first]
    held = rest.get(f"/v2/queues/fair/claims/{holding}").json()["messages"]
    assert [m["id"] for m in held] == [second]


def test_a_claim_returns_the_bodies_as_posted_whatever_the_queue_asks(rest):
    """Upstream answers a claim of an encrypted queue with the ciphertext; ours with
    the body as posted, as every other read (tests/functional/test_encryption.py)."""
    assert rest.put("/v2/queues/sealed", json={"_enable_encrypt_messages": True}
                    ).status_code == 201
    post(rest, "sealed", {"secret": 1})
    _, claimed = claim(rest, "sealed")
    assert [m["body"] for m in claimed] == [{"secret": 1}]


def test_purge_of_messages_removes_claimed_ones_too(rest):
    """Upstream purges by popping, which leaves claimed messages behind."""
    post(rest, "emptied", "a", "b")
    claim(rest, "emptied", limit=1)
    assert rest.post("/v2/queues/emptied/purge",
                     json={"resource_types": ["messages"]}).status_code == 204
    stats = rest.get("/v2/queues/emptied/stats").json()["messages"]
    assert (stats["total"], stats["claimed"]) == (0, 0)


def test_listing_with_include_claimed_answers_200(rest):
    """Upstream (on Redis) answers 503 to every include_claimed=true listing."""
    post(rest, "listed", "a", "b")
    claim(rest, "listed", limit=1)
    resp = rest.get("/v2/queues/listed/messages?echo=true&include_claimed=true")
    assert resp.status_code == 200
    assert [m["body"] for m in resp.json()["messages"]] == ["a", "b"]


def test_queue_patch_with_an_object_body_is_400(rest):
    """Upstream answers 503 ("could not be read") to a JSON patch that is not a list."""
    rest.put("/v2/queues/patched")
    assert_error(patch_queue(rest, "patched", {"op": "add"}), 400)
