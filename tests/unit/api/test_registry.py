"""The action registry (zaqar/api/registry.py) and what is derived from it: every action
has a handler, a policy rule, REST routes and signed-URL access where it should, and no
route, rule or websocket name exists without an action."""
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_conf
from zaqar.api import Api, registry
from zaqar.api.home import home_document
from zaqar.auth import policy, signed_url
from zaqar.transport.wsgi.routes import build_routes

# Upstream Zaqar 23's websocket actions (zaqar/api/v2/request.py), pools and flavors
# aside: its schemas name them but no handler serves them; ours serve them (as REST, in
# admin mode with pooling), see test_pool_and_flavor_actions_keep_upstreams_websocket_names.
UPSTREAM_WEBSOCKET_ACTIONS = {
    "get_home_doc", "check_node_health", "ping_node", "queue_list", "queue_create",
    "queue_delete", "queue_get", "queue_get_stats", "queue_purge", "message_list",
    "message_get", "message_get_many", "message_post", "message_delete",
    "message_delete_many", "claim_create", "claim_get", "claim_update", "claim_delete",
    "subscription_list", "subscription_create", "subscription_delete", "subscription_get",
}
T = "/v2/topics/{topic_name}"
# Upstream's REST routes (zaqar/transport/wsgi/v2_0/__init__.py); its private endpoints
# (health; pools and flavors with pooling) apart.
UPSTREAM_REST = {
    ("GET", "/v2/topics"), *((m, T) for m in ("GET", "PUT", "PATCH", "DELETE")),
    ("GET", f"{T}/stats"), ("POST", f"{T}/purge"),
    *((m, f"{T}/messages") for m in ("GET", "POST", "DELETE")),
    *((m, f"{T}/messages/{{message_id}}") for m in ("GET", "DELETE")),
    *((m, f"{T}/subscriptions") for m in ("GET", "POST")),
    *((m, f"{T}/subscriptions/{{subscription_id}}") for m in ("GET", "PATCH", "DELETE")),
    ("PUT", f"{T}/subscriptions/{{subscription_id}}/confirm"),
    ("GET", "/v2/"), ("GET", "/v2/ping"), ("HEAD", "/v2/ping"), ("GET", "/v2/queues"),
    *((m, "/v2/queues/{queue_name}") for m in ("GET", "PUT", "PATCH", "DELETE")),
    ("GET", "/v2/queues/{queue_name}/stats"), ("POST", "/v2/queues/{queue_name}/share"),
    ("POST", "/v2/queues/{queue_name}/purge"),
    *((m, "/v2/queues/{queue_name}/messages") for m in ("GET", "POST", "DELETE")),
    *((m, "/v2/queues/{queue_name}/messages/{message_id}") for m in ("GET", "DELETE")),
    ("POST", "/v2/queues/{queue_name}/claims"),
    *((m, "/v2/queues/{queue_name}/claims/{claim_id}") for m in ("GET", "PATCH", "DELETE")),
    *((m, "/v2/queues/{queue_name}/subscriptions") for m in ("GET", "POST")),
    *((m, "/v2/queues/{queue_name}/subscriptions/{subscription_id}")
      for m in ("GET", "PATCH", "DELETE")),
    ("PUT", "/v2/queues/{queue_name}/subscriptions/{subscription_id}/confirm"),
}
UPSTREAM_HEALTH = {("GET", "/v2/health"), ("HEAD", "/v2/health")}
UPSTREAM_POOLS_AND_FLAVORS = {
    ("GET", "/v2/pools"), ("GET", "/v2/flavors"),
    *((m, f"/v2/{kind}s/{{{kind}_name}}") for kind in ("pool", "flavor")
      for m in ("GET", "PUT", "PATCH", "DELETE")),
}
UPSTREAM_HOME = Path(__file__).with_name("upstream_home.json")
# Upstream's home document in admin mode (recorded with pooling on; it lists the same
# without pooling, where its pools and flavors routes are not served).
UPSTREAM_ADMIN_HOME = Path(__file__).with_name("upstream_home_admin.json")


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    from zaqar.storage import load_management_driver
    from zaqar.storage.sqlalchemy.driver import SqlDriver

    conf = make_conf(tmp_path_factory.mktemp("registry"),
                     DEFAULT={"admin_mode": True, "pooling": True})
    storage, management = SqlDriver(conf), load_management_driver(conf)
    yield Api(storage, conf, management)
    management.close()
    storage.close()


def test_action_names_and_aliases_are_unique():
    names = [name for action in registry.ACTIONS for name in (action.name, *action.aliases)]
    assert len(names) == len(set(names))


def test_every_action_and_alias_has_exactly_one_handler(api):
    assert set(api.actions) == set(registry.WEBSOCKET_NAMES)


def test_the_websocket_answers_every_upstream_action():
    assert set(registry.WEBSOCKET_NAMES) >= UPSTREAM_WEBSOCKET_ACTIONS


def served(admin_mode: bool, pooling: bool = False) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in build_routes(admin_mode, pooling).items()
            for method in methods}


def test_every_rest_route_of_upstream_calls_an_action_and_no_other_exists():
    assert served(admin_mode=True, pooling=True) == (
        UPSTREAM_REST | UPSTREAM_HEALTH | UPSTREAM_POOLS_AND_FLAVORS)


def test_private_endpoints_are_served_as_upstreams_health_in_admin_mode_pools_with_pooling():
    assert served(admin_mode=False) == UPSTREAM_REST
    assert served(admin_mode=False, pooling=True) == UPSTREAM_REST
    assert served(admin_mode=True) == UPSTREAM_REST | UPSTREAM_HEALTH
    pooled = {action.name for action in registry.ACTIONS if action.pooling}
    assert {action.name for action in registry.served(False)} == (
        {action.name for action in registry.ACTIONS} - {"health"} - pooled)


def test_pool_and_flavor_actions_keep_upstreams_websocket_names():
    # zaqar/common/consts.py upstream; its pool_get_detail is pool_get with detailed.
    assert {name for name in registry.WEBSOCKET_NAMES
            if name.startswith(("pool_", "flavor_"))} == {
        f"{kind}_{verb}" for kind in ("pool", "flavor")
        for verb in ("create", "list", "get", "update", "delete")}


def test_every_route_calls_a_registered_action():
    for methods in build_routes(admin_mode=True, pooling=True).values():
        for route in methods.values():
            assert route.action in registry.BY_NAME
            for _, action, _ in route.selected:
                assert action in registry.BY_NAME


def test_every_action_has_a_registered_policy_rule_and_no_rule_is_without_one():
    rules = {rule.name for rule in policy.list_rules()}
    used = {action.rule for action in registry.ACTIONS}
    assert used == rules - {"context_is_admin"}


def test_policy_rules_document_the_rest_operations_of_their_actions():
    for rule in policy.list_rules()[1:]:
        expected = [{"method": endpoint.method, "path": endpoint.path}
                    for action in registry.ACTIONS if action.rule == rule.name
                    for endpoint in action.rest]
        assert all(operation in expected for operation in rule.operations)
        assert all(operation in rule.operations for operation in expected)


def test_upstream_rule_names():
    assert registry.action("queue_list").rule == "queues:get_all"
    assert registry.action("message_pop").rule == "messages:delete_all"
    assert registry.action("subscription_confirm").rule == "subscription:confirm"
    assert registry.action("check_node_health").rule == "health:get"


def test_pool_and_flavor_rules_are_upstreams_with_its_defaults():
    # zaqar/common/policies/{pools,flavors}.py upstream: admin, but listing and getting
    # a project's flavors, which any token of the project may.
    for kind, rule in (("pool", "pools"), ("flavor", "flavors")):
        for verb, name in (("list", "get_all"), ("get", "get"), ("create", "create"),
                           ("update", "update"), ("delete", "delete")):
            action = registry.action(f"{kind}_{verb}")
            assert action.rule == f"{rule}:{name}"
            anyone = kind == "flavor" and verb in ("list", "get")
            assert action.check == (registry.ANYONE if anyone else registry.ADMIN)


def test_signed_access_names_a_signable_path_and_one_of_the_actions_endpoints():
    for action in registry.ACTIONS:
        if action.signed is None:
            continue
        method, path = action.signed
        assert path in signed_url.SIGNABLE_PATHS and method in signed_url.METHODS
        if action.rest:  # the method a REST client would use for it, at or under the path
            assert any(endpoint.method == method and endpoint.path.startswith(path)
                       for endpoint in action.rest), action.name


def test_queue_level_and_service_actions_are_never_granted_by_a_signed_url():
    for action in registry.ACTIONS:
        if action.name.startswith(("queue_", "ping", "health", "get_home")):
            assert action.signed is None, action.name


def test_of_topics_a_signed_url_grants_the_confirm_of_one_subscription_alone():
    granted = {action.name: action.signed for action in registry.ACTIONS
               if action.name.startswith("topic_") and action.signed is not None}
    assert granted == {"topic_subscription_confirm": (
        "PUT", "/v2/topics/{topic_name}/subscriptions/{subscription_id}/confirm")}
    queue_paths = {action.signed[1] for action in registry.ACTIONS
                   if action.signed is not None and not action.name.startswith("topic_")}
    assert all(path.startswith("/v2/queues/{queue_name}/") for path in queue_paths)


def test_the_home_document_is_upstreams():
    assert home_document(registry.served(False)) == json.loads(UPSTREAM_HOME.read_text())


def test_the_admin_home_document_is_upstreams_with_pooling():
    assert home_document(registry.served(True, True)) == json.loads(
        UPSTREAM_ADMIN_HOME.read_text())


def test_the_admin_home_document_without_pooling_adds_health_alone():
    relations = set(home_document(registry.served(True))["resources"])
    assert relations == set(json.loads(UPSTREAM_HOME.read_text())["resources"]) | {
        "rel/health"}
