"""The numbering lock of a queue: what keeps a queue's message numbers in post order.

A post takes numbers from the queue's document (``last``) and stores its messages
under them; a reader paging by marker must never pass a number whose message is stored
later. MongoDB without transactions (a standalone server has none) cannot make the two
steps one, so posts to one queue take turns: a post holds the queue's lock from taking
its numbers until its batch is stored, as the SQL driver holds the queue's row lock.
Taking the lock and the numbers is one ``find_one_and_update`` (atomic on any server);
a queue's first post inserts its document first. Posts to different queues never
wait for each other.

The lock is a lease of :data:`LEASE` seconds of wall-clock time: a holder that died
delays the queue's next post that long, no more. A holder stalled longer than the lease
may store its batch after a later post's (the one guarantee a lease cannot give).
"""
from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from oslo_config import cfg
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from zaqar.storage import errors
from zaqar.storage.mongodb import documents as d

LEASE = 10.0  # seconds


@dataclass
class Held:
    """A lock held: its token, and the queue document as the lock left it."""

    token: str
    queue: dict[str, Any]

    @property
    def last(self) -> int:
        return int(self.queue["last"])


class NumberingLocks:
    def __init__(self, queues: Collection, options: cfg.ConfigOpts) -> None:
        self._queues = queues
        self._attempts = options.max_attempts
        self._max_sleep = options.max_retry_sleep
        self._jitter = options.max_retry_jitter

    @contextmanager
    def numbering(self, queue: str, project: str, count: int, at: float,
                  make_live: bool = True) -> Iterator[Held]:
        """Hold the queue's lock with ``count`` new numbers taken (``held.last`` is the
        last of them), the queue created or made live again when ``make_live``.

        Leaving the block releases the lock; a normal exit also records the post
        (``posted``, ``pa``) for the post watch. Raises StorageUnavailable after
        ``max_attempts`` attempts.
        """
        scope_id = d.scope(queue, project)
        token = uuid.uuid4().hex
        update: dict[str, Any] = {
            "$set": {"lk": token, "lu": time.time() + LEASE, "live": True},
            "$inc": {"last": count}}
        new_queue = {"_id": scope_id, "p": project, "n": queue, "m": "{}", "c": at,
                     "live": True, "last": 0, "posted": 0, "pa": 0.0, "lk": "", "lu": 0.0}
        held = Held(token, self._take(scope_id, update, new_queue))
        try:
            yield held
        except BaseException:
            self._queues.update_one({"_id": scope_id, "lk": token},
                                    {"$set": {"lk": "", "lu": 0.0}})
            raise
        self._queues.update_one({"_id": scope_id, "lk": token}, {"$set": {
            "lk": "", "lu": 0.0, "posted": held.last, "pa": time.time()}})

    def take_more(self, held: Held, count: int) -> int:
        """``count`` more numbers under a lock held; the first of them."""
        found = self._queues.find_one_and_update(
            {"_id": held.queue["_id"], "lk": held.token}, {"$inc": {"last": count}},
            return_document=ReturnDocument.AFTER)
        if found is None:
            raise errors.StorageUnavailable(
                f"Queue {held.queue['_id']!r} lost its numbering lock (lease over).")
        held.queue = dict(found)
        return held.last - count + 1

    @contextmanager
    def exclusive(self, queue: str, project: str, changes: dict[str, Any]) -> Iterator[bool]:
        """Hold an existing queue's lock with ``changes`` set (a deletion marks the
        queue dead); yields False, holding nothing, for a queue never made."""
        scope_id = d.scope(queue, project)
        if self._queues.find_one({"_id": scope_id}, {"_id": 1}) is None:
            yield False
            return
        token = uuid.uuid4().hex
        self._take(scope_id, {"$set": {"lk": token, "lu": time.time() + LEASE, **changes}})
        try:
            yield True
        finally:
            self._queues.update_one({"_id": scope_id, "lk": token},
                                    {"$set": {"lk": "", "lu": 0.0}})

    def _take(self, scope_id: str, update: dict[str, Any],
              new_queue: dict[str, Any] | None = None) -> dict[str, Any]:
        """The lock, taken with ``update``. When the first attempt finds the queue locked
        or missing, ``new_queue`` (if given) is inserted, a no-op for a queue that
        exists. (Not an upsert with $setOnInsert: the stand-in ignores $setOnInsert.)"""
        for attempt in range(1, self._attempts + 1):
            found = self._queues.find_one_and_update(
                {"_id": scope_id, "lu": {"$lt": time.time()}}, update,
                return_document=ReturnDocument.AFTER)
            if found is not None:
                return dict(found)
            if new_queue is not None:
                try:
                    self._queues.insert_one(new_queue)
                    continue  # made: take its lock at once
                except DuplicateKeyError:  # it exists, and another holds its lock
                    new_queue = None
            time.sleep(min(self._max_sleep, 0.001 * attempt)
                       + random.uniform(0, self._jitter))
        raise errors.StorageUnavailable(
            f"Queue {scope_id!r} stayed locked by other writers through "
            f"{self._attempts} attempts.")
