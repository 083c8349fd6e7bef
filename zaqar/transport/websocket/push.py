"""Server push: deliver messages posted to a queue to the websocket subscribers of it.

The channel is the storage itself: every ``push_interval`` this process asks, for each
live websocket subscription it holds, for messages after the last one it pushed. So a
message posted through any process or node of the service (REST or websocket) reaches
every subscriber, with a delay of at most one interval plus one query. Subscriptions
end when their connection closes, when they are deleted, or when their ttl passes; a
subscription is looked up again before each delivery, so nothing posted after its end
is pushed.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.internet import task, threads

from zaqar.api import Api, Request, errors
from zaqar.transport.websocket import frames

if TYPE_CHECKING:
    from zaqar.transport.websocket.protocol import MessagingProtocol

LOG = logging.getLogger(__name__)
# Seconds between checks that an idle subscription still exists (so its listener is
# dropped even when nothing is posted); one with messages to deliver is checked each time.
CHECK_ALIVE_EVERY = 1.0


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


class PushHub:
    def __init__(self, api: Api, reactor: Any, pool: Any, interval: float,
                 page_size: int) -> None:
        self._api = api
        self._reactor = reactor
        self._pool = pool
        self._page_size = page_size
        self._listeners: dict[str, Listener] = {}
        self._polling = False
        self._loop = task.LoopingCall(self._poll)
        self._loop.clock = reactor
        self._interval = interval

    def start(self) -> None:
        self._loop.start(self._interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def subscribe(self, connection: MessagingProtocol, request: Request,
                  subscription_id: str, binary: bool) -> None:
        """Start pushing to ``connection``; only messages posted from now on are sent.

        Runs in a pool thread (it asks storage for the queue's newest message).
        """
        queue = request.params["queue_name"]
        stats = self._api.dispatch("queue_get_stats", Request(
            project=request.project, client_id=request.client_id,
            params={"queue_name": queue}))
        listener = Listener(connection, subscription_id, request.project or "", queue,
                            request.client_id or "", binary,
                            stats.body["messages"].get("newest", {}).get("id"),
                            time.monotonic() + CHECK_ALIVE_EVERY)
        self._reactor.callFromThread(self._add, listener)

    def _add(self, listener: Listener) -> None:
        if listener.connection.state != listener.connection.STATE_OPEN:
            return
        listener.connection.subscriptions.add(listener.subscription_id)
        self._listeners[listener.subscription_id] = listener

    def drop_connection(self, connection: MessagingProtocol) -> None:
        """Forget a closed connection's subscriptions and delete them from storage."""
        for subscription_id in connection.subscriptions:
            listener = self._listeners.pop(subscription_id, None)
            if listener is not None:
                threads.deferToThreadPool(self._reactor, self._pool, self._delete,
                                          listener).addErrback(self._log_failure)
        connection.subscriptions.clear()

    def _delete(self, listener: Listener) -> None:
        self._api.dispatch("subscription_delete", Request(
            project=listener.project, client_id=listener.client_id,
            params={"queue_name": listener.queue,
                    "subscription_id": listener.subscription_id}))

    @staticmethod
    def _log_failure(failure: Any) -> None:
        LOG.warning("Websocket push: %s", failure.value)

    def _poll(self) -> None:
        if self._polling or not self._listeners:
            return
        self._polling = True
        listeners = list(self._listeners.values())
        done = threads.deferToThreadPool(self._reactor, self._pool, self._fetch, listeners)
        done.addCallback(self._deliver)
        done.addErrback(self._log_failure)
        done.addBoth(self._poll_done)

    def _poll_done(self, _: Any) -> None:
        self._polling = False

    def _fetch(self, listeners: list[Listener]) -> list[tuple[Listener, list[Any] | None]]:
        """In a pool thread: new messages per listener; None means the subscription ended."""
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
            self._api.dispatch("subscription_get", Request(
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
        listed = self._api.dispatch("message_list", Request(
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
                del self._listeners[listener.subscription_id]
                listener.connection.subscriptions.discard(listener.subscription_id)
                continue
            listener.connection.send(frames.push(listener.subscription_id, listener.queue,
                                                 messages), listener.binary)
