"""The notifier's state on each subscription: its cursor, the notice it owes, its record.

Subscriptions made before this had nothing delivered to them (only websocket ones were
served, by another path): they start with no cursor, so the notifier delivers every
live message of their queue once.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("delivery_cursor", sa.String(32), nullable=True))
    op.add_column("subscriptions", sa.Column("delivery_notice", sa.String(16), nullable=True))
    op.add_column("subscriptions", sa.Column("delivery_record", sa.Text(), nullable=True))
