"""A log of re-hunts: when, against which indicator sets, how many keys, hits and new findings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rehunts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indicators_sha256", sa.String(64), nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("keys_probed", sa.BigInteger, nullable=False),
        sa.Column("hits", sa.BigInteger, nullable=False),
        sa.Column("new_findings", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rehunts")
