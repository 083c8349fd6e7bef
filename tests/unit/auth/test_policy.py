"""Policy rules of zaqar/auth/policy.py: defaults as upstream, overridable by a file.
(That every action has a rule is tests/unit/api/test_registry.py's.)"""
import pytest

from tests.conftest import make_conf
from zaqar.api import registry
from zaqar.auth.credentials import Credentials
from zaqar.auth.policy import Policy
from zaqar.conf import new_conf

MEMBER = Credentials(user_id="u", project_id="p", roles=frozenset({"member", "reader"}))
ADMIN = Credentials(user_id="a", project_id="p", roles=frozenset({"admin", "member"}))


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> Policy:
    return Policy(make_conf(tmp_path_factory.mktemp("policy")))


ADMIN_RULES = {action.rule for action in registry.ACTIONS if action.check == registry.ADMIN}


@pytest.mark.parametrize("rule", sorted({action.rule for action in registry.ACTIONS}
                                         - ADMIN_RULES))
def test_members_pass_every_rule_but_the_admin_apis(policy, rule):
    assert policy.allows(rule, "p", MEMBER)


def test_admin_rules_are_health_pools_and_the_changes_of_flavors():
    # Upstream: any token of the project lists and gets its flavors.
    assert {"health:get", "pools:get_all", "pools:get", "pools:create",
                           "pools:update", "pools:delete", "flavors:create",
                           "flavors:update", "flavors:delete"} == ADMIN_RULES


@pytest.mark.parametrize("rule", sorted(ADMIN_RULES))
def test_admin_rules_are_for_admins(policy, rule):
    assert not policy.allows(rule, "p", MEMBER)
    assert policy.allows(rule, "p", ADMIN)


def test_policy_file_overrides_a_default(tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"queues:delete": "role:admin"\n')
    config = tmp_path / "zaqar.conf"
    config.write_text(f"[oslo_policy]\npolicy_file = {policy_file}\n")
    overridden = Policy(new_conf(["--config-file", str(config)], default_config_files=[]))
    assert not overridden.allows("queues:delete", "p", MEMBER)
    assert overridden.allows("queues:delete", "p", ADMIN)
    assert overridden.allows("queues:get", "p", MEMBER)
