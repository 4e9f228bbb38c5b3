"""Create SQLite fixture databases from the real device DDL kept in tests/schemas."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def schema_path(name: str) -> Path:
    """Path of a DDL file, e.g. ``ios/sms.db/ios14.sql``."""
    path = SCHEMAS / name
    if not path.is_file():
        raise FileNotFoundError(f"no schema {name} under {SCHEMAS}")
    return path


def _register_device_functions(conn: sqlite3.Connection) -> None:
    # Functions the device's triggers call (see tests/schemas/README.md); they only fire on DELETE
    # or supply defaults, so fixtures need them to exist, not to do anything.
    conn.create_function("delete_attachment_path", 1, lambda *_: None)
    conn.create_function("before_delete_attachment_path", 2, lambda *_: None)
    conn.create_function("ab_generate_guid", 0, lambda: "00000000-0000-0000-0000-000000000000")
    conn.create_function("ab_update_value_from_trigger", -1, lambda *_: None)


def create_db(
    path: Path,
    schema: str | None,
    rows: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    extra_sql: str = "",
) -> Path:
    """Create ``path`` from a DDL file and insert rows given as ``{table: [{column: value}]}``."""
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    try:
        populate(conn, schema, rows, extra_sql)
    finally:
        conn.close()
    return path


def populate(
    conn: sqlite3.Connection,
    schema: str | None,
    rows: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    extra_sql: str = "",
) -> None:
    """Run a DDL file (and ``extra_sql``) on an open database and insert ``{table: [{column: value}]}``."""
    _register_device_functions(conn)
    if schema:
        conn.executescript(schema_path(schema).read_text())
    if extra_sql:
        conn.executescript(extra_sql)
    for table, table_rows in (rows or {}).items():
        for row in table_rows:
            cols = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', list(row.values()))
    conn.commit()


def db_bytes(
    tmp: Path,
    schema: str | None,
    rows: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    extra_sql: str = "",
) -> bytes:
    """Build a fixture database in ``tmp`` and return its bytes (for adding to a backup)."""
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"fixture-{abs(hash((schema, extra_sql, repr(rows)))) % 10**12}.sqlite"
    create_db(path, schema, rows, extra_sql)
    data = path.read_bytes()
    path.unlink()
    return data
