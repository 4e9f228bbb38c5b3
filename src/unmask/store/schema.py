"""The case store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

The migrations in ``migrations/versions`` build exactly these tables (a test compares them); a
change here comes with a new migration, so that an existing store upgrades in place.

Nothing observed on a phone is stored in the clear: ``lookup_keys.key`` is a keyed hash, and the
``sealed``/``output``/``evidence``/``path`` columns are encrypted under the store secret
(:mod:`unmask.store.secret`). In the clear are case names, counts, times, kinds, device models
and OS versions, evidence hashes, rule ids and severities (docs/cases.md).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

meta = Table(
    "store_meta", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

acquisitions = Table(
    "acquisitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("device", String(200), nullable=False, default=""),
    Column("evidence_sha256", String(64), nullable=False, index=True),
    Column("hashes", Text, nullable=False, default="{}"),
    Column("indicators_sha256", String(64), nullable=False),
    Column("tool_version", String(64), nullable=False),
    Column("acquired", DateTime(timezone=True)),
    Column("scanned", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("evidence", LargeBinary),
    Column("output", LargeBinary),
    Column("error", LargeBinary),
    Column("records", BigInteger, nullable=False, default=0),
    Column("keys", BigInteger, nullable=False, default=0),
)

parsers = Table(
    "parser_ranges", metadata,
    Column("acquisition_id", Integer, nullable=False),
    Column("first", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("parser", String(64), nullable=False),
    PrimaryKeyConstraint("acquisition_id", "first"),
)

paths = Table(
    "device_paths", metadata,
    Column("acquisition_id", Integer, nullable=False),
    Column("path_id", Integer, nullable=False),
    Column("path", LargeBinary, nullable=False),
    PrimaryKeyConstraint("acquisition_id", "path_id"),
)

records = Table(
    "record_locators", metadata,
    Column("acquisition_id", Integer, nullable=False),
    Column("record_no", BigInteger, nullable=False),
    Column("path_id", Integer, nullable=False),
    Column("time", BigInteger),
    PrimaryKeyConstraint("acquisition_id", "record_no"),
    sqlite_with_rowid=False,
)

keys = Table(
    "lookup_keys", metadata,
    Column("key", BigInteger, nullable=False),
    Column("acquisition_id", Integer, nullable=False),
    Column("record_no", BigInteger, nullable=False),
    PrimaryKeyConstraint("key", "acquisition_id", "record_no"),
    sqlite_with_rowid=False,
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("acquisition_id", Integer, ForeignKey("acquisitions.id"), nullable=False),
    Column("fingerprint", BigInteger, nullable=False),
    Column("record_no", BigInteger),
    Column("indicator", BigInteger),
    Column("rule", String(100), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("timestamp", DateTime(timezone=True)),
    Column("found", DateTime(timezone=True), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("recheck", LargeBinary),
    Column("sealed", LargeBinary, nullable=False),
    UniqueConstraint("acquisition_id", "fingerprint", name="uq_findings_acquisition_fingerprint"),
    Index("ix_findings_acquisition_record", "acquisition_id", "record_no"),
)

rehunts = Table(
    "rehunts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("indicators_sha256", String(64), nullable=False),
    Column("cases", Integer, nullable=False),
    Column("keys_probed", BigInteger, nullable=False),
    Column("hits", BigInteger, nullable=False),
    Column("new_findings", Integer, nullable=False),
)
