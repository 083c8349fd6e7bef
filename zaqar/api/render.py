"""Wire shapes of stored things: the v2 documents both transports return."""
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from zaqar.api.encryption import Unreadable
from zaqar.storage.base import Claim, Message, Subscription

V2 = "/v2"


def queue_href(queue: str) -> str:
    return f"{V2}/queues/{queue}"


def message_href(queue: str, message_id: str, claim_id: str | None = None) -> str:
    href = f"{V2}/queues/{queue}/messages/{message_id}"
    return f"{href}?claim_id={claim_id}" if claim_id else href


def claim_href(queue: str, claim_id: str) -> str:
    return f"{V2}/queues/{queue}/claims/{claim_id}"


def next_link(path: str, query: dict[str, Any]) -> list[dict[str, str]]:
    encoded = urlencode({key: _query_value(value) for key, value in query.items()
                         if value is not None})
    return [{"rel": "next", "href": f"{path}?{encoded}"}]


def _query_value(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def iso8601(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message(queue: str, msg: Message, at: float | None = None,
            claim_id: str | None = None) -> dict[str, Any]:
    """A claimed message's href names its live claim (``?claim_id=``), as upstream's do:
    clients take the claim id to delete the message from there."""
    at = time.time() if at is None else at
    doc: dict[str, Any] = {
        "id": msg.id,
        "href": message_href(queue, msg.id, claim_id or msg.claim_id),
        "ttl": msg.ttl,
        "age": max(0, int(at - msg.created)),
        "body": msg.body,
    }
    _unreadable(doc, msg)
    if msg.checksum:
        doc["checksum"] = msg.checksum
    if msg.claim_id:
        doc["claim_id"] = msg.claim_id
    return doc


def _unreadable(doc: dict[str, Any], msg: Message) -> None:
    """A body that did not open (zaqar.api.encryption): null, with an error for this
    message alone, so the others of a page or claim still read."""
    if isinstance(msg.body, Unreadable):
        doc["body"] = None
        doc["error"] = unreadable_error(msg.id, msg.body)


def unreadable_error(message_id: str, body: Unreadable) -> dict[str, str]:
    return {"title": "Message body unreadable",
            "description": f"The body of message {message_id!r} cannot be decrypted: "
                           f"{body.reason}."}


def claim(queue: str, found: Claim, at: float) -> dict[str, Any]:
    return {
        "age": max(0, int(at - found.created)),
        "ttl": found.ttl,
        "grace": found.grace,
        "href": claim_href(queue, found.id),
        "messages": [message(queue, msg, at, found.id) for msg in found.messages],
    }


def subscription(found: Subscription, at: float) -> dict[str, Any]:
    return {
        "id": found.id,
        "source": found.source,
        "subscriber": found.subscriber,
        "ttl": found.ttl,
        "age": max(0, int(at - found.created)),
        "options": found.options,
        "confirmed": found.confirmed,
    }


def popped(msg: Message, at: float) -> dict[str, Any]:
    """A popped message as upstream shows it: no href (it is gone), with the claim
    fields of its stored record (``claim_id`` null: nothing holds a popped message)."""
    doc = {"id": msg.id, "age": max(0, int(at - msg.created)), "ttl": msg.ttl,
           "body": msg.body, "claim_id": msg.claim_id, "claim_count": msg.claim_count}
    _unreadable(doc, msg)
    return doc


def stats_end(queue: str, msg: Message, at: float) -> dict[str, Any]:
    """The oldest or newest message of the stats: upstream's REST keys (``href``) and
    websocket keys (``id``) together, so readers of either find theirs."""
    doc = {"id": msg.id, "age": max(0, int(at - msg.created)), "ttl": msg.ttl,
           "body": msg.body, "claim_id": msg.claim_id, "claim_count": msg.claim_count,
           "created": iso8601(msg.created), "href": message_href(queue, msg.id)}
    _unreadable(doc, msg)
    return doc
