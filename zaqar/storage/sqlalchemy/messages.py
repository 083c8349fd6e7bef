"""Messages on SQL. Row ids give FIFO order and stable markers."""
from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import tables as t
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock
from zaqar.storage.sqlalchemy.queues import QueueController

m = t.messages.c
ALWAYS_VISIBLE = 0.0  # visible_at of a message posted without delay

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


class MessageController(base.MessageController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    @retry_on_deadlock
    def post(self, queue: str, project: str, messages: Sequence[base.NewMessage],
             client_id: str) -> list[str]:
        at = self._driver.clock()
        with self._driver.writer.begin() as conn:
            queue_id, _ = QueueController.ensure(conn, queue, project, at)
            # An undelayed message is visible from the start, not from ``at``: a reader
            # whose clock reads a little earlier would otherwise hide it while listing a
            # later one (posted by a writer whose ``at`` came first but who got the lock
            # second), and its marker would step over it for good.
            rows = [{"queue_id": queue_id, "body": json.dumps(msg.body), "client_id": client_id,
                     "created": at, "expires": at + msg.ttl,
                     "visible_at": at + msg.delay if msg.delay else ALWAYS_VISIBLE,
                     "checksum": msg.checksum}
                    for msg in messages]
            if not conn.dialect.insert_returning:
                # Without INSERT ... RETURNING (MySQL proper) a multi-row insert does not
                # tell each row's id, so insert one by one.
                return [str(common.inserted_id(conn.execute(t.messages.insert(), row)))
                        for row in rows]
            ids = conn.execute(t.messages.insert().returning(m.id, sort_by_parameter_order=True),
                               rows).scalars().all()
        return [str(i) for i in ids]

    def list(self, queue: str, project: str, client_id: str, marker: str | None = None,
             limit: int = 10, echo: bool = False, include_claimed: bool = False,
             include_delayed: bool = False) -> list[base.Message]:
        at = self._driver.clock()
        query = (sa.select(*common.MESSAGE_COLUMNS)
                 .where(m.queue_id == common.queue_id_query(queue, project), common.is_live(at))
                 .order_by(m.id).limit(limit))
        if marker:
            marker_id = common.parse_id(marker)
            if marker_id is not None:
                query = query.where(m.id > marker_id)
        if not echo:
            query = query.where(m.client_id != client_id)
        if not include_claimed:
            query = query.where(common.is_free(at))
        if not include_delayed:
            query = query.where(m.visible_at <= at)
        with self._driver.reader.connect() as conn:
            return [common.to_message(row, at) for row in conn.execute(query)]

    def get(self, queue: str, project: str, message_id: str) -> base.Message:
        found = self.bulk_get(queue, project, [message_id])
        if not found:
            raise errors.MessageDoesNotExist(message_id, queue)
        return found[0]

    def bulk_get(self, queue: str, project: str,
                 message_ids: Iterable[str]) -> builtins.list[base.Message]:
        ids = common.parse_ids(message_ids)
        if not ids:
            return []
        at = self._driver.clock()
        query = (sa.select(*common.MESSAGE_COLUMNS)
                 .where(m.queue_id == common.queue_id_query(queue, project), m.id.in_(ids),
                        common.is_live(at))
                 .order_by(m.id))
        with self._driver.reader.connect() as conn:
            return [common.to_message(row, at) for row in conn.execute(query)]

    @retry_on_deadlock
    def delete(self, queue: str, project: str, message_id: str,
               claim_id: str | None = None) -> None:
        row_id = common.parse_id(message_id)
        if row_id is None:
            return
        at = self._driver.clock()
        in_queue = sa.and_(m.id == row_id,
                           m.queue_id == common.queue_id_query(queue, project))
        # The condition rides in the DELETE itself, so a claim taken between a check and
        # the delete cannot be lost; only a refused delete pays for a second look.
        held = sa.and_(m.claim_id == claim_id, m.claim_expires > at) if claim_id \
            else common.is_free(at)
        with self._driver.writer.begin() as conn:
            if conn.execute(t.messages.delete().where(in_queue, held)).rowcount:
                return
            row = conn.execute(sa.select(m.claim_id, m.claim_expires, m.expires)
                               .where(in_queue)).first()
        if row is None or row.expires <= at:
            return
        claimed = row.claim_expires is not None and row.claim_expires > at
        if claim_id is None:
            raise errors.MessageIsClaimed(message_id)
        if not claimed:
            raise errors.MessageNotClaimed(message_id)
        raise errors.MessageNotClaimedBy(message_id, claim_id)

    @retry_on_deadlock
    def bulk_delete(self, queue: str, project: str, message_ids: Iterable[str],
                    claim_ids: Sequence[str] | None = None) -> None:
        ids = common.parse_ids(message_ids)
        if not ids:
            return
        at = self._driver.clock()
        in_queue = sa.and_(m.queue_id == common.queue_id_query(queue, project), m.id.in_(ids))
        with self._driver.writer.begin() as conn:
            if claim_ids is not None:
                rows = conn.execute(sa.select(m.id, m.claim_id, m.claim_expires)
                                    .where(in_queue, common.is_live(at))
                                    .with_for_update()).all()
                for row in rows:
                    if row.claim_expires is None or row.claim_expires <= at:
                        raise errors.MessageNotClaimed(str(row.id))
                    if row.claim_id not in claim_ids:
                        raise errors.MessageNotClaimedBy(str(row.id), row.claim_id)
            conn.execute(t.messages.delete().where(in_queue))

    @retry_on_deadlock
    def pop(self, queue: str, project: str, limit: int) -> builtins.list[base.Message]:
        at = self._driver.clock()
        with self._driver.writer.begin() as conn:
            rows = conn.execute(free_messages_query(queue, project, at, limit,
                                                     common.MESSAGE_COLUMNS)).all()
            if rows:
                conn.execute(t.messages.delete().where(m.id.in_([row.id for row in rows])))
        return [common.to_message(row, at) for row in rows]


def free_messages_query(queue: str, project: str, at: float, limit: int,
                        columns: Iterable[Any]) -> sa.Select[Any]:
    """Oldest live, visible, unclaimed messages, row-locked, skipping rows others lock."""
    return (sa.select(*columns)
            .where(m.queue_id == common.queue_id_query(queue, project), common.is_live(at),
                   m.visible_at <= at, common.is_free(at))
            .order_by(m.id).limit(limit)
            .with_for_update(skip_locked=True))
