"""The Redis data driver: connection, scripts, garbage collection.

Redis should run with ``maxmemory-policy noeviction``: any other policy may evict
messages (the volatile ones pick exactly the keys that carry the safety-net expiry).
Persistence (AOF or RDB) is the deployment's choice; without it a restart loses
everything.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from oslo_config import cfg

from zaqar.storage import base
from zaqar.storage.redis import connection, records
from zaqar.storage.redis.claims import ClaimController
from zaqar.storage.redis.keys import Keyspace, parse_scope_member
from zaqar.storage.redis.messages import MessageController
from zaqar.storage.redis.queues import QueueController
from zaqar.storage.redis.scripts import Scripts, ThreadClients
from zaqar.storage.redis.subscriptions import SubscriptionController
from zaqar.storage.redis.watch import PostWatch

LOG = logging.getLogger(__name__)
GROUP = "drivers:message_store:redis"
# redis-py raises its own ConnectionError and TimeoutError (not the builtins); Sentinel's
# MasterNotFoundError and a server still loading its data are ConnectionErrors. A
# read-only reply comes from a master demoted to replica until clients move on.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)
MINIMUM_SERVER = (5, 0)
_SCOPES_PER_ROUND = 100  # scopes whose garbage one pipelined round trip collects


class RedisDriver(base.DataDriver):
    transient_errors = TRANSIENT_ERRORS

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        options = conf[GROUP]
        self._clients = ThreadClients(
            connection.connect(connection.parse_uri(options.uri), options))
        self.keyspace = Keyspace(options.key_prefix)
        self.scripts = Scripts(self._clients)
        self.queues = QueueController(self)
        self.messages = MessageController(self)
        self.claims = ClaimController(self)
        self.subscriptions = SubscriptionController(self)

    def prepare(self) -> None:
        """Check the server's version and load the scripts. Raises RuntimeError for a
        server older than Redis 5."""
        version = str(self.client.info("server")["redis_version"])
        if tuple(int(part) for part in version.split(".")[:2]) < MINIMUM_SERVER:
            raise RuntimeError(f"The Redis driver needs Redis {MINIMUM_SERVER[0]} or later; "
                               f"the server runs {version}.")
        self.scripts.load()

    @property
    def client(self) -> redis.Redis:
        """The calling thread's client (see :class:`ThreadClients`)."""
        return self._clients.get()

    def is_alive(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            LOG.exception("Storage health check failed")
            return False

    def purge_messages(self, queue: str, project: str) -> None:
        self.client.delete(*self.keyspace.scope(queue, project).of_messages)

    def collect_garbage(self) -> int:
        """Remove expired messages, claims and subscriptions of every scope, at most
        ``[gc] batch_size`` of each per script; one pipelined round trip per
        ``_SCOPES_PER_ROUND`` scopes."""
        batch = self.conf.gc.batch_size
        now = self.clock()
        removed = 0
        pending: list[str] = []
        for member in self.client.sscan_iter(self.keyspace.scopes, count=_SCOPES_PER_ROUND):
            pending.append(records.text(member))
            if len(pending) == _SCOPES_PER_ROUND:
                removed += self._collect(pending, now, batch)
                pending = []
        return removed + self._collect(pending, now, batch)

    def _collect(self, members: list[str], now: float, batch: int) -> int:
        removed = 0
        while members:
            with self.client.pipeline(transaction=False) as pipe:
                for member in members:
                    queue, project = parse_scope_member(member)
                    self.scripts.collect_garbage(self.keyspace.scope(queue, project), now,
                                                 batch, queue, member, pipeline=pipe)
                replies = pipe.execute()
            removed += sum(int(count) for count, _ in replies)
            members = [member for member, (_, more) in zip(members, replies, strict=True)
                       if more]
        return removed

    def watch_posts(self, on_post: Callable[[str, str], None]) -> PostWatch:
        """Listen on the ``posts`` channel the post script publishes to (keys.py), on a
        connection of the watch's own; see :class:`PostWatch`."""
        return PostWatch(self._clients.shared, self.keyspace.posts, on_post,
                         self.conf[GROUP].reconnect_sleep)

    def close(self) -> None:
        self._clients.shared.connection_pool.disconnect()
        self._clients.shared.close()
