"""Health and ping (zaqar/api/health.py) through Api.dispatch: a single store, and pooling
over a real SQLite management store with SQLite pools and one whose store refuses
connections (a Redis URI on a local port nothing listens on).

tests/functional/test_pooling.py asks a server the same over REST and the websocket."""
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_conf
from zaqar.api import Api, Request, Response
from zaqar.api.errors import ServiceUnavailable
from zaqar.storage.management import Pool
from zaqar.storage.sqlalchemy.driver import SqlDriver

PROJECT = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"


@pytest.fixture
def pooled(pooled_api: Api) -> Api:
    return pooled_api


@pytest.fixture
def single(tmp_path: Path) -> Iterator[Api]:
    conf = make_conf(tmp_path, DEFAULT={"admin_mode": True})
    storage = SqlDriver(conf)
    storage.prepare()
    yield Api(storage, conf)
    storage.close()


def call(api: Api, action: str) -> Response:
    return api.dispatch(action, Request(PROJECT, CLIENT, {}))


def refusing_uri() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def register(api: Api, tmp_path: Path, *names: str) -> None:
    assert api.management is not None
    for name in names:
        api.management.pools.create(Pool(name, f"sqlite:///{tmp_path / name}.sqlite3", 1))


def test_a_single_store_reports_itself(single):
    answer = call(single, "health")
    assert answer.status == 200
    assert answer.body == {"storage_reachable": True, "catalog_reachable": True,
                           "operation_status": {}}


def test_with_pooling_each_pool_has_its_entry(pooled, tmp_path):
    register(pooled, tmp_path, "a", "b")
    answer = call(pooled, "health")
    assert answer.status == 200
    assert answer.body == {
        "catalog_reachable": True, "storage_reachable": True,
        "a": {"storage_reachable": True, "operation_status": {}},
        "b": {"storage_reachable": True, "operation_status": {}}}
    assert call(pooled, "ping").status == 204


def test_a_pool_that_is_down_is_a_503_naming_it(pooled, tmp_path):
    register(pooled, tmp_path, "a")
    assert pooled.management is not None
    pooled.management.pools.create(Pool("away", refusing_uri(), 1))
    answer = call(pooled, "health")
    assert answer.status == 503
    assert answer.body == {
        "catalog_reachable": True, "storage_reachable": False,
        "a": {"storage_reachable": True, "operation_status": {}},
        "away": {"storage_reachable": False, "operation_status": {}}}
    with pytest.raises(ServiceUnavailable):
        call(pooled, "ping")


def test_no_pool_yet_is_healthy_as_upstream(pooled):
    answer = call(pooled, "health")
    assert (answer.status, answer.body) == \
        (200, {"catalog_reachable": True, "storage_reachable": True})


def test_a_pool_named_like_a_summary_key_cannot_hide_it(pooled, tmp_path):
    register(pooled, tmp_path, "storage_reachable")
    assert pooled.management is not None
    pooled.management.pools.create(Pool("away", refusing_uri(), 1))
    answer = call(pooled, "health")
    assert answer.status == 503
    assert answer.body["storage_reachable"] is False
