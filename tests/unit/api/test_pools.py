"""Pool and flavor actions (zaqar/api/pools.py, zaqar/api/flavors.py) over a real SQLite
management store: upstream's documents, statuses and checks, through Api.dispatch.

Pool URIs are SQLite files in the test's directory (they answer without a server);
tests/functional/test_pools_api.py runs the same API on a server with Redis pools."""
from pathlib import Path

import pytest

from tests.conftest import make_conf
from zaqar.api import Api, Request, Response, registry
from zaqar.api.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from zaqar.api.flavors import CAPABILITIES
from zaqar.api.pools import MAX_WEIGHT, check_flavor, check_options, check_uri, check_weight
from zaqar.api.validation import Validator
from zaqar.storage.sqlalchemy.driver import SqlDriver

PROJECT = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"


@pytest.fixture
def api(pooled_api: Api) -> Api:
    return pooled_api


@pytest.fixture
def uri(tmp_path: Path):
    """A SQLite pool URI of the test's own (``uri("a")``, ``uri("b")``...)."""
    return lambda name: f"sqlite:///{tmp_path / name}.sqlite3"


def call(api: Api, action: str, project: str = PROJECT, **params: object) -> Response:
    return api.dispatch(action, Request(project, CLIENT, dict(params)))


def refused(api: Api, action: str, error: type[ApiError], **params: object) -> ApiError:
    with pytest.raises(error) as raised:
        call(api, action, **params)
    return raised.value


# -- field checks ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 1, MAX_WEIGHT])
def test_weight_is_an_integer_from_0_to_2_to_the_32_minus_1(value):
    assert check_weight(value) == value


@pytest.mark.parametrize("value", [-1, MAX_WEIGHT + 1, "1", 1.5, True, None])
def test_other_weights_are_refused(value):
    with pytest.raises(BadRequest, match="weight must be an integer from 0 to 4294967295"):
        check_weight(value)


def test_uri_is_a_string_of_at_most_255_characters():
    assert check_uri("r" * 255) == "r" * 255
    for value in ("r" * 256, 5, None):
        with pytest.raises(BadRequest, match="uri must be a string"):
            check_uri(value)


def test_options_are_an_object():
    assert check_options({"pool_size": 3}) == {"pool_size": 3}
    for value in ([], "x", None):
        with pytest.raises(BadRequest, match="options must be a JSON object"):
            check_options(value)


@pytest.mark.parametrize("option", [{"a": 1}, [1], None])
def test_options_are_strings_numbers_or_booleans_as_every_driver_option(option):
    assert check_options({"key_prefix": "eu", "pool_size": 3, "socket_timeout": 0.5,
                          "auto_migrate": False})
    with pytest.raises(BadRequest, match="'pool_size' must be a string, a number or a"):
        check_options({"pool_size": option})


def test_an_empty_flavor_is_none_and_others_are_names(tmp_path):
    validate = Validator(make_conf(tmp_path))
    assert check_flavor(validate, "") is None
    assert check_flavor(validate, "gold") == "gold"
    for value in (5, "a.b", "f" * 65, None):
        with pytest.raises(BadRequest):
            check_flavor(validate, value)


def test_refused_bodies_carry_upstreams_title():
    with pytest.raises(BadRequest) as raised:
        check_weight(-1)
    assert raised.value.title == "Invalid request body"


# -- pools -------------------------------------------------------------------------------

def test_created_pool_is_located_and_answered_without_options_unless_detailed(api, uri):
    created = call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"),
                   options={"pool_size": 3})
    assert (created.status, created.headers) == (201, {"Location": "/v2/pools/p1"})
    assert call(api, "pool_get", pool_name="p1").body == {
        "name": "p1", "uri": uri("a"), "weight": 10, "flavor": None, "href": "/v2/pools/p1"}
    assert call(api, "pool_get", pool_name="p1", detailed="true").body == {
        "name": "p1", "uri": uri("a"), "weight": 10, "flavor": None,
        "options": {"pool_size": 3}, "href": "/v2/pools/p1"}


def test_put_of_an_existing_pool_replaces_it_and_keeps_its_flavor_unless_given(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"), flavor="gold",
         options={"pool_size": 3})
    again = call(api, "pool_create", pool_name="p1", weight=20, uri=uri("b"))
    assert again.status == 201
    assert call(api, "pool_get", pool_name="p1", detailed=True).body == {
        "name": "p1", "uri": uri("b"), "weight": 20, "flavor": "gold", "options": {},
        "href": "/v2/pools/p1"}
    call(api, "pool_create", pool_name="p1", weight=20, uri=uri("b"), flavor="")
    assert call(api, "pool_get", pool_name="p1").body["flavor"] is None


def test_a_second_pool_of_one_uri_is_409(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    error = refused(api, "pool_create", Conflict, pool_name="p2", weight=10, uri=uri("a"))
    assert error.title == "Resource conflict"
    assert "in use by another pool" in error.description


@pytest.mark.parametrize(("body", "named"), [
    ({"weight": 10}, "uri is required"),
    ({"uri": "sqlite://"}, "weight is required"),
    ({"weight": 10, "uri": "sqlite://", "extra": 1}, "Unknown field 'extra'"),
    ({"weight": 10, "uri": "sqlite://", "options": []}, "options must be a JSON object"),
    ({"weight": 10, "uri": "sqlite://", "flavor": 5}, "flavor must be a string"),
    ({"weight": 10, "uri": "http://example.com/"}, "names no storage driver"),
    ({"weight": 10, "uri": "sqlite://", "options": {"bogus": 1}}, "'bogus'"),
])
def test_create_refuses_what_upstreams_schema_or_the_store_refuses(api, body, named):
    error = refused(api, "pool_create", BadRequest, pool_name="p1", **body)
    assert named in error.description
    assert error.title == "Invalid request body"


def test_a_uri_that_does_not_answer_is_400_and_nothing_is_registered(api, tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}"
    error = refused(api, "pool_create", BadRequest, pool_name="p1", weight=1, uri=unreachable)
    assert error.description == f"cannot connect to {unreachable}"
    refused(api, "pool_get", NotFound, pool_name="p1")


@pytest.mark.parametrize("name", ["a.b", "p" * 65, ""])
def test_pool_names_are_as_queue_names(api, uri, name):
    refused(api, "pool_create", BadRequest, pool_name=name, weight=1, uri=uri("a"))


def test_listing_pages_by_name_with_upstreams_next_links(api, uri):
    for name in ("p3", "p1", "p2"):
        call(api, "pool_create", pool_name=name, weight=1, uri=uri(name))
    first = call(api, "pool_list").body
    assert [pool["name"] for pool in first["pools"]] == ["p1", "p2", "p3"]
    assert first["links"] == [{"rel": "next", "href": "/v2/pools?marker=p3"}]
    assert "options" not in first["pools"][0]
    # Upstream's order: the request's marker, limit, detailed, then the new marker.
    page = call(api, "pool_list", limit="1", detailed="true").body
    assert page["links"][0]["href"] == "/v2/pools?limit=1&detailed=true&marker=p1"
    assert page["pools"][0]["options"] == {}
    page = call(api, "pool_list", marker="p1", limit="1").body
    assert page["links"][0]["href"] == "/v2/pools?marker=p2&limit=1"
    assert call(api, "pool_list", marker="p3").body == {"links": [], "pools": []}


@pytest.mark.parametrize("limit", ["0", "21", "abc"])
def test_listing_limit_is_1_to_max_pools_per_page(api, limit):
    refused(api, "pool_list", BadRequest, limit=limit)


def test_patch_changes_the_fields_given_and_answers_the_pool(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    patched = call(api, "pool_update", pool_name="p1", weight=7, flavor="gold")
    assert patched.body == {"name": "p1", "uri": uri("a"), "weight": 7, "flavor": "gold",
                            "href": "/v2/pools/p1"}
    assert call(api, "pool_update", pool_name="p1", flavor="").body["flavor"] is None
    call(api, "pool_update", pool_name="p1", uri=uri("b"), options={"pool_size": 4})
    assert call(api, "pool_get", pool_name="p1", detailed=True).body["options"] == {
        "pool_size": 4}


def test_patch_needs_a_known_field_and_refuses_unknown_ones(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    error = refused(api, "pool_update", BadRequest, pool_name="p1")
    assert error.description == ("One of `uri`, `weight`, `flavor`, or `options` needs to "
                                 "be specified")
    refused(api, "pool_update", BadRequest, pool_name="p1", weight=5, extra=1)
    refused(api, "pool_update", BadRequest, pool_name="p1", weight=None)
    refused(api, "pool_update", BadRequest, pool_name="p1", uri="http://example.com/")
    assert call(api, "pool_get", pool_name="p1").body["weight"] == 10


def test_patch_of_a_missing_pool_is_404(api):
    error = refused(api, "pool_update", NotFound, pool_name="nope", weight=7)
    assert (error.title, error.description) == ("Not found", "Pool 'nope' does not exist.")


def test_delete_is_204_also_for_a_missing_pool(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    assert call(api, "pool_delete", pool_name="p1").status == 204
    assert call(api, "pool_delete", pool_name="p1").status == 204
    refused(api, "pool_get", NotFound, pool_name="p1")


def test_a_pool_holding_queues_is_not_deleted_403_until_they_are(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    assert call(api, "queue_create", queue_name="q1").status == 201
    error = refused(api, "pool_delete", Forbidden, pool_name="p1")
    assert error.title == "Unable to delete"
    assert call(api, "pool_get", pool_name="p1").status == 200
    call(api, "queue_delete", queue_name="q1")
    assert call(api, "pool_delete", pool_name="p1").status == 204
    refused(api, "pool_get", NotFound, pool_name="p1")


# -- flavors -----------------------------------------------------------------------------

def test_created_flavor_answers_its_pools_and_their_capabilities(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    created = call(api, "flavor_create", flavor_name="gold", pool_list=["p1"])
    assert (created.status, created.headers) == (201, {"Location": "/v2/flavors/gold"})
    assert call(api, "flavor_get", flavor_name="gold").body == {
        "name": "gold", "capabilities": CAPABILITIES["sqlalchemy"], "pool_list": ["p1"],
        "href": "/v2/flavors/gold"}
    assert call(api, "pool_get", pool_name="p1").body["flavor"] == "gold"


def test_flavors_are_a_projects_own(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    call(api, "flavor_create", flavor_name="gold", pool_list=["p1"])
    with pytest.raises(NotFound):
        call(api, "flavor_get", project="project-b", flavor_name="gold")
    assert call(api, "flavor_list", project="project-b").body == {"links": [], "flavors": []}


@pytest.mark.parametrize(("body", "title", "named"), [
    ({}, "Invalid request body", "pool_list is required"),
    ({"capabilities": {}}, "Invalid request body", "pool_list is required"),
    ({"pool_list": "p1"}, "Invalid request body", "pool_list must be a list"),
    ({"pool_list": []}, "Unable to create", "at least one pool"),
    ({"pool_list": ["nope"]}, "Unable to create", "Pool 'nope' does not exist"),
    ({"pool_list": [1]}, "Invalid API request", "pool_list item"),
    ({"pool_list": ["p1"], "extra": 1}, "Invalid request body", "Unknown field 'extra'"),
    ({"pool_list": ["p1"], "capabilities": []}, "Invalid request body", "JSON object"),
    ({"pool_list": ["p1"], "capabilities": {"a": 1}}, "Invalid request body",
     "capabilities cannot be set"),
])
def test_create_refuses_bodies_upstream_refuses_and_capabilities_it_ignores(
        api, uri, body, title, named):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    error = refused(api, "flavor_create", BadRequest, flavor_name="gold", **body)
    assert error.title == title
    assert named in error.description
    refused(api, "flavor_get", NotFound, flavor_name="gold")


def test_put_of_an_existing_flavor_makes_its_pools_exactly_the_list(api, uri):
    for name in ("p1", "p2"):
        call(api, "pool_create", pool_name=name, weight=10, uri=uri(name))
    call(api, "flavor_create", flavor_name="gold", pool_list=["p1"])
    call(api, "flavor_create", flavor_name="gold", pool_list=["p2"], capabilities={})
    assert call(api, "flavor_get", flavor_name="gold").body["pool_list"] == ["p2"]
    assert call(api, "pool_get", pool_name="p1").body["flavor"] is None


def test_listing_shows_pools_when_there_are_and_capabilities_when_detailed(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    call(api, "flavor_create", flavor_name="f1", pool_list=["p1"])
    call(api, "flavor_create", flavor_name="f2", pool_list=["p1"])  # takes p1 from f1
    listed = call(api, "flavor_list").body
    assert listed == {
        "links": [{"rel": "next", "href": "/v2/flavors?marker=f2"}],
        "flavors": [{"name": "f1", "href": "/v2/flavors/f1"},
                    {"name": "f2", "href": "/v2/flavors/f2", "pool_list": ["p1"]}]}
    detailed = call(api, "flavor_list", detailed="true").body
    assert detailed["links"][0]["href"] == "/v2/flavors?marker=f2&detailed=true"
    assert [flavor["capabilities"] for flavor in detailed["flavors"]] == [
        [], CAPABILITIES["sqlalchemy"]]
    # Upstream's order: the request's marker and limit, the new marker, then detailed.
    page = call(api, "flavor_list", detailed="false", limit="1", marker="f1").body
    assert page["links"][0]["href"] == "/v2/flavors?marker=f2&limit=1&detailed=false"
    assert call(api, "flavor_list", limit="1").body["links"][0]["href"] == (
        "/v2/flavors?limit=1&marker=f1")
    refused(api, "flavor_list", BadRequest, limit="21")


def test_patch_replaces_the_pools_and_answers_the_flavor(api, uri):
    for name in ("p1", "p2"):
        call(api, "pool_create", pool_name=name, weight=10, uri=uri(name))
    call(api, "flavor_create", flavor_name="gold", pool_list=["p1"])
    patched = call(api, "flavor_update", flavor_name="gold", pool_list=["p2"])
    assert patched.status == 200
    assert patched.body == {"name": "gold", "capabilities": CAPABILITIES["sqlalchemy"],
                            "pool_list": ["p2"], "href": "/v2/flavors/gold"}
    assert call(api, "pool_get", pool_name="p1").body["flavor"] is None


def test_patch_needs_a_pool_list_of_existing_pools_of_an_existing_flavor(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    call(api, "flavor_create", flavor_name="gold", pool_list=["p1"])
    error = refused(api, "flavor_update", BadRequest, flavor_name="gold")
    assert error.description == "`pool_list` needs to be specified"
    error = refused(api, "flavor_update", BadRequest, flavor_name="gold", pool_list=[])
    assert error.title == "Unable to update"
    error = refused(api, "flavor_update", BadRequest, flavor_name="gold", pool_list=["nope"])
    assert error.description == "Flavor 'gold' could not be updated: Pool 'nope' does not exist."
    refused(api, "flavor_update", NotFound, flavor_name="silver", pool_list=["p1"])
    assert call(api, "flavor_get", flavor_name="gold").body["pool_list"] == ["p1"]


def test_delete_leaves_the_pools_of_no_flavor_and_is_204_again(api, uri):
    call(api, "pool_create", pool_name="p1", weight=10, uri=uri("a"))
    call(api, "flavor_create", flavor_name="gold", pool_list=["p1"])
    assert call(api, "flavor_delete", flavor_name="gold").status == 204
    assert call(api, "flavor_delete", flavor_name="gold").status == 204
    assert call(api, "pool_get", pool_name="p1").body["flavor"] is None


def test_capabilities_are_named_for_each_store_as_upstream_names_them():
    assert CAPABILITIES["redis"] == ["FIFO", "CLAIMS", "AOD", "HIGH_THROUGHPUT"]
    names = {"FIFO", "CLAIMS", "DURABILITY", "AOD", "HIGH_THROUGHPUT"}
    assert all(set(found) <= names for found in CAPABILITIES.values())


# -- served only with admin mode and pooling ------------------------------------------

def test_pools_and_flavors_are_unknown_actions_without_pooling(tmp_path):
    conf = make_conf(tmp_path, DEFAULT={"admin_mode": True})
    storage = SqlDriver(conf)
    storage.prepare()
    try:
        without = Api(storage, conf)
        with pytest.raises(BadRequest, match="Unknown action 'pool_list'"):
            call(without, "pool_list")
    finally:
        storage.close()
    pooled = {action.name for action in registry.ACTIONS if action.pooling}
    assert pooled == {f"{kind}_{verb}" for kind in ("pool", "flavor")
                      for verb in ("list", "get", "create", "update", "delete")}
    assert all(action.admin for action in registry.ACTIONS if action.pooling)
