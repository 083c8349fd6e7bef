"""Where everything lives in MongoDB: the collections, their documents and indexes.

A *scope* is one queue name in one project, named ``<queue>:<project>`` (queue names
never hold ``:``; the api layer admits ``[a-zA-Z0-9_-]`` only). Times are POSIX seconds
(float) from the driver's clock; each document that expires also carries its expiry
as a date (``ea``) for the TTL index, which removes it some time after it expired (the
driver never returns an expired document meanwhile: every read also compares ``e``).
No field is ever null: "none" is ``""`` or ``0.0`` (equality on those is what every
server, real or stand-in, answers alike).

``queues``         _id: scope. ``p`` project, ``n`` name, ``m`` metadata (JSON text),
                   ``c`` created, ``live`` (False once deleted: the document stays, so
                   a queue made again goes on numbering from ``last``), ``last`` the last
                   message number handed out, ``posted`` the last number of the last
                   completed post (``pa`` its time: what the post watch looks at),
                   ``lk`` / ``lu`` the numbering lock's holder and lease end (locks.py).
``messages``       ``s`` scope, ``seq`` number in the queue (the wire id), ``tx`` the
                   post's token until the whole batch is stored, then ``""`` (only
                   those are read), ``b`` body (JSON or sealed text), ``k`` client id,
                   ``c`` created, ``e`` expires, ``v`` visible from (0.0: at once),
                   ``ci`` / ``ce`` claim id and end (``""`` / 0.0: free), ``n`` claim
                   count, ``h`` checksum (``""``: none).
``claims``         _id: claim id. ``s``, ``t`` ttl, ``g`` grace, ``c``, ``e``.
``subscriptions``  _id: subscription id. ``p``, ``q`` source queue, ``sub`` subscriber,
                   ``d`` its digest (uniqueness), ``t``, ``c``, ``e``, ``o`` options
                   (JSON), ``ok`` confirmed, ``dc`` / ``dn`` / ``dr`` delivery cursor,
                   notice, record (base.Delivery).
"""
from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from pymongo import ASCENDING, IndexModel

from zaqar.storage import base

QUEUES, MESSAGES, CLAIMS, SUBSCRIPTIONS = "queues", "messages", "claims", "subscriptions"
MAX_NUMBER = 2 ** 63 - 1

INDEXES: dict[str, list[IndexModel]] = {
    QUEUES: [IndexModel([("p", ASCENDING), ("live", ASCENDING), ("n", ASCENDING)]),
             IndexModel([("pa", ASCENDING)])],
    MESSAGES: [IndexModel([("s", ASCENDING), ("seq", ASCENDING)], unique=True),
               IndexModel([("s", ASCENDING), ("ci", ASCENDING)]),
               IndexModel([("e", ASCENDING)]),
               IndexModel([("ea", ASCENDING)], expireAfterSeconds=0)],
    CLAIMS: [IndexModel([("e", ASCENDING)]),
             IndexModel([("ea", ASCENDING)], expireAfterSeconds=0)],
    SUBSCRIPTIONS: [IndexModel([("p", ASCENDING), ("q", ASCENDING), ("d", ASCENDING)],
                               unique=True),
                    IndexModel([("e", ASCENDING)]),
                    IndexModel([("ea", ASCENDING)], expireAfterSeconds=0)],
}


def scope(queue: str, project: str) -> str:
    return f"{queue}:{project}"


def parse_scope(member: str) -> tuple[str, str]:
    """(queue, project) of a scope."""
    queue, _, project = member.partition(":")
    return queue, project


def expiry_date(expires: float) -> datetime.datetime:
    """``e`` as the date the TTL index reads (naive UTC, as pymongo stores dates)."""
    return datetime.datetime.fromtimestamp(expires, datetime.UTC).replace(tzinfo=None)


def parse_number(message_id: str) -> int | None:
    """Message ids are decimal numbers on the wire; anything else names no message."""
    if not (message_id.isascii() and message_id.isdigit()) or len(message_id) > 19:
        return None
    number = int(message_id)
    return number if number <= MAX_NUMBER else None


def parse_numbers(message_ids: Any) -> list[int]:
    return [n for n in (parse_number(m) for m in message_ids) if n is not None]


def live(scope_id: str, now: float) -> dict[str, Any]:
    """The filter of a scope's stored (fully posted) and unexpired messages."""
    return {"s": scope_id, "tx": "", "e": {"$gt": now}}


def free(now: float) -> dict[str, Any]:
    return {"ce": {"$lte": now}}


def to_message(doc: dict[str, Any], now: float) -> base.Message:
    return base.Message(
        id=str(doc["seq"]), body=base.body_value(doc["b"]),
        ttl=int(round(doc["e"] - doc["c"])), created=doc["c"],
        claim_id=doc["ci"] if doc["ce"] > now else None, claim_count=doc["n"],
        checksum=doc["h"] or None)


def new_message(scope_id: str, number: int, token: str, message: base.NewMessage,
                client_id: str, now: float) -> dict[str, Any]:
    expires = now + message.ttl
    return {"s": scope_id, "seq": number, "tx": token, "b": base.body_text(message.body),
            "k": client_id, "c": now, "e": expires, "ea": expiry_date(expires),
            "v": now + message.delay if message.delay > 0 else 0.0, "ci": "", "ce": 0.0,
            "n": 0, "h": message.checksum or ""}


def digest(subscriber: str) -> str:
    return hashlib.sha256(subscriber.encode()).hexdigest()


def to_subscription(doc: dict[str, Any]) -> base.Subscription:
    delivery = base.Delivery(doc["dc"] or None, doc["dn"] or None, json.loads(doc["dr"]))
    return base.Subscription(id=doc["_id"], source=doc["q"], subscriber=doc["sub"],
                             ttl=doc["t"], created=doc["c"], options=json.loads(doc["o"]),
                             confirmed=bool(doc["ok"]), project=doc["p"], delivery=delivery)
