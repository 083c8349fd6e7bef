"""What the OpenAPI document (:mod:`zaqar.api.openapi`) says of each REST action beyond
the action registry: its query parameters, its request body and its success responses,
as JSON Schemas, keyed by action name. Every action with REST endpoints has an entry
(tests/unit/api/test_openapi.py checks it); errors are the one ``{title, description}``
document of :mod:`zaqar.codec`, declared for every operation by the generator.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

Schema = dict[str, Any]


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    """An object with these properties (others allowed), ``required`` ones present."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema, **limits: int) -> Schema:
    return {"type": "array", "items": items, **limits}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
ANY: Schema = {}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
FLAG: Schema = {"type": "boolean"}
LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": 20}
MARKER: Schema = STRING
LINKS: Schema = array(obj(("rel", "href"), rel=STRING, href=STRING))
TTL: Schema = {"type": "integer", "minimum": 60}
# Long polling (zaqar.api.long_poll): answer as soon as there are messages, or after this
# many seconds with none.
WAIT: Schema = {"type": "integer", "minimum": 0, "maximum": 20,
                "description": "Seconds to wait for messages when there are none yet."}

MESSAGE: Schema = obj(("id", "href", "ttl", "age", "body"), id=STRING, href=STRING,
                      ttl=INTEGER, age=INTEGER, body=ANY, checksum=STRING)
MESSAGES_PAGE: Schema = obj(("messages",), messages=array(MESSAGE), links=LINKS)
QUEUE: Schema = obj(("name", "href"), name=STRING, href=STRING, metadata={"type": "object"})
SUBSCRIPTION: Schema = obj(("id", "source", "subscriber", "ttl", "age", "options"),
                           id=STRING, source=STRING, subscriber=STRING, ttl=INTEGER,
                           age=INTEGER, options={"type": "object"}, confirmed=BOOLEAN)
CLAIM: Schema = obj(("age", "ttl", "messages"), age=INTEGER, ttl=INTEGER,
                    messages=array(MESSAGE), href=STRING, id=STRING)
STATS_END: Schema = obj(("id", "age", "created"), id=STRING, href=STRING, age=INTEGER,
                        created=STRING)
STATS: Schema = obj(("messages",), messages=obj(
    ("free", "claimed", "total"), free=INTEGER, claimed=INTEGER, total=INTEGER,
    oldest=STATS_END, newest=STATS_END))
SUBSCRIPTION_BODY: Schema = obj(subscriber=STRING, ttl=TTL, options={"type": "object"})
CLAIM_BODY: Schema = obj(ttl={"type": "integer", "minimum": 60, "maximum": 43200},
                         grace={"type": "integer", "minimum": 0, "maximum": 43200})
PATCH: Schema = array(obj(("op", "path"), op={"enum": ["add", "replace", "remove"]},
                          path=STRING, value=ANY))
RESOURCE_TYPES: Schema = array({"enum": ["messages", "subscriptions"]}, minItems=1)
# The admin API of pooling (zaqar.api.pools, zaqar.api.flavors): upstream's schemas, with
# names as queue names and a flavor's capabilities derived, never set.
NAME: Schema = {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}
POOL: Schema = obj(("name", "uri", "weight", "flavor", "href"), name=STRING, uri=STRING,
                   weight=INTEGER, flavor=NULLABLE_STRING, options={"type": "object"},
                   href=STRING)
POOL_FIELDS: Schema = {
    "weight": {"type": "integer", "minimum": 0, "maximum": 2 ** 32 - 1},
    "uri": {"type": "string", "maxLength": 255},
    "flavor": {"anyOf": [NAME, {"const": ""}]},
    "options": {"type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]}},
}
FLAVOR: Schema = obj(("name", "href"), name=STRING, href=STRING, pool_list=array(STRING),
                     capabilities=array(STRING))
FLAVOR_BODY: Schema = {"type": "object", "required": ["pool_list"], "additionalProperties": False,
                       "properties": {"pool_list": array(NAME, minItems=1),
                                      "capabilities": {"type": "object", "maxProperties": 0}}}
ADMIN_LISTING: Mapping[str, Schema] = {"marker": MARKER, "limit": LIMIT, "detailed": FLAG}


@dataclass(frozen=True)
class Operation:
    """``responses``: success status -> body schema (None: no body)."""

    responses: Mapping[int, Schema | None]
    query: Mapping[str, Schema] = field(default_factory=lambda: MappingProxyType({}))
    body: Schema | None = None
    body_required: bool = False
    # The media type of success bodies, when not application/json.
    media_type: str = "application/json"


OPERATIONS: Mapping[str, Operation] = MappingProxyType({
    "queue_list": Operation(
        {200: obj(("queues",), queues=array(QUEUE), links=LINKS, count=INTEGER)},
        {"marker": MARKER, "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
         "detailed": FLAG, "with_count": FLAG}),
    "queue_get": Operation({200: {"type": "object"}}),
    "queue_create": Operation({201: None, 204: None}, body={"type": "object"}),
    "queue_delete": Operation({204: None}),
    "queue_update": Operation({200: {"type": "object"}}, body=PATCH, body_required=True),
    "queue_get_stats": Operation({200: STATS}),
    "queue_share": Operation(
        {200: obj(("signature", "expires", "paths", "methods", "project"),
                  signature=STRING, expires=STRING, paths=array(STRING),
                  methods=array(STRING), project=STRING)},
        body=obj(paths=array({"enum": ["messages", "subscriptions", "claims"]}),
                 methods=array({"enum": ["GET", "HEAD", "OPTIONS", "POST", "PUT",
                                         "DELETE"]}),
                 expires=STRING)),
    "queue_purge": Operation({204: None}, body=obj(("resource_types",),
                                                   resource_types=RESOURCE_TYPES),
                             body_required=True),
    "message_list": Operation(
        {200: MESSAGES_PAGE},
        {"marker": MARKER, "limit": LIMIT, "echo": FLAG, "include_claimed": FLAG,
         "include_delayed": FLAG, "wait": WAIT}),
    "message_get_many": Operation({200: obj(("messages",), messages=array(MESSAGE))},
                                  {"ids": STRING}),
    "message_post": Operation(
        {201: obj(("resources",), resources=array(STRING))},
        body=obj(("messages",), messages=array(
            obj(("body",), body=ANY, ttl=TTL, delay={"type": "integer", "minimum": 0}),
            minItems=1)),
        body_required=True),
    "message_delete_many": Operation(
        {200: obj(("messages",), messages=array(obj(("id", "ttl", "age", "body"),
                                                    id=STRING, ttl=INTEGER, age=INTEGER,
                                                    body=ANY))),
         204: None},
        {"ids": STRING, "claim_ids": STRING, "pop": {"type": "integer", "minimum": 1,
                                                      "maximum": 20}}),
    "message_delete": Operation({204: None}, {"claim_id": STRING}),
    "message_get": Operation({200: MESSAGE}),
    "claim_get": Operation({200: CLAIM}),
    "claim_create": Operation(
        {201: obj(("messages",), messages=array(MESSAGE), claim_id=STRING), 204: None},
        {"limit": LIMIT, "wait": WAIT}, body=CLAIM_BODY),
    "claim_update": Operation({204: None}, body=CLAIM_BODY, body_required=True),
    "claim_delete": Operation({204: None}),
    "subscription_list": Operation(
        {200: obj(("subscriptions",), subscriptions=array(SUBSCRIPTION), links=LINKS)},
        {"marker": MARKER, "limit": LIMIT}),
    "subscription_create": Operation(
        {201: obj(("subscription_id",), subscription_id=STRING)},
        body=obj(("subscriber",), **SUBSCRIPTION_BODY["properties"]), body_required=True),
    "subscription_get": Operation({200: SUBSCRIPTION}),
    "subscription_update": Operation({204: None}, body=SUBSCRIPTION_BODY,
                                     body_required=True),
    "subscription_delete": Operation({204: None}),
    "subscription_confirm": Operation({204: None}, body=obj(("confirmed",),
                                                            confirmed=BOOLEAN),
                                      body_required=True),
    "pool_list": Operation({200: obj(("links", "pools"), links=LINKS, pools=array(POOL))},
                           ADMIN_LISTING),
    "pool_get": Operation({200: POOL}, {"detailed": FLAG}),
    "pool_create": Operation({201: None}, body={
        "type": "object", "required": ["weight", "uri"], "properties": POOL_FIELDS,
        "additionalProperties": False}, body_required=True),
    "pool_update": Operation({200: POOL}, body={
        "type": "object", "minProperties": 1, "properties": POOL_FIELDS,
        "additionalProperties": False}, body_required=True),
    "pool_delete": Operation({204: None}),
    "flavor_list": Operation(
        {200: obj(("links", "flavors"), links=LINKS, flavors=array(FLAVOR))}, ADMIN_LISTING),
    "flavor_get": Operation({200: obj(("name", "capabilities", "pool_list", "href"),
                                      **FLAVOR["properties"])}),
    "flavor_create": Operation({201: None}, body=FLAVOR_BODY, body_required=True),
    "flavor_update": Operation({200: obj(("name", "capabilities", "pool_list", "href"),
                                         **FLAVOR["properties"])},
                               body=FLAVOR_BODY, body_required=True),
    "flavor_delete": Operation({204: None}),
    "ping": Operation({204: None}),
    "health": Operation({200: {"type": "object"}, 503: {"type": "object"}}),
    "get_home_doc": Operation({200: obj(("resources",), resources={"type": "object"})},
                              media_type="application/json-home"),
})


def _topic_operations() -> dict[str, Operation]:
    """A topic action answers as the queue action of the same meaning (zaqar.api.topics
    runs it), but for the list, whose entries are under ``topics``."""
    operations = {f"topic_{name[len('queue_'):]}": OPERATIONS[name]
                  for name in ("queue_get", "queue_create", "queue_delete", "queue_update",
                               "queue_get_stats", "queue_purge")}
    operations["topic_list"] = Operation(
        {200: obj(("topics",), topics=array(QUEUE), links=LINKS, count=INTEGER)},
        OPERATIONS["queue_list"].query)
    for name in ("message_post", "message_list", "message_get_many", "message_get",
                 "message_delete", "message_delete_many", "subscription_list",
                 "subscription_create", "subscription_get", "subscription_update",
                 "subscription_delete", "subscription_confirm"):
        operations[f"topic_{name}"] = OPERATIONS[name]
    return operations


OPERATIONS = MappingProxyType({**OPERATIONS, **_topic_operations()})
