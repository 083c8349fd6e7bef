"""Queues on MongoDB: one document per scope in ``queues`` (documents.py), kept once
the queue is deleted (``live`` False) so that its message numbers go on."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from zaqar.storage import base, errors
from zaqar.storage.mongodb import documents as d

if TYPE_CHECKING:
    from zaqar.storage.mongodb.driver import MongoDriver


class QueueController(base.QueueController):
    def __init__(self, driver: MongoDriver) -> None:
        self._driver = driver

    def create(self, name: str, project: str, metadata: dict[str, Any] | None = None) -> bool:
        queues = self._driver.db[d.QUEUES]
        scope_id = d.scope(name, project)
        text = json.dumps(metadata or {})
        try:
            queues.insert_one({"_id": scope_id, "p": project, "n": name, "m": text,
                               "c": self._driver.clock(), "live": True, "last": 0,
                               "posted": 0, "pa": 0.0, "lk": "", "lu": 0.0})
            return True
        except DuplicateKeyError:  # made before: alive, or deleted (then made again)
            revived = queues.update_one({"_id": scope_id, "live": False},
                                        {"$set": {"live": True, "m": text}})
            return revived.modified_count == 1

    def exists(self, name: str, project: str) -> bool:
        return self._driver.db[d.QUEUES].find_one(
            {"_id": d.scope(name, project), "live": True}, {"_id": 1}) is not None

    def get_metadata(self, name: str, project: str) -> dict[str, Any]:
        found = self._driver.db[d.QUEUES].find_one(
            {"_id": d.scope(name, project), "live": True}, {"m": 1})
        if found is None:
            raise errors.QueueDoesNotExist(name, project)
        metadata: dict[str, Any] = json.loads(found["m"])
        return metadata

    def set_metadata(self, name: str, project: str, metadata: dict[str, Any]) -> None:
        result = self._driver.db[d.QUEUES].update_one(
            {"_id": d.scope(name, project), "live": True}, {"$set": {"m": json.dumps(metadata)}})
        if result.matched_count == 0:
            raise errors.QueueDoesNotExist(name, project)

    def delete(self, name: str, project: str) -> None:
        """Under the queue's lock, so that no post is half stored meanwhile: the queue
        is marked dead (its metadata forgotten), then its messages and claims go."""
        with self._driver.locks.exclusive(name, project, {"live": False, "m": "{}"}) as found:
            if found:
                self._driver.remove_messages(d.scope(name, project))

    def list(self, project: str, marker: str | None = None, limit: int = 10,
             detailed: bool = False) -> list[base.QueueEntry]:
        query: dict[str, Any] = {"p": project, "live": True}
        if marker:
            query["n"] = {"$gt": marker}
        found = self._driver.db[d.QUEUES].find(query, {"n": 1, "m": 1}).sort("n", 1).limit(limit)
        return [base.QueueEntry(doc["n"], json.loads(doc["m"]) if detailed else None)
                for doc in found]

    def count(self, project: str) -> int:
        return self._driver.db[d.QUEUES].count_documents({"p": project, "live": True})

    def stats(self, name: str, project: str) -> base.QueueStats:
        now = self._driver.clock()
        messages = self._driver.db[d.MESSAGES]
        live = d.live(d.scope(name, project), now)
        total = messages.count_documents(live)
        if not total:
            return base.QueueStats(free=0, claimed=0)
        claimed = messages.count_documents({**live, "ce": {"$gt": now}})
        ends = [messages.find_one(live, sort=[("seq", order)]) for order in (1, -1)]
        oldest, newest = (d.to_message(doc, now) if doc else None for doc in ends)
        return base.QueueStats(free=total - claimed, claimed=claimed, oldest=oldest,
                               newest=newest)
