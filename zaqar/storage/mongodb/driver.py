"""The MongoDB data driver (pymongo): connection, indexes, garbage collection.

It needs no transactions, so it runs on a standalone server as on a replica set or a
sharded cluster: every change that must be atomic is an update of one document
(claims, claim-checked deletes, dead-letter moves), and a queue's posts take turns
under its numbering lock (locks.py). Expired documents are never returned; the TTL
indexes remove them some time later (MongoDB's TTL monitor runs once a minute), and
``collect_garbage`` removes them at once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pymongo
from oslo_config import cfg
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError

from zaqar.storage import base
from zaqar.storage.mongodb import documents as d
from zaqar.storage.mongodb.claims import ClaimController
from zaqar.storage.mongodb.locks import NumberingLocks
from zaqar.storage.mongodb.messages import MessageController
from zaqar.storage.mongodb.queues import QueueController
from zaqar.storage.mongodb.subscriptions import SubscriptionController
from zaqar.storage.mongodb.watch import PostWatch

LOG = logging.getLogger(__name__)
GROUP = "drivers:message_store:mongodb"
CLOSE_WAIT = 2.0  # seconds close() waits for each of pymongo's threads
# Lost or unreachable servers (AutoReconnect, ServerSelectionTimeoutError, ...),
# operations the server timed out, write concerns not met in time.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure, ExecutionTimeout,
                                                 WTimeoutError)


class MongoDriver(base.DataDriver):
    transient_errors = TRANSIENT_ERRORS

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        options = conf[GROUP]
        # Connects (and starts pymongo's monitor threads) at once: drivers are made in
        # the process that uses them (after any fork). Dates come back naive UTC.
        self.client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(options.uri)
        self.db: Database[dict[str, Any]] = self.client[options.database]
        self.locks = NumberingLocks(self.db[d.QUEUES], options)
        self.queues = QueueController(self)
        self.messages = MessageController(self)
        self.claims = ClaimController(self)
        self.subscriptions = SubscriptionController(self)

    def prepare(self) -> None:
        """Create the indexes (a no-op for those that exist)."""
        for collection, indexes in d.INDEXES.items():
            self.db[collection].create_indexes(indexes)

    def is_alive(self) -> bool:
        try:
            self.client.admin.command("ping")
        except PyMongoError as error:
            # No traceback: a store that is down is answered, not a bug, and probes
            # (health, ping, a pool URI checked) ask again and again.
            LOG.warning("Storage health check failed: %s", error)
            return False
        return True

    def remove_messages(self, scope_id: str) -> None:
        """Delete every message and claim of a scope (the caller holds its lock)."""
        self.db[d.MESSAGES].delete_many({"s": scope_id})
        self.db[d.CLAIMS].delete_many({"s": scope_id})

    def purge_messages(self, queue: str, project: str) -> None:
        with self.locks.exclusive(queue, project, {}) as found:
            if found:
                self.remove_messages(d.scope(queue, project))

    def collect_garbage(self) -> int:
        """Delete expired documents, ``[gc] batch_size`` at a time (the TTL indexes do
        the same later on their own)."""
        batch = self.conf.gc.batch_size
        removed = 0
        for name in (d.MESSAGES, d.CLAIMS, d.SUBSCRIPTIONS):
            collection = self.db[name]
            while True:
                expired = [doc["_id"] for doc in collection.find(
                    {"e": {"$lte": self.clock()}}, {"_id": 1}).limit(batch)]
                if expired:
                    removed += collection.delete_many({"_id": {"$in": expired}}).deleted_count
                if len(expired) < batch:
                    break
        return removed

    def watch_posts(self, on_post: Callable[[str, str], None]) -> PostWatch:
        """A change stream of ``queues`` where the server has them, polling elsewhere;
        see :class:`PostWatch`."""
        return PostWatch(self.db[d.QUEUES], on_post, self.conf[GROUP].reconnect_sleep)

    def close(self) -> None:
        """Close the client and wait for its monitor threads to end (pymongo stops them
        in the background, up to half a second later)."""
        executors = _background_executors(self.client)
        self.client.close()
        for executor in executors:
            executor.join(CLOSE_WAIT)


def _background_executors(client: pymongo.MongoClient[dict[str, Any]]) -> list[Any]:
    """The periodic executors behind pymongo's threads. Private attributes, looked up
    defensively: a pymongo that renames them only makes ``close`` return sooner."""
    found = [getattr(client, "_kill_cursors_executor", None)]
    topology = getattr(client, "_topology", None)
    for server in list(getattr(topology, "_servers", {}).values()):
        monitor = getattr(server, "_monitor", None)
        found.append(getattr(monitor, "_executor", None))
        found.append(getattr(getattr(monitor, "_rtt_monitor", None), "_executor", None))
    return [executor for executor in found if callable(getattr(executor, "join", None))]
