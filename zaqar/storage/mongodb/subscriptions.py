"""Subscriptions on MongoDB: documents in ``subscriptions`` (documents.py); a unique
index on (project, queue, subscriber digest) keeps one per subscriber."""
from __future__ import annotations

import builtins
import json
import uuid
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from zaqar.storage import base, errors
from zaqar.storage.mongodb import documents as d

if TYPE_CHECKING:
    from zaqar.storage.mongodb.driver import MongoDriver


class SubscriptionController(base.SubscriptionController):
    def __init__(self, driver: MongoDriver) -> None:
        self._driver = driver

    def _scope(self, queue: str, project: str, now: float) -> dict[str, Any]:
        return {"p": project, "q": queue, "e": {"$gt": now}}

    def create(self, queue: str, project: str, subscriber: str, ttl: int,
               options: dict[str, Any], notice: str | None = None) -> str:
        """The cursor is the queue's last completed post (``posted``)."""
        now = self._driver.clock()
        subscription_id = uuid.uuid4().hex
        digest = d.digest(subscriber)
        collection = self._driver.db[d.SUBSCRIPTIONS]
        # An expired twin holds the unique key until it is removed; it is dead: replace it.
        collection.delete_one({"p": project, "q": queue, "d": digest, "e": {"$lte": now}})
        found = self._driver.db[d.QUEUES].find_one({"_id": d.scope(queue, project)},
                                                   {"posted": 1})
        newest = found["posted"] if found else 0
        try:
            collection.insert_one({
                "_id": subscription_id, "p": project, "q": queue, "sub": subscriber,
                "d": digest, "t": ttl, "c": now, "e": now + ttl, "ea": d.expiry_date(now + ttl),
                "o": json.dumps(options), "ok": False, "dc": str(newest) if newest else "",
                "dn": notice or "", "dr": "{}"})
        except DuplicateKeyError:
            raise errors.SubscriptionAlreadyExists(subscriber, queue) from None
        return subscription_id

    def find(self, queue: str, project: str, subscriber: str) -> base.Subscription | None:
        found = self._driver.db[d.SUBSCRIPTIONS].find_one(
            {**self._scope(queue, project, self._driver.clock()), "d": d.digest(subscriber)})
        return None if found is None else d.to_subscription(found)

    def list_all(self, marker: str | None = None,
                 limit: int = 100) -> builtins.list[base.Subscription]:
        query: dict[str, Any] = {"e": {"$gt": self._driver.clock()}}
        if marker:
            query["_id"] = {"$gt": marker}
        found = self._driver.db[d.SUBSCRIPTIONS].find(query).sort("_id", 1).limit(limit)
        return [d.to_subscription(doc) for doc in found]

    def record_delivery(self, queue: str, project: str, subscription_id: str,
                        cursor: str | None, record: dict[str, Any]) -> None:
        self._set(queue, project, subscription_id, {"dc": cursor or "", "dr": json.dumps(record)})

    def set_notice(self, queue: str, project: str, subscription_id: str,
                   notice: str | None) -> None:
        self._set(queue, project, subscription_id, {"dn": notice or ""})

    def _set(self, queue: str, project: str, subscription_id: str,
             values: dict[str, Any]) -> None:
        try:
            result = self._driver.db[d.SUBSCRIPTIONS].update_one(
                {"_id": subscription_id, **self._scope(queue, project, self._driver.clock())},
                {"$set": values})
        except DuplicateKeyError:
            raise errors.SubscriptionAlreadyExists(values.get("sub", ""), queue) from None
        if result.matched_count == 0:
            raise errors.SubscriptionDoesNotExist(subscription_id)

    def acquire_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str, seconds: float) -> bool:
        """One conditional update of the subscription's document (atomic on it): the
        lease is its ``lh`` (holder) and ``le`` (end) fields."""
        now = self._driver.clock()
        result = self._driver.db[d.SUBSCRIPTIONS].update_one(
            {"_id": subscription_id, **self._scope(queue, project, now),
             "$or": [{"lh": None}, {"lh": holder}, {"le": {"$lte": now}}]},
            {"$set": {"lh": holder, "le": now + seconds}})
        if result.matched_count == 0:
            self.get(queue, project, subscription_id)  # raises for a missing one
        return result.matched_count == 1

    def release_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str) -> None:
        self._driver.db[d.SUBSCRIPTIONS].update_one(
            {"_id": subscription_id, "p": project, "q": queue, "lh": holder},
            {"$unset": {"lh": "", "le": ""}})

    def list(self, queue: str, project: str, marker: str | None = None,
             limit: int = 10) -> builtins.list[base.Subscription]:
        query = self._scope(queue, project, self._driver.clock())
        if marker:
            query["_id"] = {"$gt": marker}
        found = self._driver.db[d.SUBSCRIPTIONS].find(query).sort("_id", 1).limit(limit)
        return [d.to_subscription(doc) for doc in found]

    def get(self, queue: str, project: str, subscription_id: str) -> base.Subscription:
        found = self._driver.db[d.SUBSCRIPTIONS].find_one(
            {"_id": subscription_id, **self._scope(queue, project, self._driver.clock())})
        if found is None:
            raise errors.SubscriptionDoesNotExist(subscription_id)
        return d.to_subscription(found)

    def update(self, queue: str, project: str, subscription_id: str,
               fields: dict[str, Any]) -> None:
        now = self._driver.clock()
        values: dict[str, Any] = {}
        if "subscriber" in fields:
            values["sub"] = fields["subscriber"]
            values["d"] = d.digest(fields["subscriber"])
            # An expired twin would hold the subscriber's key: it is dead, remove it.
            self._driver.db[d.SUBSCRIPTIONS].delete_one(
                {"p": project, "q": queue, "d": values["d"], "e": {"$lte": now}})
        if "ttl" in fields:
            values["t"] = fields["ttl"]
            values["e"] = now + fields["ttl"]
            values["ea"] = d.expiry_date(values["e"])
        if "options" in fields:
            values["o"] = json.dumps(fields["options"])
        if not values:
            self.get(queue, project, subscription_id)
            return
        self._set(queue, project, subscription_id, values)

    def confirm(self, queue: str, project: str, subscription_id: str, confirmed: bool) -> None:
        self._set(queue, project, subscription_id, {"ok": confirmed})

    def delete(self, queue: str, project: str, subscription_id: str) -> None:
        self._driver.db[d.SUBSCRIPTIONS].delete_one(
            {"_id": subscription_id, "p": project, "q": queue})

    def purge(self, queue: str, project: str) -> None:
        self._driver.db[d.SUBSCRIPTIONS].delete_many({"p": project, "q": queue})
