"""Pooling (zaqar.storage.pooling): where queues are placed, how calls find them, and the
pools' drivers built from URIs.

The whole storage contract also runs on the pooled driver (the ``pooled`` engine of
tests/engines.py: a SQLite pool and a Redis pool); these tests cover what is particular
to pooling, on SQLite pools in the test's directory unless said otherwise.
"""
import logging
import math
import multiprocessing
import os
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests import engines
from tests.conftest import make_conf
from tests.storage.test_contract import CLIENT, Clock, P
from tests.storage.test_watch_posts import Heard
from zaqar.cmd import gc
from zaqar.conf import management as management_conf
from zaqar.storage import load_driver
from zaqar.storage.base import DeadLetter, NewMessage, topic_project
from zaqar.storage.management import (
    Flavor,
    NoPoolFound,
    Pool,
    PoolInUse,
    QueueFlavorDoesNotExist,
    QueueNotMovable,
)
from zaqar.storage.pooling import InvalidPool, PooledDriver, check_pool_uri, pool_conf
from zaqar.storage.pooling import controllers as pooled_controllers
from zaqar.storage.pooling.probes import Probes
from zaqar.storage.pooling.uris import driver_name
from zaqar.storage.pooling.watch import PoolWatches


@pytest.fixture
def conf(tmp_path):
    return make_conf(tmp_path, DEFAULT={"pooling": True})


@pytest.fixture
def pooled(conf, tmp_path):
    driver = PooledDriver(conf, rng=random.Random(20261201))
    driver.prepare()
    yield driver
    driver.close()


def add_pool(driver, tmp_path, name, weight=1, flavor=None):
    driver.management.pools.create(Pool(name, f"sqlite:///{tmp_path}/{name}.sqlite3", weight))
    if flavor is not None:
        names = [p.name for p in driver.management.pools.of_flavor(flavor)]
        driver.management.pools.set_flavor([*names, name], flavor)


def post(driver, queue, project=P, n=1):
    return driver.messages.post(queue, project, [NewMessage(body={"n": i}, ttl=300)
                                                 for i in range(n)], CLIENT)


# -- placement --------------------------------------------------------------------------

def test_placement_follows_the_weights(pooled, tmp_path):
    add_pool(pooled, tmp_path, "light", weight=1)
    add_pool(pooled, tmp_path, "heavy", weight=3)
    add_pool(pooled, tmp_path, "off", weight=0)
    for index in range(1000):
        pooled.catalog.place(f"q{index}", P)
    placed = Counter(pool for _queue, pool in pooled.management.catalog.list(P))
    # Binomial(1000, 1/4): 250 expected, sigma 13.7; 4.5 sigma either way never flakes.
    sigma = math.sqrt(1000 * 0.25 * 0.75)
    assert abs(placed["light"] - 250) < 4.5 * sigma
    assert placed["light"] + placed["heavy"] == 1000
    assert placed["off"] == 0


def test_no_pool_taking_queues_is_no_pool_found(pooled, tmp_path):
    with pytest.raises(NoPoolFound, match="none is registered"):
        pooled.queues.create("q", P)
    with pytest.raises(NoPoolFound):
        post(pooled, "lazy")
    add_pool(pooled, tmp_path, "off", weight=0)
    with pytest.raises(NoPoolFound):
        pooled.queues.create("q", P)
    assert pooled.management.catalog.list(P) == []


def test_a_flavored_queue_lands_only_on_its_flavors_pools(pooled, tmp_path):
    add_pool(pooled, tmp_path, "plain")
    add_pool(pooled, tmp_path, "gold1", flavor="gold")
    add_pool(pooled, tmp_path, "gold2", flavor="gold")
    pooled.management.flavors.create(Flavor("gold", P))
    for index in range(40):
        pooled.queues.create(f"g{index}", P, {"_flavor": "gold"})
        pooled.queues.create(f"p{index}", P)
    placed = dict(pooled.management.catalog.list(P))
    assert {placed[f"g{i}"] for i in range(40)} == {"gold1", "gold2"}
    assert {placed[f"p{i}"] for i in range(40)} == {"plain"}
    assert pooled.queues.get_metadata("g3", P) == {"_flavor": "gold"}


def test_a_flavor_the_project_does_not_have_is_refused(pooled, tmp_path):
    add_pool(pooled, tmp_path, "gold1", flavor="gold")
    pooled.management.flavors.create(Flavor("gold", "project-b"))
    with pytest.raises(QueueFlavorDoesNotExist, match="must name a flavor of its project"):
        pooled.queues.create("q", P, {"_flavor": "gold"})
    assert pooled.management.catalog.lookup("q", P) is None


def test_changing_the_flavor_moves_the_queue_to_that_flavors_pool(pooled, tmp_path):
    add_pool(pooled, tmp_path, "plain")
    add_pool(pooled, tmp_path, "gold1", flavor="gold")
    pooled.management.flavors.create(Flavor("gold", P))
    pooled.queues.create("q", P, {"a": 1})
    assert pooled.catalog.lookup("q", P) == "plain"
    pooled.queues.set_metadata("q", P, {"a": 2, "_flavor": "gold"})
    assert pooled.management.catalog.lookup("q", P) == "gold1"
    assert pooled.queues.get_metadata("q", P) == {"a": 2, "_flavor": "gold"}
    assert not pooled.catalog.driver("plain").queues.exists("q", P)
    assert [entry.name for entry in pooled.queues.list(P)] == ["q"]


def test_a_flavor_change_never_strands_messages_or_subscriptions(pooled, tmp_path):
    add_pool(pooled, tmp_path, "plain")
    add_pool(pooled, tmp_path, "gold1", flavor="gold")
    pooled.management.flavors.create(Flavor("gold", P))
    pooled.queues.create("q", P, {"a": 1})
    post(pooled, "q", n=2)
    with pytest.raises(QueueNotMovable, match="only while it is empty"):
        pooled.queues.set_metadata("q", P, {"_flavor": "gold"})
    pooled.queues.create("s", P)
    pooled.subscriptions.create("s", P, "http://127.0.0.1:9/hook", 3600, {})
    with pytest.raises(QueueNotMovable):
        pooled.queues.set_metadata("s", P, {"_flavor": "gold"})
    for name in ("q", "s"):
        assert pooled.management.catalog.lookup(name, P) == "plain"
    assert pooled.queues.get_metadata("q", P) == {"a": 1}
    assert len(pooled.messages.list("q", P, CLIENT, echo=True)) == 2
    assert len(pooled.subscriptions.list("s", P)) == 1


def test_reads_of_a_queue_never_placed_place_nothing(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    assert not pooled.queues.exists("q", P)
    assert pooled.queues.stats("q", P).total == 0
    assert pooled.messages.list("q", P, CLIENT) == []
    assert pooled.claims.create("q", P, 60, 60, 10) is None
    assert pooled.subscriptions.list("q", P) == []
    pooled.queues.delete("q", P)
    pooled.purge_messages("q", P)
    assert pooled.management.catalog.list(P) == []


def test_a_first_post_places_the_queue(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    assert post(pooled, "lazy", n=2) == ["1", "2"]
    assert pooled.management.catalog.lookup("lazy", P) == "a"
    assert pooled.catalog.driver("a").queues.exists("lazy", P)


def test_topics_are_placed_in_their_own_project(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    pooled.queues.create("alerts", topic_project(P))
    assert pooled.management.catalog.list(topic_project(P)) == [("alerts", "a")]
    assert pooled.management.catalog.list(P) == []
    assert not pooled.queues.exists("alerts", P)


# -- routing ----------------------------------------------------------------------------

def test_queue_list_merges_the_pools_by_name_with_markers(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    names = [f"q{index:02d}" for index in range(30)]
    for name in names:
        pooled.queues.create(name, P, {"n": name})
    assert len(set(pool for _q, pool in pooled.management.catalog.list(P))) == 2
    seen, marker = [], None
    while page := pooled.queues.list(P, marker=marker, limit=7, detailed=True):
        assert all(entry.metadata == {"n": entry.name} for entry in page)
        seen += [entry.name for entry in page]
        marker = page[-1].name
    assert seen == names
    assert pooled.queues.count(P) == 30


def test_a_deleted_queue_made_again_stays_on_its_pool(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    post(pooled, "q", n=2)
    pooled.queues.delete("q", P)
    add_pool(pooled, tmp_path, "b", weight=100)
    assert post(pooled, "q") == ["3"]  # not "1": ids are never handed out twice
    assert pooled.management.catalog.lookup("q", P) == "a"
    assert pooled.queues.count(P) == 1


def test_subscriptions_of_every_pool_are_listed_by_id(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    for index in range(12):
        pooled.subscriptions.create(f"q{index}", P, f"http://example.com/{index}", 600, {})
    assert len(set(pool for _q, pool in pooled.management.catalog.list(P))) == 2
    first = pooled.subscriptions.list_all(limit=5)
    rest = pooled.subscriptions.list_all(marker=first[-1].id, limit=100)
    ids = [s.id for s in first + rest]
    assert len(ids) == 12 and ids == sorted(ids)


def test_the_clock_reaches_every_pools_driver(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    clock = Clock()
    pooled.clock = clock
    for name in ("q1", "q2", "q3", "q4"):
        post(pooled, name)
    assert all(driver.clock is clock for _name, driver in pooled.catalog.all_drivers())
    clock.advance(301)
    assert all(pooled.messages.list(name, P, CLIENT, echo=True) == []
               for name in ("q1", "q2", "q3", "q4"))
    assert pooled.collect_garbage() == 4


def test_a_dead_letter_queue_on_another_pool_gets_the_messages(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    post(pooled, "orders", n=2)
    pooled.management.pools.update("a", weight=0)
    add_pool(pooled, tmp_path, "b")
    pooled.queues.create("failed", P)
    assert pooled.catalog.lookup("failed", P) == "b"
    dead_letter = DeadLetter("failed", max_claims=1)
    claim = pooled.claims.create("orders", P, 60, 60, 10, dead_letter)
    pooled.claims.delete("orders", P, claim.id)
    assert pooled.claims.create("orders", P, 60, 60, 10, dead_letter) is None
    moved = pooled.messages.list("failed", P, CLIENT, echo=True)
    assert [message.body for message in moved] == [{"n": 0}, {"n": 1}]
    assert pooled.queues.stats("orders", P).total == 0
    assert [entry.name for entry in pooled.queues.list(P)] == ["failed", "orders"]


def test_a_dead_letter_queue_not_placed_goes_to_the_claimed_queues_pool(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    post(pooled, "orders")
    source = pooled.catalog.lookup("orders", P)
    dead_letter = DeadLetter("failed", max_claims=1)
    pooled.claims.delete("orders", P, pooled.claims.create("orders", P, 60, 60, 1).id)
    assert pooled.claims.create("orders", P, 60, 60, 1, dead_letter) is None
    assert pooled.catalog.lookup("failed", P) == source
    assert pooled.messages.list("failed", P, CLIENT, echo=True)[0].claim_count == 1


def test_placements_outlive_the_process(conf, tmp_path):
    first = load_driver(conf)
    assert isinstance(first, PooledDriver)
    first.prepare()
    add_pool(first, tmp_path, "a")
    add_pool(first, tmp_path, "b")
    for index in range(10):
        post(first, f"q{index}")
    placed = first.management.catalog.list(P)
    first.close()
    again = load_driver(conf)
    assert again.management.catalog.list(P) == placed
    assert all(again.queues.stats(f"q{index}", P).total == 1 for index in range(10))
    again.close()


# -- the pooled engine of the contract suite -----------------------------------------

@pytest.mark.parametrize("engine", ["pooled"], indirect=True)
def test_the_contract_suites_queues_land_on_both_pools(driver):
    placed: dict[str, str] = {}
    # Weights 1 and 1: both pools are used long before 200 queues (2^-199 odds).
    while set(placed.values()) != set(engines.PooledEngine.POOLS) and len(placed) < 200:
        driver.queues.create(f"q{len(placed)}", P)
        placed = dict(driver.management.catalog.list(P))
    assert set(placed.values()) == set(engines.PooledEngine.POOLS)
    for name, pool in placed.items():
        assert driver.catalog.driver(pool).queues.exists(name, P)
    assert driver_name(driver.management.pools.get("redis").uri) == "redis"


# -- drivers from URIs --------------------------------------------------------------------

@pytest.mark.parametrize(("uri", "name"), [
    ("sqlite:////tmp/x.db", "sqlalchemy"),
    ("postgresql+psycopg://u@h/db", "sqlalchemy"),
    ("mysql+pymysql://root@h/db", "sqlalchemy"),
    ("mariadb://root@h/db", "sqlalchemy"),
    ("redis://h:6379/0", "redis"),
    ("rediss://h:6379/0", "redis"),
    ("redis+sentinel://s1,s2/master", "redis"),
    ("redis+cluster://h1:7000,h2:7001", "redis"),
    ("mongodb://h1,h2/?replicaSet=rs0", "mongodb"),
    ("mongodb+srv://cluster.example.com", "mongodb"),
])
def test_the_scheme_picks_the_driver(uri, name):
    assert driver_name(uri) == name


def test_a_pools_conf_is_the_services_with_the_pools_uri_and_options(conf):
    pool = pool_conf(conf, "redis://127.0.0.1:6379/3", {"key_prefix": "eu"})
    assert pool.drivers.message_store == "redis"
    assert pool["drivers:message_store:redis"].uri == "redis://127.0.0.1:6379/3"
    assert pool["drivers:message_store:redis"].key_prefix == "eu"
    assert pool.data_dir == conf.data_dir
    assert not pool.pooling


@pytest.mark.parametrize(("uri", "options", "fragment"), [
    ("ftp://h/x", {}, "scheme 'ftp' names no storage driver"),
    ("redis://127.0.0.1:6379/0", {"pool_size": 3}, "'pool_size' is not an option of the redis"),
    ("redis://127.0.0.1:6379/0", {"socket_timeout": "soon"}, "'socket_timeout': 'soon' is not"),
])
def test_bad_pool_uris_and_options_are_named(conf, uri, options, fragment):
    with pytest.raises(InvalidPool, match=fragment):
        pool_conf(conf, uri, options)
    assert fragment in check_pool_uri(conf, uri, options)


def test_check_pool_uri_connects(conf, tmp_path, caplog):
    engines.REDIS.check_reachable()
    caplog.set_level(logging.INFO)
    assert check_pool_uri(conf, f"sqlite:///{tmp_path}/pool.sqlite3", {}) is None
    assert check_pool_uri(conf, engines.REDIS.uri, {"key_prefix": engines.SESSION}) is None
    assert check_pool_uri(conf, "redis://127.0.0.1:1/0", {}) \
        == "cannot connect to redis://127.0.0.1:1/0"
    # One line of ours; not the driver's health check failure with its traceback.
    assert "A redis pool was refused: its store did not answer" in caplog.text
    assert "Storage health check failed" not in caplog.text


def test_releasing_a_pool_forgets_its_deleted_queues_so_it_can_be_deleted(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    for name in ("kept", "gone1", "gone2"):
        post(pooled, name)
    pooled.queues.delete("gone1", P)
    pooled.queues.delete("gone2", P)
    with pytest.raises(PoolInUse):
        pooled.management.pools.delete("a")
    assert pooled.release_pool("a") == 2
    assert pooled.management.catalog.list(P) == [("kept", "a")]
    pooled.queues.delete("kept", P)
    assert pooled.release_pool("a") == 1
    pooled.management.pools.delete("a")


def test_a_pool_that_is_away_leaves_the_others_working(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    pooled.subscriptions.create("q", P, "http://example.com/hook", 600, {})
    pooled.management.pools.create(Pool("away", "redis://127.0.0.1:1/0", 0, options={
        "max_reconnect_attempts": 0, "socket_connect_timeout": 0.5}))
    pooled.prepare()
    assert pooled.collect_garbage() == 0
    assert [s.subscriber for s in pooled.subscriptions.list_all()] == ["http://example.com/hook"]
    assert not pooled.is_alive()
    assert pooled.watch_posts(lambda _queue, _project: None) is None
    pooled.management.catalog.insert("stranded", P, "away")
    with pytest.raises(pooled.transient_errors):
        post(pooled, "stranded")


def test_zaqar_gc_collects_every_pool(pooled, tmp_path, capsys):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    pooled.clock = lambda: time.time() - 1000  # posted long ago: expired by now
    for name in ("q1", "q2", "q3", "q4"):
        post(pooled, name)
    assert len(set(pool for _q, pool in pooled.management.catalog.list(P))) == 2
    config = tmp_path / "gc.conf"
    config.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}\npooling = true\n")
    gc.main(["--config-file", str(config)])
    assert "zaqar-gc: removed 4 expired rows" in capsys.readouterr().out


def test_a_pool_joining_a_flavor_moves_none_of_its_queues(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    post(pooled, "q", n=2)
    pooled.management.flavors.create(Flavor("gold", P))
    pooled.management.pools.set_flavor(["a"], "gold")
    pooled.queues.set_metadata("q", P, {"b": 1})
    assert pooled.catalog.lookup("q", P) == "a"
    assert pooled.queues.stats("q", P).total == 2
    pooled.queues.set_metadata("q", P, {"_flavor": "gold"})  # its pool is gold's already
    assert pooled.queues.stats("q", P).total == 2


@pytest.fixture(params=["postgresql", "mysql"])
def new_database(request) -> Iterator[str]:
    """The URI of an empty schema (PostgreSQL) or database (MariaDB) of its own."""
    engine = engines.by_name(request.param)
    engine.check_reachable()
    url = sa.make_url(os.environ.get(engine.uri_env, engine.default_uri))
    name = f"{engines.SESSION}_pool"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    if request.param == "postgresql":
        create, drop = f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE'
        url = url.update_query_dict({"options": f"-csearch_path={name}"})
    else:
        create, drop = f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`"
        url = url.set(database=name)
    with admin.connect() as conn:
        conn.execute(sa.text(create))
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(drop))
    admin.dispose()


def _create_queue_at_once(data_dir: str, index: int, barrier, failures) -> None:
    """A process of the service: its own driver, one queue created on the new pool."""
    try:
        conf = make_conf(data_dir, DEFAULT={"pooling": True})
        driver = PooledDriver(conf)
        barrier.wait()
        driver.queues.create(f"q{index}", P)
        driver.close()
    except BaseException as error:  # reported by the parent
        failures.put(repr(error))


def test_processes_first_using_a_new_pool_at_once_all_migrate_it(conf, tmp_path,
                                                                new_database):
    """Several processes of the service meet a pool just registered at the same instant:
    each migrates it (PostgreSQL lets one win the race, MariaDB's DDL is not
    transactional), and every call succeeds; threads of one process take turns."""
    first = PooledDriver(conf)
    first.prepare()
    first.management.pools.create(Pool("fresh", new_database, 1))
    context = multiprocessing.get_context("spawn")
    processes = 4
    barrier, failures = context.Barrier(processes + 1), context.Queue()
    workers = [context.Process(target=_create_queue_at_once, daemon=True,
                               args=(str(tmp_path), index, barrier, failures))
               for index in range(processes)]
    for worker in workers:
        worker.start()
    threads = [threading.Thread(target=first.queues.create, args=(f"t{index}", P))
               for index in range(3)]
    barrier.wait(timeout=60)
    for thread in threads:
        thread.start()
    for worker in workers:
        worker.join(timeout=120)
    for thread in threads:
        thread.join(timeout=120)
    reported = []
    while not failures.empty():
        reported.append(failures.get())
    assert reported == []
    assert [entry.name for entry in first.queues.list(P)] == \
        ["q0", "q1", "q2", "q3", "t0", "t1", "t2"]
    first.close()


@pytest.mark.parametrize("kind", ["mongodb", "redis-cluster"])
def test_pools_of_every_driver_serve_their_queues(pooled, tmp_path, kind):
    """A MongoDB pool and a Redis Cluster pool (redis+cluster://) beside a SQLite one."""
    engine = engines.by_name(kind)
    engine.check_reachable()
    options = {"database": f"{engines.SESSION}_pool"} if kind == "mongodb" \
        else {"key_prefix": f"{engines.SESSION}:pool"}
    assert check_pool_uri(pooled.conf, engine.uri, options) is None
    pooled.management.pools.create(Pool(kind, engine.uri, 1, options=options))
    add_pool(pooled, tmp_path, "sqlite", weight=0)
    try:
        assert post(pooled, "q", n=3) == ["1", "2", "3"]
        claim = pooled.claims.create("q", P, 60, 60, 2)
        assert [message.id for message in claim.messages] == ["1", "2"]
        assert pooled.queues.stats("q", P).claimed == 2
        assert pooled.catalog.lookup("q", P) == kind
    finally:
        pooled.queues.delete("q", P)
        if kind == "mongodb":
            pooled.catalog.driver(kind).client.drop_database(options["database"])


def test_listing_skips_the_placements_of_deleted_queues(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    for index in range(15):
        pooled.queues.create(f"d{index:02d}", P)
        pooled.queues.delete(f"d{index:02d}", P)
    pooled.subscriptions.create("s", P, "http://example.com/hook", 600, {})
    for name in ("z1", "z2", "z3"):
        pooled.queues.create(name, P)
    assert [entry.name for entry in pooled.queues.list(P, limit=2)] == ["z1", "z2"]
    assert [entry.name for entry in pooled.queues.list(P, marker="z2", limit=2)] == ["z3"]
    assert pooled.queues.list(P, marker="z3") == []
    assert pooled.queues.count(P) == 3


def listed(driver, project=P):
    names, marker = [], None
    while page := driver.queues.list(project, marker=marker, limit=7):
        names += [entry.name for entry in page]
        marker = page[-1].name
    return names


# -- the count of a project's queues --------------------------------------------------

def test_the_count_is_the_number_of_queues_listed(pooled, tmp_path):
    """Neither a deleted queue's placement nor the queue of the same name a dead-letter
    feed keeps on its source pool counts."""
    add_pool(pooled, tmp_path, "a")
    post(pooled, "orders", n=2)
    for name in ("gone1", "gone2"):
        pooled.queues.create(name, P)
        pooled.queues.delete(name, P)
    pooled.management.pools.update("a", weight=0)
    add_pool(pooled, tmp_path, "b")
    pooled.queues.create("failed", P)
    dead_letter = DeadLetter("failed", max_claims=1)
    pooled.claims.delete("orders", P, pooled.claims.create("orders", P, 60, 60, 10).id)
    assert pooled.claims.create("orders", P, 60, 60, 10, dead_letter) is None
    assert pooled.catalog.driver("a").queues.exists("failed", P)  # the feed's, on "a"
    assert pooled.catalog.driver("a").queues.count(P) + \
        pooled.catalog.driver("b").queues.count(P) == 3
    assert listed(pooled) == ["failed", "orders"]
    assert pooled.queues.count(P) == 2
    assert pooled.queues.count("another-project") == 0


def test_the_count_reads_each_pools_names_page_by_page(pooled, tmp_path, monkeypatch):
    monkeypatch.setattr(pooled_controllers, "COUNT_PAGE", 3)
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    names = [f"q{index:02d}" for index in range(20)]
    for name in names:
        pooled.queues.create(name, P)
    for name in names[::4]:
        pooled.queues.delete(name, P)
    assert len(set(pool for _q, pool in pooled.management.catalog.list(P))) == 2
    assert pooled.queues.count(P) == len(listed(pooled)) == 15


# -- health --------------------------------------------------------------------------

def nothing_listens() -> str:
    """A Redis URI on a local port where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_pool_health_says_which_pools_answer(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    add_pool(pooled, tmp_path, "b")
    pooled.management.pools.create(Pool("away", nothing_listens(), 1))
    health = pooled.pool_health()
    assert health.catalog_reachable
    assert health.pools == {"a": True, "away": False, "b": True}
    assert not health.storage_reachable
    assert not pooled.is_alive()
    pooled.management.pools.delete("away")
    health = pooled.pool_health()
    assert health.pools == {"a": True, "b": True} and health.storage_reachable
    assert pooled.is_alive()


def test_pool_health_without_the_management_store(tmp_path):
    conf = make_conf(tmp_path, DEFAULT={"pooling": True}, **{management_conf.GROUP: {
        "uri": "postgresql+psycopg://zaqar@127.0.0.1:1/zaqar?connect_timeout=1"}})
    pooled = PooledDriver(conf)
    try:
        health = pooled.pool_health()
        assert not health.catalog_reachable and health.pools == {}
        assert not health.storage_reachable
        assert not pooled.is_alive()
    finally:
        pooled.close()


def test_a_store_that_never_replies_holds_one_probe_thread(conf):
    """A pool whose store accepts connections and never replies: each health request
    gives up after its timeout, and they share the one look under way."""
    earlier = set(threading.enumerate())
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing is ever read
        pool = Pool("silent", f"redis://127.0.0.1:{silent.getsockname()[1]}/0", 1)
        probes = Probes(conf)
        assert probes.answering([pool], timeout=0.2) == {"silent": False}
        assert probes.answering([pool], timeout=0.2) == {"silent": False}
        looking = [thread for thread in threading.enumerate()
                   if thread.name == "zaqar-pool-probe" and thread not in earlier]
        assert len(looking) == 1
    looking[0].join(timeout=30)
    assert not looking[0].is_alive()


def test_a_pool_of_a_uri_no_driver_takes_is_down(pooled, tmp_path):
    add_pool(pooled, tmp_path, "a")
    pooled.management.pools.create(Pool("odd", "ftp://127.0.0.1/x", 1))
    assert pooled.pool_health().pools == {"a": True, "odd": False}


# -- post announcements of pools registered later ----------------------------------------

def redis_pool(name: str) -> Pool:
    """A pool on the Redis of the tests under a key prefix of its own; its URI (unique
    to a pool) names the server's default socket timeout, so several pools can share
    the server."""
    uri = engines.REDIS.uri or ""
    uri += ("&" if "?" in uri else "?") + f"socket_timeout={5 + len(name)}"
    return Pool(name, uri, 1, options={"key_prefix": f"{engines.SESSION}:{name}"})


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def test_the_post_watch_follows_pools_registered_and_deleted_later(tmp_path):
    """catalog_cache_ttl 0: the watch reads the pool list every MIN_RESCAN (1) second.
    The posts come through another process's driver (its own catalog), so nothing but
    the watch's own reading of the pool list can make it watch the new pool."""
    engines.REDIS.check_reachable()
    conf = make_conf(tmp_path, DEFAULT={"pooling": True},
                     **{management_conf.GROUP: {"catalog_cache_ttl": 0}})
    earlier = set(threading.enumerate())
    watching, posting = PooledDriver(conf), PooledDriver(conf)
    watching.prepare()
    try:
        watching.management.pools.create(redis_pool("first"))
        heard = Heard()
        watch = watching.watch_posts(heard)
        assert isinstance(watch, PoolWatches)
        assert watch.watched() == ["first"]
        post(posting, "early")
        assert heard.next() == ("early", P)

        watching.management.pools.update("first", weight=0)
        watching.management.pools.create(redis_pool("second"))
        wait_for(lambda: watch.watched() == ["first", "second"], "the second pool watched")
        post(posting, "late")
        assert posting.catalog.lookup("late", P) == "second"
        assert heard.next() == ("late", P)

        posting.queues.delete("late", P)
        assert posting.release_pool("second") == 1
        watching.management.pools.delete("second")
        wait_for(lambda: watch.watched() == ["first"], "the deleted pool no longer watched")
    finally:
        posting.close()
        watching.close()
    assert not [thread for thread in threading.enumerate() if thread not in earlier
                and thread.name in ("zaqar-pool-watch", "zaqar-redis-post-watch")]


def test_a_watch_started_with_no_pool_watches_the_first_one(tmp_path):
    engines.REDIS.check_reachable()
    conf = make_conf(tmp_path, DEFAULT={"pooling": True},
                     **{management_conf.GROUP: {"catalog_cache_ttl": 0}})
    pooled = PooledDriver(conf)
    pooled.prepare()
    heard = Heard()
    watch = pooled.watch_posts(heard)
    try:
        assert isinstance(watch, PoolWatches) and watch.watched() == []
        pooled.management.pools.create(redis_pool("only"))
        wait_for(lambda: watch.watched() == ["only"], "the pool watched")
        post(pooled, "q")
        assert heard.next() == ("q", P)
        watch.close()
        post(pooled, "q")
        assert heard.nothing_within(0.3)
    finally:
        pooled.close()
