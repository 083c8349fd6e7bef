"""Whether the pools' stores answer: the pooled driver's health (``pool_health``, and the
ping behind it).

Each pool is asked on a connection of its own (a Redis pool without reconnection
rounds), all pools at once, each in a thread, and the caller waits at most
``PROBE_TIMEOUT`` seconds: a store that refuses connections answers "down" at once, one
that does not answer at all counts as down when the time is up. A look at a store still
under way when the next caller asks is shared with it, so a store that hangs holds one
thread, not one per health request.
"""
from __future__ import annotations

import logging
import threading
import time

from oslo_config import cfg

from zaqar.storage.management import Pool
from zaqar.storage.pooling.uris import InvalidPool, probe_conf, store_answers

LOG = logging.getLogger(__name__)
# Seconds a health request waits for the pools' stores.
PROBE_TIMEOUT = 3.0


class _Look:
    """One look at a pool's store, in a thread of its own."""

    def __init__(self, pool: cfg.ConfigOpts) -> None:
        self.done = threading.Event()
        self.answered = False
        self._pool = pool

    def run(self) -> None:
        try:
            self.answered = store_answers(self._pool)
        finally:
            self.done.set()


class Probes:
    """Looks at pools' stores for the pooled driver of one process (thread-safe)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._lock = threading.Lock()
        self._under_way: dict[tuple[str, str, str], _Look] = {}

    def answering(self, pools: list[Pool], timeout: float = PROBE_TIMEOUT) -> dict[str, bool]:
        """Whether each pool's store answers, by pool name; a pool whose URI or options
        no driver takes (registered behind the admin API's back) does not."""
        looks = {pool.name: self._look(pool) for pool in pools}
        deadline = time.monotonic() + timeout
        found: dict[str, bool] = {}
        for name, look in looks.items():
            if look is None:
                found[name] = False
                continue
            if look.done.wait(max(0.0, deadline - time.monotonic())):
                found[name] = look.answered  # a store that failed was logged by its driver
            else:
                LOG.warning("Pool %r did not answer within %.1f s", name, timeout)
                found[name] = False
        return found

    def _look(self, pool: Pool) -> _Look | None:
        key = (pool.name, pool.uri, repr(sorted(pool.options.items())))
        with self._lock:
            look = self._under_way.get(key)
            if look is not None:
                return look
            try:
                look = _Look(probe_conf(self._conf, pool.uri, pool.options))
            except InvalidPool as error:
                LOG.warning("Pool %r cannot be used: %s", pool.name, error)
                return None
            self._under_way[key] = look

        def run() -> None:
            try:
                look.run()
            finally:
                with self._lock:
                    self._under_way.pop(key, None)

        threading.Thread(target=run, name="zaqar-pool-probe", daemon=True).start()
        return look
