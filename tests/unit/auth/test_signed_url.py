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


def test_valid_signature_grants_exactly_the_signed_methods_on_the_signed_queue():
    grant = signed_url.verify(KEY, headers_of(share()), now=NOW)
    assert grant is not None and grant.project == "p"
    assert grant.allows(("GET", "messages"), "q")
    assert grant.allows(("POST", "messages"), "q")
    assert not grant.allows(("DELETE", "messages"), "q")  # DELETE not signed
    assert not grant.allows(("GET", "messages"), "other")  # another queue
    assert not grant.allows(("POST", "claims"), "q")  # claims not signed
    assert not grant.allows(None, "q")  # actions without signed access are never granted
    assert not grant.allows(("GET", "messages"), None)


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
