"""zaqar-server with pooling: queues spread over a SQLite pool and a Redis pool through
the catalog, over REST; the placements survive a restart; health names each pool; a
Redis pool registered while the server runs announces its posts to websocket pushes.

Pools are registered in the management store directly (the SQLite file the servers are
configured with), as an operator's tool would.
"""
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from tests import engines
from tests.conftest import make_conf
from tests.functional.conftest import Rest, running_server
from tests.functional.websocket_client import connections, subscribe_here
from zaqar.conf import management as management_conf
from zaqar.storage import load_management_driver
from zaqar.storage.management import ManagementDriver, Pool
from zaqar.storage.pooling import driver_for_pool


@pytest.fixture
def management_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/management.sqlite3"


@pytest.fixture
def management(tmp_path: Path, management_uri: str) -> Iterator[ManagementDriver]:
    engines.REDIS.check_reachable()
    conf = make_conf(tmp_path, **{management_conf.GROUP: {"uri": management_uri}})
    store = load_management_driver(conf)
    store.prepare()
    yield store
    store.close()


def pooling_override(management_uri: str) -> str:
    return ("[DEFAULT]\npooling = true\nadmin_mode = true\n"
            f"[drivers:management_store:sqlalchemy]\nuri = {management_uri}\n"
            "catalog_cache_ttl = 0\n")


def register_pools(management: ManagementDriver, tmp_path: Path) -> dict[str, Pool]:
    pools = {"sqlite": Pool("sqlite", f"sqlite:///{tmp_path}/pool.sqlite3", 1),
             "redis": Pool("redis", engines.REDIS.uri or "", 1,
                           options={"key_prefix": f"{engines.SESSION}:functional"})}
    for pool in pools.values():
        management.pools.create(pool)
    return pools


def test_queues_land_on_each_pool_and_keep_their_place_after_a_restart(
        tmp_path, management, management_uri):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    override = pooling_override(management_uri)
    with running_server(tmp_path / "first", override) as server:
        rest = Rest(server.url)
        refused = rest.put("/v2/queues/early", json={})
        assert refused.status_code == 503
        assert "No storage pool of no flavor takes new queues" in \
            refused.json()["description"]

        pools = register_pools(management, tmp_path)
        placed: dict[str, str] = {}
        # Weights 1 and 1: both pools are used long before 200 queues (2^-199 odds).
        while set(placed.values()) != set(pools) and len(placed) < 200:
            name = f"q{len(placed)}"
            assert rest.put(f"/v2/queues/{name}", json={"n": name}).status_code == 201
            placed[name] = management.catalog.lookup(name, rest.project)
        assert set(placed.values()) == set(pools)

        for name in placed:
            posted = rest.post(f"/v2/queues/{name}/messages",
                               json={"messages": [{"body": {"queue": name}, "ttl": 600}]})
            assert posted.status_code == 201, posted.text
        one_per_pool = {pool: name for name, pool in placed.items()}
        for pool, name in one_per_pool.items():
            claimed = rest.post(f"/v2/queues/{name}/claims", json={"ttl": 60, "grace": 60})
            assert claimed.status_code == 201, claimed.text
            assert [m["body"] for m in claimed.json()["messages"]] == [{"queue": name}]
            # The message is in that pool's store, claimed there.
            driver = driver_for_pool(make_conf(tmp_path), pools[pool].uri, pools[pool].options)
            assert driver.queues.stats(name, rest.project).claimed == 1
            driver.close()
        lazy = rest.post("/v2/queues/lazy/messages", json={"messages": [{"body": 1}]})
        assert lazy.status_code == 201
        assert management.catalog.lookup("lazy", rest.project) in pools

        listed: list[str] = []
        while page := rest.get("/v2/queues", params={
                "limit": 20, **({"marker": listed[-1]} if listed else {})}).json()["queues"]:
            listed += [queue["name"] for queue in page]
        assert listed == sorted([*placed, "lazy"])

    catalog_before = management.catalog.list(rest.project)
    with running_server(tmp_path / "second", override) as server:
        again = Rest(server.url, rest.project)
        for name in placed:
            stats = again.get(f"/v2/queues/{name}/stats").json()["messages"]
            assert stats["total"] == 1
        assert management.catalog.list(rest.project) == catalog_before


def test_pools_and_a_flavor_registered_over_rest_place_queues(tmp_path, management,
                                                              management_uri):
    """The admin API end to end: pools and a flavor made with REST, then queues."""
    (tmp_path / "server").mkdir()
    with running_server(tmp_path / "server", pooling_override(management_uri)) as server:
        rest = Rest(server.url)
        unreachable = rest.put("/v2/pools/away", json={"uri": "redis://127.0.0.1:1/0",
                                                       "weight": 1})
        assert unreachable.status_code == 400
        assert "cannot connect to redis://127.0.0.1:1/0" in unreachable.json()["description"]
        pools = {"sqlite": {"uri": f"sqlite:///{tmp_path}/pool.sqlite3", "weight": 1},
                 "redis": {"uri": engines.REDIS.uri, "weight": 1,
                           "options": {"key_prefix": f"{engines.SESSION}:functional"}}}
        for name, body in pools.items():
            assert rest.put(f"/v2/pools/{name}", json=body).status_code == 201
        unknown = rest.put("/v2/queues/q", json={"_flavor": "fast"})
        assert unknown.status_code == 400
        assert "must name a flavor of its project" in unknown.json()["description"]
        assert rest.put("/v2/flavors/fast", json={"pool_list": ["redis"]}).status_code == 201
        for index in range(10):
            assert rest.put(f"/v2/queues/f{index}", json={"_flavor": "fast"}).status_code == 201
            assert rest.put(f"/v2/queues/p{index}", json={}).status_code == 201
        placed = dict(management.catalog.list(rest.project))
        assert {placed[f"f{i}"] for i in range(10)} == {"redis"}
        assert {placed[f"p{i}"] for i in range(10)} == {"sqlite"}

        assert rest.delete("/v2/pools/sqlite").status_code == 403  # it holds queues
        for index in range(10):
            assert rest.delete(f"/v2/queues/p{index}").status_code == 204
        assert rest.delete("/v2/pools/sqlite").status_code == 204
        assert rest.put("/v2/queues/late", json={}).status_code == 503  # no pool of no flavor


def test_health_names_each_pool_and_a_pool_that_is_down_is_a_503(tmp_path, management,
                                                                 management_uri):
    """Upstream 23.0.1 answers ``catalog_reachable`` and an entry per pool; a pool whose
    store is down makes it answer 503 (there, without a body of health)."""
    with socket.socket() as probe:  # a port nothing listens on: connections refused
        probe.bind(("127.0.0.1", 0))
        away = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    (tmp_path / "server").mkdir()
    with running_server(tmp_path / "server", pooling_override(management_uri),
                        websocket_ready=True) as server:
        rest = Rest(server.url)
        register_pools(management, tmp_path)
        management.pools.create(Pool("away", away, 1))
        up = {"storage_reachable": True, "operation_status": {}}
        down = {"catalog_reachable": True, "storage_reachable": False,
                "sqlite": up, "redis": up,
                "away": {"storage_reachable": False, "operation_status": {}}}
        answer = rest.get("/v2/health")
        assert (answer.status_code, answer.json()) == (503, down)
        assert rest.get("/v2/ping").status_code == 503
        with connections(server.ws_url) as open_client:
            reply = open_client(rest.project).request("check_node_health")
            assert (reply.status, reply.body) == (503, down)

        management.pools.delete("away")
        answer = rest.get("/v2/health")
        assert answer.status_code == 200
        assert answer.json() == {"catalog_reachable": True, "storage_reachable": True,
                                 "sqlite": up, "redis": up}
        assert rest.get("/v2/ping").status_code == 204


# Far above the bound the pushes below are waited for: a push within it came from the
# post watch, not from the websocket server's periodic look at subscribed queues.
SAFETY_INTERVAL = 120.0
PUSH_BOUND = 30.0


def test_a_pool_registered_while_serving_announces_its_posts_to_pushes(
        tmp_path, management, management_uri):
    """The websocket server's post watch starts with the one Redis pool; a second one,
    registered later (the same Redis under another URI and key prefix), is watched
    from its next reading of the pool list (catalog_cache_ttl 0: each second). Posts
    made before that are not announced: the test posts until a push comes."""
    uri = engines.REDIS.uri or ""
    prefix = f"{engines.SESSION}:functional"
    management.pools.create(Pool("first", uri, 1, options={"key_prefix": f"{prefix}1"}))
    (tmp_path / "server").mkdir()
    override = pooling_override(management_uri) + (
        f"[drivers:transport:websocket]\npush_safety_interval = {SAFETY_INTERVAL}\n")
    with running_server(tmp_path / "server", override, websocket_ready=True) as server, \
            connections(server.ws_url) as connect:
        subscriber = connect()
        rest = Rest(server.url, subscriber.project)
        subscribe_here(subscriber, "early")
        assert pushed_after_posts(subscriber, rest, "early") == ["early"]

        management.pools.update("first", weight=0)
        second = uri + ("&" if "?" in uri else "?") + "socket_timeout=7"
        management.pools.create(Pool("second", second, 1,
                                     options={"key_prefix": f"{prefix}2"}))
        subscribe_here(subscriber, "late")
        assert management.catalog.lookup("late", rest.project) == "second"
        assert pushed_after_posts(subscriber, rest, "late") == ["late"]


def pushed_after_posts(subscriber, rest: Rest, queue: str) -> list[str]:
    """Post to ``queue`` every half second until a push comes (at most PUSH_BOUND
    seconds); the bodies of the first push."""
    deadline = time.monotonic() + PUSH_BOUND
    while time.monotonic() < deadline:
        posted = rest.post(f"/v2/queues/{queue}/messages",
                           json={"messages": [{"body": queue, "ttl": 300}]})
        assert posted.status_code == 201, posted.text
        try:
            push = subscriber.push(0.5)
        except websocket.WebSocketTimeoutException:
            continue
        return sorted({message["body"] for message in push.body["messages"]})
    pytest.fail(f"no push of {queue} within {PUSH_BOUND} s")
