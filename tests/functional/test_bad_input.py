"""Bad input on every endpoint: each case gets its exact 4xx with a JSON error body, and
leaves the data stored before it untouched."""
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.functional.conftest import Rest
from tests.functional.websocket_client import connections

JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"
QUEUE = "/v2/queues/intact"
MESSAGES = f"{QUEUE}/messages"
SUBSCRIPTIONS = f"{QUEUE}/subscriptions"
SUBSCRIBER = "http://example.com/intact"
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
TOO_MANY_IDS = ",".join(str(n) for n in range(1, 22))
KIB = 1024


@dataclass(frozen=True)
class Case:
    """One bad request. ``path`` may name the stored data: ``{free_id}``, ``{claimed_id}``,
    ``{claim_id}``, ``{subscription_id}``. ``body`` is sent as JSON; ``data`` as is, in
    chunks when ``chunked``."""

    name: str
    method: str
    path: str
    status: int
    body: Any = None
    data: str | bytes | None = None
    headers: dict[str, str | None] = field(default_factory=dict)
    chunked: bool = False  # send ``data`` without a Content-Length


def patch(operations: Any, status: int, name: str, path: str = QUEUE) -> Case:
    return Case(name, "PATCH", path, status, data=json.dumps(operations),
                headers={"Content-Type": JSON_PATCH})


def post_one(status: int, name: str, path: str = MESSAGES, **message: Any) -> Case:
    return Case(name, "POST", path, status, body={"messages": [message]})


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def raw_json(data: str | bytes) -> dict[str, Any]:
    return {"data": data, "headers": {"Content-Type": "application/json"}}


CASES = [
    # -- headers, routes and methods --
    Case("client-id-missing", "GET", QUEUE, 400, headers={"Client-ID": None}),
    Case("client-id-missing-on-post", "POST", MESSAGES, 400, headers={"Client-ID": None},
         body={"messages": [{"ttl": 60, "body": 1}]}),
    Case("client-id-not-a-uuid", "GET", MESSAGES, 400, headers={"Client-ID": "not-a-uuid"}),
    Case("client-id-empty", "GET", MESSAGES, 400, headers={"Client-ID": ""}),
    Case("project-id-missing", "GET", "/v2/queues", 400, headers={"X-Project-ID": None}),
    Case("project-id-missing-on-put", "PUT", QUEUE, 400, headers={"X-Project-ID": None},
         body={"x": 1}),
    Case("project-id-empty", "DELETE", QUEUE, 400, headers={"X-Project-ID": ""}),
    Case("project-id-over-256-characters", "GET", MESSAGES, 400,
         headers={"X-Project-ID": "p" * 257}),
    Case("unknown-route", "GET", "/v2/nothing-here", 404),
    Case("unknown-version", "GET", "/v3/queues", 404),
    Case("unknown-queue-subresource", "GET", f"{QUEUE}/everything", 404),
    Case("post-on-queue", "POST", QUEUE, 405, body={}),
    Case("put-on-messages", "PUT", MESSAGES, 405, body={}),
    Case("delete-on-stats", "DELETE", f"{QUEUE}/stats", 405),
    Case("put-on-claim", "PUT", f"{QUEUE}/claims/{{claim_id}}", 405, body={}),

    # -- queues --
    Case("queue-name-over-64-characters", "PUT", "/v2/queues/" + "q" * 65, 400),
    Case("queue-name-with-bad-characters", "PUT", "/v2/queues/bad!name", 400),
    Case("queue-name-with-space", "GET", "/v2/queues/bad%20name", 400),
    Case("queue-name-not-ascii", "DELETE", "/v2/queues/%C3%A9t%C3%A9", 400),
    Case("queue-name-with-newline", "PUT", "/v2/queues/q%0A", 400),
    Case("queue-metadata-malformed-json", "PUT", "/v2/queues/other", 400,
         **raw_json('{"color": ')),
    Case("queue-metadata-not-utf8", "PUT", "/v2/queues/other", 400, **raw_json(b'{"\xff": 1}')),
    Case("queue-metadata-an-array", "PUT", QUEUE, 400, body=["color", "blue"]),
    Case("queue-metadata-a-string", "PUT", "/v2/queues/other", 400, body="blue"),
    Case("queue-metadata-over-64-kib", "PUT", "/v2/queues/other", 400,
         body={"blob": "x" * (65 * KIB)}),
    Case("queue-default-ttl-below-60", "PUT", "/v2/queues/other", 400,
         body={"_default_message_ttl": 59}),
    Case("queue-default-ttl-a-boolean", "PUT", QUEUE, 400, body={"_default_message_ttl": True}),
    Case("queue-default-delay-over-900", "PUT", "/v2/queues/other", 400,
         body={"_default_message_delay": 901}),
    Case("queue-max-post-size-zero", "PUT", "/v2/queues/other", 400,
         body={"_max_messages_post_size": 0}),
    Case("queue-max-claim-count-a-string", "PUT", "/v2/queues/other", 400,
         body={"_max_claim_count": "3"}),
    Case("queue-dead-letter-queue-bad-name", "PUT", "/v2/queues/other", 400,
         body={"_dead_letter_queue": "no such queue!"}),
    Case("queue-encrypt-flag-a-string", "PUT", "/v2/queues/other", 400,
         body={"_enable_encrypt_messages": "yes"}),
    Case("queue-metadata-nested-too-deep", "PUT", "/v2/queues/other", 400,
         **raw_json('{"deep": ' + nested(200) + "}")),
    Case("queue-list-limit-zero", "GET", "/v2/queues?limit=0", 400),
    Case("queue-list-limit-over-20", "GET", "/v2/queues?limit=21", 400),
    Case("queue-list-limit-not-a-number", "GET", "/v2/queues?limit=abc", 400),
    Case("queue-list-limit-negative", "GET", "/v2/queues?limit=-1", 400),
    Case("queue-list-limit-superscript-digit", "GET", "/v2/queues?limit=%C2%B2", 400),
    Case("queue-list-limit-given-twice", "GET", "/v2/queues?limit=1&limit=2", 400),
    Case("queue-list-detailed-not-a-boolean", "GET", "/v2/queues?detailed=maybe", 400),
    Case("queue-list-marker-over-256-characters", "GET", "/v2/queues?marker=" + "m" * 257, 400),

    # -- queue metadata JSON patch --
    Case("patch-with-json-content-type", "PATCH", QUEUE, 415,
         body=[{"op": "add", "path": "/metadata/x", "value": 1}]),
    Case("patch-without-content-type", "PATCH", QUEUE, 415,
         data=json.dumps([{"op": "add", "path": "/metadata/x", "value": 1}])),
    patch({"op": "add", "path": "/metadata/x", "value": 1}, 400, "patch-not-a-list"),
    Case("patch-malformed-json", "PATCH", QUEUE, 400, data="[{",
         headers={"Content-Type": JSON_PATCH}),
    Case("patch-empty-body", "PATCH", QUEUE, 400, data="",
         headers={"Content-Type": JSON_PATCH}),
    patch(["add"], 400, "patch-operation-not-an-object"),
    patch([{"op": "move", "path": "/metadata/color", "value": 1}], 400, "patch-op-move"),
    patch([{"path": "/metadata/color", "value": 1}], 400, "patch-op-missing"),
    patch([{"op": "add", "path": "/color", "value": 1}], 400, "patch-path-outside-metadata"),
    patch([{"op": "add", "path": "/metadata/", "value": 1}], 400, "patch-path-without-key"),
    patch([{"op": "add", "path": "/metadata/a/b", "value": 1}], 400, "patch-path-too-deep"),
    patch([{"op": "add", "path": 7, "value": 1}], 400, "patch-path-not-a-string"),
    patch([{"op": "add", "path": "/metadata/x"}], 400, "patch-add-without-value"),
    patch([{"op": "replace", "path": "/metadata/color"}], 400, "patch-replace-without-value"),
    patch([{"op": "remove", "path": "/metadata/absent"}], 409, "patch-remove-missing-key"),
    patch([{"op": "replace", "path": "/metadata/absent", "value": 1}], 409,
          "patch-replace-missing-key"),
    patch([{"op": "add", "path": "/metadata/x", "value": 1},
           {"op": "remove", "path": "/metadata/absent"}], 409,
          "patch-applies-nothing-when-one-operation-fails"),
    patch([{"op": "add", "path": "/metadata/_default_message_ttl", "value": 30}], 400,
          "patch-reserved-ttl-out-of-range"),
    patch([{"op": "add", "path": "/metadata/blob", "value": "x" * (65 * KIB)}], 400,
          "patch-makes-metadata-over-64-kib"),
    patch([{"op": "add", "path": "/metadata/x", "value": 1}], 404, "patch-missing-queue",
          path="/v2/queues/missing"),

    # -- posting messages --
    Case("post-malformed-json", "POST", MESSAGES, 400, **raw_json('{"messages": [')),
    Case("post-not-utf8", "POST", MESSAGES, 400, **raw_json(b'{"messages": "\xfe\xff"}')),
    Case("post-document-an-array", "POST", MESSAGES, 400, body=[{"ttl": 60, "body": 1}]),
    Case("post-document-a-number", "POST", MESSAGES, 400, body=42),
    Case("post-without-messages", "POST", MESSAGES, 400, body={"message": []}),
    Case("post-empty-body", "POST", MESSAGES, 400, data=""),
    Case("post-empty-messages-list", "POST", MESSAGES, 400, body={"messages": []}),
    Case("post-messages-an-object", "POST", MESSAGES, 400,
         body={"messages": {"ttl": 60, "body": 1}}),
    Case("post-message-not-an-object", "POST", MESSAGES, 400, body={"messages": ["hello"]}),
    post_one(400, "post-message-without-body", ttl=60),
    post_one(400, "post-ttl-a-string", ttl="300", body=1),
    post_one(400, "post-ttl-a-float", ttl=300.5, body=1),
    post_one(400, "post-ttl-a-boolean", ttl=True, body=1),
    post_one(400, "post-ttl-below-60", ttl=59, body=1),
    post_one(400, "post-ttl-over-14-days", ttl=1209601, body=1),
    post_one(400, "post-delay-over-900", ttl=60, delay=901, body=1),
    post_one(400, "post-delay-negative", ttl=60, delay=-1, body=1),
    post_one(400, "post-to-queue-name-too-long", path="/v2/queues/" + "q" * 65 + "/messages",
             ttl=60, body=1),
    post_one(400, "post-over-256-kib", path="/v2/queues/other/messages", ttl=60,
             body="x" * (257 * KIB)),
    post_one(400, "post-over-the-queue-max-post-size", ttl=60, body="x" * (40 * KIB)),
    post_one(413, "post-over-the-hard-body-cap", path="/v2/queues/other/messages", ttl=60,
             body="x" * (600 * KIB)),
    Case("post-chunked-over-the-hard-body-cap", "POST", "/v2/queues/other/messages", 413,
         chunked=True, **raw_json(json.dumps({"messages": [{"ttl": 60,
                                                            "body": "x" * (520 * KIB)}]}))),
    Case("post-body-nested-too-deep", "POST", "/v2/queues/other/messages", 400,
         **raw_json('{"messages": [{"ttl": 60, "body": ' + nested(150) + "}]}")),
    Case("post-body-nested-past-the-parser", "POST", "/v2/queues/other/messages", 400,
         **raw_json('{"messages": [{"ttl": 60, "body": ' + "[" * 100000 + "}]}")),

    # -- reading and deleting messages --
    Case("list-limit-zero", "GET", f"{MESSAGES}?limit=0", 400),
    Case("list-limit-over-20", "GET", f"{MESSAGES}?limit=21", 400),
    Case("list-limit-not-a-number", "GET", f"{MESSAGES}?limit=abc", 400),
    Case("list-echo-not-a-boolean", "GET", f"{MESSAGES}?echo=maybe", 400),
    Case("list-include-claimed-not-a-boolean", "GET", f"{MESSAGES}?include_claimed=2", 400),
    Case("list-marker-over-256-characters", "GET", f"{MESSAGES}?marker=" + "9" * 257, 400),
    Case("get-many-over-20-ids", "GET", f"{MESSAGES}?ids={TOO_MANY_IDS}", 400),
    Case("get-many-only-commas", "GET", f"{MESSAGES}?ids=,,,", 400),
    Case("get-message-unknown", "GET", f"{MESSAGES}/999999999", 404),
    Case("get-message-id-not-a-number", "GET", f"{MESSAGES}/abc", 404),
    Case("get-message-id-superscript-digit", "GET", f"{MESSAGES}/%C2%B2", 404),
    Case("get-message-id-past-64-bits", "GET", f"{MESSAGES}/9999999999999999999", 404),
    Case("get-message-id-over-64-characters", "GET", f"{MESSAGES}/" + "1" * 65, 404),
    Case("get-message-id-negative", "GET", f"{MESSAGES}/-1", 404),
    Case("get-many-none-found", "GET", f"{MESSAGES}?ids=-1,5f0a5f0a5f0a5f0a5f0a5f0a", 404),
    Case("get-many-in-missing-queue", "GET", "/v2/queues/missing/messages?ids={free_id}", 404),
    Case("get-message-in-missing-queue", "GET", "/v2/queues/missing/messages/{free_id}", 404),
    Case("delete-many-without-ids-or-pop", "DELETE", MESSAGES, 400),
    Case("delete-many-with-ids-and-pop", "DELETE", f"{MESSAGES}?ids={{free_id}}&pop=1", 400),
    Case("delete-many-claim-ids-with-pop", "DELETE", f"{MESSAGES}?pop=1&claim_ids={{claim_id}}",
         400),
    Case("delete-many-over-20-ids", "DELETE", f"{MESSAGES}?ids={TOO_MANY_IDS}", 400),
    Case("delete-many-with-the-wrong-claim", "DELETE",
         f"{MESSAGES}?ids={{claimed_id}}&claim_ids={UNKNOWN_ID}", 403),
    Case("pop-zero", "DELETE", f"{MESSAGES}?pop=0", 400),
    Case("pop-over-20", "DELETE", f"{MESSAGES}?pop=21", 400),
    Case("pop-not-a-number", "DELETE", f"{MESSAGES}?pop=abc", 400),
    Case("delete-claimed-message-without-its-claim", "DELETE", f"{MESSAGES}/{{claimed_id}}",
         403),
    Case("delete-claimed-message-with-an-unknown-claim", "DELETE",
         f"{MESSAGES}/{{claimed_id}}?claim_id={UNKNOWN_ID}", 400),
    Case("delete-free-message-with-a-claim", "DELETE",
         f"{MESSAGES}/{{free_id}}?claim_id={{claim_id}}", 400),
    Case("delete-message-with-claim-id-given-twice", "DELETE",
         f"{MESSAGES}/{{claimed_id}}?claim_id={{claim_id}}&claim_id={UNKNOWN_ID}", 400),
    Case("delete-message-claim-id-over-64-characters", "DELETE",
         f"{MESSAGES}/{{claimed_id}}?claim_id=" + "c" * 65, 400),

    # -- claims --
    Case("claim-malformed-json", "POST", f"{QUEUE}/claims", 400, **raw_json('{"ttl": 60,')),
    Case("claim-document-an-array", "POST", f"{QUEUE}/claims", 400, body=[60, 60]),
    Case("claim-ttl-below-60", "POST", f"{QUEUE}/claims", 400, body={"ttl": 59, "grace": 60}),
    Case("claim-ttl-over-12-hours", "POST", f"{QUEUE}/claims", 400,
         body={"ttl": 43201, "grace": 60}),
    Case("claim-ttl-a-string", "POST", f"{QUEUE}/claims", 400, body={"ttl": "300"}),
    Case("claim-grace-below-60", "POST", f"{QUEUE}/claims", 400, body={"ttl": 60, "grace": 59}),
    Case("claim-grace-null", "POST", f"{QUEUE}/claims", 400, body={"ttl": 60, "grace": None}),
    Case("claim-limit-zero", "POST", f"{QUEUE}/claims?limit=0", 400, body={"ttl": 60}),
    Case("claim-limit-over-20", "POST", f"{QUEUE}/claims?limit=21", 400, body={"ttl": 60}),
    Case("claim-limit-not-a-number", "POST", f"{QUEUE}/claims?limit=ten", 400,
         body={"ttl": 60}),
    Case("claim-get-unknown", "GET", f"{QUEUE}/claims/{UNKNOWN_ID}", 404),
    Case("claim-get-id-over-64-characters", "GET", f"{QUEUE}/claims/" + "c" * 65, 404),
    Case("claim-get-id-negative", "GET", f"{QUEUE}/claims/-1", 404),
    Case("claim-get-in-another-queue", "GET", "/v2/queues/other/claims/{claim_id}", 404),
    Case("claim-update-ttl-below-60", "PATCH", f"{QUEUE}/claims/{{claim_id}}", 400,
         body={"ttl": 59}),
    Case("claim-update-grace-a-string", "PATCH", f"{QUEUE}/claims/{{claim_id}}", 400,
         body={"ttl": 60, "grace": "60"}),
    Case("claim-update-malformed-json", "PATCH", f"{QUEUE}/claims/{{claim_id}}", 400,
         **raw_json("{ttl: 60}")),
    Case("claim-update-unknown", "PATCH", f"{QUEUE}/claims/{UNKNOWN_ID}", 404,
         body={"ttl": 60}),
    Case("claim-update-malformed-id", "PATCH", f"{QUEUE}/claims/-1", 404, body={"ttl": 60}),
    Case("claim-update-empty-body", "PATCH", f"{QUEUE}/claims/{{claim_id}}", 400),
    Case("claim-update-grace-negative", "PATCH", f"{QUEUE}/claims/{{claim_id}}", 400,
         body={"ttl": 60, "grace": -1}),
    Case("claim-update-grace-over-12-hours", "PATCH", f"{QUEUE}/claims/{{claim_id}}", 400,
         body={"ttl": 60, "grace": 43201}),

    # -- subscriptions --
    Case("subscribe-malformed-json", "POST", SUBSCRIPTIONS, 400, **raw_json("{")),
    Case("subscribe-document-an-array", "POST", SUBSCRIPTIONS, 400, body=[SUBSCRIBER]),
    Case("subscribe-without-subscriber", "POST", SUBSCRIPTIONS, 400, body={"ttl": 3600}),
    Case("subscribe-subscriber-not-a-string", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": 42}),
    Case("subscribe-unknown-scheme", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "ftp://example.com/drop"}),
    Case("subscribe-without-scheme", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "example.com/hook"}),
    Case("subscribe-http-without-host", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "http:///hook"}),
    Case("subscribe-mailto-without-address", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "mailto:"}),
    Case("subscribe-subscriber-with-a-lone-surrogate", "POST", SUBSCRIPTIONS, 400,
         **raw_json('{"subscriber": "http://example.com/\\ud800"}')),
    Case("subscribe-subscriber-with-a-newline", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "http://example.com/a\nb"}),
    Case("subscribe-ttl-a-string", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "http://example.com/new", "ttl": "3600"}),
    Case("subscribe-ttl-below-60", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "http://example.com/new", "ttl": 59}),
    Case("subscribe-options-a-list", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "http://example.com/new", "options": ["a"]}),
    Case("subscribe-http-with-a-malformed-port", "POST", SUBSCRIPTIONS, 400,
         body={"subscriber": "http://example.com:port/hook"}),
    Case("subscription-list-limit-zero", "GET", f"{SUBSCRIPTIONS}?limit=0", 400),
    Case("subscription-get-unknown", "GET", f"{SUBSCRIPTIONS}/{UNKNOWN_ID}", 404),
    Case("subscription-update-empty", "PATCH", f"{SUBSCRIPTIONS}/{{subscription_id}}", 400,
         body={}),
    Case("subscription-update-unknown-scheme", "PATCH", f"{SUBSCRIPTIONS}/{{subscription_id}}",
         400, body={"subscriber": "gopher://example.com"}),
    Case("subscription-update-subscriber-with-a-lone-surrogate", "PATCH",
         f"{SUBSCRIPTIONS}/{{subscription_id}}", 400,
         **raw_json('{"subscriber": "https://example.com/\\udfff"}')),
    Case("subscription-update-ttl-below-60", "PATCH", f"{SUBSCRIPTIONS}/{{subscription_id}}",
         400, body={"ttl": 10}),
    Case("subscription-update-unknown", "PATCH", f"{SUBSCRIPTIONS}/{UNKNOWN_ID}", 404,
         body={"ttl": 3600}),
    Case("subscription-confirm-not-a-boolean", "PUT",
         f"{SUBSCRIPTIONS}/{{subscription_id}}/confirm", 400, body={"confirmed": "yes"}),
    Case("subscription-confirm-without-confirmed", "PUT",
         f"{SUBSCRIPTIONS}/{{subscription_id}}/confirm", 400, body={}),
    Case("subscription-confirm-unknown", "PUT", f"{SUBSCRIPTIONS}/{UNKNOWN_ID}/confirm", 404,
         body={"confirmed": True}),

    # -- purge --
    Case("purge-unknown-resource-type", "POST", f"{QUEUE}/purge", 400,
         body={"resource_types": ["queues"]}),
    Case("purge-resource-types-a-string", "POST", f"{QUEUE}/purge", 400,
         body={"resource_types": "messages"}),
    Case("purge-malformed-json", "POST", f"{QUEUE}/purge", 400, **raw_json("[")),
]


@dataclass(frozen=True)
class Stored:
    free_id: str
    claimed_id: str
    claim_id: str
    subscription_id: str


@pytest.fixture
def stored(rest: Rest, websocket_url: str) -> Iterator[Stored]:
    """A queue with metadata, three messages (one claimed) and a subscription (held by a
    websocket connection of the project, so that nothing is ever delivered for it)."""
    assert rest.put(QUEUE, json={"color": "blue", "_max_messages_post_size": 32 * KIB,
                                 "nested": {"a": [1, 2]}}).status_code == 201
    posted = rest.post(MESSAGES, json={"messages": [{"ttl": 600, "body": {"n": n}}
                                                    for n in range(3)]})
    ids = [href.rsplit("/", 1)[1] for href in posted.json()["resources"]]
    claimed = rest.post(f"{QUEUE}/claims?limit=1", json={"ttl": 600, "grace": 60})
    assert claimed.status_code == 201
    claim_id = claimed.headers["Location"].rsplit("/", 1)[1]
    with connections(websocket_url) as open_client:
        subscribed = open_client(rest.project).request("subscription_create", {
            "queue_name": "intact", "ttl": 3600, "options": {"k": "v"}})
        assert subscribed.status == 201
        yield Stored(free_id=ids[1], claimed_id=ids[0], claim_id=claim_id,
                     subscription_id=subscribed.body["subscription_id"])


def snapshot(rest: Rest, stored: Stored) -> dict[str, Any]:
    """What the project holds, without the ages that move with the clock."""
    def without_age(document: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in document.items() if key != "age"}

    queues = rest.get("/v2/queues?detailed=true").json()["queues"]
    messages = rest.get(f"{MESSAGES}?echo=true&include_claimed=true&include_delayed=true")
    stats = rest.get(f"{QUEUE}/stats").json()["messages"]
    claim = rest.get(f"{QUEUE}/claims/{stored.claim_id}").json()
    subscriptions = rest.get(SUBSCRIPTIONS).json()["subscriptions"]
    return {
        "queues": queues,
        "metadata": rest.get(QUEUE).json(),
        "messages": [without_age(m) for m in messages.json()["messages"]],
        "stats": {key: without_age(value) if isinstance(value, dict) else value
                  for key, value in stats.items()},
        "claim": {**without_age(claim),
                  "messages": [without_age(m) for m in claim["messages"]]},
        "subscriptions": [without_age(s) for s in subscriptions],
    }


def send(rest: Rest, case: Case, stored: Stored):
    path = case.path.format(**vars(stored))
    kwargs: dict[str, Any] = {"headers": case.headers}
    if case.chunked:
        data = case.data
        kwargs["data"] = (data[start:start + 64 * KIB] for start in range(0, len(data), 64 * KIB))
    elif case.data is not None:
        kwargs["data"] = case.data
    elif case.body is not None:
        kwargs["json"] = case.body
    return rest.request(case.method, path, **kwargs)


def test_cases_have_unique_names():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_and_changes_nothing(rest, stored, case):
    before = snapshot(rest, stored)
    assert before["stats"]["total"] == 3 and before["stats"]["claimed"] == 1

    resp = send(rest, case, stored)

    assert resp.status_code == case.status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    error = resp.json()
    assert isinstance(error["title"], str) and error["title"]
    assert isinstance(error["description"], str) and error["description"]
    assert snapshot(rest, stored) == before
