"""A short-lived per-process cache of queue metadata, for message posts.

Every post needs its queue's metadata (default TTL and delay, size limit); reading it
from storage doubled the storage round trips of a post. Entries live ``ttl`` seconds
(``[transport] queue_metadata_cache_ttl``), so a change made through another process
reaches posts here within that time; changes made through this process drop the entry
at once. Upstream Zaqar caches queue metadata per process the same way.
"""
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_ENTRIES = 10_000


class QueueMetadataCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def get(self, project: str, queue: str,
            load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The cached metadata, or ``load()``'s result, cached. Callers must not change it."""
        if self._ttl <= 0:
            return load()
        key = (project, queue)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        metadata = load()
        with self._lock:
            self._entries[key] = (now + self._ttl, metadata)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return metadata

    def forget(self, project: str, queue: str) -> None:
        with self._lock:
            self._entries.pop((project, queue), None)
