"""Claims on Redis.

A claim is a record in the queue's ``claims`` hash (with the ids it took) plus the claim
id and end in each message's state. Creation is one script that takes the oldest free
messages from the queue's ``free`` set and marks them, so two claimers, in any number of
processes, never take the same message: Redis runs one script at a time. The same
script moves dead letters (base.DeadLetter) to their queue (on a cluster, half-way:
dead_letters.py).
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from zaqar.storage import base, errors
from zaqar.storage.redis import dead_letters, records
from zaqar.storage.redis.keys import ScopeKeys, scope_member

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


class ClaimController(base.ClaimController):
    def __init__(self, driver: RedisDriver) -> None:
        self._driver = driver

    def create(self, queue: str, project: str, ttl: int, grace: int, limit: int,
               dead_letter: base.DeadLetter | None = None) -> base.Claim | None:
        """One script; with ``dead_letter`` it is given the dead-letter queue's keys as
        well (a script may touch only the keys it declares), and moves dead letters
        there in the same atomic step as the claim. On a cluster it puts them in the
        queue's outbox instead, and they are moved on after it (dead_letters.py)."""
        now = self._driver.clock()
        claim_id = uuid.uuid4().hex
        keys: tuple[str, ...] = self._scope(queue, project)
        args: tuple[object, ...] = (claim_id, ttl, grace, limit)
        if dead_letter is not None and dead_letter.queue != queue:
            keys += self._scope(dead_letter.queue, project)
            args += (dead_letter.max_claims, "" if dead_letter.ttl is None else dead_letter.ttl,
                     dead_letter.queue, scope_member(dead_letter.queue, project),
                     self._driver.keyspace.posts)
        reply = self._driver.scripts.claim_create(keys, now, *args)
        if self._driver.cluster and dead_letter is not None and dead_letter.queue != queue:
            dead_letters.move_on(self._driver, queue, project)
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
