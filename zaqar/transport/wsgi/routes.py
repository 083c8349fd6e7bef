"""The v2 route table: which action each path and method calls, and how its input maps.

Path fields keep their names (``queue_name``, ``message_id``...). Query parameters pass
through under the action's names (``ids`` becomes ``message_ids``). A JSON request body
is either merged into the parameters or handed over whole under one name.
"""
from dataclasses import dataclass, field
from typing import Literal

JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"


@dataclass(frozen=True)
class Route:
    action: str
    # "merge": fold the JSON object into params; "none": no body; any other string: the
    # parameter that receives the whole document.
    body: Literal["merge", "none"] | str = "none"
    content_type: str | None = None
    query_names: dict[str, str] = field(default_factory=dict)
    # Another action, chosen when this query parameter is present.
    alternate: tuple[str, str] | None = None


_IDS = {"ids": "message_ids"}

ROUTES: dict[str, dict[str, Route]] = {
    "/v2/ping": {"GET": Route("ping"), "HEAD": Route("ping")},
    "/v2/health": {"GET": Route("health"), "HEAD": Route("health")},
    "/v2/queues": {"GET": Route("queue_list")},
    "/v2/queues/{queue_name}": {
        "PUT": Route("queue_create", body="metadata"),
        "GET": Route("queue_get"),
        "PATCH": Route("queue_update", body="patch", content_type=JSON_PATCH),
        "DELETE": Route("queue_delete"),
    },
    "/v2/queues/{queue_name}/stats": {"GET": Route("queue_get_stats")},
    "/v2/queues/{queue_name}/purge": {"POST": Route("queue_purge", body="merge")},
    "/v2/queues/{queue_name}/share": {"POST": Route("queue_share", body="merge")},
    "/v2/queues/{queue_name}/messages": {
        "POST": Route("message_post", body="merge"),
        "GET": Route("message_list", query_names=_IDS, alternate=("ids", "message_get_many")),
        "DELETE": Route("message_delete_many", query_names=_IDS),
    },
    "/v2/queues/{queue_name}/messages/{message_id}": {
        "GET": Route("message_get"),
        "DELETE": Route("message_delete"),
    },
    "/v2/queues/{queue_name}/claims": {"POST": Route("claim_create", body="merge")},
    "/v2/queues/{queue_name}/claims/{claim_id}": {
        "GET": Route("claim_get"),
        "PATCH": Route("claim_update", body="merge"),
        "DELETE": Route("claim_delete"),
    },
    "/v2/queues/{queue_name}/subscriptions": {
        "POST": Route("subscription_create", body="merge"),
        "GET": Route("subscription_list"),
    },
    "/v2/queues/{queue_name}/subscriptions/{subscription_id}": {
        "GET": Route("subscription_get"),
        "PATCH": Route("subscription_update", body="merge"),
        "DELETE": Route("subscription_delete"),
    },
    "/v2/queues/{queue_name}/subscriptions/{subscription_id}/confirm": {
        "PUT": Route("subscription_confirm", body="merge"),
    },
}
