"""Post announcements with pooling: a watch of each pool's store, kept in step with the
registered pools.

:func:`watch_pools` starts a watch of every registered pool (each from its own driver's
``watch_posts``) and a thread that reads the pool list again every ``rescan`` seconds: a
pool registered since is watched from then on, a deleted one's watch is closed, and a
pool whose URI or options changed (so whose driver did) is watched again. A pool that
is away when its turn comes is tried again at the next round.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from zaqar.storage import base
from zaqar.storage.management import Pool, PoolDoesNotExist
from zaqar.storage.pooling.catalog import Catalog, pool_identity

LOG = logging.getLogger(__name__)
# Seconds close() waits for a round under way (which may be waiting on a pool's store);
# the round stops by itself after, closing what it started.
JOIN_TIMEOUT = 5.0

_Identity = tuple[str, str]


def watch_pools(catalog: Catalog, on_post: Callable[[str, str], None],
                rescan: float) -> PoolWatches | None:
    """A running watch of every registered pool, or None (nothing left running) when a
    pool is away or cannot announce posts (SQL): its waiters must poll then."""
    watches = PoolWatches(catalog, on_post, rescan)
    return watches if watches.start() else None


class PoolWatches(base.Watch):
    """The pools' watches; announcements of all of them go to one ``on_post``."""

    def __init__(self, catalog: Catalog, on_post: Callable[[str, str], None],
                 rescan: float) -> None:
        self._catalog = catalog
        self._on_post = on_post
        self._rescan = rescan
        # Held while on_post runs, so that close() waits for a call under way;
        # reentrant, so that on_post may close the watch.
        self._announcing = threading.RLock()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._watches: dict[str, tuple[_Identity, base.Watch | None]] = {}
        self._troubled: set[str] = set()  # pools whose trouble is logged already
        self._thread: threading.Thread | None = None

    def watched(self) -> list[str]:
        """The pools whose posts are announced, by name."""
        with self._lock:
            return sorted(name for name, (_identity, watch) in self._watches.items()
                          if watch is not None)

    def start(self) -> bool:
        """Watch every registered pool, then follow the list; False (and closed) when a
        pool is away or cannot announce posts."""
        try:
            for pool in self._catalog.registered():
                identity, watch = self._watch(pool)
                with self._lock:
                    self._watches[pool.name] = (identity, watch)
                if watch is None:
                    LOG.info("Pool %r cannot announce posts: waiters poll", pool.name)
                    self.close()
                    return False
        except Exception:  # the management store or a pool away: waiters poll
            LOG.warning("Not watching posts: a pool is unavailable", exc_info=True)
            self.close()
            return False
        self._thread = threading.Thread(target=self._run, name="zaqar-pool-watch",
                                        daemon=True)
        self._thread.start()
        return True

    def close(self) -> None:
        with self._announcing:
            self._closing.set()
        with self._lock:
            watches, self._watches = self._watches, {}
        for _identity, watch in watches.values():
            if watch is not None:
                watch.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)

    def _announce(self, queue: str, project: str) -> None:
        with self._announcing:
            if not self._closing.is_set():
                self._on_post(queue, project)

    def _watch(self, pool: Pool) -> tuple[_Identity, base.Watch | None]:
        """A watch of the pool's store through the catalog's driver of it, and what that
        driver was built from. Raises PoolDoesNotExist, the pool's engine error."""
        identity = pool_identity(self._catalog.pool(pool.name))
        return identity, self._catalog.driver(pool.name).watch_posts(self._announce)

    # -- the thread that follows the pool list ---------------------------------------

    def _run(self) -> None:
        while not self._closing.wait(self._rescan):
            try:
                pools = self._catalog.registered()
            except Exception as error:  # the management store away: the next round
                LOG.warning("Post watch: the pools could not be listed (%s)", error)
                continue
            self._forget_deleted({pool.name for pool in pools})
            for pool in pools:
                if self._closing.is_set():
                    return
                self._follow(pool)

    def _forget_deleted(self, registered: set[str]) -> None:
        with self._lock:
            gone = [self._watches.pop(name) for name in list(self._watches)
                    if name not in registered]
        for _identity, watch in gone:
            if watch is not None:
                watch.close()

    def _follow(self, pool: Pool) -> None:
        """Watch a pool not watched yet, or whose driver changed: the pool's URI or
        options did, and the catalog's driver of it too (it builds the new one once its
        cached definition of the pool expires)."""
        with self._lock:
            known = self._watches.get(pool.name)
        try:
            if known is not None and (
                    known[0] == pool_identity(pool)
                    or known[0] == pool_identity(self._catalog.pool(pool.name))):
                return
            identity, watch = self._watch(pool)
        except PoolDoesNotExist:  # deleted meanwhile: the next round forgets it
            return
        except Exception as error:  # its store is away: the next round tries again
            if pool.name not in self._troubled:
                self._troubled.add(pool.name)
                LOG.warning("Post watch: pool %r is unavailable (%s); its posts are "
                            "announced once it answers", pool.name, error)
            return
        self._troubled.discard(pool.name)
        if watch is None:
            LOG.warning("Pool %r cannot announce posts: waiters on its queues see them "
                        "at their periodic recheck", pool.name)
        with self._lock:
            if self._closing.is_set():
                stale = watch
            else:
                stale = known[1] if known is not None else None
                self._watches[pool.name] = (identity, watch)
        if stale is not None:
            stale.close()
