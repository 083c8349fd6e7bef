"""The alembic migrations build exactly the schema of tables.py, on every SQL engine.

``session_driver`` (tests/conftest.py) starts each engine from an empty database and runs
the migrations; autogenerate then compares what they built with the table definitions.
"""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests import engines
from zaqar.storage.sqlalchemy import tables
from zaqar.storage.sqlalchemy.driver import MIGRATIONS

pytestmark = pytest.mark.parametrize("engine", [e.name for e in engines.SQL_ENGINES],
                                     indirect=True)

COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True}


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
