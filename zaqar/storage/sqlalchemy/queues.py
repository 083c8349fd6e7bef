"""Queues on SQL."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import tables as t
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


class QueueController(base.QueueController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    @retry_on_deadlock
    def create(self, name: str, project: str, metadata: dict[str, Any] | None = None) -> bool:
        with self._driver.writer.begin() as conn:
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
        find = sa.select(t.queues.c.id).where(t.queues.c.project == project,
                                              t.queues.c.name == name).with_for_update()
        queue_id = conn.scalar(find)
        if queue_id is not None:
            return queue_id, False
        try:
            with conn.begin_nested():
                result = conn.execute(t.queues.insert().values(
                    project=project, name=name, metadata=json.dumps(metadata or {}),
                    created=at))
        except sa.exc.IntegrityError:
            # The key check waited for the winner to commit, so its row is visible now.
            queue_id = conn.scalar(find)
            if queue_id is None:
                raise
            return queue_id, False
        return common.inserted_id(result), True

    def exists(self, name: str, project: str) -> bool:
        with self._driver.reader.connect() as conn:
            return conn.scalar(sa.select(common.queue_id_query(name, project))) is not None

    def get_metadata(self, name: str, project: str) -> dict[str, Any]:
        with self._driver.reader.connect() as conn:
            raw = conn.scalar(sa.select(t.queues.c.metadata).where(
                t.queues.c.project == project, t.queues.c.name == name))
        if raw is None:
            raise errors.QueueDoesNotExist(name, project)
        return json.loads(raw)

    @retry_on_deadlock
    def set_metadata(self, name: str, project: str, metadata: dict[str, Any]) -> None:
        with self._driver.writer.begin() as conn:
            result = conn.execute(t.queues.update().where(
                t.queues.c.project == project, t.queues.c.name == name,
            ).values(metadata=json.dumps(metadata)))
        if result.rowcount == 0:
            raise errors.QueueDoesNotExist(name, project)

    @retry_on_deadlock
    def delete(self, name: str, project: str) -> None:
        with self._driver.writer.begin() as conn:
            queue_id = conn.scalar(sa.select(common.queue_id_query(name, project)))
            if queue_id is None:
                return
            conn.execute(t.messages.delete().where(t.messages.c.queue_id == queue_id))
            conn.execute(t.claims.delete().where(t.claims.c.queue_id == queue_id))
            conn.execute(t.queues.delete().where(t.queues.c.id == queue_id))

    def list(self, project: str, marker: str | None = None, limit: int = 10,
             detailed: bool = False) -> list[base.QueueEntry]:
        query = (sa.select(t.queues.c.name, t.queues.c.metadata)
                 .where(t.queues.c.project == project)
                 .order_by(t.queues.c.name).limit(limit))
        if marker:
            query = query.where(t.queues.c.name > marker)
        with self._driver.reader.connect() as conn:
            rows = conn.execute(query).all()
        return [base.QueueEntry(row.name, json.loads(row.metadata) if detailed else None)
                for row in rows]

    def count(self, project: str) -> int:
        with self._driver.reader.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(t.queues)
                               .where(t.queues.c.project == project)) or 0

    def stats(self, name: str, project: str) -> base.QueueStats:
        at = self._driver.clock()
        m = t.messages.c
        claimed = sa.case((sa.not_(common.is_free(at)), 1), else_=0)
        in_queue = sa.and_(m.queue_id == common.queue_id_query(name, project),
                           common.is_live(at))
        with self._driver.reader.connect() as conn:
            total, n_claimed = conn.execute(
                sa.select(sa.func.count(), sa.func.sum(claimed)).where(in_queue)).one()
            ends = [conn.execute(sa.select(*common.MESSAGE_COLUMNS).where(in_queue)
                                 .order_by(order).limit(1)).first()
                    for order in (m.id.asc(), m.id.desc())] if total else [None, None]
        n_claimed = int(n_claimed or 0)
        oldest, newest = (common.to_message(row, at) if row else None for row in ends)
        return base.QueueStats(free=total - n_claimed, claimed=n_claimed,
                               oldest=oldest, newest=newest)
