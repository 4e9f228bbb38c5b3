"""Hostile-input builders shared by the parsers' property tests.

Databases built from the real device DDL (optionally relaxed so garbage rows can be stored),
garbage plists, and the checks that a parser tolerated them.
"""

from __future__ import annotations

import json
import plistlib
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from tests.builders.schema import create_db, schema_path
from unmask.model import Coverage, Record, Status
from unmask.observables import observables_of
from unmask.parsers.base import Parser
from unmask.report.writers import timeline_lines
from unmask.safetext import for_console


@dataclass(frozen=True)
class BadText:
    """Bytes to be stored as a TEXT value (``CAST(? AS TEXT)``), i.e. possibly invalid UTF-8."""

    data: bytes


@lru_cache(maxsize=64)
def _columns(schema: str, table: str) -> tuple[tuple[str, bool, bool], ...]:
    """``(name, not null, integer primary key)`` of each column of a table in a DDL file."""
    conn = sqlite3.connect(":memory:")
    try:
        _functions(conn)
        conn.executescript(schema_path(schema).read_text())
        info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    finally:
        conn.close()
    return tuple((str(r[1]), bool(r[3]), bool(r[5]) and str(r[2]).upper() == "INTEGER") for r in info)


def _functions(conn: sqlite3.Connection) -> None:
    conn.create_function("delete_attachment_path", 1, lambda *_: None)
    conn.create_function("before_delete_attachment_path", 2, lambda *_: None)


# Text an adversary would put in evidence to hit the tool that reads it: console markup, terminal
# escape sequences, a terminal hyperlink, spreadsheet formulas.
HOSTILE_TEXT = st.sampled_from([
    "[/x]", "[bold]", "[link=https://evil.example]x[/link]", "\x1b[2J\x1b]0;pwned\x07", "\x1b]8;;https://e.x\x07a",
    "=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(1+1)", "\u202egnp.exe", "x\\", ":smile:",
])

_INTS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 2, -1, 2**63 - 1, -(2**63), 10**18, 700_000_000]),
)
_NON_NULL = st.one_of(
    _INTS,
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.binary(min_size=1, max_size=12).map(BadText),
    st.sampled_from(["~/Library/SMS/Attachments/x", "/var/tmp/x-1", "mailto:a@b.c", "https://e.x/a"]),
    HOSTILE_TEXT,
)


def value(nullable: bool = True) -> st.SearchStrategy[Any]:
    """One hostile cell value."""
    return st.one_of(st.none(), _NON_NULL) if nullable else _NON_NULL


@st.composite
def rows(draw: st.DrawFn, schema: str, table: str, max_rows: int = 3) -> list[dict[str, Any]]:
    """Rows for every column of ``table`` (NULL only where the DDL allows it)."""
    n = draw(st.integers(min_value=1, max_value=max_rows))
    out = []
    for _ in range(n):
        row: dict[str, Any] = {}
        for name, notnull, rowid in _columns(schema, table):
            # An INTEGER PRIMARY KEY only ever holds integers (SQLite refuses anything else).
            row[name] = draw(st.one_of(st.none(), _INTS) if rowid else value(not notnull))
        out.append(row)
    return out


def db_bytes(schema: str, tables: dict[str, list[dict[str, Any]]]) -> bytes:
    """A database from a real DDL file with the given rows (``INSERT OR IGNORE``), built in memory."""
    conn = sqlite3.connect(":memory:")
    try:
        _functions(conn)
        conn.executescript(schema_path(schema).read_text())
        for table, table_rows in tables.items():
            for row in table_rows:
                names = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join("CAST(? AS TEXT)" if isinstance(v, BadText) else "?" for v in row.values())
                params = [v.data if isinstance(v, BadText) else v for v in row.values()]
                try:
                    conn.execute(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', params)
                except (sqlite3.IntegrityError, sqlite3.OperationalError):
                    # E.g. AUTOINCREMENT after the largest ROWID: the device could not hold it either.
                    continue
        conn.commit()
        return conn.serialize()
    finally:
        conn.close()


def assert_truncated_handled(coverage: Coverage) -> None:
    """A truncated database is either recovered (and says so) or failed as corrupt, with a reason."""
    assert_handled(coverage)
    if coverage.status is Status.PARSED:
        assert any("recover" in w for w in coverage.warnings), coverage.warnings
    else:
        assert coverage.status is Status.FAILED
        assert "corrupt" in (coverage.reason or "") or "SQLite" in (coverage.reason or ""), coverage.reason


def assert_writable(records: list[Record]) -> None:
    """Every output path takes the records: JSON, the timeline line, the console (which must
    interpret nothing: no control character survives)."""
    for record in records:
        json.dumps(record.to_json(), ensure_ascii=False, default=str)
        list(timeline_lines("fuzz", [record]))
        shown = for_console(record.describe())
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown), shown


def assert_handled(coverage: Coverage) -> None:
    """Bad input must end as parsed/failed/unsupported with a reason, never a parser bug."""
    assert coverage.status in (Status.PARSED, Status.FAILED, Status.UNSUPPORTED)
    for artefact in coverage.artefacts:
        assert not (artefact.reason or "").startswith("unexpected"), artefact.reason
        if artefact.status is not Status.PARSED:
            assert artefact.reason


def run_file(
    parser: type[Parser], domain: str, relative_path: str, data: bytes
) -> tuple[list[Record], Coverage]:
    """Run one parser on a fresh backup holding one file (usable inside hypothesis tests)."""
    with tempfile.TemporaryDirectory() as tmp:
        builder = BackupBuilder(Path(tmp) / "backup")
        builder.add_file(domain, relative_path, data)
        return run(parser, builder.finish())


_LEAF = st.one_of(
    HOSTILE_TEXT,
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.datetimes(),
)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def plist_dicts(keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Top-level plist dictionaries with arbitrary nested values (optionally with chosen keys)."""
    key = st.one_of(st.text(max_size=12), keys) if keys is not None else st.text(max_size=12)
    return st.dictionaries(key, _VALUE, max_size=4)


def plist_bytes(value: Any, binary: bool = True) -> bytes:
    """A plist file (binary or XML) holding a value."""
    return plistlib.dumps(value, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML)


# --- generic rows and relaxed schemas ------------------------------------------------------------

VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=30),
    st.binary(max_size=30),
)


def relaxed(schema: str) -> str:
    """The real DDL without NOT NULL / column UNIQUE constraints, so garbage rows can be stored."""
    ddl = schema_path(schema).read_text()
    ddl = re.sub(r"NOT NULL(\s+ON CONFLICT\s+\w+)?", "", ddl)
    return re.sub(r"\bUNIQUE\b(\s+ON CONFLICT\s+\w+)?(?!\s*\()", "", ddl)


def garbage_db(
    folder: Path, schema: str, rows: dict[str, list[dict[str, Any]]], bad_text: tuple[str, str]
) -> bytes:
    """A database with the device's columns, arbitrary rows, and invalid UTF-8 stored as TEXT."""
    path = create_db(folder / "garbage.sqlite", None, rows, relaxed(schema))
    conn = sqlite3.connect(path)
    table, column = bad_text
    conn.execute(f'UPDATE "{table}" SET "{column}" = CAST(X\'C3FFFE28\' AS TEXT) WHERE rowid % 2 = 0')
    conn.commit()
    conn.close()
    return path.read_bytes()


def assert_tolerated(records: list[Any], cov: Any) -> None:
    assert cov.status in (Status.PARSED, Status.FAILED, Status.UNSUPPORTED)
    for artefact in cov.artefacts:
        assert not (artefact.reason or "").startswith("unexpected"), artefact.reason
    for record in records:
        list(observables_of(record))
        record.describe()
        record.to_json()
    assert_writable(records)
