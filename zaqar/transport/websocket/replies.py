"""Reply frames in upstream Zaqar's websocket shapes.

A reply is ``{"request": {"action", "body", "headers", "api": "v2"}, "headers":
{"status": int}, "body": ...}``: upstream echoes the request rebuilt from those three
keys, ``api`` added. The status and the body come from the api layer, as for REST; where
upstream's websocket API answers another body than its REST API, the shaper of the
action (:data:`SHAPERS`) turns the REST body into it:

- message items are ``{"id", "claim_id", "ttl", "age", "body"}``, without hrefs, and
  stats' oldest and newest messages have no href either;
- lists have no ``links``; ``message_get`` is wrapped in ``messages``; ``message_post``
  answers ``message_ids`` only; ``claim_get`` ``age``, ``ttl`` and ``messages``;
- ``queue_create``, ``queue_delete``, ``claim_update``, ``claim_delete`` and
  ``subscription_delete`` answer a sentence.

Actions upstream's websocket API does not have reply with the REST body. Error bodies
are REST's ``{"title", "description"}`` plus upstream's ``error`` (what
python-zaqarclient's websocket transport reads) and ``exception``.
"""
import uuid
from collections.abc import Callable
from typing import Any

from zaqar import codec
from zaqar.api.errors import ApiError

API = "v2"

# (request body, api response body or None) -> the reply body.
Shaper = Callable[[dict[str, Any], Any], Any]


# Headers whose values are credentials: never echoed (nor logged), whatever the action.
SECRET_HEADERS = frozenset({"x-auth-token", "url-signature"})
REDACTED = "<redacted>"

# What ``authenticate`` replies echo, as upstream's: the action alone, never its headers.
AUTHENTICATE_REQUEST: dict[str, Any] = {"action": "authenticate"}
AUTHENTICATED = {"message": "Authentified."}  # sic: upstream's word


def echo(request: Any) -> dict[str, Any]:
    """The request as upstream echoes it, credentials redacted; a frame that is no object
    (or could not be decoded) echoes as an empty request."""
    if type(request) is not dict:
        return {"action": None, "body": {}, "headers": {}, "api": API}
    return {"action": request.get("action"), "body": request.get("body", {}),
            "headers": redact(request.get("headers") or {}), "api": API}


def redact(headers: Any) -> Any:
    """``headers`` with the values of SECRET_HEADERS (any case) replaced by REDACTED."""
    if type(headers) is not dict or not any(
            type(name) is str and name.lower() in SECRET_HEADERS for name in headers):
        return headers
    return {name: REDACTED if type(name) is str and name.lower() in SECRET_HEADERS
            else value for name, value in headers.items()}


def reply(request: Any, status: int, body: Any = None) -> dict[str, Any]:
    return {"request": echo(request), "headers": {"status": status},
            "body": {} if body is None else body}


def action_reply(request: Any, action: str, params: dict[str, Any], status: int,
                 body: Any) -> dict[str, Any]:
    """The reply to a successful action, in upstream's shape for it."""
    shaper = SHAPERS.get(action)
    if shaper is not None:
        body = shaper(params, body)
    return reply(request, status, body)


def error_reply(request: Any, error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = codec.error_body(error)
    body["error"] = body["exception"] = error.description
    return reply(request, error.status, body)


class UnencodableReply(ApiError):
    """A stored value the frame's encoding cannot carry: an integer past 64 bits in
    MsgPack, stored before such integers were refused at post time."""

    status = 500
    title = "Reply not encodable"

    def __init__(self) -> None:
        super().__init__("The reply holds a value MsgPack cannot encode (an integer past "
                         "64 bits); read it with a JSON text frame.")


# -- shapers ------------------------------------------------------------------------


def _item(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": message["id"], "claim_id": message.get("claim_id"), "ttl": message["ttl"],
            "age": message["age"], "body": message["body"]}


def _messages(_: dict[str, Any], body: Any) -> Any:
    return {"messages": [_item(message) for message in body["messages"]]}


def _message_delete_many(_: dict[str, Any], body: Any) -> Any:
    """Nothing for a delete by ids; popped messages as the api renders them, since
    upstream's websocket and REST APIs answer pop alike."""
    return {} if body is None else body


def _message_get(_: dict[str, Any], body: Any) -> Any:
    return {"messages": _item(body)}


def _message_post(_: dict[str, Any], body: Any) -> Any:
    return {"message_ids": body["message_ids"]}


def _claim_create(_: dict[str, Any], body: Any) -> Any:
    # Nothing claimable (204): upstream still names a claim, one that holds nothing and
    # that claim_get does not find; so does this one.
    if body is None:
        return {"claim_id": uuid.uuid4().hex}
    return {"claim_id": body["claim_id"],
            "messages": [_item(message) for message in body["messages"]]}


def _claim_get(_: dict[str, Any], body: Any) -> Any:
    return {"age": body["age"], "ttl": body["ttl"],
            "messages": [_item(message) for message in body["messages"]]}


def _queue_get_stats(_: dict[str, Any], body: Any) -> Any:
    counts = body["messages"]
    ends = {end: {key: value for key, value in counts[end].items() if key != "href"}
            for end in ("oldest", "newest") if end in counts}
    return {"messages": {**counts, **ends}}


def _queue_list(_: dict[str, Any], body: Any) -> Any:
    queues = [{key: value for key, value in queue.items() if key != "href"}
              for queue in body["queues"]]
    shaped: dict[str, Any] = {"queues": queues}
    if "count" in body:  # asked for with with_count
        shaped["count"] = body["count"]
    return shaped


def _subscription_list(_: dict[str, Any], body: Any) -> Any:
    return {"subscriptions": body["subscriptions"]}


def _subscription_create(params: dict[str, Any], body: Any) -> Any:
    return {"subscription_id": body["subscription_id"],
            "message": f"Subscription {params['queue_name']} created."}


def _sentence(template: str, key: str) -> Shaper:
    return lambda params, _: template.format(params[key])


SHAPERS: dict[str, Shaper] = {
    "queue_list": _queue_list,
    "queue_create": _sentence("Queue {} created.", "queue_name"),
    "queue_delete": _sentence("Queue {} removed.", "queue_name"),
    "queue_get_stats": _queue_get_stats,
    "message_list": _messages,
    "message_get": _message_get,
    "message_get_many": _messages,
    "message_post": _message_post,
    "message_delete_many": _message_delete_many,
    "claim_create": _claim_create,
    "claim_get": _claim_get,
    "claim_update": _sentence("Claim {} updated.", "claim_id"),
    "claim_delete": _sentence("Claim {} deleted.", "claim_id"),
    "subscription_list": _subscription_list,
    "subscription_create": _subscription_create,
    "subscription_delete": _sentence("Subscription {} removed.", "subscription_id"),
}
