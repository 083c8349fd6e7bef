"""Fixtures shared by every test package: configurations and real storage drivers."""
import contextlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests import engines
from zaqar import conf as zaqar_conf
from zaqar.storage.base import DataDriver
from zaqar.storage.sqlalchemy import tables
from zaqar.storage.sqlalchemy.driver import SqlDriver


def make_conf(tmp_path, uri: str | None = None, **groups: dict) -> object:
    overrides: dict[str, dict] = {"DEFAULT": {"data_dir": str(tmp_path)}}
    if uri:
        overrides["drivers:message_store:sqlalchemy"] = {"uri": uri}
    for group, values in groups.items():
        overrides.setdefault(group, {}).update(values)
    return zaqar_conf.new_conf(default_config_files=[], overrides=overrides)


def reset_sql_schema(uri: str) -> None:
    """Drop our tables so migrations start from nothing, as on a new database."""
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        tables.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def scratch_databases() -> Iterator[None]:
    """Every test session works in private schemas/databases (tests/engines.py)."""
    with contextlib.ExitStack() as stack:
        for engine in engines.SQL_ENGINES:
            stack.enter_context(engines.scratch_namespace(engine))
        yield


def _sql_driver(engine: engines.Engine, tmp_path_factory) -> Iterator[DataDriver]:
    engines.check_sql_reachable(engine)
    if engine.uri:
        reset_sql_schema(engine.uri)
    driver = SqlDriver(make_conf(tmp_path_factory.mktemp(engine.name), engine.uri))
    driver.prepare()
    yield driver
    driver.close()


@pytest.fixture(scope="session", params=[e.name for e in engines.SQL_ENGINES])
def session_driver(request, tmp_path_factory) -> Iterator[DataDriver]:
    """One migrated driver per engine for the whole session."""
    engine = next(e for e in engines.SQL_ENGINES if e.name == request.param)
    yield from _sql_driver(engine, tmp_path_factory)


@pytest.fixture
def driver(session_driver: DataDriver) -> Iterator[DataDriver]:
    """The session's driver with empty tables, so tests do not see each other."""
    with session_driver.writer.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    yield session_driver
