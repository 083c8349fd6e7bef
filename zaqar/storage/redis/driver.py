"""The Redis data driver: connection, scripts, garbage collection.

Redis should run with ``maxmemory-policy noeviction``: any other policy may evict
messages (the volatile ones pick exactly the keys that carry the safety-net expiry).
Persistence (AOF or RDB) is the deployment's choice; without it a restart loses
everything.

On a Redis Cluster (``redis+cluster://``) each script touches one scope's hash slot, and
the global and per-project keys (keys.py) are written by separate commands, in an order
that a crash between them cannot turn into a lost or unseen message:

- a queue is registered (:meth:`RedisDriver.register_queue`: its metadata field, its
  name, its scope in ``scopes``, then its ``queue`` marker in its own slot) before a
  post stores anything in it: the post script stores nothing without the marker, so a
  registration cut short is done again by the next post;
- a queue's marker and messages are deleted (one command) before its name and
  metadata, so a delete cut short leaves an empty queue, never a queue-less one;
- a scope leaves ``scopes`` (garbage collection) or ``subscribed-scopes`` only after a
  look at what it holds, which is made again after the removal and puts the member back
  if a queue or subscription came in the meantime (their creators add it after them);
- dead letters move in two steps (dead_letters.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from oslo_config import cfg
from redis.cluster import RedisCluster

from zaqar.storage import base
from zaqar.storage.redis import connection, dead_letters, records
from zaqar.storage.redis.claims import ClaimController
from zaqar.storage.redis.keys import Keyspace, ScopeKeys, parse_scope_member, scope_member
from zaqar.storage.redis.leases import SubscriptionController
from zaqar.storage.redis.messages import MessageController
from zaqar.storage.redis.queues import QueueController
from zaqar.storage.redis.scripts import Scripts, ThreadClients
from zaqar.storage.redis.watch import PostWatch

LOG = logging.getLogger(__name__)
GROUP = "drivers:message_store:redis"
# redis-py raises its own ConnectionError and TimeoutError (not the builtins); Sentinel's
# MasterNotFoundError and a server still loading its data are ConnectionErrors. A
# read-only reply comes from a master demoted to replica until clients move on. On a
# cluster, a slot without a master (a failover under way) is one of the last three,
# once redis-py's own retries are spent.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError,
    redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError,
    redis.exceptions.SlotNotCoveredError)
MINIMUM_SERVER = (5, 0)
_SCOPES_PER_ROUND = 100  # scopes whose garbage one pipelined round trip collects


class RedisDriver(base.DataDriver):
    transient_errors = TRANSIENT_ERRORS

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        options = conf[GROUP]
        location = connection.parse_uri(options.uri)
        self.cluster = location.cluster
        self.keyspace = Keyspace(options.key_prefix, cluster=location.cluster)
        self._clients = ThreadClients(connection.connect(location, options))
        self.scripts = Scripts(self._clients)
        self.queues = QueueController(self)
        self.messages = MessageController(self)
        self.claims = ClaimController(self)
        self.subscriptions = SubscriptionController(self)

    def prepare(self) -> None:
        """Check the server's version and load the scripts. Raises RuntimeError for a
        server older than Redis 5."""
        client = self.client
        if isinstance(client, RedisCluster):  # the oldest of the masters
            found = client.info("server", target_nodes=RedisCluster.PRIMARIES)
            version = min((str(info["redis_version"]) for info in found.values()),
                          key=_version)
        else:
            version = str(client.info("server")["redis_version"])
        if _version(version) < MINIMUM_SERVER:
            raise RuntimeError(f"The Redis driver needs Redis {MINIMUM_SERVER[0]} or later; "
                               f"the server runs {version}.")
        self.scripts.load()

    @property
    def client(self) -> connection.Client:
        """The calling thread's client (see :class:`ThreadClients`)."""
        return self._clients.get()

    def is_alive(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError as error:
            # No traceback: a store that is down is answered, not a bug, and probes
            # (health, ping, a pool URI checked) ask again and again.
            LOG.warning("Storage health check failed: %s", error)
            return False

    def register_queue(self, name: str, project: str, metadata: str = "{}") -> bool:
        """Cluster: create the queue (with ``metadata``, JSON) unless it exists, put its
        scope in ``scopes``, then set its marker (keys.py), and add the scope again (a
        garbage collection may have taken it out before the marker was there). Three
        round trips, not atomic: cut short, the marker is missing and the next post
        registers the queue again. Returns whether it was created."""
        keys, member = self.keyspace.scope(name, project), scope_member(name, project)
        client = self.client
        with client.pipeline(transaction=False) as pipe:
            pipe.hsetnx(keys.queue_metadata, name, metadata)
            pipe.zadd(keys.queue_names, {name: 0})
            pipe.sadd(keys.scopes, member)
            created, _, _ = pipe.execute()
        client.set(keys.queue_marker, 1)
        client.sadd(keys.scopes, member)
        return bool(created)

    def purge_messages(self, queue: str, project: str) -> None:
        if self.cluster:  # dead letters on their way out are not the queue's to purge
            dead_letters.move_on(self, queue, project)
        self.client.delete(*self.keyspace.scope(queue, project).of_messages)

    def collect_garbage(self) -> int:
        """Remove expired messages, claims and subscriptions of every scope, at most
        ``[gc] batch_size`` of each per script; one pipelined round trip per
        ``_SCOPES_PER_ROUND`` scopes."""
        batch = self.conf.gc.batch_size
        now = self.clock()
        if self.cluster:
            return self._collect_on_cluster(now, batch)
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
            removed += sum(int(reply[0]) for reply in replies)
            members = [member for member, reply in zip(members, replies, strict=True)
                       if reply[1]]
        return removed

    def _collect_on_cluster(self, now: float, batch: int) -> int:
        """One scope at a time (each script on its slot's master); dead letters in an
        outbox are moved on, and a scope's members of ``subscribed-scopes`` and
        ``scopes`` go when it holds no subscription (and no queue)."""
        client, keyspace = self.client, self.keyspace
        removed = 0
        for raw in list(client.sscan_iter(keyspace.scopes, count=_SCOPES_PER_ROUND)):
            member = records.text(raw)
            queue, project = parse_scope_member(member)
            keys = keyspace.scope(queue, project)
            more = 1
            while more:
                count, more, subscribed, waiting, registered = (
                    int(part) for part in
                    self.scripts.collect_garbage(keys, now, batch, queue, member))
                removed += count
            if waiting:
                dead_letters.move_on(self, queue, project)
            if not subscribed:
                self._forget_scope(keys, member, bool(registered))
        return removed

    def _forget_scope(self, keys: ScopeKeys, member: str, registered: bool) -> None:
        """Take ``member`` out of ``subscribed-scopes``, and out of ``scopes`` unless
        its queue is ``registered``; then look again, and put it back where a
        subscription or the queue came in between (their creators add the member after
        writing them, so one of the two sees the other)."""
        client = self.client
        client.srem(keys.subscribed_scopes, member)
        if client.exists(keys.subscriptions):
            client.sadd(keys.subscribed_scopes, member)
            return
        if registered:
            return
        client.srem(keys.scopes, member)
        if client.exists(keys.queue_marker, keys.subscriptions):
            client.sadd(keys.scopes, member)

    def watch_posts(self, on_post: Callable[[str, str], None]) -> PostWatch:
        """Listen on the ``posts`` channel the post script publishes to (keys.py), on a
        connection of the watch's own; see :class:`PostWatch`."""
        return PostWatch(self._clients.shared, self.keyspace.posts, on_post,
                         self.conf[GROUP].reconnect_sleep)

    def close(self) -> None:
        shared = self._clients.shared
        if not isinstance(shared, RedisCluster):
            shared.connection_pool.disconnect()
        shared.close()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])
