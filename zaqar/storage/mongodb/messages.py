"""Messages on MongoDB.

A post takes its numbers and stores its batch under the queue's numbering lock
(locks.py), so a queue's messages appear in number order. The batch is inserted
marked with the post's token (``tx``), invisible, and shown by one ``update_many``
once all of it is in: a poster that dies midway leaves nothing visible (the invisible
rest expires with its TTL and garbage collection removes it).
"""
from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument

from zaqar.storage import base, errors
from zaqar.storage.mongodb import documents as d

if TYPE_CHECKING:
    from zaqar.storage.mongodb.driver import MongoDriver


class MessageController(base.MessageController):
    def __init__(self, driver: MongoDriver) -> None:
        self._driver = driver

    def post(self, queue: str, project: str, messages: Sequence[base.NewMessage],
             client_id: str) -> list[str]:
        if not messages:
            return []
        now = self._driver.clock()
        scope_id = d.scope(queue, project)
        collection = self._driver.db[d.MESSAGES]
        with self._driver.locks.numbering(queue, project, len(messages), now) as held:
            first = held.last - len(messages) + 1
            collection.insert_many(
                [d.new_message(scope_id, first + offset, held.token, message, client_id, now)
                 for offset, message in enumerate(messages)])
            collection.update_many({"s": scope_id, "tx": held.token}, {"$set": {"tx": ""}})
        return [str(first + offset) for offset in range(len(messages))]

    def list(self, queue: str, project: str, client_id: str, marker: str | None = None,
             limit: int = 10, echo: bool = False, include_claimed: bool = False,
             include_delayed: bool = False) -> list[base.Message]:
        now = self._driver.clock()
        query = d.live(d.scope(queue, project), now)
        after = d.parse_number(marker) if marker else None
        if after is not None:
            query["seq"] = {"$gt": after}
        if not echo:
            query["k"] = {"$ne": client_id}
        if not include_claimed:
            query.update(d.free(now))
        if not include_delayed:
            query["v"] = {"$lte": now}
        found = self._driver.db[d.MESSAGES].find(query).sort("seq", 1).limit(limit)
        return [d.to_message(doc, now) for doc in found]

    def bulk_get(self, queue: str, project: str,
                 message_ids: Iterable[str]) -> builtins.list[base.Message]:
        numbers = d.parse_numbers(message_ids)
        if not numbers:
            return []
        now = self._driver.clock()
        query = {**d.live(d.scope(queue, project), now), "seq": {"$in": numbers}}
        return [d.to_message(doc, now)
                for doc in self._driver.db[d.MESSAGES].find(query).sort("seq", 1)]

    def delete(self, queue: str, project: str, message_id: str,
               claim_id: str | None = None) -> None:
        """The claim condition rides in the delete itself, so a claim taken between a
        check and the delete cannot be lost; only a refused delete looks again."""
        number = d.parse_number(message_id)
        if number is None:
            return
        now = self._driver.clock()
        collection = self._driver.db[d.MESSAGES]
        one = {"s": d.scope(queue, project), "seq": number}
        condition = {"ci": claim_id, "ce": {"$gt": now}} if claim_id else d.free(now)
        if collection.delete_one({**one, **condition}).deleted_count:
            return
        found = collection.find_one({**one, "tx": ""}, {"e": 1, "ce": 1})
        if found is None or found["e"] <= now:
            return
        if claim_id is None:
            raise errors.MessageIsClaimed(message_id)
        if found["ce"] <= now:
            raise errors.MessageNotClaimed(message_id)
        raise errors.MessageNotClaimedBy(message_id, claim_id)

    def bulk_delete(self, queue: str, project: str, message_ids: Iterable[str],
                    claim_ids: Sequence[str] | None = None) -> None:
        """With ``claim_ids``, the named messages are checked first and only those still
        held by one of the claims are deleted: a message whose claim ended between the
        check and the delete (and was claimed by another) stays."""
        numbers = d.parse_numbers(message_ids)
        if not numbers:
            return
        now = self._driver.clock()
        collection = self._driver.db[d.MESSAGES]
        named: dict[str, Any] = {"s": d.scope(queue, project), "seq": {"$in": numbers}}
        if claim_ids is None:
            collection.delete_many(named)
            return
        for doc in collection.find({**named, "tx": "", "e": {"$gt": now}},
                                   {"seq": 1, "ci": 1, "ce": 1}).sort("seq", 1):
            if doc["ce"] <= now:
                raise errors.MessageNotClaimed(str(doc["seq"]))
            if doc["ci"] not in claim_ids:
                raise errors.MessageNotClaimedBy(str(doc["seq"]), doc["ci"])
        collection.delete_many({**named, "ci": {"$in": builtins.list(claim_ids)}})

    def pop(self, queue: str, project: str, limit: int) -> builtins.list[base.Message]:
        """Each message is taken by one ``find_one_and_delete`` of the oldest free one:
        atomic, so concurrent pops never return one message twice."""
        now = self._driver.clock()
        query = {**d.live(d.scope(queue, project), now), **d.free(now), "v": {"$lte": now}}
        popped: builtins.list[base.Message] = []
        collection = self._driver.db[d.MESSAGES]
        while len(popped) < limit:
            doc = collection.find_one_and_delete(query, sort=[("seq", 1)])
            if doc is None:
                break
            popped.append(d.to_message(doc, now))
        return popped


def claim_one(driver: MongoDriver, doc_id: Any, now: float, claim_id: str, ttl: int,
              grace: int, below_count: int | None) -> dict[str, Any] | None:
    """Claim one message if it is still free (and claimed fewer than ``below_count``
    times); the message as claimed, or None. One ``find_one_and_update``."""
    life = now + ttl + grace
    query: dict[str, Any] = {"_id": doc_id, "e": {"$gt": now}, **d.free(now)}
    if below_count is not None:
        query["n"] = {"$lt": below_count}
    found = driver.db[d.MESSAGES].find_one_and_update(
        query, {"$set": {"ci": claim_id, "ce": now + ttl}, "$inc": {"n": 1},
                "$max": {"e": life, "ea": d.expiry_date(life)}},
        return_document=ReturnDocument.AFTER)
    return None if found is None else dict(found)


def new_claim_id() -> str:
    return uuid.uuid4().hex
