"""Controllers of the pooled driver: each call goes to the pool that holds its queue.

Writes that make a queue (create, a first post, a subscription) place it first; reads of
a queue not placed answer as the contract does for a missing queue, and place nothing.
"""
from __future__ import annotations

import builtins
import heapq
import itertools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from zaqar.storage import base, errors
from zaqar.storage.management import QueueNotMovable
from zaqar.storage.pooling.catalog import flavor_of

if TYPE_CHECKING:
    from zaqar.storage.pooling.driver import PooledDriver

# Queue names a count reads from a pool per call.
COUNT_PAGE = 1000


class _Routed:
    def __init__(self, driver: PooledDriver) -> None:
        self._driver = driver
        self._catalog = driver.catalog

    def _found(self, queue: str, project: str) -> base.DataDriver | None:
        """The driver of the queue's pool, or None when the queue is not placed."""
        pool = self._catalog.lookup(queue, project)
        return None if pool is None else self._catalog.driver(pool)

    def _placed(self, queue: str, project: str,
                metadata: dict[str, Any] | None = None) -> base.DataDriver:
        """The driver of the queue's pool, placing the queue first if needed."""
        return self._catalog.driver(self._catalog.place(queue, project, flavor_of(metadata)))


class QueueController(_Routed, base.QueueController):
    def create(self, name: str, project: str, metadata: dict[str, Any] | None = None) -> bool:
        """A queue placed but not made yet (by a subscription) goes to a pool of the
        flavor it now asks for."""
        flavor = flavor_of(metadata)
        pool = self._catalog.lookup(name, project)
        if pool is not None and self._catalog.pool(pool).flavor != flavor \
                and not self._catalog.driver(pool).queues.exists(name, project):
            self._catalog.move(name, project, self._catalog.choose(project, flavor))
        return self._placed(name, project, metadata).queues.create(name, project, metadata)

    def exists(self, name: str, project: str) -> bool:
        driver = self._found(name, project)
        return driver is not None and driver.queues.exists(name, project)

    def get_metadata(self, name: str, project: str) -> dict[str, Any]:
        driver = self._found(name, project)
        if driver is None:
            raise errors.QueueDoesNotExist(name, project)
        return driver.queues.get_metadata(name, project)

    def set_metadata(self, name: str, project: str, metadata: dict[str, Any]) -> None:
        """A change of the queue's ``_flavor`` moves it to a pool of the new flavor,
        unless its pool is one already (as upstream registers it again), and only while
        it holds no message and no subscription (QueueNotMovable): the metadata moves,
        the queue on the former pool is deleted. A pool that joined or left a flavor
        moves no queue."""
        pool = self._catalog.lookup(name, project)
        if pool is None:
            raise errors.QueueDoesNotExist(name, project)
        driver = self._catalog.driver(pool)
        flavor = flavor_of(metadata)
        if flavor == flavor_of(driver.queues.get_metadata(name, project)) \
                or self._catalog.pool(pool).flavor == flavor:
            driver.queues.set_metadata(name, project, metadata)
            return
        target = self._catalog.choose(project, flavor)
        if target == pool:  # its pool joined the flavor since this process looked
            driver.queues.set_metadata(name, project, metadata)
            return
        if driver.queues.stats(name, project).total or driver.subscriptions.list(
                name, project, limit=1):
            raise QueueNotMovable(name)
        moved = self._catalog.driver(target)
        if not moved.queues.create(name, project, metadata):
            moved.queues.set_metadata(name, project, metadata)
        self._catalog.move(name, project, target)
        driver.queues.delete(name, project)

    def delete(self, name: str, project: str) -> None:
        """The placement stays: made again, the queue is on the same pool, which then
        never hands out its former message ids again (the contract's promise)."""
        driver = self._found(name, project)
        if driver is not None:
            driver.queues.delete(name, project)

    def list(self, project: str, marker: str | None = None, limit: int = 10,
             detailed: bool = False) -> list[base.QueueEntry]:
        """The catalog's names in its order, each looked up on its pool: placements of
        deleted queues (and of queues only subscribed to) are skipped, and further
        catalog pages read until ``limit`` queues are found or none is left. Each name
        is read by itself: the pools may order names otherwise than the catalog."""
        found: list[base.QueueEntry] = []
        cursor = marker
        while len(found) < limit:
            page = self._catalog.management.catalog.list(project, cursor, limit)
            for queue, pool in page:
                entry = self._entry(self._catalog.driver(pool), queue, project, detailed)
                if entry is not None:
                    found.append(entry)
            if len(page) < limit:
                break
            cursor = page[-1][0]
        return found[:limit]

    @staticmethod
    def _entry(driver: base.DataDriver, name: str, project: str,
               detailed: bool) -> base.QueueEntry | None:
        if not detailed:
            return base.QueueEntry(name, None) if driver.queues.exists(name, project) \
                else None
        try:
            return base.QueueEntry(name, driver.queues.get_metadata(name, project))
        except errors.QueueDoesNotExist:
            return None

    def count(self, project: str) -> int:
        """The queues :meth:`list` shows: the catalog's placements (one read) whose queue
        exists on its pool, each pool's names read in pages of ``COUNT_PAGE``. A deleted
        queue's placement counts for nothing, nor does the same-named queue a
        dead-letter feed across pools keeps on its source pool (ClaimController)."""
        placed: dict[str, set[str]] = {}
        for queue, pool in self._catalog.management.catalog.list(project):
            placed.setdefault(pool, set()).add(queue)
        return sum(self._existing(self._catalog.driver(pool), project, names)
                   for pool, names in placed.items())

    @staticmethod
    def _existing(driver: base.DataDriver, project: str, names: set[str]) -> int:
        """How many of ``names`` are queues of the project on the pool."""
        found = 0
        marker: str | None = None
        while page := driver.queues.list(project, marker, COUNT_PAGE):
            found += sum(1 for entry in page if entry.name in names)
            if len(page) < COUNT_PAGE:
                break
            marker = page[-1].name
        return found

    def stats(self, name: str, project: str) -> base.QueueStats:
        driver = self._found(name, project)
        if driver is None:
            return base.QueueStats(free=0, claimed=0)
        return driver.queues.stats(name, project)


class MessageController(_Routed, base.MessageController):
    def post(self, queue: str, project: str, messages: Sequence[base.NewMessage],
             client_id: str) -> list[str]:
        return self._placed(queue, project).messages.post(queue, project, messages, client_id)

    def list(self, queue: str, project: str, client_id: str, marker: str | None = None,
             limit: int = 10, echo: bool = False, include_claimed: bool = False,
             include_delayed: bool = False) -> list[base.Message]:
        driver = self._found(queue, project)
        if driver is None:
            return []
        return driver.messages.list(queue, project, client_id, marker, limit, echo,
                                    include_claimed, include_delayed)

    def bulk_get(self, queue: str, project: str,
                 message_ids: Iterable[str]) -> builtins.list[base.Message]:
        driver = self._found(queue, project)
        return [] if driver is None else driver.messages.bulk_get(queue, project, message_ids)

    def delete(self, queue: str, project: str, message_id: str,
               claim_id: str | None = None) -> None:
        driver = self._found(queue, project)
        if driver is not None:
            driver.messages.delete(queue, project, message_id, claim_id)

    def bulk_delete(self, queue: str, project: str, message_ids: Iterable[str],
                    claim_ids: Sequence[str] | None = None) -> None:
        driver = self._found(queue, project)
        if driver is not None:
            driver.messages.bulk_delete(queue, project, message_ids, claim_ids)

    def pop(self, queue: str, project: str, limit: int) -> builtins.list[base.Message]:
        driver = self._found(queue, project)
        return [] if driver is None else driver.messages.pop(queue, project, limit)


class ClaimController(_Routed, base.ClaimController):
    def create(self, queue: str, project: str, ttl: int, grace: int, limit: int,
               dead_letter: base.DeadLetter | None = None) -> base.Claim | None:
        """A dead-letter queue not placed yet is placed on the claimed queue's pool, so
        the move stays atomic. One placed on another pool gets its messages through a
        queue of the same name on this pool, posted over at once: at least once (a
        crash in between may post one twice), with a new claim count of 0."""
        pool = self._catalog.lookup(queue, project)
        if pool is None:
            return None
        driver = self._catalog.driver(pool)
        target = None
        if dead_letter is not None:
            target = self._catalog.lookup(dead_letter.queue, project)
            if target is None:
                target = self._catalog.management.catalog.insert(dead_letter.queue, project,
                                                                 pool)
        claim = driver.claims.create(queue, project, ttl, grace, limit, dead_letter)
        if dead_letter is not None and target is not None and target != pool:
            self._forward(driver, self._catalog.driver(target), dead_letter.queue, project)
        return claim

    def _forward(self, source: base.DataDriver, target: base.DataDriver, queue: str,
                 project: str) -> None:
        while True:
            moved = source.messages.list(queue, project, "", limit=100, echo=True,
                                         include_claimed=True, include_delayed=True)
            if not moved:
                return
            now = source.clock()
            target.messages.post(queue, project, [
                base.NewMessage(body=message.body, checksum=message.checksum,
                                ttl=max(1, int(message.created + message.ttl - now)))
                for message in moved], "")
            source.messages.bulk_delete(queue, project, [message.id for message in moved])

    def get(self, queue: str, project: str, claim_id: str) -> base.Claim:
        driver = self._found(queue, project)
        if driver is None:
            raise errors.ClaimDoesNotExist(claim_id, queue)
        return driver.claims.get(queue, project, claim_id)

    def update(self, queue: str, project: str, claim_id: str, ttl: int, grace: int) -> None:
        driver = self._found(queue, project)
        if driver is None:
            raise errors.ClaimDoesNotExist(claim_id, queue)
        driver.claims.update(queue, project, claim_id, ttl, grace)

    def delete(self, queue: str, project: str, claim_id: str) -> None:
        driver = self._found(queue, project)
        if driver is not None:
            driver.claims.delete(queue, project, claim_id)


class SubscriptionController(_Routed, base.SubscriptionController):
    def _existing(self, queue: str, project: str, subscription_id: str) -> base.DataDriver:
        driver = self._found(queue, project)
        if driver is None:
            raise errors.SubscriptionDoesNotExist(subscription_id)
        return driver

    def create(self, queue: str, project: str, subscriber: str, ttl: int,
               options: dict[str, Any], notice: str | None = None) -> str:
        return self._placed(queue, project).subscriptions.create(
            queue, project, subscriber, ttl, options, notice)

    def find(self, queue: str, project: str, subscriber: str) -> base.Subscription | None:
        driver = self._found(queue, project)
        return None if driver is None else driver.subscriptions.find(queue, project,
                                                                     subscriber)

    def list_all(self, marker: str | None = None,
                 limit: int = 100) -> builtins.list[base.Subscription]:
        """Every pool's, merged by id (ids are random UUIDs: no two pools share one);
        those of a pool that is away are left out (the notifier delivers the others)."""
        pages = [driver.subscriptions.list_all(marker, limit)
                 for _name, driver in self._catalog.all_drivers(skip_unavailable=True)]
        merged = heapq.merge(*pages, key=lambda subscription: subscription.id)
        return builtins.list(itertools.islice(merged, limit))

    def record_delivery(self, queue: str, project: str, subscription_id: str,
                        cursor: str | None, record: dict[str, Any]) -> None:
        self._existing(queue, project, subscription_id).subscriptions.record_delivery(
            queue, project, subscription_id, cursor, record)

    def set_notice(self, queue: str, project: str, subscription_id: str,
                   notice: str | None) -> None:
        self._existing(queue, project, subscription_id).subscriptions.set_notice(
            queue, project, subscription_id, notice)

    def list(self, queue: str, project: str, marker: str | None = None,
             limit: int = 10) -> list[base.Subscription]:
        driver = self._found(queue, project)
        return [] if driver is None else driver.subscriptions.list(queue, project, marker,
                                                                   limit)

    def get(self, queue: str, project: str, subscription_id: str) -> base.Subscription:
        return self._existing(queue, project, subscription_id).subscriptions.get(
            queue, project, subscription_id)

    def update(self, queue: str, project: str, subscription_id: str,
               fields: dict[str, Any]) -> None:
        self._existing(queue, project, subscription_id).subscriptions.update(
            queue, project, subscription_id, fields)

    def confirm(self, queue: str, project: str, subscription_id: str, confirmed: bool) -> None:
        self._existing(queue, project, subscription_id).subscriptions.confirm(
            queue, project, subscription_id, confirmed)

    def delete(self, queue: str, project: str, subscription_id: str) -> None:
        driver = self._found(queue, project)
        if driver is not None:
            driver.subscriptions.delete(queue, project, subscription_id)

    def purge(self, queue: str, project: str) -> None:
        driver = self._found(queue, project)
        if driver is not None:
            driver.subscriptions.purge(queue, project)

    def acquire_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str, seconds: float) -> bool:
        return self._existing(queue, project, subscription_id).subscriptions \
            .acquire_delivery_lease(queue, project, subscription_id, holder, seconds)

    def release_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str) -> None:
        driver = self._found(queue, project)
        if driver is not None:
            driver.subscriptions.release_delivery_lease(queue, project, subscription_id,
                                                        holder)
