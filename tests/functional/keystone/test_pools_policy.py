"""The pools and flavors admin API behind Keystone: upstream's policy defaults, with
tokens of a real Keystone. Pools are for the admin role; a project's flavors are listed
and read by any of its tokens, created, changed and deleted by its admins."""
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.conftest import ServerProcess, running_server
from tests.functional.keystone.conftest import Accounts, Client, keystone_config


@pytest.fixture(scope="module")
def pooled(keystone, accounts: Accounts,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    config = keystone_config(keystone).replace("admin_mode = true\n",
                                               "admin_mode = true\npooling = true\n", 1)
    assert "pooling = true" in config
    with running_server(tmp_path_factory.mktemp("zaqar-keystone-pooled"), config) as server:
        yield server


@pytest.fixture
def member(pooled: ServerProcess, accounts: Accounts) -> Client:
    return Client(pooled.url, accounts.alice)


@pytest.fixture
def admin(pooled: ServerProcess, accounts: Accounts) -> Client:
    return Client(pooled.url, accounts.carol)


def test_pools_are_for_admins(member: Client, admin: Client, tmp_path: Path):
    body = {"weight": 10, "uri": f"sqlite:///{tmp_path / 'pool.sqlite3'}"}
    assert member.put("/v2/pools/guarded", json=body).status_code == 403
    assert member.get("/v2/pools").status_code == 403
    assert admin.put("/v2/pools/guarded", json=body).status_code == 201
    try:
        assert member.get("/v2/pools/guarded").status_code == 403
        assert member.patch("/v2/pools/guarded", json={"weight": 1}).status_code == 403
        assert member.delete("/v2/pools/guarded").status_code == 403
        assert admin.get("/v2/pools/guarded").json()["weight"] == 10
    finally:
        assert admin.delete("/v2/pools/guarded").status_code == 204


def test_members_read_their_projects_flavors_and_admins_change_them(
        member: Client, admin: Client, tmp_path: Path):
    body = {"weight": 10, "uri": f"sqlite:///{tmp_path / 'pool.sqlite3'}"}
    assert admin.put("/v2/pools/flavored", json=body).status_code == 201
    try:
        assert member.put("/v2/flavors/gold",
                          json={"pool_list": ["flavored"]}).status_code == 403
        assert admin.put("/v2/flavors/gold", json={"pool_list": ["flavored"]}).status_code == 201
        assert member.get("/v2/flavors/gold").json()["pool_list"] == ["flavored"]
        assert [flavor["name"] for flavor in member.get("/v2/flavors").json()["flavors"]] == [
            "gold"]
        assert member.patch("/v2/flavors/gold",
                            json={"pool_list": ["flavored"]}).status_code == 403
        assert member.delete("/v2/flavors/gold").status_code == 403
        assert admin.delete("/v2/flavors/gold").status_code == 204
    finally:
        admin.delete("/v2/pools/flavored")
