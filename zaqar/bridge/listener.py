"""oslo.messaging's notification listener, wired to a :class:`NotificationPoster`.

The only module of the service that imports oslo.messaging: ``zaqar-server`` never loads
it. One worker thread handles notifications, so that they are posted in the order the
bus delivers them (a dashboard shows each resource's latest state).
"""
import logging
import time
from collections.abc import Callable
from typing import Any

import oslo_messaging
from oslo_config import cfg

from zaqar.bridge.endpoint import NotificationPoster, Outcome
from zaqar.bridge.routing import Notification

LOG = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], str, str, Any, dict[str, Any]], str]


class BridgeEndpoint:
    """A notification endpoint with one method per configured priority (oslo.messaging
    reads only the priorities an endpoint has a method for)."""

    def __init__(self, poster: NotificationPoster, priorities: list[str],
                 retry_interval: float) -> None:
        self.poster = poster
        self.retry_interval = retry_interval
        for priority in priorities:
            setattr(self, priority, self._handler(priority))

    def _handler(self, priority: str) -> Handler:
        def handle(context: dict[str, Any], publisher_id: str, event_type: str, payload: Any,
                   metadata: dict[str, Any]) -> str:
            if not self.poster.wants(event_type):
                return oslo_messaging.NotificationResult.HANDLED
            notification = Notification(context or {}, publisher_id, event_type, priority,
                                        payload, metadata or {})
            if self.poster.post(notification) is Outcome.RETRY:
                # Requeued at once it would come straight back: give storage a moment.
                time.sleep(self.retry_interval)
                return oslo_messaging.NotificationResult.REQUEUE
            return oslo_messaging.NotificationResult.HANDLED
        return handle


class Bridge:
    """The running listener: :meth:`start` returns once it reads from the bus."""

    def __init__(self, conf: cfg.ConfigOpts, poster: NotificationPoster) -> None:
        bridge = conf.bridge
        transport = oslo_messaging.get_notification_transport(conf, url=bridge.transport_url)
        targets = [oslo_messaging.Target(topic=topic) for topic in bridge.topics]
        endpoint = BridgeEndpoint(poster, bridge.priorities, bridge.retry_interval)
        self._transport = transport
        self._listener = oslo_messaging.get_notification_listener(
            transport, targets, [endpoint], executor="threading", allow_requeue=True,
            pool=bridge.pool or None)

    def start(self) -> None:
        self._listener.start(override_pool_size=1)

    def stop(self) -> None:
        """Stop reading, finish the notification in hand, close the connection."""
        self._listener.stop()
        self._listener.wait()
        self._transport.cleanup()
