"""Claims on SQL.

A claim is a row in ``claims`` plus ``claim_id``/``claim_expires`` on each message it
holds. Creation locks the candidate rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and
MariaDB; SQLite's writer transactions are serialized by ``BEGIN IMMEDIATE``), so two
concurrent claimers never take the same message.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import common
from zaqar.storage.sqlalchemy import statements as s
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


class ClaimController(base.ClaimController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    @retry_on_deadlock
    def create(self, queue: str, project: str, ttl: int, grace: int,
               limit: int) -> base.Claim | None:
        at = self._driver.clock()
        claim_id = uuid.uuid4().hex
        life = at + ttl + grace
        with self._driver.write() as conn:
            rows = conn.execute(s.FREE_MESSAGES_LOCKED, {
                "in_project": project, "in_queue": queue, "now": at, "row_limit": limit}).all()
            if not rows:
                return None
            conn.execute(s.INSERT_CLAIM, {"id": claim_id, "queue_id": rows[0].queue_id,
                                          "ttl": ttl, "grace": grace, "created": at,
                                          "expires": at + ttl})
            # The rows are locked (or SQLite's write lock is held) since the select, so
            # the update takes exactly them and the claimed state is known without a
            # second read.
            conn.execute(s.CLAIM_MESSAGES, {"row_ids": [row.id for row in rows],
                                            "claim": claim_id, "claim_until": at + ttl,
                                            "life_until": life})
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
