"""Every action of the service, declared once.

An :class:`Action` names its handler (a method of that name on one of the action groups
of :mod:`zaqar.api`), the REST requests that call it, the oslo.policy rule that guards it,
what a pre-signed URL may grant of it and the other names the websocket API answers to.
Everything else is derived from :data:`ACTIONS`: the REST route table
(:mod:`zaqar.transport.wsgi.routes`), the JSON home document (:mod:`zaqar.api.home`), the
policy defaults (:mod:`zaqar.auth.policy`), what pre-signed URLs grant and which rule
applies (:mod:`zaqar.api.access`), the websocket action list (:class:`zaqar.api.Api`),
the OpenAPI document (:mod:`zaqar.transport.wsgi.openapi`, with the schemas of
:mod:`zaqar.api.openapi_schemas`) and docs/actions.md (tools/action_docs.py). A new
action is one entry here and one handler method.

Names of actions, rules and home-document relations are upstream Zaqar's.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

V2 = "/v2"
Q = "/v2/queues/{queue_name}"
T = "/v2/topics/{topic_name}"
P = "/v2/pools/{pool_name}"
F = "/v2/flavors/{flavor_name}"
JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"

# Policy check strings.
ANYONE = ""  # any token of the project (upstream's "unprotected")
ADMIN = "rule:context_is_admin"


@dataclass(frozen=True)
class Relation:
    """An entry of the JSON home document at ``/v2/``."""

    name: str  # "rel/queues"
    # Query parameters in the href-template, each with its ``param/`` name.
    query: tuple[tuple[str, str], ...] = ()
    accept_post: bool = False  # the hint ``accept-post: [application/json]``
    # href-vars upstream lists although its template has no such variable.
    extra_vars: tuple[tuple[str, str], ...] = ()
    # Path fields the document shows under another name (upstream's "subscriptions_id").
    renamed: tuple[tuple[str, str], ...] = ()
    # A fixed ``href`` rather than an ``href-template`` (upstream's rel/health).
    fixed: bool = False


@dataclass(frozen=True)
class Endpoint:
    """One REST request that calls an action."""

    method: str
    path: str  # a Falcon URI template; path fields keep the action's parameter names
    # "merge": fold the JSON object body into the parameters; "none": no body; any other
    # string: the parameter that receives the whole document.
    body: Literal["merge", "none"] | str = "none"
    content_type: str | None = None  # the one media type the body must have, if any
    # Query parameters renamed into the action's vocabulary.
    query_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # When several actions share a method and path, this one serves requests whose query
    # names this parameter; the one without ``selected_by`` serves the rest.
    selected_by: str | None = None
    home: Relation | None = None
    # Keys a merged body must have when one is sent (upstream's REST schemas).
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    name: str
    rule: str  # the oslo.policy rule guarding it (REST and websocket alike)
    description: str
    rest: tuple[Endpoint, ...] = ()  # none: a websocket-only action
    check: str = ANYONE  # the rule's default check string
    # (REST method, path) a pre-signed URL must grant, the path's fields filled from the
    # request (one of zaqar.auth.signed_url.SIGNABLE_PATHS); None: never granted.
    signed: tuple[str, str] | None = None
    aliases: tuple[str, ...] = ()  # further names the websocket API answers to
    # Served only with ``[DEFAULT] admin_mode``, as upstream's private endpoints.
    admin: bool = False
    # Served only with ``[DEFAULT] pooling`` as well (pools and flavors, zaqar.api.pools).
    pooling: bool = False


_IDS = MappingProxyType({"ids": "message_ids"})
_QUEUE = Relation("rel/queue")
_CLAIM_LIMIT = (("limit", "claim_limit"),)
_SUBSCRIPTION = Relation("rel/subscription", renamed=(("subscription_id", "subscriptions_id"),))
_POOL = Relation("rel/pool")
_FLAVOR = Relation("rel/flavor")


ACTIONS: tuple[Action, ...] = (
    # -- queues -----------------------------------------------------------------------
    Action("queue_list", "queues:get_all", "List queues.",
           (Endpoint("GET", f"{V2}/queues", home=Relation("rel/queues", (
               ("marker", "marker"), ("limit", "queue_limit"), ("detailed", "detailed")))),)),
    Action("queue_get", "queues:get", "Get a queue's metadata.",
           (Endpoint("GET", Q, home=_QUEUE),)),
    Action("queue_create", "queues:create", "Create a queue.",
           (Endpoint("PUT", Q, body="metadata", home=_QUEUE),)),
    Action("queue_delete", "queues:delete", "Delete a queue.",
           (Endpoint("DELETE", Q, home=_QUEUE),)),
    Action("queue_update", "queues:update", "Update a queue's metadata (JSON patch).",
           (Endpoint("PATCH", Q, body="patch", content_type=JSON_PATCH, home=_QUEUE),)),
    Action("queue_get_stats", "queues:stats", "Get a queue's statistics.",
           (Endpoint("GET", f"{Q}/stats", home=Relation("rel/queue_stats")),)),
    Action("queue_share", "queues:share", "Create a pre-signed URL for a queue.",
           (Endpoint("POST", f"{Q}/share", body="merge",
                     home=Relation("rel/queue_share", accept_post=True)),)),
    Action("queue_purge", "queues:purge", "Purge a queue's messages and/or subscriptions.",
           (Endpoint("POST", f"{Q}/purge", body="merge", required=("resource_types",),
                     home=Relation("rel/queue_purge", accept_post=True)),)),
    # -- messages ---------------------------------------------------------------------
    Action("message_list", "messages:get_all", "List messages.",
           (Endpoint("GET", f"{Q}/messages", home=Relation("rel/messages", (
               ("marker", "marker"), ("limit", "messages_limit"), ("echo", "echo"),
               ("include_claimed", "include_claimed")))),),
           signed=("GET", f"{Q}/messages")),
    Action("message_get_many", "messages:get_all", "Get several messages by id.",
           (Endpoint("GET", f"{Q}/messages", query_names=_IDS, selected_by="ids"),),
           signed=("GET", f"{Q}/messages")),
    Action("message_post", "messages:create", "Post messages.",
           (Endpoint("POST", f"{Q}/messages", body="merge",
                     home=Relation("rel/post_messages", accept_post=True)),),
           signed=("POST", f"{Q}/messages")),
    Action("message_delete_many", "messages:delete_all", "Delete messages by id, or pop them.",
           (Endpoint("DELETE", f"{Q}/messages", query_names=_IDS, home=Relation(
               "rel/messages_delete", (("ids", "ids"), ("pop", "pop")))),),
           signed=("DELETE", f"{Q}/messages")),
    # REST pops through message_delete_many (DELETE .../messages?pop=N).
    Action("message_pop", "messages:delete_all", "Pop messages.",
           signed=("DELETE", f"{Q}/messages")),
    Action("message_delete", "messages:delete", "Delete a message.",
           (Endpoint("DELETE", f"{Q}/messages/{{message_id}}", home=Relation(
               "rel/message_delete", (("claim", "claim_id"),))),),
           signed=("DELETE", f"{Q}/messages")),
    Action("message_get", "messages:get", "Get a message.",
           (Endpoint("GET", f"{Q}/messages/{{message_id}}",
                     home=Relation("rel/message_get")),),
           signed=("GET", f"{Q}/messages")),
    # -- claims -----------------------------------------------------------------------
    Action("claim_get", "claims:get", "Get a claim.",
           (Endpoint("GET", f"{Q}/claims/{{claim_id}}", home=Relation("rel/claim")),),
           signed=("GET", f"{Q}/claims")),
    Action("claim_create", "claims:create", "Claim messages.",
           (Endpoint("POST", f"{Q}/claims", body="merge", home=Relation(
               "rel/post_claim", _CLAIM_LIMIT, accept_post=True)),),
           signed=("POST", f"{Q}/claims")),
    Action("claim_update", "claims:update", "Renew a claim.",
           (Endpoint("PATCH", f"{Q}/claims/{{claim_id}}", body="merge",
                     home=Relation("rel/patch_claim", accept_post=True)),),
           signed=("PATCH", f"{Q}/claims")),
    Action("claim_delete", "claims:delete", "Release a claim.",
           (Endpoint("DELETE", f"{Q}/claims/{{claim_id}}",
                     home=Relation("rel/delete_claim")),),
           signed=("DELETE", f"{Q}/claims")),
    # -- subscriptions ----------------------------------------------------------------
    Action("subscription_list", "subscription:get_all", "List a queue's subscriptions.",
           (Endpoint("GET", f"{Q}/subscriptions", home=Relation(
               "rel/subscriptions_get", (("marker", "marker"),
                                         ("limit", "subscription_limit")))),),
           signed=("GET", f"{Q}/subscriptions")),
    Action("subscription_create", "subscription:create", "Subscribe to a queue.",
           (Endpoint("POST", f"{Q}/subscriptions", body="merge", home=Relation(
               "rel/subscriptions_post", accept_post=True,
               extra_vars=(("limit", "subscription_limit"),))),),
           signed=("POST", f"{Q}/subscriptions")),
    Action("subscription_get", "subscription:get", "Get a subscription.",
           (Endpoint("GET", f"{Q}/subscriptions/{{subscription_id}}", home=_SUBSCRIPTION),),
           signed=("GET", f"{Q}/subscriptions")),
    Action("subscription_update", "subscription:update", "Update a subscription.",
           (Endpoint("PATCH", f"{Q}/subscriptions/{{subscription_id}}", body="merge",
                     home=Relation("rel/subscription_patch", accept_post=True,
                                   renamed=_SUBSCRIPTION.renamed)),),
           signed=("PATCH", f"{Q}/subscriptions")),
    Action("subscription_delete", "subscription:delete", "Delete a subscription.",
           (Endpoint("DELETE", f"{Q}/subscriptions/{{subscription_id}}",
                     home=_SUBSCRIPTION),),
           signed=("DELETE", f"{Q}/subscriptions")),
    Action("subscription_confirm", "subscription:confirm", "Confirm a subscription.",
           (Endpoint("PUT", f"{Q}/subscriptions/{{subscription_id}}/confirm", body="merge"),),
           signed=("PUT", f"{Q}/subscriptions")),
    # -- topics (zaqar.api.topics): upstream's REST routes and rules; its websocket and
    # home document have none, its messages and subscriptions use the queues' rules ---
    Action("topic_list", "topics:get_all", "List topics.",
           (Endpoint("GET", f"{V2}/topics"),)),
    Action("topic_get", "topics:get", "Get a topic's metadata.",
           (Endpoint("GET", T),)),
    Action("topic_create", "topics:create", "Create a topic.",
           (Endpoint("PUT", T, body="metadata"),)),
    Action("topic_delete", "topics:delete", "Delete a topic.",
           (Endpoint("DELETE", T),)),
    Action("topic_update", "topics:update", "Update a topic's metadata (JSON patch).",
           (Endpoint("PATCH", T, body="patch", content_type=JSON_PATCH),)),
    Action("topic_get_stats", "topics:stats", "Get a topic's statistics.",
           (Endpoint("GET", f"{T}/stats"),)),
    Action("topic_purge", "topics:purge", "Purge a topic's messages and/or subscriptions.",
           (Endpoint("POST", f"{T}/purge", body="merge", required=("resource_types",)),)),
    Action("topic_message_post", "messages:create",
           "Post messages to a topic (each goes to every subscription of it).",
           (Endpoint("POST", f"{T}/messages", body="merge"),)),
    Action("topic_message_list", "messages:get_all", "List a topic's messages.",
           (Endpoint("GET", f"{T}/messages"),)),
    Action("topic_message_get_many", "messages:get_all", "Get several messages of a topic.",
           (Endpoint("GET", f"{T}/messages", query_names=_IDS, selected_by="ids"),)),
    Action("topic_message_delete_many", "messages:delete_all",
           "Delete messages of a topic by id.",
           (Endpoint("DELETE", f"{T}/messages", query_names=_IDS),)),
    Action("topic_message_get", "messages:get", "Get a message of a topic.",
           (Endpoint("GET", f"{T}/messages/{{message_id}}"),)),
    Action("topic_message_delete", "messages:delete", "Delete a message of a topic.",
           (Endpoint("DELETE", f"{T}/messages/{{message_id}}"),)),
    Action("topic_subscription_list", "subscription:get_all", "List a topic's subscriptions.",
           (Endpoint("GET", f"{T}/subscriptions"),)),
    Action("topic_subscription_create", "subscription:create", "Subscribe to a topic.",
           (Endpoint("POST", f"{T}/subscriptions", body="merge"),)),
    Action("topic_subscription_get", "subscription:get", "Get a subscription of a topic.",
           (Endpoint("GET", f"{T}/subscriptions/{{subscription_id}}"),)),
    Action("topic_subscription_update", "subscription:update",
           "Update a subscription of a topic.",
           (Endpoint("PATCH", f"{T}/subscriptions/{{subscription_id}}", body="merge"),)),
    Action("topic_subscription_delete", "subscription:delete",
           "Delete a subscription of a topic.",
           (Endpoint("DELETE", f"{T}/subscriptions/{{subscription_id}}"),)),
    # Granted by the signature of the subscription's confirmation notice alone.
    Action("topic_subscription_confirm", "subscription:confirm",
           "Confirm a subscription of a topic.",
           (Endpoint("PUT", f"{T}/subscriptions/{{subscription_id}}/confirm", body="merge"),),
           signed=("PUT", f"{T}/subscriptions/{{subscription_id}}/confirm")),
    # -- the service ------------------------------------------------------------------
    Action("ping", "ping:get", "Check that the service answers.",
           (Endpoint("GET", f"{V2}/ping", home=Relation("rel/ping")),
            Endpoint("HEAD", f"{V2}/ping")),
           aliases=("ping_node",)),
    Action("get_home_doc", "home:get", "Get the JSON home document of the API.",
           (Endpoint("GET", f"{V2}/"),)),
    # -- the admin API: upstream's private endpoints, in its home document's order ----
    # Pools are the service's (an admin of any project sees them all), flavors a
    # project's; upstream lets any token of the project list and get flavors.
    Action("pool_list", "pools:get_all", "List storage pools.",
           (Endpoint("GET", f"{V2}/pools", home=Relation("rel/pools", (
               ("detailed", "detailed"), ("limit", "pool_limit"), ("marker", "marker")))),),
           check=ADMIN, admin=True, pooling=True),
    Action("pool_get", "pools:get", "Get a storage pool.",
           (Endpoint("GET", P, home=_POOL),), check=ADMIN, admin=True, pooling=True),
    Action("pool_create", "pools:create", "Create (or replace) a storage pool.",
           (Endpoint("PUT", P, body="merge", home=_POOL),),
           check=ADMIN, admin=True, pooling=True),
    Action("pool_update", "pools:update", "Update a storage pool.",
           (Endpoint("PATCH", P, body="merge", home=_POOL),),
           check=ADMIN, admin=True, pooling=True),
    Action("pool_delete", "pools:delete", "Delete a storage pool.",
           (Endpoint("DELETE", P, home=_POOL),), check=ADMIN, admin=True, pooling=True),
    Action("flavor_list", "flavors:get_all", "List the project's flavors.",
           (Endpoint("GET", f"{V2}/flavors", home=Relation("rel/flavors", (
               ("detailed", "detailed"), ("limit", "flavor_limit"),
               ("marker", "marker")))),),
           admin=True, pooling=True),
    Action("flavor_get", "flavors:get", "Get a flavor.",
           (Endpoint("GET", F, home=_FLAVOR),), admin=True, pooling=True),
    Action("flavor_create", "flavors:create", "Create (or replace) a flavor of pools.",
           (Endpoint("PUT", F, body="merge", home=_FLAVOR),),
           check=ADMIN, admin=True, pooling=True),
    Action("flavor_update", "flavors:update", "Change a flavor's pools.",
           (Endpoint("PATCH", F, body="merge", home=_FLAVOR),),
           check=ADMIN, admin=True, pooling=True),
    Action("flavor_delete", "flavors:delete", "Delete a flavor.",
           (Endpoint("DELETE", F, home=_FLAVOR),), check=ADMIN, admin=True, pooling=True),
    Action("health", "health:get", "Detailed health of the service, for operators.",
           (Endpoint("GET", f"{V2}/health", home=Relation("rel/health", fixed=True)),
            Endpoint("HEAD", f"{V2}/health")),
           check=ADMIN, aliases=("check_node_health",), admin=True),
)

BY_NAME: Mapping[str, Action] = MappingProxyType({action.name: action for action in ACTIONS})

# Every name the websocket API answers to, aliases included, with the action it runs.
WEBSOCKET_NAMES: Mapping[str, str] = MappingProxyType({
    name: action.name for action in ACTIONS for name in (action.name, *action.aliases)})


def served(admin_mode: bool, pooling: bool = False) -> tuple[Action, ...]:
    """The actions a server offers: admin ones only in admin mode, pools and flavors only
    in admin mode with pooling (upstream's private endpoints)."""
    return tuple(action for action in ACTIONS
                 if (admin_mode or not action.admin) and (pooling or not action.pooling))


def action(name: str) -> Action:
    """The action called ``name`` (an alias counts). Raises KeyError for an unknown one."""
    return BY_NAME[WEBSOCKET_NAMES[name]]
