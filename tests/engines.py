"""The real storage engines tests run against, and how to reach them.

Each engine is named by a URI, overridable from the environment. An engine that is not
reachable skips its tests on a developer machine, and fails them when ``CI`` is set:
in CI a missing server is a broken setup, never a pass.
"""
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa


@dataclass(frozen=True)
class Engine:
    name: str
    uri_env: str
    default_uri: str | None

    @property
    def uri(self) -> str | None:
        return os.environ.get(self.uri_env, self.default_uri)


SQL_ENGINES = (
    Engine("sqlite", "ZAQAR_TEST_SQLITE_URI", None),  # None: a fresh file per test session
    Engine("postgresql", "ZAQAR_TEST_POSTGRESQL_URI",
           "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    Engine("mysql", "ZAQAR_TEST_MYSQL_URI", "mysql+pymysql://root@127.0.0.1:3306/test"),
)


def unavailable(engine: Engine, reason: str) -> None:
    """Skip, or fail under CI, for an engine that cannot be reached."""
    message = f"{engine.name} is not reachable at {engine.uri}: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: a missing server fails the run)", pytrace=False)
    pytest.skip(message)


def check_sql_reachable(engine: Engine) -> None:
    if engine.uri is None:
        return
    probe = sa.create_engine(engine.uri)
    try:
        with probe.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as error:  # any driver's connection error
        unavailable(engine, str(error).splitlines()[0])
    finally:
        probe.dispose()


@contextmanager
def scratch_namespace(engine: Engine) -> Iterator[None]:
    """Give this test session a private schema (PostgreSQL) or database (MariaDB).

    The engine's URI variable is pointed at it for the session, so processes the tests
    spawn inherit it, and concurrent test runs on one server never see each other's rows.
    An unreachable server is left alone: its tests report it when they run.
    """
    base = engine.uri
    if base is None:
        yield
        return
    url = sa.make_url(base)
    name = f"zaqar_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    backend = url.get_backend_name()
    try:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
                scratch = url.update_query_dict({"options": f"-csearch_path={name}"})
            else:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
                scratch = url.set(database=name)
    except Exception:  # unreachable: check_sql_reachable reports it per test
        admin.dispose()
        yield
        return
    os.environ[engine.uri_env] = scratch.render_as_string(hide_password=False)
    try:
        yield
    finally:
        os.environ.pop(engine.uri_env, None)
        if base != engine.default_uri:
            os.environ[engine.uri_env] = base
        with admin.connect() as conn:
            drop = f'DROP SCHEMA "{name}" CASCADE' if backend == "postgresql" \
                else f"DROP DATABASE `{name}`"
            conn.execute(sa.text(drop))
        admin.dispose()
