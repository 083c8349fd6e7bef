"""Queue actions of zaqar/api/queues.py, above all the JSON patch of queue_update.

Storage is a real SqlDriver on a temporary SQLite file, shared by the module and emptied
before each test.
"""
from collections.abc import Iterator

import pytest

from tests.conftest import make_conf
from zaqar.api import Api, Request, Response
from zaqar.api.errors import BadRequest, Conflict, NotFound
from zaqar.storage.sqlalchemy import tables
from zaqar.storage.sqlalchemy.driver import SqlDriver

PROJECT = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
DEFAULTS = {"_max_messages_post_size": 262144, "_default_message_ttl": 3600,
            "_default_message_delay": 0, "_dead_letter_queue": None,
            "_dead_letter_queue_messages_ttl": None, "_max_claim_count": None,
            "_enable_encrypt_messages": False}


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Iterator[SqlDriver]:
    conf = make_conf(tmp_path_factory.mktemp("queues"), transport={"max_queue_metadata": 200})
    driver = SqlDriver(conf)
    driver.prepare()
    yield driver
    driver.close()


@pytest.fixture
def api(storage) -> Api:
    with storage.writer.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    return Api(storage, storage.conf)


def call(api: Api, action: str, **params: object) -> Response:
    return api.dispatch(action, Request(PROJECT, CLIENT, dict(params)))


def patch(api: Api, operations: object, queue: str = "q") -> Response:
    return call(api, "queue_update", queue_name=queue, patch=operations)


@pytest.fixture
def queue(api) -> dict:
    """A queue "q" with some metadata; returns what is stored."""
    metadata = {"color": "red", "size": 3}
    call(api, "queue_create", queue_name="q", metadata=metadata)
    return metadata


def stored(storage, name: str = "q") -> dict:
    return storage.queues.get_metadata(name, PROJECT)


# -- create and get ---------------------------------------------------------------------

def test_queue_create_answers_201_then_204(api):
    first = call(api, "queue_create", queue_name="q")
    assert (first.status, first.headers) == (201, {"Location": "/v2/queues/q"})
    assert call(api, "queue_create", queue_name="q").status == 204


def test_queue_get_reports_reserved_defaults_it_does_not_set(api, storage):
    call(api, "queue_create", queue_name="q", metadata={"_default_message_ttl": 120})
    assert call(api, "queue_get", queue_name="q").body == {**DEFAULTS,
                                                          "_default_message_ttl": 120}
    assert stored(storage) == {"_default_message_ttl": 120}


def test_queue_get_of_a_missing_queue_answers_the_defaults(api):
    """v2 queues are lazy: one that does not exist yet has the default metadata."""
    assert call(api, "queue_get", queue_name="nowhere").body == DEFAULTS


def test_queue_list_detailed_shows_every_reserved_key(api, queue):
    [entry] = call(api, "queue_list", detailed=True).body["queues"]
    assert entry["metadata"] == {**DEFAULTS, **queue}


# -- JSON patch: add, replace, remove -------------------------------------------------

def test_add_sets_a_new_key(api, storage, queue):
    response = patch(api, [{"op": "add", "path": "/metadata/shape", "value": "round"}])
    assert response.status == 200
    assert stored(storage) == {**queue, "shape": "round"}
    assert response.body == {**DEFAULTS, **queue, "shape": "round"}


def test_add_overwrites_an_existing_key(api, storage, queue):
    patch(api, [{"op": "add", "path": "/metadata/color", "value": "blue"}])
    assert stored(storage) == {**queue, "color": "blue"}


def test_replace_changes_an_existing_key(api, storage, queue):
    patch(api, [{"op": "replace", "path": "/metadata/size", "value": {"w": 1}}])
    assert stored(storage) == {"color": "red", "size": {"w": 1}}


def test_replace_of_a_missing_key_conflicts(api, storage, queue):
    with pytest.raises(Conflict, match="Cannot replace 'shape'") as caught:
        patch(api, [{"op": "replace", "path": "/metadata/shape", "value": 1}])
    assert caught.value.title == "Unable to patch queue"
    assert stored(storage) == queue


def test_remove_deletes_a_key(api, storage, queue):
    patch(api, [{"op": "remove", "path": "/metadata/color"}])
    assert stored(storage) == {"size": 3}


def test_remove_of_a_missing_key_conflicts(api, storage, queue):
    with pytest.raises(Conflict, match="Cannot remove 'shape'") as caught:
        patch(api, [{"op": "remove", "path": "/metadata/shape"}])
    assert caught.value.title == "Unable to patch queue"


def test_a_reserved_key_can_be_patched_and_removed(api, storage, queue):
    patch(api, [{"op": "add", "path": "/metadata/_default_message_ttl", "value": 120}])
    assert call(api, "queue_get", queue_name="q").body["_default_message_ttl"] == 120
    patch(api, [{"op": "remove", "path": "/metadata/_default_message_ttl"}])
    assert call(api, "queue_get", queue_name="q").body["_default_message_ttl"] == 3600


def test_reserved_keys_exist_for_replace_and_remove_even_when_unset(api, storage, queue):
    """GET shows them with their defaults, so clients patch them as if they were set."""
    patch(api, [{"op": "replace", "path": "/metadata/_default_message_ttl", "value": 120}])
    assert stored(storage) == {**queue, "_default_message_ttl": 120}
    patch(api, [{"op": "remove", "path": "/metadata/_max_messages_post_size"}])
    assert stored(storage) == {**queue, "_default_message_ttl": 120}


def test_operations_apply_in_order(api, storage, queue):
    patch(api, [{"op": "add", "path": "/metadata/shape", "value": "round"},
                {"op": "replace", "path": "/metadata/shape", "value": "square"},
                {"op": "remove", "path": "/metadata/color"}])
    assert stored(storage) == {"size": 3, "shape": "square"}


def test_a_failing_operation_leaves_the_queue_untouched(api, storage, queue):
    with pytest.raises(Conflict):
        patch(api, [{"op": "add", "path": "/metadata/shape", "value": "round"},
                    {"op": "remove", "path": "/metadata/missing"}])
    assert stored(storage) == queue


@pytest.mark.parametrize(("path", "key"), [("/metadata/a~1b", "a/b"), ("/metadata/a~0b", "a~b"),
                                           ("/metadata/~01", "~1")])
def test_json_pointer_escapes_are_decoded(api, storage, queue, path, key):
    patch(api, [{"op": "add", "path": path, "value": True}])
    assert stored(storage)[key] is True


# -- JSON patch: errors -----------------------------------------------------------------

@pytest.mark.parametrize("operations", [None, {"op": "add"}, "add"])
def test_patch_must_be_a_list(api, queue, operations):
    with pytest.raises(BadRequest, match="must be a JSON patch: a list of operations"):
        patch(api, operations)


def test_an_empty_patch_changes_nothing_and_answers_the_metadata(api, storage, queue):
    response = patch(api, [])
    assert (response.status, response.body) == (200, {**DEFAULTS, **queue})
    assert stored(storage) == queue


def test_an_empty_patch_of_a_missing_queue_is_not_found(api):
    with pytest.raises(NotFound):
        patch(api, [], queue="missing")


def test_a_malformed_patch_of_a_missing_queue_is_a_bad_request(api):
    """The operations are checked before the queue is looked up, as upstream."""
    with pytest.raises(BadRequest, match="op must be one of"):
        patch(api, [{"op": "move", "path": "/metadata/x"}], queue="missing")


@pytest.mark.parametrize("operation", ["add", ["add"], None])
def test_each_operation_must_be_an_object(api, queue, operation):
    with pytest.raises(BadRequest, match="must be an object"):
        patch(api, [operation])


@pytest.mark.parametrize("op", ["move", "copy", "test", None, "ADD"])
def test_only_add_replace_and_remove_are_supported(api, queue, op):
    with pytest.raises(BadRequest, match="op must be one of add, replace, remove"):
        patch(api, [{"op": op, "path": "/metadata/color", "value": 1, "from": "/metadata/x"}])


@pytest.mark.parametrize("path", [None, "", "/metadata", "/metadata/", "/color",
                                  "/messages/color", "/metadata/a/b", 7])
def test_path_must_name_a_metadata_key(api, queue, path):
    with pytest.raises(BadRequest, match="path must look like /metadata/<key>"):
        patch(api, [{"op": "add", "path": path, "value": 1}])


@pytest.mark.parametrize("op", ["add", "replace"])
def test_add_and_replace_need_a_value(api, queue, op):
    with pytest.raises(BadRequest, match=f"op '{op}' needs a value"):
        patch(api, [{"op": op, "path": "/metadata/color"}])


def test_null_is_a_value(api, storage, queue):
    patch(api, [{"op": "replace", "path": "/metadata/color", "value": None}])
    assert stored(storage) == {"color": None, "size": 3}


def test_patched_metadata_is_validated_before_it_is_stored(api, storage, queue):
    with pytest.raises(BadRequest, match="_default_message_ttl"):
        patch(api, [{"op": "add", "path": "/metadata/_default_message_ttl", "value": 1}])
    assert stored(storage) == queue


def test_patched_metadata_may_not_outgrow_the_limit(api, storage, queue):
    with pytest.raises(BadRequest, match="Queue metadata is too large"):
        patch(api, [{"op": "add", "path": "/metadata/big", "value": "x" * 200}])
    assert stored(storage) == queue


def test_patch_of_a_missing_queue_is_not_found(api):
    with pytest.raises(NotFound):
        patch(api, [{"op": "add", "path": "/metadata/color", "value": 1}], queue="missing")


def test_patch_is_scoped_to_the_project(api, storage, queue):
    with pytest.raises(NotFound):
        api.dispatch("queue_update", Request("project-b", CLIENT, {
            "queue_name": "q", "patch": [{"op": "remove", "path": "/metadata/color"}]}))
    assert stored(storage) == queue
