"""Initial schema: queues, messages, claims, subscriptions.

Revision ID: 0001
Revises:
"""
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(256), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("metadata", LongText, nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.UniqueConstraint("project", "name", name="uq_queues_project_name"),
        **MYSQL,
    )
    op.create_table(
        "messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("queue_id", BigId, nullable=False),
        sa.Column("body", LongText, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("expires", sa.Double(), nullable=False),
        sa.Column("visible_at", sa.Double(), nullable=False),
        sa.Column("claim_id", sa.String(32), nullable=True),
        sa.Column("claim_expires", sa.Double(), nullable=True),
        sa.Column("claim_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("checksum", sa.String(64), nullable=True),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    op.create_index("ix_messages_queue_id_id", "messages", ["queue_id", "id"])
    op.create_index("ix_messages_claim_id", "messages", ["claim_id"])
    op.create_index("ix_messages_expires", "messages", ["expires"])
    op.create_table(
        "claims",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("queue_id", BigId, nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        sa.Column("grace", sa.Integer(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("expires", sa.Double(), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_claims_queue_id", "claims", ["queue_id"])
    op.create_index("ix_claims_expires", "claims", ["expires"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project", sa.String(256), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("subscriber", sa.Text(), nullable=False),
        sa.Column("subscriber_digest", sa.String(64), nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("expires", sa.Double(), nullable=False),
        sa.Column("options", LongText, nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("project", "source", "subscriber_digest",
                            name="uq_subscriptions_subscriber"),
        **MYSQL,
    )
    op.create_index("ix_subscriptions_expires", "subscriptions", ["expires"])
