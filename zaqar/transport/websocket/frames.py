"""The request envelope and push frames, free of I/O.

A request is ``{"action": str, "headers": {str: str}, "body": {...}}`` (decoded by
:mod:`zaqar.codec`); replies are built by :mod:`zaqar.transport.websocket.replies`.
"""
from dataclasses import dataclass
from typing import Any

from zaqar.api.errors import BadRequest

# The frame object wraps the request document (its ``body``) one level down: the depth
# limit of request documents applies to the body, as to a REST body.
ENVELOPE_LEVELS = 1


@dataclass(slots=True)
class Envelope:
    action: str
    headers: dict[str, str | None]  # by lower-cased name; None for non-string values
    body: dict[str, Any]
    raw: Any  # the decoded request as sent, echoed in the reply

    def header(self, name: str) -> str | None:
        """Header lookup, case-insensitive as in HTTP; non-string values count as
        absent."""
        return self.headers.get(name.lower())


def parse_envelope(request: Any) -> Envelope:
    """Check the request shape. Raises BadRequest naming what is wrong."""
    if not isinstance(request, dict):
        raise BadRequest("A request frame must be an object with action, headers and body.",
                         "Malformed frame")
    action = request.get("action")
    if not isinstance(action, str) or not action:
        raise BadRequest("The request frame names no action.", "Malformed frame")
    headers = request.get("headers", {})
    if not isinstance(headers, dict):
        raise BadRequest("The request headers must be an object.", "Malformed frame")
    body = request.get("body", {})
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest("The request body must be an object.", "Malformed frame")
    by_name: dict[str, str | None] = {}
    for key, value in headers.items():
        if isinstance(key, str):  # the first of names differing only in case wins
            by_name.setdefault(key.lower(), value if isinstance(value, str) else None)
    return Envelope(action=action, headers=by_name, body=body, raw=request)


def push(subscription_id: str, source: str, messages: list[Any],
         source_key: str = "queue_name") -> dict[str, Any]:
    """A frame the server sends unasked: new messages for a websocket subscription of a
    queue (``source_key`` ``queue_name``) or a topic (``topic_name``)."""
    return {"action": "message_push",
            "headers": {"status": 200, "subscription_id": subscription_id},
            "body": {source_key: source, "messages": messages}}


# Close codes a peer may send (RFC 6455 section 7.4): the registered ones an endpoint
# may put in a close frame, and 3000-4999 (libraries', applications' and ours).
_PEER_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                               1013, 1014})
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_PAYLOAD = 1007


def close_frame_refusal(code: int | None, reason: bytes | None) -> tuple[int, str] | None:
    """What is wrong with a peer's close frame, as the close code and reason to answer
    it with (RFC 6455 section 7.4), or None when it is well formed: a code no endpoint
    may send (999, 1004-1006, 1015, 5000...) gets 1002, a reason that is not UTF-8 1007.
    (A 1-byte payload, also 1002, is refused by Autobahn as the frame arrives.)"""
    if code is not None and code not in _PEER_CLOSE_CODES and not 3000 <= code <= 4999:
        return CLOSE_PROTOCOL_ERROR, f"invalid close code {code}"
    if reason:
        try:
            reason.decode()
        except UnicodeDecodeError:
            return CLOSE_INVALID_PAYLOAD, "close reason is not UTF-8"
    return None
