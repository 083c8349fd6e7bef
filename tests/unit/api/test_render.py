"""Wire shapes of zaqar/api/render.py: hrefs, next links, timestamps, documents."""
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from zaqar.api import render
from zaqar.storage.base import Claim, Message, Subscription

CREATED = 1_800_000_000.0


def make_message(message_id="m1", created=CREATED, **fields) -> Message:
    return Message(id=message_id, body={"event": "x"}, ttl=300, created=created, **fields)


# -- hrefs ----------------------------------------------------------------------------

def test_hrefs_are_v2_paths():
    assert render.queue_href("orders") == "/v2/queues/orders"
    assert render.message_href("orders", "m1") == "/v2/queues/orders/messages/m1"
    assert render.claim_href("orders", "c1") == "/v2/queues/orders/claims/c1"


def test_message_href_carries_the_claim_when_given():
    assert (render.message_href("orders", "m1", "c1")
            == "/v2/queues/orders/messages/m1?claim_id=c1")
    assert render.message_href("orders", "m1", None) == "/v2/queues/orders/messages/m1"


# -- next links -----------------------------------------------------------------------

def test_next_link_is_one_link_with_the_query():
    links = render.next_link("/v2/queues", {"marker": "q5", "limit": 10})
    assert links == [{"rel": "next", "href": "/v2/queues?marker=q5&limit=10"}]


def test_next_link_leaves_out_unset_values():
    [link] = render.next_link("/v2/queues", {"marker": "q5", "limit": 10, "detailed": None})
    assert link["href"] == "/v2/queues?marker=q5&limit=10"


def test_next_link_writes_booleans_as_json_does():
    [link] = render.next_link("/v2/queues/q/messages",
                              {"marker": "7", "echo": True, "include_claimed": False})
    assert link["href"] == "/v2/queues/q/messages?marker=7&echo=true&include_claimed=false"


def test_next_link_encodes_the_marker():
    [link] = render.next_link("/v2/queues", {"marker": "a b&c=d"})
    assert parse_qs(urlsplit(link["href"]).query) == {"marker": ["a b&c=d"]}


# -- timestamps -----------------------------------------------------------------------

@pytest.mark.parametrize(("timestamp", "expected"), [
    (0, "1970-01-01T00:00:00Z"),
    (CREATED, "2027-01-15T08:00:00Z"),
    (CREATED + 0.999, "2027-01-15T08:00:00Z"),
])
def test_iso8601_is_utc_to_the_second(timestamp, expected):
    assert render.iso8601(timestamp) == expected


def test_iso8601_ignores_the_local_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        assert render.iso8601(0) == "1970-01-01T00:00:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()


# -- documents --------------------------------------------------------------------------

def test_message_document_has_the_wire_fields():
    doc = render.message("q", make_message(), at=CREATED + 42.9)
    assert doc == {"id": "m1", "href": "/v2/queues/q/messages/m1", "ttl": 300, "age": 42,
                   "body": {"event": "x"}}


def test_message_age_is_never_negative():
    assert render.message("q", make_message(), at=CREATED - 5)["age"] == 0


def test_message_age_defaults_to_now():
    assert render.message("q", make_message(created=time.time() - 10))["age"] in (9, 10, 11)


def test_message_document_shows_checksum_and_claim_only_when_set():
    doc = render.message("q", make_message(checksum="MD5:abc", claim_id="c1"), at=CREATED)
    assert doc["checksum"] == "MD5:abc"
    assert doc["claim_id"] == "c1"


def test_claimed_message_href_names_its_claim():
    doc = render.message("q", make_message(claim_id="c1"), at=CREATED)
    assert doc["href"] == "/v2/queues/q/messages/m1?claim_id=c1"


def test_claim_document_lists_its_messages_with_claim_hrefs():
    found = Claim(id="c1", ttl=60, grace=30, created=CREATED,
                  messages=[make_message("m1", claim_id="c1"), make_message("m2", claim_id="c1")])
    doc = render.claim("q", found, CREATED + 5)
    assert {key: doc[key] for key in ("age", "ttl", "grace", "href")} == {
        "age": 5, "ttl": 60, "grace": 30, "href": "/v2/queues/q/claims/c1"}
    assert [m["href"] for m in doc["messages"]] == [
        "/v2/queues/q/messages/m1?claim_id=c1", "/v2/queues/q/messages/m2?claim_id=c1"]


def test_subscription_document_has_the_wire_fields():
    found = Subscription(id="s1", source="q", subscriber="http://example.com", ttl=3600,
                         created=CREATED, options={"k": "v"}, confirmed=False)
    assert render.subscription(found, CREATED + 61) == {
        "id": "s1", "source": "q", "subscriber": "http://example.com", "ttl": 3600,
        "age": 61, "options": {"k": "v"}, "confirmed": False}


def test_stats_end_has_upstreams_keys_of_both_transports():
    """REST's oldest/newest (href, no id) and the websocket's (id, no href), at once."""
    assert render.stats_end("q", make_message(claim_id="c1", claim_count=2),
                            CREATED + 3) == {
        "id": "m1", "age": 3, "ttl": 300, "body": {"event": "x"}, "claim_id": "c1",
        "claim_count": 2, "created": "2027-01-15T08:00:00Z",
        "href": "/v2/queues/q/messages/m1"}


def test_stats_end_of_a_free_message_has_a_null_claim_id():
    doc = render.stats_end("q", make_message(), CREATED)
    assert (doc["claim_id"], doc["claim_count"]) == (None, 0)


def test_popped_message_has_upstreams_pop_keys_and_no_href():
    assert render.popped(make_message(claim_count=1), CREATED + 4) == {
        "id": "m1", "age": 4, "ttl": 300, "body": {"event": "x"}, "claim_id": None,
        "claim_count": 1}
