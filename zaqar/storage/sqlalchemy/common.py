"""Helpers shared by the SQL controllers."""
import json
from typing import Any

import sqlalchemy as sa

from zaqar.storage.base import Message
from zaqar.storage.sqlalchemy import tables as t


def inserted_id(result: sa.CursorResult) -> int:
    """The primary key of the row a single-row INSERT made."""
    key = result.inserted_primary_key
    if key is None:  # only for a table without a primary key
        raise RuntimeError("The INSERT reported no primary key.")
    return int(key[0])


def queue_id_query(name: str, project: str) -> sa.ScalarSelect[Any]:
    """A scalar subquery for a queue's id, so a lookup rides along in one statement."""
    return (sa.select(t.queues.c.id)
            .where(t.queues.c.project == project, t.queues.c.name == name)
            .scalar_subquery())


MAX_ROW_ID = 2 ** 63 - 1


def parse_id(message_id: str) -> int | None:
    """Message ids are decimal row ids on the wire; anything else names no message.

    Only ASCII digits (``str.isdigit`` also accepts "²", which ``int`` refuses), and no
    more than a BIGINT holds (a larger one fails inside the database driver).
    """
    if not (message_id.isascii() and message_id.isdigit()) or len(message_id) > 19:
        return None
    row_id = int(message_id)
    return row_id if row_id <= MAX_ROW_ID else None


def parse_ids(message_ids: Any) -> list[int]:
    return [i for i in (parse_id(m) for m in message_ids) if i is not None]


MESSAGE_COLUMNS = (t.messages.c.id, t.messages.c.body, t.messages.c.created,
                   t.messages.c.expires, t.messages.c.claim_id, t.messages.c.claim_expires,
                   t.messages.c.claim_count, t.messages.c.checksum)


def to_message(row: sa.Row, at: float) -> Message:
    live_claim = row.claim_id if row.claim_expires is not None and row.claim_expires > at else None
    return Message(id=str(row.id), body=json.loads(row.body),
                   ttl=int(round(row.expires - row.created)), created=row.created,
                   claim_id=live_claim, claim_count=row.claim_count, checksum=row.checksum)


def is_free(at: float) -> sa.ColumnElement[bool]:
    """Not held by a live claim."""
    return sa.or_(t.messages.c.claim_expires.is_(None), t.messages.c.claim_expires <= at)


def is_live(at: float) -> sa.ColumnElement[bool]:
    return t.messages.c.expires > at
