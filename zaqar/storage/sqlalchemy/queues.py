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

        The lock serializes posts to one queue, so their messages commit in id order: a
        reader paging by marker never passes an id whose message commits later. Without
        it (PostgreSQL sequences, InnoDB auto-increment) ids are handed out at insert but
        become visible at commit, in any order. SQLite serializes every writer anyway.

        Writers may create one queue at once (a first post creates it): the one whose
        insert loses on the unique key takes the winner's queue, and the savepoint keeps
        its own transaction alive.
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
        return common.inserted_id(result), True

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
        with self._driver.write() as conn:
            queue_id = conn.scalar(s.QUEUE_ID_LOCKED, {"in_project": project, "in_queue": name})
            if queue_id is None:
                return
            key = {"queue_key": queue_id}
            conn.execute(s.DELETE_QUEUE_MESSAGES, key)
            conn.execute(s.DELETE_QUEUE_CLAIMS, key)
            conn.execute(s.DELETE_QUEUE, key)

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
