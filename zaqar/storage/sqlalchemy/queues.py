"""Queues on SQL."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import statements as s
from zaqar.storage.sqlalchemy import tables as t
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


class QueueController(base.QueueController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    @retry_on_deadlock
    def create(self, name: str, project: str, metadata: dict[str, Any] | None = None) -> bool:
        with self._driver.write() as conn:
            return self.ensure(conn, name, project, self._driver.clock(), metadata)[1]

    @staticmethod
    def ensure(conn: sa.Connection, name: str, project: str, at: float,
               metadata: dict[str, Any] | None = None) -> tuple[int, bool]:
        """(queue id, created) inside the caller's write transaction, the queue's row
        locked until it ends.

        Writers may create one queue at once (a first post creates it): the one whose
        insert loses on the unique key takes the winner's queue, and the savepoint keeps
        its own transaction alive. A new queue's message numbers go on from the last its
        name had before it was deleted (``retired_queues``), read once the insert holds
        the name, so a deletion committing meanwhile is seen.
        """
        scope = {"in_project": project, "in_queue": name}
        queue_id = conn.scalar(s.QUEUE_ID_LOCKED, scope)
        if queue_id is not None:
            return queue_id, False
        try:
            with conn.begin_nested():
                result = conn.execute(t.queues.insert(), {
                    "project": project, "name": name, "metadata": json.dumps(metadata or {}),
                    "created": at})
        except sa.exc.IntegrityError:
            # The key check waited for the winner to commit, so its row is visible now.
            queue_id = conn.scalar(s.QUEUE_ID_LOCKED, scope)
            if queue_id is None:
                raise
            return queue_id, False
        queue_id = common.inserted_id(result)
        conn.execute(s.START_NUMBERS, {**scope, "queue_key": queue_id})
        return queue_id, True

    @staticmethod
    def take_numbers(conn: sa.Connection, name: str, project: str, count: int,
                     at: float) -> tuple[int, int]:
        """(queue id, first number) of ``count`` consecutive message numbers of the
        queue, created if needed, inside the caller's write transaction.

        The queue's row stays locked until the transaction ends, which serializes posts
        to one queue, so their messages commit in number order: a reader paging by
        marker never passes a number whose message commits later. (SQLite serializes
        every writer anyway.) One statement where the engine has UPDATE ... RETURNING.
        """
        scope = {"in_project": project, "in_queue": name}
        taken = _take_numbers(conn, scope, count)
        if taken is None:  # no such queue yet: the post creates it
            QueueController.ensure(conn, name, project, at)
            taken = _take_numbers(conn, scope, count)
            if taken is None:
                raise RuntimeError(f"Queue {name!r} vanished under its own row lock.")
        queue_id, last = taken
        return queue_id, last - count + 1

    def exists(self, name: str, project: str) -> bool:
        with self._driver.reader.connect() as conn:
            return conn.scalar(s.QUEUE_ID, {"in_project": project, "in_queue": name}) is not None

    def get_metadata(self, name: str, project: str) -> dict[str, Any]:
        with self._driver.reader.connect() as conn:
            raw = conn.scalar(s.QUEUE_METADATA, {"in_project": project, "in_queue": name})
        if raw is None:
            raise errors.QueueDoesNotExist(name, project)
        return json.loads(raw)

    @retry_on_deadlock
    def set_metadata(self, name: str, project: str, metadata: dict[str, Any]) -> None:
        with self._driver.write() as conn:
            result = conn.execute(s.SET_QUEUE_METADATA, {
                "in_project": project, "in_queue": name, "new_metadata": json.dumps(metadata)})
        if result.rowcount == 0:
            raise errors.QueueDoesNotExist(name, project)

    @retry_on_deadlock
    def delete(self, name: str, project: str) -> None:
        scope = {"in_project": project, "in_queue": name}
        with self._driver.write() as conn:
            queue = conn.execute(s.QUEUE_TO_DELETE, scope).first()
            if queue is None:
                return
            key = {"queue_key": queue.id}
            conn.execute(s.DELETE_QUEUE_MESSAGES, key)
            conn.execute(s.DELETE_QUEUE_CLAIMS, key)
            conn.execute(s.DELETE_QUEUE, key)
            if queue.last_seq:  # for the queue made again under this name
                conn.execute(s.FORGET_RETIRED, scope)
                conn.execute(s.RETIRE, {"project": project, "name": name,
                                        "last_seq": queue.last_seq})

    def list(self, project: str, marker: str | None = None, limit: int = 10,
             detailed: bool = False) -> list[base.QueueEntry]:
        params: dict[str, Any] = {"in_project": project, "row_limit": limit}
        if marker:
            params["marker"] = marker
        with self._driver.reader.connect() as conn:
            rows = conn.execute(s.list_queues(bool(marker)), params).all()
        return [base.QueueEntry(row.name, json.loads(row.metadata) if detailed else None)
                for row in rows]

    def count(self, project: str) -> int:
        with self._driver.reader.connect() as conn:
            return conn.scalar(s.COUNT_QUEUES, {"in_project": project}) or 0

    def stats(self, name: str, project: str) -> base.QueueStats:
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": name, "now": at}
        with self._driver.reader.connect() as conn:
            total, claimed = conn.execute(s.QUEUE_COUNTS, params).one()
            ends = ([conn.execute(s.OLDEST, params).first(),
                     conn.execute(s.NEWEST, params).first()] if total else [None, None])
        claimed = int(claimed or 0)
        oldest, newest = (common.to_message(row, at) if row else None for row in ends)
        return base.QueueStats(free=total - claimed, claimed=claimed, oldest=oldest,
                               newest=newest)


def _take_numbers(conn: sa.Connection, scope: dict[str, str],
                  count: int) -> tuple[int, int] | None:
    """(queue id, last number) after taking ``count`` numbers; None: no such queue."""
    if conn.dialect.name == "sqlite":
        # On the DBAPI cursor, as the insert that follows: SQLAlchemy's statement
        # handling costs several times the update.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            found = cursor.execute(s.SQLITE_TAKE_NUMBERS,
                                   (count, scope["in_project"], scope["in_queue"])).fetchone()
        finally:
            cursor.close()
        return None if found is None else (found[0], found[1])
    if conn.dialect.update_returning:
        row = conn.execute(s.TAKE_NUMBERS, {**scope, "taken": count}).first()
        return None if row is None else (row.id, row.last_seq)
    row = conn.execute(s.LAST_NUMBER_LOCKED, scope).first()
    if row is None:
        return None
    last = row.last_seq + count
    conn.execute(s.SET_LAST_NUMBER, {"queue_key": row.id, "new_last": last})
    return row.id, last
