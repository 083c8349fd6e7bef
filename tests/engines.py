"""The real storage engines tests run against: how to reach each, isolate it and empty it.

Each engine is named by a URI, overridable from the environment. An engine that is not
reachable skips its tests on a developer machine, and fails them when ``CI`` is set:
in CI a missing server is a broken setup, never a pass.

Every test session works in a private namespace of each engine, so concurrent test runs
on one server never see each other: a schema (PostgreSQL), a database (MariaDB), a file
(SQLite), a key prefix (Redis: ``SESSION`` in the database of ``ZAQAR_TEST_REDIS_URI``,
15 unless set; the database is not flushed, only the session's keys are deleted), a
database (MongoDB: ``SESSION`` on the server of ``ZAQAR_TEST_MONGODB_URI``; unset, a
MongoDB wire-protocol stand-in from PyPI started on a free loopback port, see
tests/storage/mongodb/standin.py), a key prefix on a Redis Cluster (that of
``ZAQAR_TEST_REDIS_CLUSTER_URI``; unset, three masters started from the installed
redis-server, see tests/storage/redis/cluster.py).
Between tests, ``Engine.reset`` empties the session's namespace: SQL deletes the rows,
Redis deletes the keys under the prefix.
"""
import abc
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pymongo
import pytest
import redis
import sqlalchemy as sa

from zaqar import conf as zaqar_conf
from zaqar.conf import management as management_conf
from zaqar.storage import load_management_driver
from zaqar.storage.base import DataDriver
from zaqar.storage.management import Pool
from zaqar.storage.mongodb import documents as mongodb_documents
from zaqar.storage.redis import connection
from zaqar.storage.sqlalchemy import tables
from zaqar.storage.sqlalchemy.management import tables as management_tables

# Names this test session's private schema, database or key prefix.
SESSION = f"zaqar_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Engine(abc.ABC):
    name: str
    uri_env: str
    default_uri: str | None
    # Whether its driver announces posts (DataDriver.watch_posts returns a watch).
    announces_posts = False

    @property
    def uri(self) -> str | None:
        return os.environ.get(self.uri_env, self.default_uri)

    @abc.abstractmethod
    def conf_groups(self) -> dict[str, dict[str, Any]]:
        """Configuration groups that select this engine (for ``make_conf(**groups)``)."""

    @abc.abstractmethod
    def check_reachable(self) -> None:
        """Skip (fail under CI) when the engine cannot be reached."""

    @abc.abstractmethod
    def scratch_namespace(self) -> AbstractContextManager[None]:
        """The session's private namespace, removed at its end."""

    @abc.abstractmethod
    def start_empty(self) -> None:
        """Leave nothing of an earlier run before the session's driver is prepared."""

    @abc.abstractmethod
    def reset(self, driver: DataDriver) -> None:
        """Empty the session's store between tests; the driver stays prepared."""


def unavailable(engine: Engine, reason: str) -> None:
    """Skip, or fail under CI, for an engine that cannot be reached."""
    message = f"{engine.name} is not reachable at {engine.uri}: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: a missing server fails the run)", pytrace=False)
    pytest.skip(message)


class SqlEngine(Engine):
    def conf_groups(self) -> dict[str, dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = {"drivers": {"message_store": "sqlalchemy"}}
        if self.uri:
            groups["drivers:message_store:sqlalchemy"] = {"uri": self.uri}
        return groups

    def check_reachable(self) -> None:
        if self.uri is None:
            return
        probe = sa.create_engine(self.uri)
        try:
            with probe.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as error:  # any driver's connection error
            unavailable(self, str(error).splitlines()[0])
        finally:
            probe.dispose()

    @contextmanager
    def scratch_namespace(self) -> Iterator[None]:
        """A private schema (PostgreSQL) or database (MariaDB).

        The engine's URI variable is pointed at it for the session, so processes the
        tests spawn inherit it. An unreachable server is left alone: its tests report it
        when they run.
        """
        base = self.uri
        if base is None:
            yield
            return
        url = sa.make_url(base)
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        backend = url.get_backend_name()
        try:
            with admin.connect() as conn:
                if backend == "postgresql":
                    conn.execute(sa.text(f'CREATE SCHEMA "{SESSION}"'))
                    scratch = url.update_query_dict({"options": f"-csearch_path={SESSION}"})
                else:
                    conn.execute(sa.text(f"CREATE DATABASE `{SESSION}` CHARACTER SET utf8mb4"))
                    scratch = url.set(database=SESSION)
        except Exception:  # unreachable: check_reachable reports it per test
            admin.dispose()
            yield
            return
        os.environ[self.uri_env] = scratch.render_as_string(hide_password=False)
        try:
            yield
        finally:
            os.environ.pop(self.uri_env, None)
            if base != self.default_uri:
                os.environ[self.uri_env] = base
            with admin.connect() as conn:
                drop = f'DROP SCHEMA "{SESSION}" CASCADE' if backend == "postgresql" \
                    else f"DROP DATABASE `{SESSION}`"
                conn.execute(sa.text(drop))
            admin.dispose()

    def start_empty(self) -> None:
        """Drop our tables so migrations start from nothing, as on a new database."""
        if self.uri is None:
            return
        engine = sa.create_engine(self.uri)
        with engine.begin() as conn:
            tables.metadata.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()

    def reset(self, driver: DataDriver) -> None:
        with driver.writer.begin() as conn:
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(table.delete())


class RedisEngine(Engine):
    group = "drivers:message_store:redis"
    announces_posts = True

    def conf_groups(self) -> dict[str, dict[str, Any]]:
        return {"drivers": {"message_store": "redis"},
                self.group: {"uri": self.uri, "key_prefix": SESSION}}

    def check_reachable(self) -> None:
        client = self._probe()
        try:
            client.ping()
        except (redis.RedisError, ValueError) as error:
            unavailable(self, str(error).splitlines()[0])
        finally:
            client.close()

    @contextmanager
    def scratch_namespace(self) -> Iterator[None]:
        """The session's key prefix needs no setup; its keys are deleted at the end."""
        try:
            yield
        finally:
            client = self._probe()
            try:
                _delete_session_keys(client)
            except redis.RedisError:
                pass  # unreachable: its tests reported it
            finally:
                client.close()

    def start_empty(self) -> None:
        client = self._probe()
        try:
            _delete_session_keys(client)
        finally:
            client.close()

    def reset(self, driver: DataDriver) -> None:
        _delete_session_keys(driver.client)

    def _probe(self) -> redis.Redis:
        """A client that gives up at once, for checks and cleanup."""
        uri = self.uri or ""
        conf = zaqar_conf.new_conf(default_config_files=[], overrides={self.group: {
            "uri": uri, "max_reconnect_attempts": 0, "socket_connect_timeout": 1.0}})
        return connection.connect(connection.parse_uri(uri), conf[self.group])


def _delete_session_keys(client: redis.Redis) -> None:
    """Every key under the session's prefix (SESSION holds no glob characters)."""
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{SESSION}:*", count=1000):
        batch.append(key)
        if len(batch) == 1000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


class RedisClusterEngine(RedisEngine):
    """A Redis Cluster where ``ZAQAR_TEST_REDIS_CLUSTER_URI`` names one (a
    ``redis+cluster://`` URI); else three masters started for the session
    (tests/storage/redis/cluster.py) and stopped with it. Its URI is then put in the
    environment, so spawned processes use it too."""

    @property
    def uri(self) -> str | None:
        from tests.storage.redis import cluster
        return os.environ.get(self.uri_env) or cluster.uri()

    def check_reachable(self) -> None:
        from tests.storage.redis import cluster
        if not os.environ.get(self.uri_env):
            try:
                os.environ[self.uri_env] = cluster.start()
            except cluster.Unavailable as error:
                unavailable(self, str(error))
        try:
            super().check_reachable()
        except redis.RedisError as error:  # the cluster client connects when made
            unavailable(self, str(error).splitlines()[0])

    @contextmanager
    def scratch_namespace(self) -> Iterator[None]:
        """The session's keys are deleted at the end; the cluster, if started, stopped."""
        from tests.storage.redis import cluster
        started_here = not os.environ.get(self.uri_env)
        try:
            yield
        finally:
            if self.uri:
                try:
                    client = self._probe()
                    _delete_session_keys(client)
                    client.close()
                except redis.RedisError:
                    pass  # unreachable: its tests reported it
            if started_here and cluster.uri():
                os.environ.pop(self.uri_env, None)
                cluster.stop()


class MongoEngine(Engine):
    """A real MongoDB where ``ZAQAR_TEST_MONGODB_URI`` names one; else the stand-in
    (tests/storage/mongodb/standin.py), started when first needed and stopped with the
    session. Its URI is then put in the environment, so spawned processes use it too."""

    group = "drivers:message_store:mongodb"
    announces_posts = True

    @property
    def uri(self) -> str | None:
        from tests.storage.mongodb import standin
        return os.environ.get(self.uri_env) or standin.uri()

    def conf_groups(self) -> dict[str, dict[str, Any]]:
        return {"drivers": {"message_store": "mongodb"},
                self.group: {"uri": self.uri, "database": SESSION}}

    def check_reachable(self) -> None:
        from tests.storage.mongodb import standin
        if not os.environ.get(self.uri_env):
            try:
                os.environ[self.uri_env] = standin.start()
            except standin.Unavailable as error:
                unavailable(self, str(error))
        client = self._probe()
        try:
            client.admin.command("ping")
        except pymongo.errors.PyMongoError as error:
            unavailable(self, str(error).splitlines()[0])
        finally:
            client.close()

    @contextmanager
    def scratch_namespace(self) -> Iterator[None]:
        """The session's database, dropped at the end; the stand-in, if started, stopped."""
        from tests.storage.mongodb import standin
        started_here = not os.environ.get(self.uri_env)
        try:
            yield
        finally:
            if self.uri:
                client = self._probe()
                try:
                    client.drop_database(SESSION)
                except pymongo.errors.PyMongoError:
                    pass  # unreachable: its tests reported it
                finally:
                    client.close()
            if started_here and standin.uri():
                os.environ.pop(self.uri_env, None)
                standin.stop()

    def start_empty(self) -> None:
        client = self._probe()
        try:
            client.drop_database(SESSION)
        finally:
            client.close()

    def reset(self, driver: DataDriver) -> None:
        for name in mongodb_documents.INDEXES:
            driver.db[name].delete_many({})

    def _probe(self) -> pymongo.MongoClient:
        return pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=2000)


class PooledEngine(Engine):
    """The pooled driver (zaqar.storage.pooling) over a management store in a SQLite
    file and two pools of weight 1: a SQLite file (``sqlite``) and the Redis of
    ``REDIS`` under a key prefix of the session's (``redis``). Queues land on both."""

    POOLS = ("sqlite", "redis")

    @property
    def directory(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"{SESSION}-pooled")

    def management_uri(self) -> str:
        return "sqlite:///" + os.path.join(self.directory, "management.sqlite3")

    def pools(self) -> list[Pool]:
        return [Pool("sqlite", "sqlite:///" + os.path.join(self.directory, "pool.sqlite3"), 1),
                Pool("redis", REDIS.uri or "", 1, options={"key_prefix": f"{SESSION}:pool"})]

    def conf_groups(self) -> dict[str, dict[str, Any]]:
        return {"DEFAULT": {"pooling": True},
                management_conf.GROUP: {"uri": self.management_uri()}}

    def check_reachable(self) -> None:
        REDIS.check_reachable()

    @contextmanager
    def scratch_namespace(self) -> Iterator[None]:
        """The session's directory (the SQLite files); the pool's Redis keys are under
        the session's prefix, which REDIS deletes."""
        try:
            yield
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def start_empty(self) -> None:
        """A new management store with the two pools registered, and empty pools."""
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory)
        conf = zaqar_conf.new_conf(default_config_files=[], overrides={
            "DEFAULT": {"data_dir": self.directory},
            management_conf.GROUP: {"uri": self.management_uri()}})
        management = load_management_driver(conf)
        management.prepare()
        for pool in self.pools():
            management.pools.create(pool)
        management.close()
        REDIS.start_empty()

    def reset(self, driver: DataDriver) -> None:
        """Empties both pools and the catalog; the pools stay registered."""
        SQL_ENGINES[0].reset(driver.catalog.driver("sqlite"))
        _delete_session_keys(driver.catalog.driver("redis").client)
        with driver.management.engine.begin() as conn:
            conn.execute(management_tables.catalogue.delete())
        driver.catalog.forget_cached()


SQL_ENGINES: tuple[Engine, ...] = (
    SqlEngine("sqlite", "ZAQAR_TEST_SQLITE_URI", None),  # None: a fresh file per session
    SqlEngine("postgresql", "ZAQAR_TEST_POSTGRESQL_URI",
              "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    SqlEngine("mysql", "ZAQAR_TEST_MYSQL_URI", "mysql+pymysql://root@127.0.0.1:3306/test"),
)
REDIS = RedisEngine("redis", "ZAQAR_TEST_REDIS_URI", "redis://127.0.0.1:6379/15")
REDIS_CLUSTER = RedisClusterEngine("redis-cluster", "ZAQAR_TEST_REDIS_CLUSTER_URI", None)
MONGODB = MongoEngine("mongodb", "ZAQAR_TEST_MONGODB_URI", None)
POOLED = PooledEngine("pooled", "ZAQAR_TEST_POOLED_URI", None)
ENGINES: tuple[Engine, ...] = (*SQL_ENGINES, REDIS, REDIS_CLUSTER, MONGODB, POOLED)


def by_name(name: str) -> Engine:
    return next(engine for engine in ENGINES if engine.name == name)
