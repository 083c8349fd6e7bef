"""The SQL management driver: pools, flavors and the catalog in one database
(``[drivers:management_store:sqlalchemy] uri``; SQLite, PostgreSQL, MariaDB)."""
from __future__ import annotations

import builtins
import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from oslo_config import cfg

from zaqar.conf import management as management_conf
from zaqar.storage import management as m
from zaqar.storage.sqlalchemy.engine import migrating, server_engine, sqlite_engine
from zaqar.storage.sqlalchemy.management import tables as t

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT = 30  # seconds


def management_uri(conf: cfg.ConfigOpts) -> str:
    """The configured URI, or the embedded SQLite file under ``[DEFAULT] data_dir``."""
    uri: str | None = conf[management_conf.GROUP].uri
    if uri:
        return uri
    data_dir = os.path.expanduser(conf.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(data_dir, "zaqar-management.sqlite3")


def _create_engine(uri: str, pool_size: int) -> sa.Engine:
    url = sa.make_url(uri)
    if url.get_backend_name() == "sqlite":
        # The catalog's foreign key is what refuses deleting a pool in use.
        return sqlite_engine(url, SQLITE_BUSY_TIMEOUT, "BEGIN IMMEDIATE", foreign_keys=True)
    return server_engine(url, pool_size)


class SqlManagementDriver(m.ManagementDriver):
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        group = conf[management_conf.GROUP]
        self.engine = _create_engine(management_uri(conf), group.pool_size)
        self.pools = PoolController(self)
        self.flavors = FlavorController(self)
        self.catalog = CatalogController(self)

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def prepare(self) -> None:
        if not self.conf[management_conf.GROUP].auto_migrate:
            return
        alembic_conf = AlembicConfig()
        alembic_conf.set_main_option("script_location", str(MIGRATIONS))
        with migrating(self.engine), self.write() as conn:
            alembic_conf.attributes["connection"] = conn
            command.upgrade(alembic_conf, "head")

    def close(self) -> None:
        self.engine.dispose()


def _pool(row: sa.Row[Any]) -> m.Pool:
    return m.Pool(name=row.name, uri=row.uri, weight=row.weight, flavor=row.flavor,
                  options=json.loads(row.options))


class PoolController(m.PoolController):
    def __init__(self, driver: SqlManagementDriver) -> None:
        self._driver = driver

    def create(self, pool: m.Pool) -> None:
        try:
            with self._driver.write() as conn:
                conn.execute(t.pools.insert().values(
                    name=pool.name, uri=pool.uri, weight=pool.weight, flavor=pool.flavor,
                    options=json.dumps(pool.options)))
        except sa.exc.IntegrityError as error:
            raise m.PoolAlreadyExists(pool.name) from error

    def get(self, name: str) -> m.Pool:
        with self._driver.read() as conn:
            row = conn.execute(sa.select(t.pools).where(t.pools.c.name == name)).first()
        if row is None:
            raise m.PoolDoesNotExist(name)
        return _pool(row)

    def list(self, marker: str | None = None, limit: int = 10,
             flavor: str | None = None) -> builtins.list[m.Pool]:
        query = sa.select(t.pools).order_by(t.pools.c.name).limit(limit)
        if marker is not None:
            query = query.where(t.pools.c.name > marker)
        if flavor is not None:
            query = query.where(t.pools.c.flavor == flavor)
        with self._driver.read() as conn:
            return [_pool(row) for row in conn.execute(query)]

    def of_flavor(self, flavor: str | None) -> builtins.list[m.Pool]:
        column = t.pools.c.flavor
        query = (sa.select(t.pools).order_by(t.pools.c.name)
                 .where(column.is_(None) if flavor is None else column == flavor))
        with self._driver.read() as conn:
            return [_pool(row) for row in conn.execute(query)]

    def update(self, name: str, *, uri: str | None = None, weight: int | None = None,
               flavor: str | None = None, options: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {}
        if uri is not None:
            values["uri"] = uri
        if weight is not None:
            values["weight"] = weight
        if flavor is not None:
            values["flavor"] = flavor
        if options is not None:
            values["options"] = json.dumps(options)
        try:
            with self._driver.write() as conn:
                query = sa.select(t.pools.c.name).where(t.pools.c.name == name)
                if conn.scalar(query) is None:
                    raise m.PoolDoesNotExist(name)
                if values:
                    conn.execute(t.pools.update().where(t.pools.c.name == name)
                                 .values(**values))
        except sa.exc.IntegrityError as error:  # the new URI is another pool's
            raise m.PoolAlreadyExists(name) from error

    def set_flavor(self, names: Sequence[str], flavor: str | None) -> None:
        with self._driver.write() as conn:
            if flavor is not None:
                conn.execute(t.pools.update().where(t.pools.c.flavor == flavor)
                             .values(flavor=None))
            if names:
                conn.execute(t.pools.update().where(t.pools.c.name.in_(list(names)))
                             .values(flavor=flavor))

    def delete(self, name: str) -> None:
        try:
            with self._driver.write() as conn:
                conn.execute(t.pools.delete().where(t.pools.c.name == name))
        except sa.exc.IntegrityError as error:
            raise m.PoolInUse(f"Pool {name!r} still holds queues; delete them first.") \
                from error


def _flavor(row: sa.Row[Any]) -> m.Flavor:
    return m.Flavor(name=row.name, project=row.project,
                    capabilities=json.loads(row.capabilities))


class FlavorController(m.FlavorController):
    def __init__(self, driver: SqlManagementDriver) -> None:
        self._driver = driver

    def _key(self, name: str, project: str) -> sa.ColumnElement[bool]:
        return sa.and_(t.flavors.c.name == name, t.flavors.c.project == project)

    def create(self, flavor: m.Flavor) -> None:
        with self._driver.write() as conn:
            conn.execute(t.flavors.delete().where(self._key(flavor.name, flavor.project)))
            conn.execute(t.flavors.insert().values(
                name=flavor.name, project=flavor.project,
                capabilities=json.dumps(flavor.capabilities)))

    def get(self, name: str, project: str) -> m.Flavor:
        with self._driver.read() as conn:
            row = conn.execute(sa.select(t.flavors).where(self._key(name, project))).first()
        if row is None:
            raise m.FlavorDoesNotExist(name)
        return _flavor(row)

    def list(self, project: str, marker: str | None = None,
             limit: int = 10) -> builtins.list[m.Flavor]:
        query = (sa.select(t.flavors).where(t.flavors.c.project == project)
                 .order_by(t.flavors.c.name).limit(limit))
        if marker is not None:
            query = query.where(t.flavors.c.name > marker)
        with self._driver.read() as conn:
            return [_flavor(row) for row in conn.execute(query)]

    def update(self, name: str, project: str, *,
               capabilities: dict[str, Any] | None = None) -> None:
        with self._driver.write() as conn:
            statement = t.flavors.update().where(self._key(name, project))
            if capabilities is not None:
                statement = statement.values(capabilities=json.dumps(capabilities))
            else:
                statement = statement.values(name=name)
            if not conn.execute(statement).rowcount:
                raise m.FlavorDoesNotExist(name)

    def delete(self, name: str, project: str) -> None:
        with self._driver.write() as conn:
            if conn.execute(t.flavors.delete().where(self._key(name, project))).rowcount:
                conn.execute(t.pools.update().where(t.pools.c.flavor == name)
                             .values(flavor=None))


class CatalogController(m.CatalogController):
    def __init__(self, driver: SqlManagementDriver) -> None:
        self._driver = driver

    def _key(self, queue: str, project: str) -> sa.ColumnElement[bool]:
        return sa.and_(t.catalogue.c.queue == queue, t.catalogue.c.project == project)

    def lookup(self, queue: str, project: str) -> str | None:
        with self._driver.read() as conn:
            pool: str | None = conn.scalar(sa.select(t.catalogue.c.pool)
                                           .where(self._key(queue, project)))
        return pool

    def insert(self, queue: str, project: str, pool: str) -> str:
        try:
            with self._driver.write() as conn:
                conn.execute(t.catalogue.insert().values(queue=queue, project=project,
                                                         pool=pool))
            return pool
        except sa.exc.IntegrityError as error:
            # The primary key: another node placed it first. The foreign key: no pool.
            winner = self.lookup(queue, project)
            if winner is None:
                raise m.PoolDoesNotExist(pool) from error
            return winner

    def move(self, queue: str, project: str, pool: str) -> None:
        try:
            with self._driver.write() as conn:
                conn.execute(t.catalogue.delete().where(self._key(queue, project)))
                conn.execute(t.catalogue.insert().values(queue=queue, project=project,
                                                         pool=pool))
        except sa.exc.IntegrityError as error:
            raise m.PoolDoesNotExist(pool) from error

    def delete(self, queue: str, project: str) -> None:
        with self._driver.write() as conn:
            conn.execute(t.catalogue.delete().where(self._key(queue, project)))

    def list(self, project: str, marker: str | None = None,
             limit: int | None = None) -> builtins.list[tuple[str, str]]:
        query = (sa.select(t.catalogue.c.queue, t.catalogue.c.pool)
                 .where(t.catalogue.c.project == project).order_by(t.catalogue.c.queue))
        if marker is not None:
            query = query.where(t.catalogue.c.queue > marker)
        if limit is not None:
            query = query.limit(limit)
        with self._driver.read() as conn:
            return [(row.queue, row.pool) for row in conn.execute(query)]

    def on_pool(self, pool: str, marker: tuple[str, str] | None = None,
                limit: int = 100) -> builtins.list[tuple[str, str]]:
        c = t.catalogue.c
        query = (sa.select(c.project, c.queue).where(c.pool == pool)
                 .order_by(c.project, c.queue).limit(limit))
        if marker is not None:
            query = query.where(sa.or_(c.project > marker[0],
                                       sa.and_(c.project == marker[0], c.queue > marker[1])))
        with self._driver.read() as conn:
            return [(row.project, row.queue) for row in conn.execute(query)]

    def count(self, pool: str) -> int:
        with self._driver.read() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(t.catalogue)
                               .where(t.catalogue.c.pool == pool)) or 0

    def project_count(self, project: str) -> int:
        with self._driver.read() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(t.catalogue)
                               .where(t.catalogue.c.project == project)) or 0
