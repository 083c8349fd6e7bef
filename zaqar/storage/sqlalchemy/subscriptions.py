"""Subscriptions on SQL."""
from __future__ import annotations

import builtins
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zaqar.storage import base, errors
from zaqar.storage.sqlalchemy import tables as t
from zaqar.storage.sqlalchemy.engine import retry_on_deadlock

s = t.subscriptions.c

if TYPE_CHECKING:
    from zaqar.storage.sqlalchemy.driver import SqlDriver


def _digest(subscriber: str) -> str:
    return hashlib.sha256(subscriber.encode()).hexdigest()


def _to_subscription(row: sa.Row[Any]) -> base.Subscription:
    delivery = base.Delivery(row.delivery_cursor, row.delivery_notice,
                             json.loads(row.delivery_record or "{}"))
    return base.Subscription(id=row.id, source=row.source, subscriber=row.subscriber,
                             ttl=row.ttl, created=row.created, options=json.loads(row.options),
                             confirmed=bool(row.confirmed), project=row.project,
                             delivery=delivery)


class SubscriptionController(base.SubscriptionController):
    def __init__(self, driver: SqlDriver) -> None:
        self._driver = driver

    def _scope(self, queue: str, project: str, at: float) -> sa.ColumnElement[bool]:
        return sa.and_(s.project == project, s.source == queue, s.expires > at)

    @retry_on_deadlock
    def create(self, queue: str, project: str, subscriber: str, ttl: int,
               options: dict[str, Any], notice: str | None = None) -> str:
        at = self._driver.clock()
        subscription_id = uuid.uuid4().hex
        digest = _digest(subscriber)
        with self._driver.write() as conn:
            newest = conn.scalar(sa.select(t.queues.c.last_seq).where(
                t.queues.c.project == project, t.queues.c.name == queue))
            # An expired twin still holds the unique key until GC; it is dead, so replace it.
            conn.execute(t.subscriptions.delete().where(
                s.project == project, s.source == queue, s.subscriber_digest == digest,
                s.expires <= at))
            try:
                with conn.begin_nested():
                    conn.execute(t.subscriptions.insert().values(
                        id=subscription_id, project=project, source=queue,
                        subscriber=subscriber, subscriber_digest=digest, ttl=ttl, created=at,
                        expires=at + ttl, options=json.dumps(options), confirmed=False,
                        delivery_cursor=str(newest) if newest else None,
                        delivery_notice=notice, delivery_record="{}"))
            except sa.exc.IntegrityError:
                raise errors.SubscriptionAlreadyExists(subscriber, queue) from None
        return subscription_id

    def find(self, queue: str, project: str, subscriber: str) -> base.Subscription | None:
        with self._driver.reader.connect() as conn:
            row = conn.execute(sa.select(t.subscriptions).where(
                s.subscriber_digest == _digest(subscriber),
                self._scope(queue, project, self._driver.clock()))).first()
        return None if row is None else _to_subscription(row)

    def list_all(self, marker: str | None = None,
                 limit: int = 100) -> builtins.list[base.Subscription]:
        query = (sa.select(t.subscriptions).where(s.expires > self._driver.clock())
                 .order_by(s.id).limit(limit))
        if marker:
            query = query.where(s.id > marker)
        with self._driver.reader.connect() as conn:
            return [_to_subscription(row) for row in conn.execute(query)]

    def record_delivery(self, queue: str, project: str, subscription_id: str,
                        cursor: str | None, record: dict[str, Any]) -> None:
        self._set(queue, project, subscription_id,
                  {"delivery_cursor": cursor, "delivery_record": json.dumps(record)})

    def set_notice(self, queue: str, project: str, subscription_id: str,
                   notice: str | None) -> None:
        self._set(queue, project, subscription_id, {"delivery_notice": notice})

    @retry_on_deadlock
    def _set(self, queue: str, project: str, subscription_id: str,
             values: dict[str, Any]) -> None:
        with self._driver.write() as conn:
            updated = conn.execute(t.subscriptions.update().where(
                s.id == subscription_id, self._scope(queue, project, self._driver.clock()))
                .values(**values)).rowcount
        if not updated:
            raise errors.SubscriptionDoesNotExist(subscription_id)

    def list(self, queue: str, project: str, marker: str | None = None,
             limit: int = 10) -> builtins.list[base.Subscription]:
        query = (sa.select(t.subscriptions).where(self._scope(queue, project, self._driver.clock()))
                 .order_by(s.id).limit(limit))
        if marker:
            query = query.where(s.id > marker)
        with self._driver.reader.connect() as conn:
            return [_to_subscription(row) for row in conn.execute(query)]

    def get(self, queue: str, project: str, subscription_id: str) -> base.Subscription:
        with self._driver.reader.connect() as conn:
            row = conn.execute(sa.select(t.subscriptions).where(
                s.id == subscription_id, self._scope(queue, project, self._driver.clock()))).first()
        if row is None:
            raise errors.SubscriptionDoesNotExist(subscription_id)
        return _to_subscription(row)

    @retry_on_deadlock
    def acquire_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str, seconds: float) -> bool:
        """One conditional UPDATE: the row lock makes racing holders take turns, and
        each sees the holder the previous one wrote."""
        at = self._driver.clock()
        with self._driver.write() as conn:
            taken = conn.execute(t.subscriptions.update().where(
                s.id == subscription_id, self._scope(queue, project, at),
                sa.or_(s.lease_holder.is_(None), s.lease_holder == holder,
                       s.lease_expires <= at))
                .values(lease_holder=holder, lease_expires=at + seconds)).rowcount
        if not taken:
            self.get(queue, project, subscription_id)  # raises for a missing one
        return bool(taken)

    @retry_on_deadlock
    def release_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str) -> None:
        with self._driver.write() as conn:
            conn.execute(t.subscriptions.update().where(
                s.id == subscription_id, s.project == project, s.source == queue,
                s.lease_holder == holder).values(lease_holder=None, lease_expires=None))

    @retry_on_deadlock
    def update(self, queue: str, project: str, subscription_id: str,
               fields: dict[str, Any]) -> None:
        at = self._driver.clock()
        values: dict[str, Any] = {}
        if "subscriber" in fields:
            values["subscriber"] = fields["subscriber"]
            values["subscriber_digest"] = _digest(fields["subscriber"])
        if "ttl" in fields:
            values["ttl"] = fields["ttl"]
            values["expires"] = at + fields["ttl"]
        if "options" in fields:
            values["options"] = json.dumps(fields["options"])
        if not values:
            self.get(queue, project, subscription_id)
            return
        with self._driver.write() as conn:
            query = t.subscriptions.update().where(s.id == subscription_id,
                                                   self._scope(queue, project, at))
            try:
                with conn.begin_nested():
                    updated = conn.execute(query.values(**values)).rowcount
            except sa.exc.IntegrityError:
                raise errors.SubscriptionAlreadyExists(fields["subscriber"], queue) from None
        if not updated:
            raise errors.SubscriptionDoesNotExist(subscription_id)

    @retry_on_deadlock
    def confirm(self, queue: str, project: str, subscription_id: str, confirmed: bool) -> None:
        with self._driver.write() as conn:
            found = conn.execute(sa.select(s.id).where(
                s.id == subscription_id, self._scope(queue, project, self._driver.clock()))).first()
            if found is None:
                raise errors.SubscriptionDoesNotExist(subscription_id)
            conn.execute(t.subscriptions.update().where(s.id == subscription_id)
                         .values(confirmed=confirmed))

    @retry_on_deadlock
    def delete(self, queue: str, project: str, subscription_id: str) -> None:
        with self._driver.write() as conn:
            conn.execute(t.subscriptions.delete().where(
                s.id == subscription_id, s.project == project, s.source == queue))

    @retry_on_deadlock
    def purge(self, queue: str, project: str) -> None:
        with self._driver.write() as conn:
            conn.execute(t.subscriptions.delete().where(s.project == project,
                                                        s.source == queue))
