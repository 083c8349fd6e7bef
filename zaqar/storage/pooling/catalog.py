"""Where each queue lives: placement on a pool, the catalog lookups a process caches, and
the pools' data drivers it keeps."""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from zaqar.conf import management as management_conf
from zaqar.storage.base import DataDriver, owner_project
from zaqar.storage.management import (
    FlavorDoesNotExist,
    ManagementDriver,
    NoPoolFound,
    Pool,
    PoolDoesNotExist,
    QueueFlavorDoesNotExist,
)
from zaqar.storage.pooling.uris import driver_for_pool

LOG = logging.getLogger(__name__)
# Placements tried when the chosen pool is deleted before the queue is placed on it.
PLACE_ATTEMPTS = 3


def choose_weighted(pools: list[Pool], rng: random.Random) -> Pool | None:
    """One pool at random, each as likely as its weight; None when every weight is 0."""
    candidates = [pool for pool in pools if pool.weight > 0]
    if not candidates:
        return None
    return rng.choices(candidates, weights=[pool.weight for pool in candidates])[0]


class Catalog:
    """The management store seen by one process: lookups cached ``catalog_cache_ttl``
    seconds, a data driver per pool (built on first use, prepared, given the clock)."""

    def __init__(self, conf: cfg.ConfigOpts, management: ManagementDriver,
                 clock: Callable[[], float], rng: random.Random | None = None) -> None:
        self.conf = conf
        self.management = management
        self.clock = clock
        self._rng = rng or random.Random()
        self._ttl: float = conf[management_conf.GROUP].catalog_cache_ttl
        self._lock = threading.Lock()
        self._placements: dict[tuple[str, str], tuple[str, float]] = {}
        self._pools: dict[str, tuple[Pool, float]] = {}
        # pool name -> (its URI and options when built, the driver)
        self._drivers: dict[str, tuple[tuple[str, str], DataDriver]] = {}
        self._away: set[str] = set()  # pools left out of all_drivers, logged once

    # -- placements --------------------------------------------------------------------

    def lookup(self, queue: str, project: str) -> str | None:
        """The pool holding the queue, or None when it is not placed."""
        key = (queue, project)
        now = time.monotonic()
        with self._lock:
            cached = self._placements.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        pool = self.management.catalog.lookup(queue, project)
        with self._lock:
            if pool is None:
                self._placements.pop(key, None)
            else:
                self._placements[key] = (pool, now + self._ttl)
        return pool

    def place(self, queue: str, project: str, flavor: str | None = None) -> str:
        """The pool holding the queue, placing it first when it is not placed.

        Raises FlavorDoesNotExist (a ``flavor`` the queue's project does not have),
        NoPoolFound (no pool of the flavor, or of no flavor, takes new queues).
        """
        pool = self.lookup(queue, project)
        if pool is not None:
            return pool
        for attempt in range(PLACE_ATTEMPTS):
            chosen = self.choose(project, flavor)
            try:
                winner = self.management.catalog.insert(queue, project, chosen)
            except PoolDoesNotExist:  # deleted since it was chosen: choose again
                if attempt + 1 == PLACE_ATTEMPTS:
                    raise
                continue
            self._remember(queue, project, winner)
            return winner
        raise AssertionError("unreachable")

    def choose(self, project: str, flavor: str | None) -> str:
        """A pool for a new queue of ``project`` (weighted at random). Raises
        FlavorDoesNotExist, NoPoolFound."""
        if flavor is not None:
            try:
                self.management.flavors.get(flavor, owner_project(project)[0])
            except FlavorDoesNotExist as error:
                raise QueueFlavorDoesNotExist(flavor) from error
        chosen = choose_weighted(self.management.pools.of_flavor(flavor), self._rng)
        if chosen is None:
            where = f"of flavor {flavor!r}" if flavor is not None else "of no flavor"
            raise NoPoolFound(f"No storage pool {where} takes new queues (none is "
                              f"registered, or all have weight 0).")
        return chosen.name

    def move(self, queue: str, project: str, pool: str) -> None:
        self.management.catalog.move(queue, project, pool)
        self._remember(queue, project, pool)

    def forget_cached(self) -> None:
        """Drop every cached placement and pool definition (the catalog was changed
        behind this process's back: tests that empty it)."""
        with self._lock:
            self._placements.clear()
            self._pools.clear()

    def _remember(self, queue: str, project: str, pool: str) -> None:
        with self._lock:
            self._placements[(queue, project)] = (pool, time.monotonic() + self._ttl)

    # -- pools and their drivers -------------------------------------------------------

    def pool(self, name: str) -> Pool:
        """A pool's definition, cached as placements are. Raises PoolDoesNotExist."""
        now = time.monotonic()
        with self._lock:
            cached = self._pools.get(name)
        if cached is not None and cached[1] > now:
            return cached[0]
        pool = self.management.pools.get(name)
        with self._lock:
            self._pools[name] = (pool, now + self._ttl)
        return pool

    def driver(self, name: str) -> DataDriver:
        """The data driver of a pool, built (and prepared) on first use, and again when
        the pool's URI or options changed. Raises PoolDoesNotExist."""
        pool = self.pool(name)
        identity = pool_identity(pool)
        with self._lock:
            known = self._drivers.get(name)
            if known is not None and known[0] == identity:
                return known[1]
        driver = driver_for_pool(self.conf, pool.uri, pool.options)
        try:
            driver.prepare()
        except BaseException:
            driver.close()
            raise
        driver.clock = self.clock
        with self._lock:
            known = self._drivers.get(name)
            if known is not None and known[0] == identity:
                stale: DataDriver | None = driver  # another thread built it meanwhile
                driver = known[1]
            else:
                stale = known[1] if known is not None else None
                self._drivers[name] = (identity, driver)
        if stale is not None:
            stale.close()
        return driver

    def registered(self) -> list[Pool]:
        """Every registered pool, by name, read from the management store (not cached).
        Raises the management store's engine error."""
        found: list[Pool] = []
        marker: str | None = None
        while True:
            page = self.management.pools.list(marker=marker, limit=100)
            found += page
            if len(page) < 100:
                return found
            marker = page[-1].name

    def all_drivers(self, skip_unavailable: bool = False) -> list[tuple[str, DataDriver]]:
        """(name, driver) of every registered pool, by name. A pool whose driver cannot
        be built or prepared (its store is away) raises its engine's error, or with
        ``skip_unavailable`` is logged and left out."""
        found: list[tuple[str, DataDriver]] = []
        for pool in self.registered():
            try:
                found.append((pool.name, self.driver(pool.name)))
            except PoolDoesNotExist:  # deleted meanwhile
                continue
            except Exception as error:
                if not skip_unavailable:
                    raise
                self._note_away(pool.name, error)
                continue
            self._note_back(pool.name)
        return found

    def _note_away(self, name: str, error: Exception) -> None:
        """Log a pool left out once (a line, no traceback: a store that is down is the
        operator's news, not a bug), not at every round of the notifier or the gc."""
        with self._lock:
            known = name in self._away
            self._away.add(name)
        if not known:
            LOG.warning("Pool %r is unavailable (%s); left out until it answers", name,
                        str(error).splitlines()[0] if str(error) else type(error).__name__)

    def _note_back(self, name: str) -> None:
        with self._lock:
            known = name in self._away
            self._away.discard(name)
        if known:
            LOG.info("Pool %r answers again", name)

    def built_drivers(self) -> list[DataDriver]:
        with self._lock:
            return [driver for _identity, driver in self._drivers.values()]

    def set_clock(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        for driver in self.built_drivers():
            driver.clock = clock

    def close(self) -> None:
        with self._lock:
            drivers, self._drivers = self._drivers, {}
        for _identity, driver in drivers.values():
            driver.close()


def pool_identity(pool: Pool) -> tuple[str, str]:
    """What a pool's driver is built from: its URI and options (a change of either
    means another driver)."""
    return pool.uri, repr(sorted(pool.options.items()))


def flavor_of(metadata: dict[str, Any] | None) -> str | None:
    """The flavor a queue's metadata asks for (``_flavor``), if any."""
    if not metadata:
        return None
    flavor = metadata.get("_flavor")
    return flavor if isinstance(flavor, str) and flavor else None
