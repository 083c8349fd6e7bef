"""Claims on SQL.

A claim is a row in ``claims`` plus ``claim_id``/``claim_expires`` on each message it
holds. Creation locks the candidate rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and
MariaDB; SQLite's writer transactions are serialized by ``BEGIN IMMEDIATE``), so two
concurrent claimers never take the same message.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import tables as t
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock
from zaqar.storage.sqlalchemy.messages import free_messages_query

m = t.messages.c
c = t.claims.c

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


def _extend_life(until: float) -> sa.Case[float]:
    """A claimed message lives at least until its claim ends plus the grace."""
    return sa.case((m.expires < until, until), else_=m.expires)


class ClaimController(base.ClaimController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    @retry_on_deadlock
    def create(self, queue: str, project: str, ttl: int, grace: int,
               limit: int) -> base.Claim | None:
        at = self._driver.clock()
        claim_id = uuid.uuid4().hex
        with self._driver.writer.begin() as conn:
            rows = conn.execute(free_messages_query(
                queue, project, at, limit, (*common.MESSAGE_COLUMNS, m.queue_id))).all()
            if not rows:
                return None
            conn.execute(t.claims.insert().values(id=claim_id, queue_id=rows[0].queue_id,
                                                  ttl=ttl, grace=grace, created=at,
                                                  expires=at + ttl))
            # The rows are locked (or SQLite's write lock is held) since the select, so
            # the update takes exactly them and the claimed state is known without a
            # second read.
            conn.execute(t.messages.update()
                         .where(m.id.in_([row.id for row in rows]))
                         .values(claim_id=claim_id, claim_expires=at + ttl,
                                 claim_count=m.claim_count + 1,
                                 expires=_extend_life(at + ttl + grace)))
        life = at + ttl + grace
        messages = []
        for row in rows:
            message = common.to_message(row, at)
            message.claim_id = claim_id
            message.claim_count += 1
            message.ttl = int(round(max(row.expires, life) - row.created))
            messages.append(message)
        return base.Claim(id=claim_id, ttl=ttl, grace=grace, created=at, messages=messages)

    def get(self, queue: str, project: str, claim_id: str) -> base.Claim:
        at = self._driver.clock()
        with self._driver.reader.connect() as conn:
            claim = conn.execute(sa.select(c.id, c.queue_id, c.ttl, c.grace, c.created).where(
                c.id == claim_id, c.queue_id == common.queue_id_query(queue, project),
                c.expires > at)).first()
            if claim is None:
                raise errors.ClaimDoesNotExist(claim_id, queue)
            rows = conn.execute(sa.select(*common.MESSAGE_COLUMNS).where(
                m.claim_id == claim_id, m.claim_expires > at, common.is_live(at),
            ).order_by(m.id)).all()
        return base.Claim(id=claim.id, ttl=claim.ttl, grace=claim.grace, created=claim.created,
                          messages=[common.to_message(row, at) for row in rows])

    @retry_on_deadlock
    def update(self, queue: str, project: str, claim_id: str, ttl: int, grace: int) -> None:
        at = self._driver.clock()
        with self._driver.writer.begin() as conn:
            renewed = conn.execute(t.claims.update().where(
                c.id == claim_id, c.queue_id == common.queue_id_query(queue, project),
                c.expires > at,
            ).values(ttl=ttl, grace=grace, expires=at + ttl)).rowcount
            if not renewed:
                raise errors.ClaimDoesNotExist(claim_id, queue)
            conn.execute(t.messages.update()
                         .where(m.claim_id == claim_id, m.claim_expires > at)
                         .values(claim_expires=at + ttl,
                                 expires=_extend_life(at + ttl + grace)))

    @retry_on_deadlock
    def delete(self, queue: str, project: str, claim_id: str) -> None:
        with self._driver.writer.begin() as conn:
            queue_id = conn.scalar(sa.select(common.queue_id_query(queue, project)))
            if queue_id is None:
                return
            conn.execute(t.messages.update()
                         .where(m.claim_id == claim_id, m.queue_id == queue_id)
                         .values(claim_id=None, claim_expires=None))
            conn.execute(t.claims.delete().where(c.id == claim_id, c.queue_id == queue_id))
