"""Project ids of 264 characters: topics are stored as queues of a project of their own,
the project's id behind a prefix (zaqar.storage.base.TOPIC_PROJECT_PREFIX).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("queues", "retired_queues", "subscriptions")


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table, the others alter the column in place.
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("project", existing_type=sa.String(256), type_=sa.String(264),
                               existing_nullable=False)
