"""Stored records (msgpack maps written by the Lua scripts, and new messages' states by
the driver) as contract objects."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgpack

from zaqar.storage import base


def text(raw: bytes | str) -> str:
    """A reply part as text (the client returns bytes; redis-py's types allow either)."""
    return raw.decode() if isinstance(raw, bytes) else raw


def unpack(raw: bytes) -> dict[str, Any]:
    record: dict[str, Any] = msgpack.unpackb(raw, raw=False)
    return record


def pack_new_state(now: float, expires: float, visible: float, client_id: str,
                   checksum: str | None) -> bytes:
    """A new message's state, as the post script stores it (fields in
    scripts/common.lua); ``visible`` is 0 when posted without delay."""
    fields: dict[str, Any] = {"c": now, "e": expires, "v": visible, "k": client_id, "n": 0}
    if checksum:
        fields["h"] = checksum
    packed: bytes = msgpack.packb(fields)
    return packed


def message(message_id: bytes | str, state: bytes, body: bytes, now: float) -> base.Message:
    """A message from its state (scripts/common.lua documents the fields) and body."""
    return _message(message_id, unpack(state), body, now)


def live_message(message_id: str, state: bytes, body: bytes, now: float
                 ) -> base.Message | None:
    """The message, or None when it has expired."""
    fields = unpack(state)
    return _message(message_id, fields, body, now) if fields["e"] > now else None


def _message(message_id: bytes | str, fields: dict[str, Any], body: bytes, now: float
             ) -> base.Message:
    claim_end = fields.get("ce")
    return base.Message(
        id=text(message_id),
        body=base.body_value(body), ttl=int(round(fields["e"] - fields["c"])),
        created=fields["c"],
        claim_id=fields.get("ci") if claim_end is not None and claim_end > now else None,
        claim_count=fields["n"], checksum=fields.get("h"))


def messages(triples: Sequence[Any], now: float) -> list[base.Message]:
    """Messages from a script's flat reply: id, state, body of each."""
    return [message(triples[i], triples[i + 1], triples[i + 2], now)
            for i in range(0, len(triples), 3)]


def live_subscription(subscription_id: str, raw: bytes, source: str, project: str,
                      now: float) -> base.Subscription | None:
    """The subscription (fields in scripts/subscription_common.lua), or None when it has
    expired."""
    fields = unpack(raw)
    if fields["e"] <= now:
        return None
    delivery = base.Delivery(fields.get("dc"), fields.get("dn"),
                             json.loads(fields.get("dr", "{}")))
    return base.Subscription(id=subscription_id, source=source, subscriber=fields["s"],
                             ttl=fields["t"], created=fields["c"],
                             options=json.loads(fields["o"]), confirmed=fields["ok"],
                             project=project, delivery=delivery)


def parse_marker(marker: str | None) -> str:
    """The message id to list after (ids are decimal counters, so any number will do),
    or '' to list from the start when ``marker`` is not one, as the SQL driver does."""
    if marker and marker.isascii() and marker.isdigit():
        return marker
    return ""
