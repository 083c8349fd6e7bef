"""Where a notification goes and what is posted: pure functions, no I/O."""
import re
from dataclasses import dataclass
from typing import Any

# Characters a queue name may not hold ([a-zA-Z0-9_-], as the api layer validates).
_NOT_IN_QUEUE_NAME = re.compile(r"[^a-zA-Z0-9_-]+")
# Payload keys naming the project, in order (Nova and Cinder say tenant_id, newer
# services project_id).
PROJECT_KEYS = ("tenant_id", "project_id")
# Versioned notifications (Nova's) wrap the payload's fields in this key.
VERSIONED_DATA = "nova_object.data"


class RoutingError(ValueError):
    """The configuration cannot route notifications (a bad queue name template)."""


@dataclass(frozen=True)
class Notification:
    """One notification as oslo.messaging hands it to an endpoint."""

    context: dict[str, Any]
    publisher_id: str
    event_type: str
    priority: str
    payload: Any
    metadata: dict[str, Any]


def project_of(notification: Notification) -> str | None:
    """The project a notification belongs to: its payload's ``tenant_id`` or
    ``project_id`` (inside ``nova_object.data`` for versioned notifications), else its
    context's; None when it names none."""
    payload = notification.payload
    for fields in (payload, payload.get(VERSIONED_DATA) if isinstance(payload, dict) else None,
                   notification.context):
        if not isinstance(fields, dict):
            continue
        for key in PROJECT_KEYS:
            value = fields.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def service_of(publisher_id: str) -> str:
    """The publisher id's part before the host: ``compute`` for ``compute.host1``,
    ``nova-compute`` for ``nova-compute:host1`` (versioned notifications name the binary)."""
    service = re.split(r"[.:]", publisher_id or "", maxsplit=1)[0]
    return _NOT_IN_QUEUE_NAME.sub("-", service) or "unknown"


class QueueNamer:
    """Names the queue of a notification from the ``[bridge] queue_name`` template."""

    def __init__(self, template: str) -> None:
        try:
            template.format(service="x")
        except (KeyError, IndexError, ValueError) as error:
            raise RoutingError(f"[bridge] queue_name {template!r} is not a valid template: "
                               f"the only placeholder is {{service}} ({error}).") from error
        self.template = template

    def __call__(self, notification: Notification) -> str:
        name = self.template.format(service=service_of(notification.publisher_id))
        return _NOT_IN_QUEUE_NAME.sub("-", name)[:64]


def message_body(notification: Notification) -> dict[str, Any]:
    """The posted message: the notification's own fields, its payload unchanged."""
    return {
        "event_type": notification.event_type,
        "publisher_id": notification.publisher_id,
        "priority": notification.priority,
        "timestamp": notification.metadata.get("timestamp"),
        "message_id": notification.metadata.get("message_id"),
        "payload": notification.payload,
    }
