"""Posts notifications through the shared controller layer and says what the bus is told.

No oslo.messaging here: :class:`NotificationPoster` takes a
:class:`~zaqar.bridge.routing.Notification` and answers an :class:`Outcome`, which the
listener turns into an acknowledgement or a requeue.
"""
import enum
import logging
import re
import uuid
from typing import Any

from oslo_config import cfg

from zaqar.api import Api, ScopedRequest, errors
from zaqar.bridge.routing import Notification, QueueNamer, RoutingError, message_body, project_of

LOG = logging.getLogger(__name__)


class Outcome(enum.Enum):
    STORED = "stored"  # posted: acknowledge
    DROPPED = "dropped"  # can never be posted (no project, refused by validation): acknowledge
    RETRY = "retry"  # not stored this time (storage unavailable): put back on the bus


class NotificationPoster:
    """Posts each notification to its project's queue, in process (no HTTP).

    Raises RoutingError at construction for a configuration that cannot route (a bad
    queue name template or event type expression, a TTL past the largest allowed).
    """

    def __init__(self, api: Api, conf: cfg.ConfigOpts) -> None:
        bridge = conf.bridge
        self.api = api
        self.queue_name = QueueNamer(bridge.queue_name)
        if bridge.message_ttl > conf.transport.max_message_ttl:
            raise RoutingError(f"[bridge] message_ttl = {bridge.message_ttl} is more than "
                               f"[transport] max_message_ttl ({conf.transport.max_message_ttl}).")
        self.ttl = bridge.message_ttl
        self.event_types = event_type_filter(bridge.event_types)
        # The bridge is one client of the service: its posts carry this Client-ID.
        self.client_id = str(uuid.uuid4())

    def wants(self, event_type: str) -> bool:
        """Whether ``[bridge] event_types`` lets this event type through."""
        return self.event_types is None or bool(self.event_types.match(event_type or ""))

    def post(self, notification: Notification) -> Outcome:
        """Store ``notification`` in its queue. Never raises: a failure is an Outcome."""
        project = project_of(notification)
        if project is None:
            LOG.warning("Dropped %s from %s: it names no project (no tenant_id or "
                        "project_id in its payload or context).", notification.event_type,
                        notification.publisher_id)
            return Outcome.DROPPED
        params: dict[str, Any] = {
            "queue_name": self.queue_name(notification),
            "messages": [{"ttl": self.ttl, "body": message_body(notification)}]}
        try:
            self.api.validate.json_document(params)
            request = ScopedRequest(project=self.api.validate.project_id(project),
                                    client_id=self.client_id, params=params)
            self.api.run("message_post", request)
        except errors.ServiceUnavailable as error:
            LOG.warning("Storage unavailable, %s will be delivered again: %s",
                        notification.event_type, error.description)
            return Outcome.RETRY
        except errors.ApiError as error:
            LOG.error("Dropped %s from %s for project %s: %s", notification.event_type,
                      notification.publisher_id, project, error.description)
            return Outcome.DROPPED
        except Exception:
            LOG.exception("Posting %s failed; it will be delivered again.",
                          notification.event_type)
            return Outcome.RETRY
        return Outcome.STORED


def event_type_filter(patterns: list[str]) -> re.Pattern[str] | None:
    """One expression matching any of ``patterns`` (each anchored at the start); None
    for no patterns: every event type. Raises RoutingError for a bad expression."""
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
    except re.error as error:
        raise RoutingError(f"[bridge] event_types holds a bad regular expression: "
                           f"{error}.") from error
