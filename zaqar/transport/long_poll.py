"""Wake-ups of long polls (``wait=N``; zaqar.api.long_poll), one hub per process, for
both transports.

A waiting request waits on its queue (a ``(queue, project)`` key). The hub says when a
key may have messages, from three sources: posts served by this process (at once), the
storage's post announcements (Redis pub/sub, MongoDB change streams) where the engine
has them, else a look every ``long_poll_interval`` seconds at the watched queues only
(one short listing per queue, from the last message seen: SQL), and every key again each
``long_poll_recheck`` seconds (messages freed by a released or expired claim are never
announced). The watching runs in a thread of its own, started by the first wait, never
on the server's event loop: the keep-alive worker learns of wake-ups through
:meth:`PostWaker.fileno` in its epoll set, the websocket server through ``on_announce``
(which hands them to its reactor); threaded servers block in :meth:`PostWaker.wait`.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable

from zaqar.storage.base import DataDriver, Watch

LOG = logging.getLogger(__name__)
Key = tuple[str, str]  # (queue, project)
_CURSOR_PAGE = 20


class PostWaker:
    def __init__(self, storage: DataDriver, poll_interval: float, recheck: float,
                 on_announce: Callable[[], None] | None = None) -> None:
        """``on_announce`` is called, from any thread, after keys were woken."""
        self._storage = storage
        self._on_announce = on_announce
        self._poll_interval = poll_interval
        self._recheck = recheck
        self._lock = threading.Condition()
        self._watched: Counter[Key] = Counter()
        self._cursors: dict[Key, str | None] = {}
        self._woken: set[Key] = set()  # for take_woken()
        self._announced: Counter[Key] = Counter()  # for threads blocked in wait()
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread: threading.Thread | None = None
        self._watch: Watch | None = None

    @property
    def waiting(self) -> bool:
        """Whether any request waits in this process."""
        return bool(self._watched)

    def fileno(self) -> int:
        """Readable when keys were woken: then call :meth:`take_woken`."""
        return self._read_fd

    def watch(self, key: Key) -> None:
        with self._lock:
            self._watched[key] += 1
            if self._watched[key] == 1:
                self._cursors[key] = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="zaqar-long-poll",
                                                daemon=True)
                self._thread.start()

    def unwatch(self, key: Key) -> None:
        with self._lock:
            self._watched[key] -= 1
            if self._watched[key] <= 0:
                del self._watched[key]
                self._cursors.pop(key, None)
                self._announced.pop(key, None)

    def announce(self, key: Key) -> None:
        """Messages may be there: wake the waiters of ``key`` (any thread)."""
        with self._lock:
            if key not in self._watched:
                return
            self._woken.add(key)
            self._announced[key] += 1
            self._lock.notify_all()
        with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
            os.write(self._write_fd, b"\0")
        if self._on_announce is not None:
            self._on_announce()

    def take_woken(self) -> set[Key]:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read_fd, 4096):
                pass
        with self._lock:
            woken, self._woken = self._woken, set()
        return woken

    def wait(self, key: Key, timeout: float) -> None:
        """Block the calling thread until ``key`` is announced or ``timeout`` passes
        (servers that give each request a thread)."""
        deadline = time.monotonic() + timeout
        self.watch(key)
        try:
            with self._lock:
                seen = self._announced[key]
                while self._announced[key] == seen:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    self._lock.wait(left)
        finally:
            self.unwatch(key)

    # -- the watching thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            self._watch = self._storage.watch_posts(lambda queue, project:
                                                    self.announce((queue, project)))
        except Exception:
            LOG.exception("Long polling: watching post announcements failed; polling")
        interval = self._recheck if self._watch is not None else self._poll_interval
        last_recheck = time.monotonic()
        while True:
            time.sleep(interval)
            with self._lock:
                keys = list(self._watched)
            if time.monotonic() - last_recheck >= self._recheck:
                last_recheck = time.monotonic()
                for key in keys:
                    self.announce(key)
            elif self._watch is None:
                for key in keys:
                    self._look(key)

    def _look(self, key: Key) -> None:
        """Announce ``key`` when messages came after the last one seen. The first look
        at a key announces it if it has free messages: one may have been posted between
        the waiter's own look and this one."""
        queue, project = key
        first = False
        try:
            cursor = self._cursors.get(key)
            if cursor is None:
                stats = self._storage.queues.stats(queue, project)
                cursor = stats.newest.id if stats.newest is not None else ""
                first = stats.free > 0
            found = self._storage.messages.list(queue, project, "", cursor or None,
                                                _CURSOR_PAGE, True, True, True)
        except Exception as error:  # a missing queue, storage away: the next look retries
            LOG.debug("Long polling: looking at %s failed: %s", queue, error)
            return
        with self._lock:
            if key in self._cursors:
                self._cursors[key] = found[-1].id if found else cursor
        if found or first:
            self.announce(key)
