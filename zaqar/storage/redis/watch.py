"""Post announcements on Redis: a thread subscribed to the ``posts`` channel (keys.py).

The post script PUBLISHes each batch's scope; this watch hears it on a pub/sub
connection of its own and calls ``on_post(queue, project)``. Redis pub/sub keeps
nothing for a subscriber that is away, so announcements made while the watch
reconnects are lost: the contract (``DataDriver.watch_posts``) allows it.

On a Redis Cluster the post script's PUBLISH (classic, not sharded, pub/sub) reaches
every node over the cluster bus; the watch subscribes on the node redis-py picks for
the channel's slot, so it hears the posts stored on every master.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from zaqar.storage import base
from zaqar.storage.redis import records
from zaqar.storage.redis.connection import Client
from zaqar.storage.redis.keys import parse_scope_member

LOG = logging.getLogger(__name__)
# Seconds the thread waits for a message before it looks whether it should stop: how
# long close() may wait for it.
WAKE_EVERY = 0.2
# Seconds of silence after which the watch pings the server, and then waits as long
# for any reply before it takes the connection for lost (a half-open TCP connection
# would otherwise keep it deaf until the kernel gives up, hours later).
KEEPALIVE = 5.0
MAX_BACKOFF = 10.0  # seconds between reconnection attempts, at most
MIN_BACKOFF = 0.1
# Seconds the constructor waits for the server to confirm the subscription.
READY_TIMEOUT = 2.0


class PostWatch(base.Watch):
    """Listens on ``channel`` from a thread of its own until closed.

    The constructor returns once the server has confirmed the subscription (or after
    READY_TIMEOUT seconds, when it cannot be reached: the thread goes on trying), so a
    post made after it returns is heard. A lost connection is opened again, after
    ``backoff`` seconds, then twice as long after each failure up to :data:`MAX_BACKOFF`.
    """

    def __init__(self, client: Client, channel: str,
                 on_post: Callable[[str, str], None], backoff: float) -> None:
        self._client = client
        self._channel = channel
        self._on_post = on_post
        self._first_backoff = max(backoff, MIN_BACKOFF)
        self._closing = threading.Event()
        self._listening = threading.Event()
        # Held while on_post runs, so that close() waits for a call under way;
        # reentrant, so that on_post may close the watch.
        self._announcing = threading.RLock()
        self._thread = threading.Thread(target=self._run, name="zaqar-redis-post-watch",
                                        daemon=True)
        self._thread.start()
        self._listening.wait(READY_TIMEOUT)

    def close(self) -> None:
        with self._announcing:
            self._closing.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(WAKE_EVERY * 5)

    def _run(self) -> None:
        backoff = self._first_backoff
        while not self._closing.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self._channel)
                backoff = self._first_backoff
                self._listen(pubsub)
            except redis.RedisError as error:
                LOG.warning("Post watch on %s lost its connection (%s); reconnecting in "
                            "%.1f s", self._channel, error, backoff)
                self._closing.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                pubsub.close()

    def _listen(self, pubsub: redis.client.PubSub) -> None:
        """Until closing; raises a RedisError when the connection is lost."""
        last_heard = time.monotonic()
        pinged = False
        while not self._closing.is_set():
            message = pubsub.get_message(timeout=WAKE_EVERY)
            now = time.monotonic()
            if message is not None:
                last_heard, pinged = now, False
                if message["type"] == "message":
                    self._announce(message["data"])
                elif message["type"] == "subscribe":
                    self._listening.set()
            elif now - last_heard > KEEPALIVE * (2 if pinged else 1):
                if pinged:
                    raise redis.ConnectionError(f"no reply to a ping in {KEEPALIVE} s")
                pubsub.ping()
                pinged = True

    def _announce(self, scope: bytes | str) -> None:
        queue, project = parse_scope_member(records.text(scope))
        with self._announcing:
            if self._closing.is_set():
                return
            try:
                self._on_post(queue, project)
            except Exception:  # a caller's bug must not end the watch
                LOG.exception("Post watch: on_post(%r, %r) failed", queue, project)
