"""Table definitions. The alembic migrations build the same schema; a test compares them."""
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; elsewhere ids need 64 bits.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Message bodies reach 256 KiB; MySQL's TEXT stops at 64 KiB.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
Time: sa.Double[float] = sa.Double()

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}

queues = sa.Table(
    "queues", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(256), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("metadata", LongText, nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.UniqueConstraint("project", "name", name="uq_queues_project_name"),
    **_MYSQL,
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("queue_id", BigId, nullable=False),
    sa.Column("body", LongText, nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("expires", Time, nullable=False),
    sa.Column("visible_at", Time, nullable=False),
    sa.Column("claim_id", sa.String(32), nullable=True),
    sa.Column("claim_expires", Time, nullable=True),
    sa.Column("claim_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("checksum", sa.String(64), nullable=True),
    sa.Index("ix_messages_queue_id_id", "queue_id", "id"),
    sa.Index("ix_messages_claim_id", "claim_id"),
    sa.Index("ix_messages_expires", "expires"),
    # Ids are never reused, even after the newest message is deleted: clients hold them
    # as markers and for deletes. (SQLite reuses the largest rowid without this.)
    sqlite_autoincrement=True,
    **_MYSQL,
)

claims = sa.Table(
    "claims", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("queue_id", BigId, nullable=False),
    sa.Column("ttl", sa.Integer, nullable=False),
    sa.Column("grace", sa.Integer, nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("expires", Time, nullable=False),
    sa.Index("ix_claims_queue_id", "queue_id"),
    sa.Index("ix_claims_expires", "expires"),
    **_MYSQL,
)

subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project", sa.String(256), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("subscriber", sa.Text, nullable=False),
    # Uniqueness of (project, source, subscriber) through a digest: MySQL cannot index
    # a long URI whole.
    sa.Column("subscriber_digest", sa.String(64), nullable=False),
    sa.Column("ttl", sa.Integer, nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("expires", Time, nullable=False),
    sa.Column("options", LongText, nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.UniqueConstraint("project", "source", "subscriber_digest",
                        name="uq_subscriptions_subscriber"),
    sa.Index("ix_subscriptions_expires", "expires"),
    **_MYSQL,
)
