"""Claims on Redis.

A claim is a record in the queue's ``claims`` hash (with the ids it took) plus the claim
id and end in each message's state. Creation is one script that takes the oldest free
messages from the queue's ``free`` set and marks them, so two claimers, in any number of
processes, never take the same message: Redis runs one script at a time.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from zaqar.storage import base, errors
from zaqar.storage.redis import records
from zaqar.storage.redis.keys import ScopeKeys

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


class ClaimController(base.ClaimController):
    def __init__(self, driver: RedisDriver) -> None:
        self._driver = driver

    def create(self, queue: str, project: str, ttl: int, grace: int,
               limit: int) -> base.Claim | None:
        now = self._driver.clock()
        claim_id = uuid.uuid4().hex
        reply = self._driver.scripts.claim_create(self._scope(queue, project), now, claim_id,
                                                  ttl, grace, limit)
        if not reply:
            return None
        return base.Claim(id=claim_id, ttl=ttl, grace=grace, created=now,
                          messages=records.messages(reply, now))

    def get(self, queue: str, project: str, claim_id: str) -> base.Claim:
        now = self._driver.clock()
        reply = self._driver.scripts.claim_get(self._scope(queue, project), now, claim_id)
        if reply is None:
            raise errors.ClaimDoesNotExist(claim_id, queue)
        claim = records.unpack(reply[0])
        return base.Claim(id=claim_id, ttl=claim["t"], grace=claim["g"], created=claim["c"],
                          messages=records.messages(reply[1:], now))

    def update(self, queue: str, project: str, claim_id: str, ttl: int, grace: int) -> None:
        if not self._driver.scripts.claim_update(self._scope(queue, project),
                                                 self._driver.clock(), claim_id, ttl, grace):
            raise errors.ClaimDoesNotExist(claim_id, queue)

    def delete(self, queue: str, project: str, claim_id: str) -> None:
        self._driver.scripts.claim_delete(self._scope(queue, project), self._driver.clock(),
                                          claim_id)

    def _scope(self, queue: str, project: str) -> ScopeKeys:
        return self._driver.keyspace.scope(queue, project)
