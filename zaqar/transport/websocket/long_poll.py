"""Long polls over websocket: a ``claim_create`` or ``message_list`` with ``wait`` that
found nothing (zaqar.api.long_poll) is answered later, on the reactor, when its queue is
announced (zaqar.transport.long_poll) or its time is up; it is run again on the runner
threads each time. No thread waits: a waiting request is a timer and a list entry.

A waiting request stays in flight for ``max_in_flight``; the connection may send
others meanwhile, answered as they complete.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from zaqar.api import Api, Request, Response, long_poll
from zaqar.transport.long_poll import Key, PostWaker

# What a request that waits carries when it runs again: its queue and its deadline.
Held = tuple[Key, float]


class _Waiter:
    __slots__ = ("connection", "key", "deadline", "rerun", "timer")

    def __init__(self, connection: Any, key: Key, deadline: float,
                 rerun: Callable[[Held], None]) -> None:
        self.connection = connection
        self.key = key
        self.deadline = deadline
        self.rerun = rerun
        self.timer: Any = None


class WebsocketWaits:
    def __init__(self, api: Api, conf: cfg.ConfigOpts, reactor: Any) -> None:
        group = conf["drivers:transport:websocket"]
        self._api = api
        self._reactor = reactor
        self._waiting: dict[Key, list[_Waiter]] = {}
        self._wake_pending = False
        # The push channel's intervals: the same looks at the same storage.
        self.waker = PostWaker(api.storage, group.push_interval, group.push_safety_interval,
                               self._announced)

    def park_if_waiting(self, connection: Any, action: str, request: Request,
                        response: Response | None, held: Held | None,
                        rerun: Callable[[Held], None]) -> bool:
        """On the reactor, once ``action`` ran for ``request`` (``response`` None: it
        failed, or the connection is closing): True when it waits instead of being
        answered now; then ``rerun`` is called (on the reactor) when it is to run
        again."""
        wait = 0
        if response is not None:
            wait = long_poll.wait_seconds(action, request.params, response)
        if not wait:
            if held is not None:
                self.waker.unwatch(held[0])
            return False
        if held is None:
            key = (request.params["queue_name"], self._api.scope(action, request).project)
            held = (key, time.monotonic() + wait)
            self.waker.watch(key)
        if time.monotonic() >= held[1]:
            self.waker.unwatch(held[0])
            return False
        waiter = _Waiter(connection, held[0], held[1], rerun)
        waiter.timer = self._reactor.callLater(held[1] - time.monotonic(), self._run, waiter)
        self._waiting.setdefault(waiter.key, []).append(waiter)
        return True

    def announce_post(self, action: str, request: Request) -> None:
        """After a post served by this process (any thread): wake its queue's waiters."""
        if action == "message_post" and self.waker.waiting:
            self.waker.announce((request.params["queue_name"],
                                 self._api.scope(action, request).project))

    def drop(self, connection: Any) -> None:
        """A connection closed: its waiting requests are forgotten."""
        for key, waiters in list(self._waiting.items()):
            for waiter in [w for w in waiters if w.connection is connection]:
                self._remove(waiter)
                self.waker.unwatch(key)

    def stop(self) -> None:
        for waiters in list(self._waiting.values()):
            for waiter in list(waiters):
                self._remove(waiter)

    def _announced(self) -> None:  # any thread
        if not self._wake_pending:
            self._wake_pending = True
            self._reactor.callFromThread(self._wake)

    def _wake(self) -> None:
        self._wake_pending = False
        for key in self.waker.take_woken():
            for waiter in list(self._waiting.get(key, ())):
                self._run(waiter)

    def _run(self, waiter: _Waiter) -> None:
        """Run the request again; its watch of the queue goes with it."""
        self._remove(waiter)
        waiter.rerun((waiter.key, waiter.deadline))

    def _remove(self, waiter: _Waiter) -> None:
        waiters = self._waiting.get(waiter.key, [])
        if waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._waiting[waiter.key]
        if waiter.timer is not None and waiter.timer.active():
            waiter.timer.cancel()
