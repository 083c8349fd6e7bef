"""The pooled data driver (``[DEFAULT] pooling``): the whole storage contract over the
pools of the management store, each queue on the pool the catalog places it on."""
from __future__ import annotations

import logging
import random
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from oslo_config import cfg

from zaqar.conf import management as management_conf
from zaqar.storage import base
from zaqar.storage.management import ManagementDriver
from zaqar.storage.pooling.catalog import Catalog
from zaqar.storage.pooling.controllers import (
    ClaimController,
    MessageController,
    QueueController,
    SubscriptionController,
)
from zaqar.storage.pooling.probes import Probes
from zaqar.storage.pooling.watch import PoolWatches, watch_pools

LOG = logging.getLogger(__name__)
# Seconds between two readings of the pool list by a post watch, at least.
MIN_RESCAN = 1.0


class PooledDriver(base.DataDriver):
    """Routes every call to the data driver of the queue's pool (zaqar.storage.pooling).

    ``clock`` set on this driver reaches every pool's driver. ``management`` is the
    management store it reads (and the api layer's pools and flavors write).
    """

    def __init__(self, conf: cfg.ConfigOpts, management: ManagementDriver | None = None,
                 rng: random.Random | None = None) -> None:
        if management is None:
            from zaqar.storage import load_management_driver
            management = load_management_driver(conf)
        self.conf = conf
        self.management = management
        self.catalog = Catalog(conf, management, time.time, rng)
        self.transient_errors = _engine_errors()
        self._probes = Probes(conf)
        self._watches: weakref.WeakSet[PoolWatches] = weakref.WeakSet()
        self.queues = QueueController(self)
        self.messages = MessageController(self)
        self.claims = ClaimController(self)
        self.subscriptions = SubscriptionController(self)

    @property
    def clock(self) -> Callable[[], float]:
        return self.catalog.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.catalog.set_clock(clock)

    def prepare(self) -> None:
        """The management store's schema, then every registered pool's (a pool away
        now is prepared when first used)."""
        self.management.prepare()
        self.catalog.all_drivers(skip_unavailable=True)

    def pool_health(self) -> PoolingHealth:
        """Whether the management store answers (it lists the pools) and whether each
        registered pool's store does (probes.py: all at once, each on a connection of
        its own, a store that refuses connections is down at once, one silent for
        ``PROBE_TIMEOUT`` seconds is counted down)."""
        try:
            pools = self.catalog.registered()
        except Exception as error:  # the management store's engine error
            LOG.warning("Management store health check failed: %s", error)
            return PoolingHealth(catalog_reachable=False, pools={})
        return PoolingHealth(catalog_reachable=True, pools=self._probes.answering(pools))

    def is_alive(self) -> bool:
        return self.pool_health().storage_reachable

    def purge_messages(self, queue: str, project: str) -> None:
        pool = self.catalog.lookup(queue, project)
        if pool is not None:
            self.catalog.driver(pool).purge_messages(queue, project)

    def collect_garbage(self) -> int:
        removed = 0
        for name, driver in self.catalog.all_drivers(skip_unavailable=True):
            try:
                removed += driver.collect_garbage()
            except Exception:  # one pool away must not stop the others' collection
                LOG.exception("Garbage collection of pool %r failed", name)
        return removed

    def release_pool(self, name: str) -> int:
        """Forget the placements on pool ``name`` of queues deleted since (a deleted
        queue keeps its placement, so that made again it never reuses a message id),
        so that a pool emptied of queues can be deleted. Returns how many were
        forgotten. Raises PoolDoesNotExist."""
        driver = self.catalog.driver(name)
        forgotten = 0
        marker: tuple[str, str] | None = None
        while page := self.management.catalog.on_pool(name, marker):
            for project, queue in page:
                if not driver.queues.exists(queue, project):
                    self.management.catalog.delete(queue, project)
                    forgotten += 1
            marker = page[-1]
        self.catalog.forget_cached()
        return forgotten

    def watch_posts(self, on_post: Callable[[str, str], None]) -> base.Watch | None:
        """A watch of every registered pool (watch.py) that follows the pool list: a
        pool registered later is watched within ``catalog_cache_ttl`` seconds (at least
        ``MIN_RESCAN``), a deleted one no longer. None (callers poll) when a pool is
        away or cannot announce posts (SQL) when the watch starts; one that cannot,
        registered later, is announced by nothing (its waiters find its posts at their
        periodic recheck). Closing this driver closes its watches."""
        rescan = max(self.conf[management_conf.GROUP].catalog_cache_ttl, MIN_RESCAN)
        watch = watch_pools(self.catalog, on_post, rescan)
        if watch is not None:
            self._watches.add(watch)
        return watch

    def close(self) -> None:
        for watch in list(self._watches):
            watch.close()
        self.catalog.close()
        self.management.close()


@dataclass
class PoolingHealth:
    """What the pooled driver's health check found (:meth:`PooledDriver.pool_health`)."""

    catalog_reachable: bool
    pools: dict[str, bool]  # pool name: whether its store answers

    @property
    def storage_reachable(self) -> bool:
        """The management store and every pool's store answer."""
        return self.catalog_reachable and all(self.pools.values())


def _engine_errors() -> tuple[type[Exception], ...]:
    """The transient errors of every installed driver: pools may use any of them."""
    found: list[type[Exception]] = []
    for entry in entry_points(group="zaqar.storage.message_store"):
        try:
            driver: type[base.DataDriver] = entry.load()
        except ImportError:  # a driver whose client library is not installed
            continue
        found += [error for error in driver.transient_errors if error not in found]
    return tuple(found)
