"""Claims on SQL.

A claim is a row in ``claims`` plus ``claim_id``/``claim_expires`` on each message it
holds. Creation locks the candidate rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and
MariaDB; SQLite's writer transactions are serialized by ``BEGIN IMMEDIATE``), so two
concurrent claimers never take the same message. Dead letters (base.DeadLetter) move to
their queue in the claim's transaction: a crash anywhere in it leaves both queues as
they were.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import statements as s
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock
from zaqar.storage.sqlalchemy.queues import QueueController

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


class ClaimController(base.ClaimController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    @retry_on_deadlock
    def create(self, queue: str, project: str, ttl: int, grace: int, limit: int,
               dead_letter: base.DeadLetter | None = None) -> base.Claim | None:
        at = self._driver.clock()
        claim_id = uuid.uuid4().hex
        life = at + ttl + grace
        params = {"in_project": project, "in_queue": queue, "now": at}
        if dead_letter is not None and dead_letter.queue == queue:
            dead_letter = None  # a move into the queue itself would never end
        taken: list[sa.Row] = []
        with self._driver.write() as conn:
            while len(taken) < limit:
                rows = conn.execute(s.FREE_MESSAGES_LOCKED,
                                    {**params, "row_limit": limit - len(taken)}).all()
                dead = [] if dead_letter is None else [
                    row for row in rows if row.claim_count >= dead_letter.max_claims]
                live = [row for row in rows if row not in dead] if dead else rows
                if live:
                    if not taken:
                        conn.execute(s.INSERT_CLAIM, {
                            "id": claim_id, "queue_id": live[0].queue_id, "ttl": ttl,
                            "grace": grace, "created": at, "expires": at + ttl})
                    # The rows are locked (or SQLite's write lock is held) since the
                    # select, so the update takes exactly them and the claimed state is
                    # known without a second read; claimed, the next select passes them.
                    conn.execute(s.CLAIM_MESSAGES, {"row_ids": [row.id for row in live],
                                                    "claim": claim_id,
                                                    "claim_until": at + ttl,
                                                    "life_until": life})
                    taken += live
                if not dead:
                    break
                assert dead_letter is not None
                _move_dead_letters(conn, dead, dead_letter, project, at)
        if not taken:
            return None
        messages = []
        for row in taken:
            message = common.to_message(row, at)
            message.claim_id = claim_id
            message.claim_count += 1
            message.ttl = int(round(max(row.expires, life) - row.created))
            messages.append(message)
        return base.Claim(id=claim_id, ttl=ttl, grace=grace, created=at, messages=messages)

    def get(self, queue: str, project: str, claim_id: str) -> base.Claim:
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": queue, "now": at, "claim": claim_id}
        with self._driver.reader.connect() as conn:
            claim = conn.execute(s.GET_CLAIM, params).first()
            if claim is None:
                raise errors.ClaimDoesNotExist(claim_id, queue)
            rows = conn.execute(s.CLAIMED_MESSAGES, params).all()
        return base.Claim(id=claim.id, ttl=claim.ttl, grace=claim.grace, created=claim.created,
                          messages=[common.to_message(row, at) for row in rows])

    @retry_on_deadlock
    def update(self, queue: str, project: str, claim_id: str, ttl: int, grace: int) -> None:
        at = self._driver.clock()
        params = {"in_project": project, "in_queue": queue, "now": at, "claim": claim_id,
                  "claim_ttl": ttl, "claim_grace": grace, "claim_until": at + ttl,
                  "life_until": at + ttl + grace}
        with self._driver.write() as conn:
            if not conn.execute(s.RENEW_CLAIM, params).rowcount:
                raise errors.ClaimDoesNotExist(claim_id, queue)
            conn.execute(s.RENEW_CLAIMED_MESSAGES, params)

    @retry_on_deadlock
    def delete(self, queue: str, project: str, claim_id: str) -> None:
        with self._driver.write() as conn:
            queue_id = conn.scalar(s.QUEUE_ID, {"in_project": project, "in_queue": queue})
            if queue_id is None:
                return
            params = {"claim": claim_id, "queue_key": queue_id}
            conn.execute(s.RELEASE_CLAIMED_MESSAGES, params)
            conn.execute(s.DELETE_CLAIM, params)


def _move_dead_letters(conn: sa.Connection, rows: list[sa.Row], dead_letter: base.DeadLetter,
                       project: str, at: float) -> None:
    """Move locked message rows to the dead-letter queue (created if needed), numbered
    there as a post would number them, inside the caller's transaction."""
    queue_id, first = QueueController.take_numbers(conn, dead_letter.queue, project,
                                                   len(rows), at)
    conn.execute(s.MOVE_MESSAGE, [
        {"row_key": row.id, "to_queue": queue_id, "new_seq": first + offset,
         "moved_at": at,
         "moved_until": at + (dead_letter.ttl or int(round(row.expires - row.created)))}
        for offset, row in enumerate(rows)])
