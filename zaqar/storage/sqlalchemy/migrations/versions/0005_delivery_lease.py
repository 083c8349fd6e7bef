"""The delivery lease on each subscription: which notifier delivers to it, until when
(several nodes on one store deliver each message once). Existing subscriptions start
with none held.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("lease_holder", sa.String(128), nullable=True))
    op.add_column("subscriptions", sa.Column("lease_expires", sa.Double(), nullable=True))
