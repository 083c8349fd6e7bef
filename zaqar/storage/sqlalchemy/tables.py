"""Table definitions. The alembic migrations build the same schema; a test compares them."""
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from zaqar.storage.base import MAX_STORED_PROJECT

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; elsewhere ids need 64 bits.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Message bodies reach 256 KiB; MySQL's TEXT stops at 64 KiB.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
Time: sa.Double[float] = sa.Double()
LEASE_HOLDER_LENGTH = 128

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}

queues = sa.Table(
    "queues", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(MAX_STORED_PROJECT), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("metadata", LongText, nullable=False),
    sa.Column("created", Time, nullable=False),
    # The last message number handed out in this queue (see ``messages.seq``).
    sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("project", "name", name="uq_queues_project_name"),
    **_MYSQL,
)

# The last message number of each deleted queue, so that the queue made again under its
# name goes on from there: clients may still hold ids of the messages it had (markers,
# hrefs), and must never find them naming other messages. One small row per deleted
# name, kept for good: cheaper than the promise is worth to break. The row with empty
# project and name (no queue has an empty name) is the floor of every queue: the global
# id counter's last value when per-queue numbers came in (absent on databases made since).
retired_queues = sa.Table(
    "retired_queues", metadata,
    sa.Column("project", sa.String(MAX_STORED_PROJECT), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    **_MYSQL,
)

# ``id`` identifies a row inside the store only. ``seq`` is the message's number within
# its queue and its id on the wire: a global counter would let any project watch how
# many messages the others post. Numbers are taken from ``queues.last_seq`` under the
# queue's row lock, so within a queue they commit in order (FIFO, stable markers).
messages = sa.Table(
    "messages", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("queue_id", BigId, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("body", LongText, nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("expires", Time, nullable=False),
    sa.Column("visible_at", Time, nullable=False),
    sa.Column("claim_id", sa.String(32), nullable=True),
    sa.Column("claim_expires", Time, nullable=True),
    sa.Column("claim_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("checksum", sa.String(64), nullable=True),
    sa.Index("ix_messages_queue_id_seq", "queue_id", "seq", unique=True),
    sa.Index("ix_messages_claim_id", "claim_id"),
    sa.Index("ix_messages_expires", "expires"),
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
    sa.Column("project", sa.String(MAX_STORED_PROJECT), nullable=False),
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
    # The notifier's state (storage.base.Delivery): the id of the last message handled,
    # the confirmation notice owed, and the delivery record (JSON).
    sa.Column("delivery_cursor", sa.String(32), nullable=True),
    sa.Column("delivery_notice", sa.String(16), nullable=True),
    sa.Column("delivery_record", sa.Text, nullable=True),
    # The delivery lease (SubscriptionController.acquire_delivery_lease): which notifier
    # delivers to it, until when.
    sa.Column("lease_holder", sa.String(LEASE_HOLDER_LENGTH), nullable=True),
    sa.Column("lease_expires", Time, nullable=True),
    sa.UniqueConstraint("project", "source", "subscriber_digest",
                        name="uq_subscriptions_subscriber"),
    sa.Index("ix_subscriptions_expires", "expires"),
    **_MYSQL,
)
