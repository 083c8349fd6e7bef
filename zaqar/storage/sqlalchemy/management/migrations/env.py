"""Alembic environment of the management store: its own version table, so the store may
share a database with a SQL pool (whose migrations keep ``alembic_version``)."""
from alembic import context

VERSION_TABLE = "zaqar_management_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
