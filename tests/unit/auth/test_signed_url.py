"""Pre-signed URLs of zaqar/auth/signed_url.py: what a signature grants, and that any
change to what was signed voids it."""
import dataclasses
from datetime import datetime, timedelta

import pytest

from zaqar.auth import signed_url
from zaqar.auth.signed_url import SignedHeaders

KEY = "test-secret"
NOW = datetime(2030, 1, 1, 12, 0, 0)
LATER = NOW + timedelta(hours=1)


def share(methods=("GET", "POST"), resources=("messages",), queue="q", project="p",
          expires=LATER) -> dict:
    return signed_url.sign(KEY, queue, resources, methods, project, expires)


def headers_of(document: dict) -> SignedHeaders:
    sent = {"URL-Signature": document["signature"], "URL-Expires": document["expires"],
            "URL-Methods": ",".join(document["methods"]),
            "URL-Paths": ",".join(document["paths"]), "X-Project-ID": document["project"]}
    found = SignedHeaders.from_headers(sent.get)
    assert found is not None
    return found


def test_share_document_names_sorted_paths_and_methods():
    document = share(methods=("POST", "GET"), resources=("subscriptions", "messages"))
    assert document["paths"] == ["/v2/queues/q/messages", "/v2/queues/q/subscriptions"]
    assert document["methods"] == ["GET", "POST"]
    assert document["expires"] == "2030-01-01T13:00:00"
    assert document["project"] == "p"
    assert len(document["signature"]) == 64


def test_signature_matches_upstream_zaqar_text():
    # Upstream signs "paths\nmethods\nproject\nexpires" with a literal backslash-n.
    import hashlib
    import hmac
    text = "/v2/queues/q/messages\\nGET,POST\\np\\n2030-01-01T13:00:00"
    expected = hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()
    assert share()["signature"] == expected


MESSAGES = "/v2/queues/{queue_name}/messages"
CLAIMS = "/v2/queues/{queue_name}/claims"
SUBSCRIPTIONS = "/v2/queues/{queue_name}/subscriptions"
TOPIC_CONFIRM = signed_url.TOPIC_CONFIRM_PATH


def test_valid_signature_grants_exactly_the_signed_methods_on_the_signed_queue():
    grant = signed_url.verify(KEY, headers_of(share()), now=NOW)
    assert grant is not None and grant.project == "p"
    assert grant.allows(("GET", MESSAGES), {"queue_name": "q"})
    assert grant.allows(("POST", MESSAGES), {"queue_name": "q"})
    assert not grant.allows(("DELETE", MESSAGES), {"queue_name": "q"})  # DELETE not signed
    assert not grant.allows(("GET", MESSAGES), {"queue_name": "other"})  # another queue
    assert not grant.allows(("POST", CLAIMS), {"queue_name": "q"})  # claims not signed
    # Actions without signed access are never granted.
    assert not grant.allows(None, {"queue_name": "q"})
    assert not grant.allows(("GET", MESSAGES), {})
    # A topic of the queue's name is not the queue.
    assert not grant.allows(("GET", MESSAGES), {"topic_name": "q"})


def confirm_grant(topic="t", subscription_id="s1") -> dict:
    return signed_url.sign_paths(KEY, [signed_url.topic_confirm_path(topic, subscription_id)],
                                 ["PUT"], "p", LATER)


def test_a_topic_confirm_signature_grants_the_confirm_of_that_subscription_alone():
    document = confirm_grant()
    assert document["paths"] == ["/v2/topics/t/subscriptions/s1/confirm"]
    grant = signed_url.verify(KEY, headers_of(document), now=NOW)
    assert grant is not None
    assert grant.allows(("PUT", TOPIC_CONFIRM), {"topic_name": "t", "subscription_id": "s1"})
    for params in ({"topic_name": "t", "subscription_id": "s2"},  # another subscription
                   {"topic_name": "u", "subscription_id": "s1"},  # another topic
                   {"topic_name": "t"}, {"subscription_id": "s1"}):
        assert not grant.allows(("PUT", TOPIC_CONFIRM), params)
    # Nor the queue of the topic's name: its subscriptions, or anything else.
    for path in (SUBSCRIPTIONS, MESSAGES):
        assert not grant.allows(("PUT", path), {"queue_name": "t", "topic_name": "t",
                                                "subscription_id": "s1"})


def test_a_queue_signature_grants_no_topic_confirm():
    grant = signed_url.verify(KEY, headers_of(share(methods=("PUT",),
                                                    resources=("subscriptions",),
                                                    queue="t")), now=NOW)
    assert grant is not None
    assert grant.allows(("PUT", SUBSCRIPTIONS), {"queue_name": "t"})
    assert not grant.allows(("PUT", TOPIC_CONFIRM), {"queue_name": "t", "topic_name": "t",
                                                     "subscription_id": "s1"})


@pytest.mark.parametrize("name", ["t/subscriptions/s1", "../t", "", "t?x", "t" * 65, 7, None])
def test_a_field_that_is_not_a_plain_name_fills_no_signed_path(name):
    assert signed_url.signed_path(TOPIC_CONFIRM, {"topic_name": name,
                                                  "subscription_id": "s1"}) is None
    assert signed_url.signed_path(MESSAGES, {"queue_name": name}) is None


def test_signed_path_fills_every_field():
    assert signed_url.signed_path(TOPIC_CONFIRM, {"topic_name": "t", "subscription_id": "s1",
                                                  "queue_name": "q"}) == (
        "/v2/topics/t/subscriptions/s1/confirm")


@pytest.mark.parametrize("field, value", [
    ("signature", "0" * 64),
    ("signature", ""),
    ("signature", "é" * 64),
    ("expires", "2030-01-01T14:00:00"),
    ("expires", "not a time"),
    ("expires", ""),
    ("methods", ("GET", "POST", "DELETE")),
    ("methods", ("GET",)),
    ("paths", ("/v2/queues/q/messages", "/v2/queues/q/claims")),
    ("paths", ("/v2/queues/other/messages",)),
    ("project", "other-project"),
    ("project", ""),
])
def test_any_tampered_field_voids_the_signature(field, value):
    tampered = dataclasses.replace(headers_of(share()), **{field: value})
    assert signed_url.verify(KEY, tampered, now=NOW) is None


def test_expired_signature_is_void():
    headers = headers_of(share())
    assert signed_url.verify(KEY, headers, now=LATER - timedelta(seconds=1)) is not None
    assert signed_url.verify(KEY, headers, now=LATER) is None


def test_another_key_or_no_key_verifies_nothing():
    headers = headers_of(share())
    assert signed_url.verify("another key", headers, now=NOW) is None
    assert signed_url.verify(None, headers, now=NOW) is None


def test_methods_order_in_headers_does_not_matter():
    headers = dataclasses.replace(headers_of(share()), methods=("POST", "GET"))
    assert signed_url.verify(KEY, headers, now=NOW) is not None


def test_request_without_signature_header_has_no_signed_headers():
    assert SignedHeaders.from_headers({"X-Project-ID": "p"}.get) is None


@pytest.mark.parametrize("text, expected", [
    ("2030-01-01T00:00:00", datetime(2030, 1, 1)),
    ("2030-01-01T00:00:00Z", datetime(2030, 1, 1)),
    ("2030-01-01T02:00:00+02:00", datetime(2030, 1, 1)),
    ("2030-01-01T00:00:00.750", datetime(2030, 1, 1)),
])
def test_expires_is_normalized_to_utc_seconds(text, expected):
    assert signed_url.parse_expires(text) == expected


@pytest.mark.parametrize("text", ["1893456000", "-5", "tomorrow", ""])
def test_expires_must_be_an_iso_time(text):
    with pytest.raises(ValueError):
        signed_url.parse_expires(text)
