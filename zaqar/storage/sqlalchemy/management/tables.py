"""Tables of the management store; alembic migrations (``migrations/``) build them."""
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from zaqar.storage.base import MAX_STORED_PROJECT

JsonText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# Binary collation: queue and pool names compare as the stores compare them.
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}
NAME_LENGTH = 64
URI_LENGTH = 512

# Alembic's version table of the management store: its own, so the store may share a
# database with a SQL pool (whose migrations keep ``alembic_version``).
VERSION_TABLE = "zaqar_management_version"

metadata = sa.MetaData()

pools = sa.Table(
    "pools", metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("uri", sa.String(URI_LENGTH), nullable=False),
    sa.Column("weight", sa.BigInteger(), nullable=False),
    sa.Column("flavor", sa.String(NAME_LENGTH), nullable=True),
    sa.Column("options", JsonText, nullable=False),
    sa.UniqueConstraint("uri", name="uq_pools_uri"),
    sa.Index("ix_pools_flavor", "flavor"),
    **MYSQL,
)

flavors = sa.Table(
    "flavors", metadata,
    sa.Column("project", sa.String(MAX_STORED_PROJECT), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("capabilities", JsonText, nullable=False),
    **MYSQL,
)

catalogue = sa.Table(
    "catalogue", metadata,
    sa.Column("project", sa.String(MAX_STORED_PROJECT), primary_key=True),
    sa.Column("queue", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("pool", sa.String(NAME_LENGTH),
              sa.ForeignKey("pools.name", name="fk_catalogue_pool", ondelete="RESTRICT"),
              nullable=False),
    sa.Index("ix_catalogue_pool", "pool"),
    **MYSQL,
)
