"""The alembic migrations build exactly the schema of tables.py, on every SQL engine.

``session_driver`` (tests/conftest.py) starts each engine from an empty database and runs
the migrations; autogenerate then compares what they built with the table definitions.
"""
import time

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests import engines
from zaqar.storage.base import NewMessage
from zaqar.storage.sqlalchemy import tables
from zaqar.storage.sqlalchemy.driver import MIGRATIONS
from zaqar.storage.sqlalchemy.management import tables as management_tables

pytestmark = pytest.mark.parametrize("engine", [e.name for e in engines.SQL_ENGINES],
                                     indirect=True)

# The management store (pools, flavors, the catalog) may share the database: its tables
# are its own migrations' business (tests/storage/test_management.py compares them).
MANAGEMENT_TABLES = frozenset({*management_tables.metadata.tables,
                               management_tables.VERSION_TABLE})


def _data_store_name(name, type_, _parent_names) -> bool:
    return not (type_ == "table" and name in MANAGEMENT_TABLES)


COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True,
                   "include_name": _data_store_name}
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"


def post(driver, queue: str) -> list[str]:
    return driver.messages.post(queue, "p", [NewMessage(body={}, ttl=300)], CLIENT)


def schema_differences(driver) -> list:
    with driver.writer.connect() as conn:
        context = MigrationContext.configure(conn, opts=COMPARE_OPTIONS)
        return compare_metadata(context, tables.metadata)


def stored_revisions(driver) -> list[str]:
    with driver.reader.connect() as conn:
        return list(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def test_migrated_schema_matches_table_definitions(session_driver):
    assert schema_differences(session_driver) == []


def test_migrations_reach_the_single_head(session_driver):
    assert stored_revisions(session_driver) == [head_revision()]


def test_prepare_is_idempotent(session_driver):
    session_driver.prepare()
    session_driver.prepare()
    assert stored_revisions(session_driver) == [head_revision()]
    assert schema_differences(session_driver) == []


def test_prepare_again_keeps_stored_data(driver):
    driver.queues.create("kept", "project-a", {"a": 1})
    driver.prepare()
    assert driver.queues.get_metadata("kept", "project-a") == {"a": 1}


def test_comparison_notices_a_drifted_definition(session_driver):
    """Guards the first test against passing vacuously (nothing reflected or compared)."""
    drifted = sa.MetaData()
    for table in tables.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["claims"].c.ttl.nullable = True
    drifted.tables["messages"].c.claim_count.server_default = sa.DefaultClause("1")
    with session_driver.writer.connect() as conn:
        context = MigrationContext.configure(conn, opts=COMPARE_OPTIONS)
        kinds = {diff[0][0] if isinstance(diff, list) else diff[0]
                 for diff in compare_metadata(context, drifted)}
    assert kinds == {"modify_nullable", "modify_default"}


def migrate_to(driver, revision: str) -> None:
    alembic_conf = AlembicConfig()
    alembic_conf.set_main_option("script_location", str(MIGRATIONS))
    with driver.write() as conn:
        alembic_conf.attributes["connection"] = conn
        command.upgrade(alembic_conf, revision)


def test_messages_of_the_global_counter_keep_their_ids_and_none_comes_back(driver):
    """0002: a stored message's number is its old id (what clients hold), and every queue,
    old or new, goes on after the global counter's last id (a deleted message's too)."""
    with driver.write() as conn:
        tables.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    migrate_to(driver, "0001")
    now = time.time()
    queue_ids = {}
    with driver.write() as conn:
        for name in ("a", "b", "gone"):
            conn.execute(sa.text("INSERT INTO queues (project, name, metadata, created) "
                                 "VALUES ('p', :name, '{}', :now)"), {"name": name, "now": now})
            queue_ids[name] = conn.scalar(sa.text(
                "SELECT id FROM queues WHERE project = 'p' AND name = :name"), {"name": name})
        for name in ("a", "a", "a", "b", "b", "a", "gone"):  # ids 1 to 7
            conn.execute(sa.text(
                "INSERT INTO messages (queue_id, body, client_id, created, expires, visible_at)"
                " VALUES (:queue, '{}', 'c', :now, :expires, 0)"),
                {"queue": queue_ids[name], "now": now, "expires": now + 300})
        conn.execute(sa.text("DELETE FROM messages WHERE id IN (6, 7)"))
        conn.execute(sa.text("DELETE FROM queues WHERE name = 'gone'"))
    driver.prepare()

    assert stored_revisions(driver) == [head_revision()]
    listed = driver.messages.list
    assert [m.id for m in listed("a", "p", CLIENT, echo=True)] == ["1", "2", "3"]
    assert [m.id for m in listed("a", "p", CLIENT, echo=True, marker="2")] == ["3"]
    assert [m.id for m in listed("b", "p", CLIENT, echo=True)] == ["4", "5"]
    for queue in ("a", "b", "gone", "new"):
        assert post(driver, queue) == ["8"], queue
