"""Subscriptions on Redis: records in the scope's ``subscriptions`` hash; the
``subscribers`` hash keeps one live subscription per subscriber, the global
``subscribed-scopes`` set the scopes that have some. Changes are scripts
(scripts/subscription_*.lua), so the uniqueness check and the write are one step."""
from __future__ import annotations

import builtins
import json
import uuid
from typing import TYPE_CHECKING, Any, cast

from zaqar.storage import base, errors
from zaqar.storage.redis import records
from zaqar.storage.redis.keys import ScopeKeys, parse_scope_member, scope_member

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


class SubscriptionController(base.SubscriptionController):
    def __init__(self, driver: RedisDriver) -> None:
        self._driver = driver

    def create(self, queue: str, project: str, subscriber: str, ttl: int,
               options: dict[str, Any], notice: str | None = None) -> str:
        """One script; on a cluster the scope is added to ``scopes`` and
        ``subscribed-scopes`` before it (so that a subscription is never out of the
        notifier's sight) and again after (garbage collection may have taken it out
        meanwhile: see RedisDriver._forget_scope)."""
        subscription_id = uuid.uuid4().hex
        if self._driver.cluster:
            self._index_scope(queue, project)
        if not self._driver.scripts.subscription_create(
                self._scope(queue, project), self._driver.clock(), subscription_id,
                subscriber, ttl, json.dumps(options), notice or "",
                scope_member(queue, project)):
            raise errors.SubscriptionAlreadyExists(subscriber, queue)
        if self._driver.cluster:
            self._index_scope(queue, project)
        return subscription_id

    def _index_scope(self, queue: str, project: str) -> None:
        keys, member = self._scope(queue, project), scope_member(queue, project)
        with self._driver.client.pipeline(transaction=False) as pipe:
            pipe.sadd(keys.scopes, member)
            pipe.sadd(keys.subscribed_scopes, member)
            pipe.execute()

    def find(self, queue: str, project: str, subscriber: str) -> base.Subscription | None:
        keys = self._scope(queue, project)
        found = cast(bytes | None, self._driver.client.hget(keys.subscribers, subscriber))
        if found is None:
            return None
        try:
            return self.get(queue, project, found.decode())
        except errors.SubscriptionDoesNotExist:
            return None

    def list_all(self, marker: str | None = None,
                 limit: int = 100) -> builtins.list[base.Subscription]:
        """Every subscribed scope read whole, then sorted and paged here: the notifier
        pages through all of them at once anyway."""
        client = self._driver.client
        members = [records.text(member) for member in
                   client.sscan_iter(self._driver.keyspace.subscribed_scopes, count=500)]
        with client.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.hgetall(self._scope(*parse_scope_member(member)).subscriptions)
            replies = pipe.execute()
        found: builtins.list[base.Subscription] = []
        for member, stored in zip(members, replies, strict=True):
            found += self._live(*parse_scope_member(member), stored, marker)
        found.sort(key=lambda subscription: subscription.id)
        return found[:limit]

    def list(self, queue: str, project: str, marker: str | None = None,
             limit: int = 10) -> builtins.list[base.Subscription]:
        """Read whole (a queue has few subscriptions), filtered and paged here."""
        # Replies are bytes: the client does not decode responses.
        stored = cast(dict[bytes, bytes], self._driver.client.hgetall(
            self._scope(queue, project).subscriptions))
        return sorted(self._live(queue, project, stored, marker),
                      key=lambda subscription: subscription.id)[:limit]

    def _live(self, queue: str, project: str, stored: dict[bytes, bytes],
              marker: str | None) -> builtins.list[base.Subscription]:
        now = self._driver.clock()
        live = (records.live_subscription(raw_id.decode(), raw, queue, project, now)
                for raw_id, raw in stored.items() if not marker or raw_id.decode() > marker)
        return [subscription for subscription in live if subscription is not None]

    def record_delivery(self, queue: str, project: str, subscription_id: str,
                        cursor: str | None, record: dict[str, Any]) -> None:
        self._update(queue, project, subscription_id,
                     ["cursor", cursor or "", "record", json.dumps(record)])

    def set_notice(self, queue: str, project: str, subscription_id: str,
                   notice: str | None) -> None:
        self._update(queue, project, subscription_id, ["notice", notice or ""])

    def get(self, queue: str, project: str, subscription_id: str) -> base.Subscription:
        raw = cast(bytes | None, self._driver.client.hget(
            self._scope(queue, project).subscriptions, subscription_id))
        subscription = None if raw is None else records.live_subscription(
            subscription_id, raw, queue, project, self._driver.clock())
        if subscription is None:
            raise errors.SubscriptionDoesNotExist(subscription_id)
        return subscription

    def update(self, queue: str, project: str, subscription_id: str,
               fields: dict[str, Any]) -> None:
        changes: builtins.list[Any] = []
        if "subscriber" in fields:
            changes += ["subscriber", fields["subscriber"]]
        if "ttl" in fields:
            changes += ["ttl", fields["ttl"]]
        if "options" in fields:
            changes += ["options", json.dumps(fields["options"])]
        self._update(queue, project, subscription_id, changes, fields.get("subscriber"))

    def confirm(self, queue: str, project: str, subscription_id: str, confirmed: bool) -> None:
        self._update(queue, project, subscription_id, ["confirmed", "1" if confirmed else "0"])

    def delete(self, queue: str, project: str, subscription_id: str) -> None:
        self._driver.scripts.subscription_delete(self._scope(queue, project),
                                                 self._driver.clock(), subscription_id,
                                                 scope_member(queue, project))

    def purge(self, queue: str, project: str) -> None:
        """One MULTI; on a cluster the subscriptions first, then the member."""
        keys = self._scope(queue, project)
        if self._driver.cluster:
            self._driver.client.delete(*keys.of_subscriptions)
            self._driver.client.srem(keys.subscribed_scopes, scope_member(queue, project))
            return
        with self._driver.client.pipeline(transaction=True) as pipe:
            pipe.delete(*keys.of_subscriptions)
            pipe.srem(keys.subscribed_scopes, scope_member(queue, project))
            pipe.execute()

    def _update(self, queue: str, project: str, subscription_id: str,
                changes: builtins.list[Any],
                subscriber: str | None = None) -> None:
        outcome = self._driver.scripts.subscription_update(
            self._scope(queue, project), self._driver.clock(), subscription_id,
            *changes, scope_member(queue, project)).decode()
        if outcome == "missing":
            raise errors.SubscriptionDoesNotExist(subscription_id)
        if outcome == "taken":
            raise errors.SubscriptionAlreadyExists(subscriber or "", queue)

    def _scope(self, queue: str, project: str) -> ScopeKeys:
        return self._driver.keyspace.scope(queue, project)
