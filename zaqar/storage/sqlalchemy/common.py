"""Helpers shared by the SQL controllers."""
from typing import Any

import sqlalchemy as sa

from zaqar.storage.base import Message, body_value


def inserted_id(result: sa.CursorResult) -> int:
    """The primary key of the row a single-row INSERT made."""
    key = result.inserted_primary_key
    if key is None:  # only for a table without a primary key
        raise RuntimeError("The INSERT reported no primary key.")
    return int(key[0])


MAX_ROW_ID = 2 ** 63 - 1


def parse_id(message_id: str) -> int | None:
    """Message ids are decimal message numbers (``messages.seq``) on the wire; anything
    else names no message.

    Only ASCII digits (``str.isdigit`` also accepts "²", which ``int`` refuses), and no
    more than a BIGINT holds (a larger one fails inside the database driver).
    """
    if not (message_id.isascii() and message_id.isdigit()) or len(message_id) > 19:
        return None
    row_id = int(message_id)
    return row_id if row_id <= MAX_ROW_ID else None


def parse_ids(message_ids: Any) -> list[int]:
    return [i for i in (parse_id(m) for m in message_ids) if i is not None]


def to_message(row: sa.Row, at: float) -> Message:
    live_claim = row.claim_id if row.claim_expires is not None and row.claim_expires > at else None
    return Message(id=str(row.seq), body=body_value(row.body),
                   ttl=int(round(row.expires - row.created)), created=row.created,
                   claim_id=live_claim, claim_count=row.claim_count, checksum=row.checksum)
