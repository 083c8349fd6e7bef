"""Per-queue message numbers: a message's wire id is its number within its queue.

Until now one counter numbered the messages of every queue (``messages.id``), so any
project could watch how many messages the others posted. Each queue now counts its own
(``queues.last_seq``, ``messages.seq``); a deleted queue leaves its count in
``retired_queues`` for the queue made again under its name.

Existing messages keep their id as their number: it is already in id order within each
queue, and it is what clients hold (markers, hrefs, claims' message ids). Every existing
queue, and the floor of queues made later (the ``retired_queues`` row with empty project
and name), goes on from the global counter's last value, so no id a client may hold from
before (of a message since deleted, in a queue since deleted) is handed out again.

Revision ID: 0002
Revises: 0001
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.add_column("queues", sa.Column("last_seq", sa.BigInteger(), nullable=False,
                                      server_default="0"))
    op.create_table(
        "retired_queues",
        sa.Column("project", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        **MYSQL,
    )
    op.add_column("messages", sa.Column("seq", sa.BigInteger(), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE messages SET seq = id"))
    last_id = _last_global_id(connection)
    if last_id:
        connection.execute(sa.text("UPDATE queues SET last_seq = :last"), {"last": last_id})
        connection.execute(sa.text("INSERT INTO retired_queues (project, name, last_seq) "
                                   "VALUES ('', '', :last)"), {"last": last_id})
    op.drop_index("ix_messages_queue_id_id", table_name="messages")
    # SQLite rebuilds the table for NOT NULL; the rebuilt one drops AUTOINCREMENT, which
    # only kept row ids from being reused, and row ids no longer reach clients.
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_messages_queue_id_seq", "messages", ["queue_id", "seq"], unique=True)


def _last_global_id(connection: sa.Connection) -> int:
    """The last id the global counter handed out (messages since deleted included), or
    the largest stored where the engine does not tell."""
    stored = connection.scalar(sa.text("SELECT MAX(id) FROM messages")) or 0
    dialect = connection.dialect.name
    if dialect == "sqlite":
        issued = connection.scalar(sa.text(
            "SELECT seq FROM sqlite_sequence WHERE name = 'messages'"))
    elif dialect == "postgresql":
        sequence = connection.scalar(sa.text("SELECT pg_get_serial_sequence('messages', 'id')"))
        issued = connection.scalar(sa.text(
            f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}"
        )) if sequence else None
    else:  # MySQL, MariaDB: the next id, less one
        upcoming = connection.scalar(sa.text(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'messages'"))
        issued = upcoming - 1 if upcoming else None
    return max(int(stored), int(issued or 0))
