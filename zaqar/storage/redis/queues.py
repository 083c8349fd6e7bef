"""Queues on Redis: a name in the project's ``queues`` set, metadata in its
``queue-metadata`` hash (zaqar/storage/redis/keys.py)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zaqar.storage import base, errors
from zaqar.storage.redis import dead_letters, records
from zaqar.storage.redis.keys import scope_member

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


class QueueController(base.QueueController):
    def __init__(self, driver: RedisDriver) -> None:
        self._driver = driver

    def create(self, name: str, project: str, metadata: dict[str, Any] | None = None) -> bool:
        """One MULTI; on a cluster, :meth:`RedisDriver.register_queue`."""
        keys = self._driver.keyspace.scope(name, project)
        if self._driver.cluster:
            return self._driver.register_queue(name, project, json.dumps(metadata or {}))
        with self._driver.client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(keys.queue_metadata, name, json.dumps(metadata or {}))
            pipe.zadd(keys.queue_names, {name: 0})
            pipe.sadd(keys.scopes, scope_member(name, project))
            created, _, _ = pipe.execute()
        return bool(created)

    def exists(self, name: str, project: str) -> bool:
        return bool(self._driver.client.hexists(
            self._driver.keyspace.queue_metadata(project), name))

    def get_metadata(self, name: str, project: str) -> dict[str, Any]:
        raw = self._driver.client.hget(self._driver.keyspace.queue_metadata(project), name)
        if raw is None:
            raise errors.QueueDoesNotExist(name, project)
        metadata: dict[str, Any] = json.loads(raw)
        return metadata

    def set_metadata(self, name: str, project: str, metadata: dict[str, Any]) -> None:
        keys = self._driver.keyspace.scope(name, project)
        if not self._driver.scripts.queue_set_metadata([keys.queue_metadata],
                                                       self._driver.clock(), name,
                                                       json.dumps(metadata)):
            raise errors.QueueDoesNotExist(name, project)

    def delete(self, name: str, project: str) -> None:
        """Delete the queue, its messages and claims at once (subscriptions stay, as
        they do on SQL). On a cluster, in two steps: the queue's marker and messages
        (one command), then its name and metadata (a MULTI); cut short, an empty queue
        is left. Dead letters on their way out are moved on first."""
        keys = self._driver.keyspace.scope(name, project)
        if self._driver.cluster:
            dead_letters.move_on(self._driver, name, project)
            self._driver.client.delete(keys.queue_marker, *keys.of_messages)
            with self._driver.client.pipeline(transaction=True) as pipe:
                pipe.hdel(keys.queue_metadata, name)
                pipe.zrem(keys.queue_names, name)
                pipe.execute()
            return
        with self._driver.client.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.queue_metadata, name)
            pipe.zrem(keys.queue_names, name)
            pipe.delete(*keys.of_messages)
            pipe.execute()

    def list(self, project: str, marker: str | None = None, limit: int = 10,
             detailed: bool = False) -> list[base.QueueEntry]:
        client, keyspace = self._driver.client, self._driver.keyspace
        start = f"({marker}" if marker else "-"
        names = [records.text(raw) for raw in
                 client.zrangebylex(keyspace.queue_names(project), start, "+", 0, limit)]
        if not detailed or not names:
            return [base.QueueEntry(name, None) for name in names]
        found = client.hmget(keyspace.queue_metadata(project), names)
        # A queue deleted between the two reads is left out.
        return [base.QueueEntry(name, json.loads(raw))
                for name, raw in zip(names, found, strict=True) if raw is not None]

    def count(self, project: str) -> int:
        return int(self._driver.client.zcard(self._driver.keyspace.queue_names(project)))

    def stats(self, name: str, project: str) -> base.QueueStats:
        """Counts in O(log n) from the expiry and claim indexes, in one script."""
        now = self._driver.clock()
        reply = self._driver.scripts.stats(self._driver.keyspace.scope(name, project), now)
        live, claimed = int(reply[0]), int(reply[1])
        ends = records.messages(reply[2:], now)
        return base.QueueStats(free=live - claimed, claimed=claimed,
                               oldest=ends[0] if ends else None,
                               newest=ends[-1] if ends else None)
