"""oslo.policy rules: the in-code defaults come from the action registry, under upstream
Zaqar's rule names.

Operators override rules in a policy file (``[oslo_policy] policy_file``, YAML); the
sample with every default is ``etc/zaqar.policy.yaml.sample`` (oslopolicy-sample-generator
``--namespace zaqar``). Rules are checked for requests authenticated by a Keystone token;
with authentication off there are no credentials to check and the project comes from
``X-Project-ID``. Which project a request may touch is not a policy matter: a token
only ever reaches its own project.
"""
from oslo_config import cfg
from oslo_policy import policy

from zaqar.auth.credentials import Credentials


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule (the ``oslo.policy.policies`` entry point, namespace ``zaqar``):
    one per rule name of the action registry, with the REST operations of the actions
    that name it."""
    # Imported here: zaqar.api imports this module, and the registry is part of zaqar.api.
    from zaqar.api.registry import ACTIONS, Action

    by_name: dict[str, list[Action]] = {}
    for action in ACTIONS:
        by_name.setdefault(action.rule, []).append(action)
    rules: list[policy.RuleDefault] = [
        policy.RuleDefault("context_is_admin", "role:admin",
                           description="Who counts as an operator of the service.")]
    for name, actions in by_name.items():
        checks = {action.check for action in actions}
        if len(checks) != 1:
            raise ValueError(f"The actions of rule {name} disagree on its check: {checks}")
        operations = {(endpoint.method, endpoint.path): None
                      for action in actions for endpoint in action.rest}
        rules.append(policy.DocumentedRuleDefault(
            name=name, check_str=checks.pop(),
            description=" ".join(action.description for action in actions),
            operations=[{"method": method, "path": path} for method, path in operations],
            scope_types=["project"]))
    return rules


class Policy:
    """The rules in force: the in-code defaults, overridden by the operator's policy file."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._enforcer = policy.Enforcer(conf)
        self._enforcer.register_defaults(list_rules())
        # Now rather than at the first request: a broken policy file stops the server.
        self._enforcer.load_rules()

    def allows(self, rule: str, project: str | None, credentials: Credentials) -> bool:
        """Whether ``credentials`` pass ``rule`` (an action's, see zaqar.api.registry)
        on ``project``'s resources."""
        target = {"project_id": project}
        return bool(self._enforcer.enforce(rule, target, credentials.to_policy()))
