"""The pooled data driver (``[DEFAULT] pooling``): the whole storage contract over the
pools of the management store, each queue on the pool the catalog places it on."""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from importlib.metadata import entry_points

from oslo_config import cfg

from zaqar.storage import base
from zaqar.storage.management import ManagementDriver
from zaqar.storage.pooling.catalog import Catalog
from zaqar.storage.pooling.controllers import (
    ClaimController,
    MessageController,
    QueueController,
    SubscriptionController,
)

LOG = logging.getLogger(__name__)


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

    def is_alive(self) -> bool:
        try:
            pools = self.catalog.all_drivers()
        except Exception:  # the management store's engine error
            LOG.exception("Management store health check failed")
            return False
        return all(driver.is_alive() for _name, driver in pools)

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
        """A watch of every registered pool; None (callers poll) when there is none or
        one of them cannot announce posts. Pools registered afterwards are not watched
        by it."""
        watches: list[base.Watch] = []
        try:
            pools = self.catalog.all_drivers()
        except Exception:  # a pool away: callers poll
            LOG.warning("Not watching posts: a pool is unavailable", exc_info=True)
            return None
        for _name, driver in pools:
            watch = driver.watch_posts(on_post)
            if watch is None:
                for started in watches:
                    started.close()
                return None
            watches.append(watch)
        return _Watches(watches) if watches else None

    def close(self) -> None:
        self.catalog.close()
        self.management.close()


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


class _Watches(base.Watch):
    def __init__(self, watches: list[base.Watch]) -> None:
        self._watches = watches
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            watches, self._watches = self._watches, []
        for watch in watches:
            watch.close()
