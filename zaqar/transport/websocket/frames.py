"""Frame encoding and the request envelope, free of I/O.

Text frames carry JSON, binary frames MsgPack; a reply uses its request's encoding. A
request is ``{"action": str, "headers": {str: str}, "body": {...}}``; a reply is
``{"request": <the request>, "headers": {"status": int}, "body": ...}``.
"""
import json
from dataclasses import dataclass
from typing import Any

import msgpack

from zaqar import jsoncodec
from zaqar.api.errors import ApiError, BadRequest


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


def decode(payload: bytes, binary: bool) -> Any:
    """Raises BadRequest for a frame that is not valid JSON / MsgPack."""
    try:
        if binary:
            return msgpack.unpackb(payload, raw=False, strict_map_key=False)
        return json.loads(payload)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError,
            UnicodeDecodeError, TypeError):
        kind = "MsgPack" if binary else "JSON"
        raise BadRequest(f"The frame is not valid {kind}.", "Malformed frame") from None


def encode(document: Any, binary: bool) -> bytes:
    if binary:
        return msgpack.packb(document, use_bin_type=True)
    return jsoncodec.dumps(document)


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


def reply(request: Any, status: int, body: Any = None,
          headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"request": request, "headers": {"status": status, **(headers or {})},
            "body": {} if body is None else body}


def error_reply(request: Any, error: ApiError) -> dict[str, Any]:
    # "error" is what python-zaqarclient's websocket transport reads.
    body = {**error.to_body(), "error": error.description}
    return reply(request, error.status, body)


def push(subscription_id: str, queue: str, messages: list[Any]) -> dict[str, Any]:
    """A frame the server sends unasked: new messages for a websocket subscription."""
    return {"action": "message_push",
            "headers": {"status": 200, "subscription_id": subscription_id},
            "body": {"queue_name": queue, "messages": messages}}
