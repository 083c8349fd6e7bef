"""Alembic environment of the management store (its own version table, VERSION_TABLE)."""
from alembic import context

from zaqar.storage.sqlalchemy.management.tables import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
