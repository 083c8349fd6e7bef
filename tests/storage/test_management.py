"""The management store contract (zaqar.storage.management) on every SQL engine: pools,
flavors, and the catalog, whose insert has one winner among concurrent nodes.

The store lives in the engine's scratch schema or database (beside the message store's
tables, with a version table of its own), or in a SQLite file of the test's.
"""
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests import engines
from tests.conftest import make_conf
from zaqar.conf import management as management_conf
from zaqar.storage import load_management_driver
from zaqar.storage.management import (
    Flavor,
    FlavorDoesNotExist,
    ManagementDriver,
    Pool,
    PoolAlreadyExists,
    PoolDoesNotExist,
    PoolInUse,
)
from zaqar.storage.sqlalchemy.management import tables

P = "project-a"


@pytest.fixture(scope="module", params=[e.name for e in engines.SQL_ENGINES])
def store_conf(request, tmp_path_factory):
    engine = engines.by_name(request.param)
    engine.check_reachable()
    directory = tmp_path_factory.mktemp(f"management-{engine.name}")
    groups = {"DEFAULT": {"pooling": True}}
    if engine.uri:
        groups[management_conf.GROUP] = {"uri": engine.uri}
    return make_conf(directory, **groups)


@pytest.fixture
def store(store_conf) -> Iterator[ManagementDriver]:
    driver = load_management_driver(store_conf)
    driver.prepare()
    with driver.engine.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    yield driver
    driver.close()


def pool(name: str, weight: int = 1, **fields) -> Pool:
    return Pool(name=name, uri=f"redis://127.0.0.1:6379/{name}", weight=weight, **fields)


# -- pools ------------------------------------------------------------------------------

def test_pool_roundtrip(store):
    store.pools.create(Pool("p1", "sqlite:////tmp/p1.db", 3, options={"pool_size": 4}))
    assert store.pools.get("p1") == Pool("p1", "sqlite:////tmp/p1.db", 3, None,
                                         {"pool_size": 4})
    with pytest.raises(PoolDoesNotExist):
        store.pools.get("missing")


def test_pool_name_and_uri_are_unique(store):
    store.pools.create(pool("p1"))
    with pytest.raises(PoolAlreadyExists):
        store.pools.create(Pool("p1", "redis://elsewhere", 1))
    with pytest.raises(PoolAlreadyExists):
        store.pools.create(Pool("p2", pool("p1").uri, 1))
    store.pools.create(pool("p2"))
    with pytest.raises(PoolAlreadyExists):
        store.pools.update("p2", uri=pool("p1").uri)


def test_pool_list_pages_by_name_and_filters_by_flavor(store):
    for name in ("c", "a", "b", "d"):
        store.pools.create(pool(name))
    store.pools.set_flavor(["b", "d"], "gold")
    assert [p.name for p in store.pools.list(limit=2)] == ["a", "b"]
    assert [p.name for p in store.pools.list(marker="b", limit=10)] == ["c", "d"]
    assert [p.name for p in store.pools.list(flavor="gold")] == ["b", "d"]
    assert [p.name for p in store.pools.of_flavor("gold")] == ["b", "d"]
    assert [p.name for p in store.pools.of_flavor(None)] == ["a", "c"]


def test_weights_up_to_upstreams_bound_are_kept(store):
    store.pools.create(pool("p1", 2**32 - 1))
    assert store.pools.get("p1").weight == 2**32 - 1


def test_pool_update_changes_only_the_fields_given(store):
    store.pools.create(pool("p1", 2, options={"key_prefix": "x"}))
    store.pools.update("p1", weight=5)
    store.pools.update("p1", options={"key_prefix": "y"})
    assert store.pools.get("p1") == Pool("p1", pool("p1").uri, 5, None, {"key_prefix": "y"})
    with pytest.raises(PoolDoesNotExist):
        store.pools.update("missing", weight=1)


def test_set_flavor_makes_the_names_the_flavors_pools(store):
    for name in ("a", "b", "c"):
        store.pools.create(pool(name))
    store.pools.set_flavor(["a", "b"], "gold")
    store.pools.set_flavor(["c"], "gold")
    assert [p.name for p in store.pools.of_flavor("gold")] == ["c"]
    store.pools.set_flavor(["c"], None)
    assert store.pools.of_flavor("gold") == []


def test_pool_holding_queues_cannot_be_deleted(store):
    store.pools.create(pool("p1"))
    store.catalog.insert("q", P, "p1")
    with pytest.raises(PoolInUse, match="still holds queues"):
        store.pools.delete("p1")
    store.catalog.delete("q", P)
    store.pools.delete("p1")
    store.pools.delete("p1")  # a missing pool is no error
    with pytest.raises(PoolDoesNotExist):
        store.pools.get("p1")


# -- flavors ----------------------------------------------------------------------------

def test_flavor_roundtrip_per_project(store):
    store.flavors.create(Flavor("gold", P, {"durable": True}))
    store.flavors.create(Flavor("gold", P, {"durable": False}))  # replaced
    assert store.flavors.get("gold", P) == Flavor("gold", P, {"durable": False})
    with pytest.raises(FlavorDoesNotExist):
        store.flavors.get("gold", "project-b")
    store.flavors.update("gold", P, capabilities={"x": 1})
    assert store.flavors.get("gold", P).capabilities == {"x": 1}
    with pytest.raises(FlavorDoesNotExist):
        store.flavors.update("missing", P, capabilities={})


def test_flavor_list_pages_by_name(store):
    for name in ("c", "a", "b"):
        store.flavors.create(Flavor(name, P))
    store.flavors.create(Flavor("z", "project-b"))
    assert [f.name for f in store.flavors.list(P, limit=2)] == ["a", "b"]
    assert [f.name for f in store.flavors.list(P, marker="b")] == ["c"]


def test_flavor_delete_leaves_its_pools_without_flavor(store):
    store.pools.create(pool("a"))
    store.flavors.create(Flavor("gold", P))
    store.pools.set_flavor(["a"], "gold")
    store.flavors.delete("gold", P)
    store.flavors.delete("gold", P)  # a missing flavor is no error
    assert store.pools.get("a").flavor is None
    with pytest.raises(FlavorDoesNotExist):
        store.flavors.get("gold", P)


# -- catalog ----------------------------------------------------------------------------

def test_catalog_places_lists_and_counts(store):
    store.pools.create(pool("p1"))
    store.pools.create(pool("p2"))
    assert store.catalog.lookup("q", P) is None
    assert store.catalog.insert("q", P, "p1") == "p1"
    assert store.catalog.insert("q", P, "p2") == "p1"  # already placed: the placement wins
    store.catalog.insert("a", P, "p2")
    store.catalog.insert("Q", P, "p2")  # names are case-sensitive, MariaDB included
    store.catalog.insert("q", "project-b", "p2")
    assert store.catalog.lookup("q", P) == "p1"
    assert store.catalog.list(P) == [("Q", "p2"), ("a", "p2"), ("q", "p1")]
    assert store.catalog.list(P, marker="Q", limit=1) == [("a", "p2")]
    assert store.catalog.count("p2") == 3
    assert store.catalog.project_count(P) == 3
    store.catalog.move("q", P, "p2")
    assert store.catalog.lookup("q", P) == "p2"
    store.catalog.delete("q", P)
    assert store.catalog.lookup("q", P) is None


def test_catalog_insert_on_a_missing_pool_is_refused(store):
    with pytest.raises(PoolDoesNotExist):
        store.catalog.insert("q", P, "missing")
    assert store.catalog.lookup("q", P) is None


def test_concurrent_inserts_have_one_winner_that_all_return(store, store_conf):
    """Eight nodes (each its own driver and connections) place the same queues at
    once, each on its own pool: every queue ends on one pool, the one all were told."""
    nodes = 8
    for index in range(nodes):
        store.pools.create(pool(f"p{index}"))
    drivers = [load_management_driver(store_conf) for _ in range(nodes)]
    barrier = threading.Barrier(nodes)
    answers: list[list[str]] = [[] for _ in range(nodes)]
    failures: list[BaseException] = []

    def node(index: int) -> None:
        try:
            barrier.wait()
            for queue in range(20):
                answers[index].append(drivers[index].catalog.insert(f"q{queue}", P,
                                                                    f"p{index}"))
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=node, args=(i,)) for i in range(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for driver in drivers:
        driver.close()
    assert failures == []
    placed = dict(store.catalog.list(P))
    assert len(placed) == 20
    for queue in range(20):
        assert {answers[index][queue] for index in range(nodes)} == {placed[f"q{queue}"]}


def test_prepare_is_idempotent_and_uses_its_own_version_table(store):
    store.prepare()
    with store.engine.connect() as conn:
        assert list(conn.scalars(sa.text("SELECT version_num FROM zaqar_management_version"))) \
            == ["m0001"]


def test_migrations_build_exactly_the_table_definitions(store):
    """Only the management tables are compared: the message store's share the database."""
    def ours(name, type_, _parent_names) -> bool:
        return type_ != "table" or name in tables.metadata.tables

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": True, "include_name": ours})
        assert compare_metadata(context, tables.metadata) == []
        drifted = sa.MetaData()
        for table in tables.metadata.sorted_tables:
            table.to_metadata(drifted)
        drifted.tables["pools"].c.weight.nullable = True
        assert compare_metadata(context, drifted) != []  # the comparison does compare


def test_the_queues_on_a_pool_page_by_project_and_name(store):
    store.pools.create(pool("p1"))
    store.pools.create(pool("p2"))
    for project, queue in (("b", "q1"), ("a", "q2"), ("a", "q1"), ("c", "q0")):
        store.catalog.insert(queue, project, "p1")
    store.catalog.insert("x", "a", "p2")
    assert store.catalog.on_pool("p1", limit=2) == [("a", "q1"), ("a", "q2")]
    assert store.catalog.on_pool("p1", marker=("a", "q2")) == [("b", "q1"), ("c", "q0")]
