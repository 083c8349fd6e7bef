"""Server push: messages posted to a queue, to the websocket subscribers of it.

Delivery is the notifier's (zaqar.notification.notifier), as for webhooks and e-mail:
each websocket process runs one over the subscriptions its own connections hold, and
this hub is its sender for ``websocket:`` subscribers, turning each page of due
messages into a push frame on the subscriber's connection. So the messages come from
the storage, whichever process or node of the service took the post (REST or
websocket), after the subscription's cursor (set to the queue's newest message when it
was made), in post order; the notifier wakes on the storage's post announcements (Redis
pub/sub: watched only while this process holds subscriptions, and a while after), and
otherwise looks every ``push_interval`` (``push_safety_interval`` while watching).

Subscriptions end when their connection closes (they are deleted then), when they are
deleted, or when their ttl passes; the notifier looks each one up before it delivers,
and drops from its connection one that is gone. A connection whose token expires is
closed, which ends its subscriptions.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oslo_config import cfg

from zaqar.api import Api, ScopedRequest, render
from zaqar.notification.base import DELIVERED, Outcome
from zaqar.notification.notifier import Notifier
from zaqar.storage import errors
from zaqar.storage.base import Message, Subscription, owner_project, topic_project
from zaqar.transport.websocket import frames

if TYPE_CHECKING:
    from zaqar.transport.websocket.protocol import MessagingProtocol
    from zaqar.transport.websocket.runner import BlockingCallRunner

LOG = logging.getLogger(__name__)
SCHEME = "websocket"
PUSH_THREADS = 2  # notifier threads of a websocket process
_GONE = Outcome(False, error="The subscriber's websocket connection is closed.")


@dataclass(frozen=True, slots=True)
class Held:
    """A subscription held by one of this process's connections."""

    connection: MessagingProtocol
    project: str
    queue: str
    client_id: str
    binary: bool  # pushed in the encoding the subscription was asked in


class PushHub:
    def __init__(self, api: Api, conf: cfg.ConfigOpts, reactor: Any,
                 runner: BlockingCallRunner) -> None:
        group = conf["drivers:transport:websocket"]
        self._api = api
        self._reactor = reactor
        self._runner = runner
        # Subscription id -> its holder; written on the reactor and in runner threads,
        # read by the notifier's threads.
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()
        self._notifier = Notifier(conf, api.storage, {SCHEME: self}, source=self._holdings,
                                  intervals=(group.push_interval, group.push_safety_interval),
                                  workers=PUSH_THREADS)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._notifier.run, name="zaqar-push",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._notifier.stop()
        if self._thread is not None:
            self._thread.join(5)

    def subscribe(self, connection: MessagingProtocol, request: ScopedRequest,
                  subscription_id: str, binary: bool, topic: bool = False) -> None:
        """Start pushing to ``connection`` what is posted from now on to a queue, or a
        ``topic`` (the subscription's cursor is the newest message). Runs in a runner
        thread; returns once the storage's post announcements are heard, so the post
        right after is pushed at once."""
        self._notifier.ensure_watching()
        if topic:  # stored as a queue of the project's topic namespace (zaqar.api.topics)
            project, source = topic_project(request.project), request.params["topic_name"]
        else:
            project, source = request.project, request.params["queue_name"]
        with self._lock:
            self._held[subscription_id] = Held(connection, project, source,
                                               request.client_id, binary)
        self._reactor.callFromThread(self._attach, connection, subscription_id)
        self._notifier.wake()

    def _attach(self, connection: MessagingProtocol, subscription_id: str) -> None:
        if connection.state == connection.STATE_OPEN:
            connection.subscriptions.add(subscription_id)
            return
        held = self._forget(subscription_id)  # closed while subscribing
        if held is not None:
            self._runner.submit(self._delete, (subscription_id, held), self._log_failure)

    def _forget(self, subscription_id: str) -> Held | None:
        with self._lock:
            return self._held.pop(subscription_id, None)

    def drop_connection(self, connection: MessagingProtocol) -> None:
        """Forget a closed connection's subscriptions and delete them from storage."""
        for subscription_id in connection.subscriptions:
            held = self._forget(subscription_id)
            if held is not None:
                self._runner.submit(self._delete, (subscription_id, held), self._log_failure)
        connection.subscriptions.clear()

    def _delete(self, subscription_id: str, held: Held) -> None:
        self._api.run("subscription_delete", ScopedRequest(
            project=held.project, client_id=held.client_id,
            params={"queue_name": held.queue, "subscription_id": subscription_id}))

    @staticmethod
    def _log_failure(_: Any, error: BaseException | None) -> None:
        if error is not None:
            LOG.warning("Websocket push: %s", error)

    # -- for the notifier (its threads) -------------------------------------------------

    def _holdings(self) -> Iterator[Subscription]:
        """The live subscriptions this process holds; ones gone (deleted, expired) are
        dropped from their connection."""
        with self._lock:
            held = list(self._held.items())
        for subscription_id, holder in held:
            try:
                yield self._api.storage.subscriptions.get(holder.queue, holder.project,
                                                          subscription_id)
            except errors.SubscriptionDoesNotExist:
                if self._forget(subscription_id) is not None:
                    self._reactor.callFromThread(holder.connection.subscriptions.discard,
                                                 subscription_id)

    def send(self, subscription: Subscription, document: dict[str, Any]) -> Outcome:
        """Confirmation notices are for URI subscribers: none comes here."""
        return Outcome(False, error="Websocket subscriptions take no notices.")

    def send_page(self, subscription: Subscription, messages: list[Message]) -> Outcome:
        with self._lock:
            holder = self._held.get(subscription.id)
        if holder is None:
            return _GONE
        at = time.time()
        items = [render.message(subscription.source, message, at) for message in messages]
        if owner_project(subscription.project)[1]:
            queue_href = render.queue_href(subscription.source)
            for item in items:
                item["href"] = item["href"].replace(
                    queue_href, f"{render.V2}/topics/{subscription.source}", 1)
            frame = frames.push(subscription.id, subscription.source, items, "topic_name")
        else:
            frame = frames.push(subscription.id, subscription.source, items)
        self._reactor.callFromThread(self._send, subscription.id, holder, frame)
        return DELIVERED

    def _send(self, subscription_id: str, holder: Held, frame: dict[str, Any]) -> None:
        connection = holder.connection
        if (subscription_id in connection.subscriptions
                and connection.state == connection.STATE_OPEN):
            connection.send(frame, holder.binary)
