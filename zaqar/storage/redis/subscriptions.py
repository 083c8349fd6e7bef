"""Subscriptions on Redis: records in the scope's ``subscriptions`` hash; the
``subscribers`` hash keeps one live subscription per subscriber. Changes are scripts
(scripts/subscription_*.lua), so the uniqueness check and the write are one step."""
from __future__ import annotations

import builtins
import json
import uuid
from typing import TYPE_CHECKING, Any, cast

from zaqar.storage import base, errors
from zaqar.storage.redis import records
from zaqar.storage.redis.keys import ScopeKeys, scope_member

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


class SubscriptionController(base.SubscriptionController):
    def __init__(self, driver: RedisDriver) -> None:
        self._driver = driver

    def create(self, queue: str, project: str, subscriber: str, ttl: int,
               options: dict[str, Any]) -> str:
        subscription_id = uuid.uuid4().hex
        if not self._driver.scripts.subscription_create(
                self._scope(queue, project), self._driver.clock(), subscription_id,
                subscriber, ttl, json.dumps(options), scope_member(queue, project)):
            raise errors.SubscriptionAlreadyExists(subscriber, queue)
        return subscription_id

    def list(self, queue: str, project: str, marker: str | None = None,
             limit: int = 10) -> list[base.Subscription]:
        """Read whole (a queue has few subscriptions), filtered and paged here."""
        now = self._driver.clock()
        # Replies are bytes: the client does not decode responses.
        stored = cast(dict[bytes, bytes], self._driver.client.hgetall(
            self._scope(queue, project).subscriptions))
        found = sorted((raw_id.decode(), raw) for raw_id, raw in stored.items())
        live = (records.live_subscription(subscription_id, raw, queue, now)
                for subscription_id, raw in found if not marker or subscription_id > marker)
        return [subscription for subscription in live if subscription is not None][:limit]

    def get(self, queue: str, project: str, subscription_id: str) -> base.Subscription:
        raw = cast(bytes | None, self._driver.client.hget(
            self._scope(queue, project).subscriptions, subscription_id))
        subscription = None if raw is None else records.live_subscription(
            subscription_id, raw, queue, self._driver.clock())
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
                                                 self._driver.clock(), subscription_id)

    def purge(self, queue: str, project: str) -> None:
        self._driver.client.delete(*self._scope(queue, project).of_subscriptions)

    def _update(self, queue: str, project: str, subscription_id: str,
                changes: builtins.list[Any],
                subscriber: str | None = None) -> None:
        outcome = self._driver.scripts.subscription_update(
            self._scope(queue, project), self._driver.clock(), subscription_id,
            *changes).decode()
        if outcome == "missing":
            raise errors.SubscriptionDoesNotExist(subscription_id)
        if outcome == "taken":
            raise errors.SubscriptionAlreadyExists(subscriber or "", queue)

    def _scope(self, queue: str, project: str) -> ScopeKeys:
        return self._driver.keyspace.scope(queue, project)
