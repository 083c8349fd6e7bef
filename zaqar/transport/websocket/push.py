"""Server push: deliver messages posted to a queue to the websocket subscribers of it.

The channel is the storage itself: this process asks, for each live websocket
subscription it holds, for messages after the last one it pushed. So a message posted
through any process or node of the service (REST or websocket) reaches every
subscriber. When the storage announces posts (``DataDriver.watch_posts``: Redis
pub/sub), the subscriptions of a queue are looked at as soon as a post to it is
announced, and all of them every ``push_safety_interval`` in case an announcement was
lost; otherwise all are looked at every ``push_interval``. A process watches only while
it holds subscriptions (and WATCH_LINGER seconds after): every announcement costs each
watching process a wake-up, which a process with nothing to push should not pay; a
subscription is confirmed only once its process listens. Subscriptions
end when their connection closes, when they are deleted, or when their ttl passes; a
subscription is looked up again before each delivery, so nothing posted after its end
is pushed. The lookups run as the server (``Api.run``) in the project the subscription
was authorized for when it was created; a connection whose token expires is closed,
which ends its subscriptions.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.internet import task

from zaqar.api import Api, ScopedRequest, errors
from zaqar.transport.websocket import frames

if TYPE_CHECKING:
    from zaqar.storage.base import Watch
    from zaqar.transport.websocket.protocol import MessagingProtocol
    from zaqar.transport.websocket.runner import BlockingCallRunner

LOG = logging.getLogger(__name__)
# Seconds between checks that an idle subscription still exists (so its listener is
# dropped even when nothing is posted); one with messages to deliver is checked each time.
CHECK_ALIVE_EVERY = 1.0
# Seconds the post watch is kept after the last subscription ends, so that subscriptions
# coming and going do not restart it each time.
WATCH_LINGER = 30.0


@dataclass
class Listener:
    connection: MessagingProtocol
    subscription_id: str
    project: str
    queue: str
    client_id: str
    binary: bool  # push in the encoding the subscription was asked in
    marker: str | None
    next_check: float

    @property
    def scope(self) -> tuple[str, str]:
        """(queue, project), as the storage announces posts."""
        return self.queue, self.project


class PushHub:
    def __init__(self, api: Api, reactor: Any, runner: BlockingCallRunner, interval: float,
                 safety_interval: float, page_size: int) -> None:
        self._api = api
        self._reactor = reactor
        self._runner = runner
        self._page_size = page_size
        self._listeners: dict[str, Listener] = {}
        # Subscription ids per scope, and scopes announced since their last look; the
        # watch's thread reads _by_scope (one dict lookup, atomic).
        self._by_scope: dict[tuple[str, str], set[str]] = {}
        self._announced: set[tuple[str, str]] = set()
        self._polling = False
        self._loop = task.LoopingCall(self._poll)
        self._loop.clock = reactor
        self._interval = interval
        self._safety_interval = safety_interval
        self._watch: Watch | None = None
        self._can_watch = True  # until the storage says it cannot announce posts
        self._idle_since = reactor.seconds()  # when the last subscription ended
        # Guards _watch between runner threads (which start it) and the reactor.
        self._watch_lock = threading.Lock()

    def start(self) -> None:
        self._loop.start(self._interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def _start_watch(self) -> None:
        """In a runner thread: watch posts, when the storage announces them; returns
        once the watch listens."""
        with self._watch_lock:
            # Not idle: the subscription's listener is on its way to the reactor.
            self._idle_since = self._reactor.seconds()
            if self._watch is None and self._can_watch:
                self._watch = self._api.storage.watch_posts(self._heard_post)
                self._can_watch = self._watch is not None

    def _stop_idle_watch(self) -> None:
        """Stop watching once no subscription has been held for WATCH_LINGER seconds
        (closed in a runner thread: closing waits for the watch's thread)."""
        if (self._watch is None or self._listeners
                or self._reactor.seconds() - self._idle_since < WATCH_LINGER):
            return
        if not self._watch_lock.acquire(blocking=False):
            return  # a subscription is starting one: not idle after all
        try:
            watch, self._watch = self._watch, None
        finally:
            self._watch_lock.release()
        if watch is not None:
            self._runner.submit(watch.close, (), self._log_failure)

    def subscribe(self, connection: MessagingProtocol, request: ScopedRequest,
                  subscription_id: str, binary: bool) -> None:
        """Start pushing to ``connection``; only messages posted from now on are sent.

        Runs in a runner thread (it asks storage for the queue's newest message).
        """
        queue = request.params["queue_name"]
        self._start_watch()  # before the newest message is looked up: no post is missed
        stats = self._api.run("queue_get_stats", ScopedRequest(
            project=request.project, client_id=request.client_id,
            params={"queue_name": queue}))
        listener = Listener(connection, subscription_id, request.project, queue,
                            request.client_id, binary,
                            stats.body["messages"].get("newest", {}).get("id"),
                            time.monotonic() + CHECK_ALIVE_EVERY)
        self._reactor.callFromThread(self._add, listener)

    def _add(self, listener: Listener) -> None:
        if listener.connection.state != listener.connection.STATE_OPEN:
            return
        listener.connection.subscriptions.add(listener.subscription_id)
        self._listeners[listener.subscription_id] = listener
        self._by_scope.setdefault(listener.scope, set()).add(listener.subscription_id)
        # With a watch, a look every safety interval is enough.
        self._loop.interval = self._safety_interval if self._can_watch else self._interval
        if self._watch is not None:
            # A post announced between the newest message's lookup and now was not
            # heard for this subscription: look once rather than wait for the safety net.
            self._announce(listener.scope)

    def _forget(self, listener: Listener) -> None:
        del self._listeners[listener.subscription_id]
        ids = self._by_scope[listener.scope]
        ids.discard(listener.subscription_id)
        if not ids:
            del self._by_scope[listener.scope]
        if not self._listeners:
            self._idle_since = self._reactor.seconds()

    def drop_connection(self, connection: MessagingProtocol) -> None:
        """Forget a closed connection's subscriptions and delete them from storage."""
        for subscription_id in connection.subscriptions:
            listener = self._listeners.get(subscription_id)
            if listener is not None:
                self._forget(listener)
                self._runner.submit(self._delete, (listener,), self._log_failure)
        connection.subscriptions.clear()

    def _delete(self, listener: Listener) -> None:
        self._api.run("subscription_delete", ScopedRequest(
            project=listener.project, client_id=listener.client_id,
            params={"queue_name": listener.queue,
                    "subscription_id": listener.subscription_id}))

    @staticmethod
    def _log_failure(_: Any, error: BaseException | None) -> None:
        if error is not None:
            LOG.warning("Websocket push: %s", error)

    def _heard_post(self, queue: str, project: str) -> None:
        """In the watch's thread: a post to a queue this process has subscriptions of
        is looked at now."""
        if (queue, project) in self._by_scope:
            self._reactor.callFromThread(self._announce, (queue, project))

    def _announce(self, scope: tuple[str, str]) -> None:
        self._announced.add(scope)
        self._poll_announced()

    def _poll(self) -> None:
        """Every subscription (each interval)."""
        self._stop_idle_watch()
        if self._polling or not self._listeners:
            return
        self._announced.clear()
        self._look(list(self._listeners.values()))

    def _poll_announced(self) -> None:
        """The subscriptions of announced scopes; announcements heard during a look are
        gathered into the next, which starts when it ends."""
        if self._polling or not self._announced:
            return
        scopes, self._announced = self._announced, set()
        self._look([self._listeners[subscription_id] for scope in scopes
                    for subscription_id in self._by_scope.get(scope, ())])

    def _look(self, listeners: list[Listener]) -> None:
        if not listeners:
            return
        self._polling = True
        self._runner.submit(self._fetch, (listeners,), self._looked)

    def _looked(self, found: list[tuple[Listener, list[Any] | None]] | None,
                error: BaseException | None) -> None:
        self._polling = False
        try:
            if error is not None:
                self._log_failure(None, error)
            else:
                self._deliver(found or [])
        finally:
            self._poll_announced()

    def _fetch(self, listeners: list[Listener]) -> list[tuple[Listener, list[Any] | None]]:
        """In a runner thread: new messages per listener; None means the subscription ended."""
        found: list[tuple[Listener, list[Any] | None]] = []
        now = time.monotonic()
        for listener in listeners:
            messages = self._new_messages(listener)
            # Looked up after the messages: one posted after the subscription was
            # deleted is then never delivered.
            if messages or now >= listener.next_check:
                listener.next_check = now + CHECK_ALIVE_EVERY
                if not self._still_subscribed(listener):
                    found.append((listener, None))
                    continue
            if messages:
                found.append((listener, messages))
        return found

    def _still_subscribed(self, listener: Listener) -> bool:
        try:
            self._api.run("subscription_get", ScopedRequest(
                project=listener.project, client_id=listener.client_id,
                params={"queue_name": listener.queue,
                        "subscription_id": listener.subscription_id}))
        except errors.NotFound:
            return False
        return True

    def _new_messages(self, listener: Listener) -> list[Any]:
        params = {"queue_name": listener.queue, "limit": self._page_size, "echo": True,
                  "include_claimed": True}
        if listener.marker:
            params["marker"] = listener.marker
        listed = self._api.run("message_list", ScopedRequest(
            project=listener.project, client_id=listener.client_id, params=params))
        messages = listed.body["messages"]
        if messages:
            listener.marker = messages[-1]["id"]
        return messages

    def _deliver(self, found: list[tuple[Listener, list[Any] | None]]) -> None:
        for listener, messages in found:
            if self._listeners.get(listener.subscription_id) is not listener:
                continue  # unsubscribed while we looked
            if messages is None:
                self._forget(listener)
                listener.connection.subscriptions.discard(listener.subscription_id)
                continue
            listener.connection.send(frames.push(listener.subscription_id, listener.queue,
                                                 messages), listener.binary)
