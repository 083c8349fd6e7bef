"""Claims on MongoDB.

A claim is a document in ``claims`` plus ``ci`` / ``ce`` on each message it holds.
Each message is taken by a ``find_one_and_update`` conditioned on its being free, so
two claimers, in any number of processes, never take the same message (an update of
one document is atomic on every MongoDB). The claimer reads the oldest free messages,
takes those it can and reads on when others took some first.

Dead letters (base.DeadLetter) move by one update of their document each (queue,
number, times), conditioned on their still being free and dead: a message is in one
queue or the other, never both, never neither, whoever crashes. The move takes its
numbers under the dead-letter queue's numbering lock (locks.py), as a post would.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from zaqar.storage import base, errors
from zaqar.storage.mongodb import documents as d
from zaqar.storage.mongodb.locks import Held
from zaqar.storage.mongodb.messages import claim_one, new_claim_id

if TYPE_CHECKING:
    from zaqar.storage.mongodb.driver import MongoDriver


class ClaimController(base.ClaimController):
    def __init__(self, driver: MongoDriver) -> None:
        self._driver = driver

    def create(self, queue: str, project: str, ttl: int, grace: int, limit: int,
               dead_letter: base.DeadLetter | None = None) -> base.Claim | None:
        now = self._driver.clock()
        claim_id = new_claim_id()
        scope_id = d.scope(queue, project)
        if dead_letter is not None and dead_letter.queue == queue:
            dead_letter = None  # a move into the queue itself would never end
        below = None if dead_letter is None else dead_letter.max_claims
        candidates = {**d.live(scope_id, now), **d.free(now), "v": {"$lte": now}}
        taken: list[dict[str, Any]] = []
        with contextlib.ExitStack() as dead_letter_lock:
            mover = None if dead_letter is None else _Mover(
                self._driver, dead_letter, project, now, dead_letter_lock)
            while len(taken) < limit:
                batch = list(self._driver.db[d.MESSAGES].find(candidates).sort("seq", 1)
                             .limit(limit - len(taken)))
                if not batch:
                    break
                dead = [doc for doc in batch if below is not None and doc["n"] >= below]
                if dead and mover is not None:
                    mover.move(dead, scope_id)
                for doc in batch:
                    if below is not None and doc["n"] >= below:
                        continue
                    claimed = claim_one(self._driver, doc["_id"], now, claim_id, ttl, grace,
                                        below)
                    if claimed is not None:
                        if not taken:
                            self._insert(claim_id, scope_id, ttl, grace, now)
                        taken.append(claimed)
                # Passed messages are claimed or moved now: the next read finds others.
        if not taken:
            return None
        return base.Claim(id=claim_id, ttl=ttl, grace=grace, created=now,
                          messages=[d.to_message(doc, now) for doc in taken])

    def _insert(self, claim_id: str, scope_id: str, ttl: int, grace: int, now: float) -> None:
        self._driver.db[d.CLAIMS].insert_one({
            "_id": claim_id, "s": scope_id, "t": ttl, "g": grace, "c": now, "e": now + ttl,
            "ea": d.expiry_date(now + ttl)})

    def get(self, queue: str, project: str, claim_id: str) -> base.Claim:
        now = self._driver.clock()
        scope_id = d.scope(queue, project)
        claim = self._driver.db[d.CLAIMS].find_one(
            {"_id": claim_id, "s": scope_id, "e": {"$gt": now}})
        if claim is None:
            raise errors.ClaimDoesNotExist(claim_id, queue)
        held = self._driver.db[d.MESSAGES].find(
            {**d.live(scope_id, now), "ci": claim_id, "ce": {"$gt": now}}).sort("seq", 1)
        return base.Claim(id=claim_id, ttl=claim["t"], grace=claim["g"], created=claim["c"],
                          messages=[d.to_message(doc, now) for doc in held])

    def update(self, queue: str, project: str, claim_id: str, ttl: int, grace: int) -> None:
        now = self._driver.clock()
        scope_id = d.scope(queue, project)
        renewed = self._driver.db[d.CLAIMS].update_one(
            {"_id": claim_id, "s": scope_id, "e": {"$gt": now}},
            {"$set": {"t": ttl, "g": grace, "e": now + ttl, "ea": d.expiry_date(now + ttl)}})
        if renewed.matched_count == 0:
            raise errors.ClaimDoesNotExist(claim_id, queue)
        life = now + ttl + grace
        self._driver.db[d.MESSAGES].update_many(
            {"s": scope_id, "ci": claim_id, "ce": {"$gt": now}},
            {"$set": {"ce": now + ttl}, "$max": {"e": life, "ea": d.expiry_date(life)}})

    def delete(self, queue: str, project: str, claim_id: str) -> None:
        scope_id = d.scope(queue, project)
        self._driver.db[d.MESSAGES].update_many({"s": scope_id, "ci": claim_id},
                                                {"$set": {"ci": "", "ce": 0.0}})
        self._driver.db[d.CLAIMS].delete_one({"_id": claim_id, "s": scope_id})


class _Mover:
    """Moves dead letters of one claim, holding the dead-letter queue's numbering lock
    from the first move to the end of the claim (``lock_stack``)."""

    def __init__(self, driver: MongoDriver, dead_letter: base.DeadLetter, project: str,
                 now: float, lock_stack: contextlib.ExitStack) -> None:
        self._driver = driver
        self._dead_letter = dead_letter
        self._project = project
        self._now = now
        self._stack = lock_stack
        self._held: Held | None = None
        self._target = d.scope(dead_letter.queue, project)

    def move(self, docs: list[dict[str, Any]], source: str) -> None:
        """Each document moves if still free and dead; numbers taken for one that
        another claimer moved first are left unused (ids may have gaps, never repeats)."""
        if self._held is None:
            self._held = self._stack.enter_context(self._driver.locks.numbering(
                self._dead_letter.queue, self._project, len(docs), self._now))
            first = self._held.last - len(docs) + 1
        else:
            first = self._driver.locks.take_more(self._held, len(docs))
        now = self._now
        for offset, doc in enumerate(docs):
            expires = now + (self._dead_letter.ttl or int(round(doc["e"] - doc["c"])))
            self._driver.db[d.MESSAGES].update_one(
                {"_id": doc["_id"], "s": source, "e": {"$gt": now},
                 "n": {"$gte": self._dead_letter.max_claims}, **d.free(now)},
                {"$set": {"s": self._target, "seq": first + offset, "tx": "", "c": now,
                          "e": expires, "ea": d.expiry_date(expires), "v": 0.0, "ci": "",
                          "ce": 0.0}})
