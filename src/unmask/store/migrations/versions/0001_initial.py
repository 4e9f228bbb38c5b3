"""The first case store: cases, acquisitions, locators, keyed lookup keys, sealed findings.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "acquisitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
        sa.Column("hashes", sa.Text, nullable=False),
        sa.Column("indicators_sha256", sa.String(64), nullable=False),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("acquired", sa.DateTime(timezone=True)),
        sa.Column("scanned", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.LargeBinary),
        sa.Column("output", sa.LargeBinary),
        sa.Column("error", sa.LargeBinary),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("keys", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_acquisitions_case_id", "acquisitions", ["case_id"])
    op.create_index("ix_acquisitions_evidence_sha256", "acquisitions", ["evidence_sha256"])
    op.create_table(
        "parser_ranges",
        sa.Column("acquisition_id", sa.Integer, nullable=False),
        sa.Column("first", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("parser", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("acquisition_id", "first"),
    )
    op.create_table(
        "device_paths",
        sa.Column("acquisition_id", sa.Integer, nullable=False),
        sa.Column("path_id", sa.Integer, nullable=False),
        sa.Column("path", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("acquisition_id", "path_id"),
    )
    op.create_table(
        "record_locators",
        sa.Column("acquisition_id", sa.Integer, nullable=False),
        sa.Column("record_no", sa.BigInteger, nullable=False),
        sa.Column("path_id", sa.Integer, nullable=False),
        sa.Column("time", sa.BigInteger),
        sa.PrimaryKeyConstraint("acquisition_id", "record_no"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "lookup_keys",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("acquisition_id", sa.Integer, nullable=False),
        sa.Column("record_no", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key", "acquisition_id", "record_no"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("acquisition_id", sa.Integer, sa.ForeignKey("acquisitions.id"), nullable=False),
        sa.Column("fingerprint", sa.BigInteger, nullable=False),
        sa.Column("record_no", sa.BigInteger),
        sa.Column("indicator", sa.BigInteger),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True)),
        sa.Column("found", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("recheck", sa.LargeBinary),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("acquisition_id", "fingerprint", name="uq_findings_acquisition_fingerprint"),
    )
    op.create_index("ix_findings_acquisition_record", "findings", ["acquisition_id", "record_no"])


def downgrade() -> None:
    for table in ("findings", "lookup_keys", "record_locators", "device_paths", "parser_ranges",
                  "acquisitions", "cases", "store_meta"):
        op.drop_table(table)
