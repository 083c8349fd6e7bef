"""Policy rules of zaqar/auth/policy.py: every action has one, defaults as upstream."""
import pytest

from tests.conftest import make_conf
from zaqar.api import ACTION_NAMES
from zaqar.auth.credentials import Credentials
from zaqar.auth.policy import ACTION_RULES, Policy, list_rules
from zaqar.conf import new_conf

MEMBER = Credentials(user_id="u", project_id="p", roles=frozenset({"member", "reader"}))
ADMIN = Credentials(user_id="a", project_id="p", roles=frozenset({"admin", "member"}))


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> Policy:
    return Policy(make_conf(tmp_path_factory.mktemp("policy")))


def test_every_action_has_a_rule():
    assert set(ACTION_RULES) == set(ACTION_NAMES)


def test_rule_names_are_unique_and_registered():
    names = [rule.name for rule in list_rules()]
    assert len(names) == len(set(names))
    assert set(ACTION_RULES.values()) <= set(names)


def test_upstream_rule_names():
    assert ACTION_RULES["queue_list"] == "queues:get_all"
    assert ACTION_RULES["message_pop"] == "messages:delete_all"
    assert ACTION_RULES["subscription_confirm"] == "subscription:confirm"
    assert ACTION_RULES["health"] == "health:get"


@pytest.mark.parametrize("action", sorted(set(ACTION_NAMES) - {"health"}))
def test_members_may_run_every_action_but_health(policy, action):
    assert policy.allows(action, "p", MEMBER)


def test_health_is_for_admins(policy):
    assert not policy.allows("health", "p", MEMBER)
    assert policy.allows("health", "p", ADMIN)


def test_policy_file_overrides_a_default(tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"queues:delete": "role:admin"\n')
    config = tmp_path / "zaqar.conf"
    config.write_text(f"[oslo_policy]\npolicy_file = {policy_file}\n")
    overridden = Policy(new_conf(["--config-file", str(config)], default_config_files=[]))
    assert not overridden.allows("queue_delete", "p", MEMBER)
    assert overridden.allows("queue_delete", "p", ADMIN)
    assert overridden.allows("queue_get", "p", MEMBER)
