"""oslo.policy rules: one in-code default per action, under upstream Zaqar's rule names.

Operators override rules in a policy file (``[oslo_policy] policy_file``, YAML); the
sample with every default is ``etc/zaqar.policy.yaml.sample`` (oslopolicy-sample-generator
``--namespace zaqar``). Rules are checked for requests authenticated by a Keystone token;
with authentication off there are no credentials to check and the project comes from
``X-Project-ID``. Which project a request may touch is not a policy matter: a token
only ever reaches its own project.
"""
from dataclasses import dataclass

from oslo_config import cfg
from oslo_policy import policy

from zaqar.auth.credentials import Credentials

ANYONE = ""  # any token scoped to the project (upstream's "unprotected")
ADMIN = "rule:context_is_admin"

Q = "/v2/queues/{queue_name}"


@dataclass(frozen=True)
class Rule:
    name: str
    check: str
    description: str
    operations: tuple[tuple[str, str], ...]  # (method, REST path)
    actions: tuple[str, ...]  # the api layer's actions it guards (REST and websocket)


RULES = (
    Rule("queues:get_all", ANYONE, "List queues.", (("GET", "/v2/queues"),), ("queue_list",)),
    Rule("queues:create", ANYONE, "Create a queue.", (("PUT", Q),), ("queue_create",)),
    Rule("queues:get", ANYONE, "Get a queue's metadata.", (("GET", Q),), ("queue_get",)),
    Rule("queues:delete", ANYONE, "Delete a queue.", (("DELETE", Q),), ("queue_delete",)),
    Rule("queues:update", ANYONE, "Update a queue's metadata (JSON patch).",
         (("PATCH", Q),), ("queue_update",)),
    Rule("queues:stats", ANYONE, "Get a queue's statistics.", (("GET", f"{Q}/stats"),),
         ("queue_get_stats",)),
    Rule("queues:share", ANYONE, "Create a pre-signed URL for a queue.",
         (("POST", f"{Q}/share"),), ("queue_share",)),
    Rule("queues:purge", ANYONE, "Purge a queue's messages and/or subscriptions.",
         (("POST", f"{Q}/purge"),), ("queue_purge",)),
    Rule("messages:get_all", ANYONE, "List messages, or get several by id.",
         (("GET", f"{Q}/messages"),), ("message_list", "message_get_many")),
    Rule("messages:create", ANYONE, "Post messages.", (("POST", f"{Q}/messages"),),
         ("message_post",)),
    Rule("messages:get", ANYONE, "Get a message.", (("GET", f"{Q}/messages/{{message_id}}"),),
         ("message_get",)),
    Rule("messages:delete", ANYONE, "Delete a message.",
         (("DELETE", f"{Q}/messages/{{message_id}}"),), ("message_delete",)),
    Rule("messages:delete_all", ANYONE, "Delete messages by id, or pop them.",
         (("DELETE", f"{Q}/messages"),), ("message_delete_many", "message_pop")),
    Rule("claims:create", ANYONE, "Claim messages.", (("POST", f"{Q}/claims"),),
         ("claim_create",)),
    Rule("claims:get", ANYONE, "Get a claim.", (("GET", f"{Q}/claims/{{claim_id}}"),),
         ("claim_get",)),
    Rule("claims:update", ANYONE, "Renew a claim.", (("PATCH", f"{Q}/claims/{{claim_id}}"),),
         ("claim_update",)),
    Rule("claims:delete", ANYONE, "Release a claim.",
         (("DELETE", f"{Q}/claims/{{claim_id}}"),), ("claim_delete",)),
    Rule("subscription:create", ANYONE, "Subscribe to a queue.",
         (("POST", f"{Q}/subscriptions"),), ("subscription_create",)),
    Rule("subscription:get_all", ANYONE, "List a queue's subscriptions.",
         (("GET", f"{Q}/subscriptions"),), ("subscription_list",)),
    Rule("subscription:get", ANYONE, "Get a subscription.",
         (("GET", f"{Q}/subscriptions/{{subscription_id}}"),), ("subscription_get",)),
    Rule("subscription:update", ANYONE, "Update a subscription.",
         (("PATCH", f"{Q}/subscriptions/{{subscription_id}}"),), ("subscription_update",)),
    Rule("subscription:delete", ANYONE, "Delete a subscription.",
         (("DELETE", f"{Q}/subscriptions/{{subscription_id}}"),), ("subscription_delete",)),
    Rule("subscription:confirm", ANYONE, "Confirm a subscription.",
         (("PUT", f"{Q}/subscriptions/{{subscription_id}}/confirm"),),
         ("subscription_confirm",)),
    Rule("ping:get", ANYONE, "Check that the service answers.",
         (("GET", "/v2/ping"), ("HEAD", "/v2/ping")), ("ping",)),
    Rule("health:get", ADMIN, "Detailed health of the service, for operators.",
         (("GET", "/v2/health"), ("HEAD", "/v2/health")), ("health",)),
)

ACTION_RULES: dict[str, str] = {action: rule.name for rule in RULES for action in rule.actions}


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule (the ``oslo.policy.policies`` entry point, namespace ``zaqar``)."""
    return [
        policy.RuleDefault("context_is_admin", "role:admin",
                           description="Who counts as an operator of the service."),
        *(policy.DocumentedRuleDefault(
            name=rule.name, check_str=rule.check, description=rule.description,
            operations=[{"method": method, "path": path} for method, path in rule.operations],
            scope_types=["project"]) for rule in RULES),
    ]


class Policy:
    """The rules in force: the in-code defaults, overridden by the operator's policy file."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._enforcer = policy.Enforcer(conf)
        self._enforcer.register_defaults(list_rules())
        # Now rather than at the first request: a broken policy file stops the server.
        self._enforcer.load_rules()

    def allows(self, action: str, project: str | None, credentials: Credentials) -> bool:
        """Whether ``credentials`` may run ``action`` on ``project``'s resources.

        Raises KeyError for an action that has no rule (every action must have one).
        """
        target = {"project_id": project}
        return bool(self._enforcer.enforce(ACTION_RULES[action], target,
                                           credentials.to_policy()))
