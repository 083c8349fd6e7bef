"""Transport-neutral request and response objects."""
from dataclasses import dataclass, field
from typing import Any

from zaqar.api.errors import BadRequest


@dataclass(slots=True)
class Request:
    """One call of an action.

    ``params`` uses the action's own vocabulary (the websocket body keys: ``queue_name``,
    ``message_ids``, ``ttl``...); transports translate their paths and query strings into
    it. ``project`` and ``client_id`` are checked by the dispatcher before the action
    runs, so actions may rely on them. ``body_size`` is the size in bytes of the encoded
    request body, when known.
    """

    project: str | None
    client_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    body_size: int | None = None


@dataclass(slots=True)
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def merge_document(params: dict[str, Any], document: Any) -> dict[str, Any]:
    """Fold a JSON request document into ``params``; the transport's own keys win.

    Raises BadRequest when the document is not a JSON object.
    """
    if document is None:
        return params
    if not isinstance(document, dict):
        raise BadRequest("The request body must be a JSON object.")
    return {**document, **params}
