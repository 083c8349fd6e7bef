"""Post announcements on MongoDB: a thread that sees each completed post.

A post ends by setting its queue document's ``pa`` (locks.py). Where the server has
change streams (a replica set or a sharded cluster; not a standalone server), the
thread follows a change stream of ``queues`` and announces the updates that set
``pa``. Elsewhere it polls: every :data:`POLL_EVERY` seconds it reads the queue
documents whose ``pa`` is recent and announces those whose ``pa`` moved since it last
looked. A change stream resumes after a lost connection only from where it is opened
again, so announcements made meanwhile are lost; the contract (``DataDriver.
watch_posts``) allows it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import OperationFailure, PyMongoError

from zaqar.storage import base
from zaqar.storage.mongodb.documents import parse_scope

LOG = logging.getLogger(__name__)
WAKE_EVERY = 0.2  # seconds a change stream waits for a change: how long close() may wait
POLL_EVERY = 0.2  # seconds between two polls
# Seconds of ``pa`` a poll reads back: covers the clocks of the writing nodes being
# behind this one's, and a poll that comes late.
POLL_WINDOW = 5.0
MAX_BACKOFF = 10.0
MIN_BACKOFF = 0.01
READY_TIMEOUT = 2.0


class PostWatch(base.Watch):
    """Watches ``queues`` from a thread of its own until closed (the change stream or
    the polls take a connection of the client's pool); the constructor returns once it
    listens (or after READY_TIMEOUT seconds when the server cannot be reached: the
    thread goes on trying). ``use_change_streams`` False polls even where the server
    has change streams."""

    def __init__(self, queues: Collection, on_post: Callable[[str, str], None],
                 backoff: float, use_change_streams: bool = True) -> None:
        self._queues = queues
        self._on_post = on_post
        self._first_backoff = max(backoff, MIN_BACKOFF)
        self._streams = use_change_streams
        self._started = time.time()
        self._seen: dict[str, float] = {}  # scope -> the last ``pa`` known
        self._closing = threading.Event()
        self._listening = threading.Event()
        self._announcing = threading.RLock()
        self._thread = threading.Thread(target=self._run, name="zaqar-mongodb-post-watch",
                                        daemon=True)
        self._thread.start()
        self._listening.wait(READY_TIMEOUT)

    @property
    def mode(self) -> str:
        """"change stream" or "polling": what the watch does now."""
        return "change stream" if self._streams else "polling"

    def close(self) -> None:
        with self._announcing:
            self._closing.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(WAKE_EVERY * 5 + POLL_EVERY)

    def _run(self) -> None:
        backoff = self._first_backoff
        while not self._closing.is_set():
            try:
                if self._streams:
                    self._follow_stream()
                else:
                    self._poll()
            except OperationFailure as error:
                if self._streams and _no_change_streams(error):
                    LOG.info("No change streams on this server (%s): polling for posts",
                             error)
                    self._streams = False
                    continue
                backoff = self._wait(error, backoff)
            except PyMongoError as error:
                backoff = self._wait(error, backoff)

    def _wait(self, error: Exception, backoff: float) -> float:
        LOG.warning("Post watch lost the server (%s); again in %.2f s", error, backoff)
        self._closing.wait(backoff)
        return min(backoff * 2, MAX_BACKOFF)

    def _follow_stream(self) -> None:
        with self._queues.watch(max_await_time_ms=int(WAKE_EVERY * 1000)) as stream:
            self._listening.set()
            while not self._closing.is_set() and stream.alive:
                change = stream.try_next()
                if change is not None:
                    self._on_change(change)

    def _on_change(self, change: dict[str, Any]) -> None:
        if change.get("operationType") != "update":
            return
        scope_id = change["documentKey"]["_id"]
        described = change.get("updateDescription")
        if described:
            if "pa" in described.get("updatedFields", {}):
                self._announce(scope_id)
            return
        # A server that sends the document rather than what changed (the stand-in).
        document = change.get("fullDocument") or {}
        self._moved(scope_id, float(document.get("pa", 0.0)), self._started)

    def _poll(self) -> None:
        """Polls until closing. The first read only learns where each queue stands."""
        first = True
        while not self._closing.is_set():
            since = time.time() - POLL_WINDOW
            for doc in self._queues.find({"pa": {"$gt": since}}, {"pa": 1}):
                if first:
                    self._seen[doc["_id"]] = doc["pa"]
                else:
                    self._moved(doc["_id"], doc["pa"], since)
            self._seen = {key: at for key, at in self._seen.items() if at > since}
            first = False
            self._listening.set()
            self._closing.wait(POLL_EVERY)

    def _moved(self, scope_id: str, posted_at: float, unseen_after: float) -> None:
        """Announce a ``pa`` other than the one known; for a queue not known yet, one
        after ``unseen_after``."""
        known = self._seen.get(scope_id)
        self._seen[scope_id] = posted_at
        if posted_at and (posted_at != known if known is not None
                          else posted_at > unseen_after):
            self._announce(scope_id)

    def _announce(self, scope_id: str) -> None:
        queue, project = parse_scope(scope_id)
        with self._announcing:
            if self._closing.is_set():
                return
            try:
                self._on_post(queue, project)
            except Exception:  # a caller's bug must not end the watch
                LOG.exception("Post watch: on_post(%r, %r) failed", queue, project)


def _no_change_streams(error: OperationFailure) -> bool:
    """A standalone server refuses change streams (40573); servers too old to know
    the stage, and stand-ins that lack it, refuse the command or the stage."""
    return error.code in (40573, 40324, 59, 115) or "changeStream" in str(error)
