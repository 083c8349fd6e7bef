"""Management store: pools, flavors, catalogue.

Revision ID: m0001
Revises:
"""
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "m0001"
down_revision = None
branch_labels = None
depends_on = None

JsonText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}
PROJECT_LENGTH = 264  # zaqar.storage.base.MAX_STORED_PROJECT when written


def upgrade() -> None:
    op.create_table(
        "pools",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("uri", sa.String(512), nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("flavor", sa.String(64), nullable=True),
        sa.Column("options", JsonText, nullable=False),
        sa.UniqueConstraint("uri", name="uq_pools_uri"),
        **MYSQL,
    )
    op.create_index("ix_pools_flavor", "pools", ["flavor"])
    op.create_table(
        "flavors",
        sa.Column("project", sa.String(PROJECT_LENGTH), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("capabilities", JsonText, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "catalogue",
        sa.Column("project", sa.String(PROJECT_LENGTH), primary_key=True),
        sa.Column("queue", sa.String(64), primary_key=True),
        sa.Column("pool", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["pool"], ["pools.name"], name="fk_catalogue_pool",
                                ondelete="RESTRICT"),
        **MYSQL,
    )
    op.create_index("ix_catalogue_pool", "catalogue", ["pool"])


def downgrade() -> None:
    op.drop_table("catalogue")
    op.drop_table("flavors")
    op.drop_table("pools")
