"""Messages on SQL. Each queue numbers its messages (``messages.seq``, the wire id):
numbers give FIFO order and stable markers, and say nothing of other queues."""
from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import statements as s
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock
from zaqar.storage.sqlalchemy.group_commit import GroupCommitter, PendingPost
from zaqar.storage.sqlalchemy.queues import QueueController

ALWAYS_VISIBLE = 0.0  # visible_at of a message posted without delay

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


class MessageController(base.MessageController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver
        self._committer = GroupCommitter(self._write_batch)

    def post(self, queue: str, project: str, messages: Sequence[base.NewMessage],
             client_id: str) -> list[str]:
        at = self._driver.clock()
        # An undelayed message is visible from the start, not from ``at``: a reader whose
        # clock reads a little earlier would otherwise hide it while listing a later one
        # (posted by a writer whose ``at`` came first but who got the lock second), and
        # its marker would step over it for good.
        rows = [{"body": base.body_text(msg.body), "client_id": client_id, "created": at,
                 "expires": at + msg.ttl,
                 "visible_at": at + msg.delay if msg.delay else ALWAYS_VISIBLE,
                 "checksum": msg.checksum}
                for msg in messages]
        numbers = self._committer.post(PendingPost(project, queue, rows))
        return [str(number) for number in numbers]

    @retry_on_deadlock
    def _write_batch(self, batch: builtins.list[PendingPost]) -> None:
        """Every post of ``batch`` in one transaction, in arrival order: each queue's
        numbers are taken at once, then every row inserted with one executemany."""
        at = self._driver.clock()
        counts: dict[tuple[str, str], int] = {}
        for pending in batch:
            scope = (pending.project, pending.queue)
            counts[scope] = counts.get(scope, 0) + len(pending.rows)
        rows: builtins.list[dict[str, Any]] = []
        with self._driver.write() as conn:
            # Queue rows are locked in one order, so batches of two processes that touch
            # the same queues cannot deadlock.
            next_numbers = {scope: QueueController.take_numbers(conn, scope[1], scope[0],
                                                                counts[scope], at)
                            for scope in sorted(counts)}
            numbered: builtins.list[range] = []
            for pending in batch:
                queue_id, first = next_numbers[(pending.project, pending.queue)]
                numbers = range(first, first + len(pending.rows))
                next_numbers[(pending.project, pending.queue)] = (queue_id, numbers.stop)
                rows.extend({**row, "queue_id": queue_id, "seq": number}
                            for row, number in zip(pending.rows, numbers, strict=True))
                numbered.append(numbers)
            _insert_messages(conn, rows)
        for pending, numbers in zip(batch, numbered, strict=True):
            pending.ids = numbers

    def list(self, queue: str, project: str, client_id: str, marker: str | None = None,
             limit: int = 10, echo: bool = False, include_claimed: bool = False,
             include_delayed: bool = False) -> list[base.Message]:
        at = self._driver.clock()
        after = common.parse_id(marker) if marker else None
        params = {"in_project": project, "in_queue": queue, "now": at, "row_limit": limit,
                  "marker": after, "client": client_id}
        query = s.list_messages(after is not None, echo, include_claimed, include_delayed)
        with self._driver.reader.connect() as conn:
            return [common.to_message(row, at) for row in conn.execute(query, params)]

    def bulk_get(self, queue: str, project: str,
                 message_ids: Iterable[str]) -> builtins.list[base.Message]:
        numbers = common.parse_ids(message_ids)
        if not numbers:
            return []
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": queue, "now": at, "numbers": numbers}
        with self._driver.reader.connect() as conn:
            return [common.to_message(row, at)
                    for row in conn.execute(s.MESSAGES_BY_NUMBER, params)]

    @retry_on_deadlock
    def delete(self, queue: str, project: str, message_id: str,
               claim_id: str | None = None) -> None:
        number = common.parse_id(message_id)
        if number is None:
            return
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": queue, "now": at, "number": number,
                  "claim": claim_id}
        # The condition rides in the DELETE itself, so a claim taken between a check and
        # the delete cannot be lost; only a refused delete pays for a second look.
        delete = s.DELETE_CLAIMED_MESSAGE if claim_id else s.DELETE_FREE_MESSAGE
        with self._driver.write() as conn:
            if conn.execute(delete, params).rowcount:
                return
            row = conn.execute(s.MESSAGE_CLAIM_STATE, params).first()
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
        numbers = common.parse_ids(message_ids)
        if not numbers:
            return
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": queue, "now": at, "numbers": numbers}
        with self._driver.write() as conn:
            if claim_ids is not None:
                for row in conn.execute(s.MESSAGES_CLAIM_STATE_LOCKED, params):
                    if row.claim_expires is None or row.claim_expires <= at:
                        raise errors.MessageNotClaimed(str(row.seq))
                    if row.claim_id not in claim_ids:
                        raise errors.MessageNotClaimedBy(str(row.seq), row.claim_id)
            conn.execute(s.DELETE_MESSAGES_IN_QUEUE, params)

    @retry_on_deadlock
    def pop(self, queue: str, project: str, limit: int) -> builtins.list[base.Message]:
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": queue, "now": at, "row_limit": limit}
        with self._driver.write() as conn:
            rows = conn.execute(s.FREE_MESSAGES_LOCKED, params).all()
            if rows:
                conn.execute(s.DELETE_MESSAGES, {"row_ids": [row.id for row in rows]})
        return [common.to_message(row, at) for row in rows]


def _insert_messages(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert a batch, numbered already, with one executemany."""
    if conn.dialect.name == "sqlite":
        # On the DBAPI cursor: SQLAlchemy's per-row parameter handling costs more than
        # the insert.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(s.SQLITE_INSERT_MESSAGE,
                               [tuple(row[name] for name in s.SQLITE_INSERT_COLUMNS)
                                for row in rows])
        finally:
            cursor.close()
        return
    # Few round trips all the same: PyMySQL rewrites it into multi-row INSERTs, psycopg
    # pipelines it.
    conn.execute(s.INSERT_MESSAGE, rows)
