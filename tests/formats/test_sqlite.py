from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.builders.ios_backup import BackupBuilder
from unmask.acquisition import open_ios_backup
from unmask.errors import ArtefactError
from unmask.formats.sqlite import open_database
from unmask.parsers.base import open_sqlite

PATH = "/private/var/mobile/Library/x.db"


def _db_bytes(tmp: Path, rows: int) -> bytes:
    path = tmp / "src.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i} " * 10,) for i in range(rows)])
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell is not installed")
def test_truncated_database_rows_are_recovered_on_a_copy(tmp_path: Path, backup: BackupBuilder) -> None:
    data = _db_bytes(tmp_path, 3000)
    backup.add_file("HomeDomain", "Library/x.db", data[: len(data) // 2])
    acq = open_ios_backup(backup.finish())
    before = acq.read_bytes(PATH)
    with open_sqlite(acq, PATH) as db:
        count = db.conn.execute("SELECT count(*) FROM t").fetchone()[0]
        assert 0 < count < 3000
        assert any("recovered" in n for n in db.notes)
    assert acq.read_bytes(PATH) == before


def test_not_sqlite_and_unstored_are_clear_errors(tmp_path: Path, backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", "Library/x.db", b"definitely not sqlite")
    backup.add_file("HomeDomain", "Library/y.db", b"", stored=False)
    acq = open_ios_backup(backup.finish())
    with pytest.raises(ArtefactError, match="not a SQLite database"), open_sqlite(acq, PATH):
        pass
    with pytest.raises(ArtefactError, match="not stored"), open_sqlite(acq, "/private/var/mobile/Library/y.db"):
        pass


def test_invalid_utf8_text_is_read_leniently(tmp_path: Path, backup: BackupBuilder) -> None:
    path = tmp_path / "bad.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES (CAST(x'ff616263' AS TEXT))")
    conn.commit()
    conn.close()
    backup.add_file("HomeDomain", "Library/x.db", path.read_bytes())
    acq = open_ios_backup(backup.finish())
    with open_sqlite(acq, PATH) as db:
        assert db.conn.execute("SELECT v FROM t").fetchone()[0] == "\\xffabc"


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell is not installed")
def test_recovery_never_executes_shell_commands_planted_in_the_schema(tmp_path: Path, backup: BackupBuilder) -> None:
    # Schema SQL is copied verbatim into a dump; a planted dot-command must not run on replay.
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("CREATE INDEX tv ON t(v)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i} " * 20,) for i in range(400)])
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = ? WHERE name = 't'",
        (f"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\n.shell touch {marker}\n--",),
    )
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    data[-4096 * 2 : -4096 * 2 + 64] = b"\xff" * 64  # damage a page so recovery is attempted
    backup.add_file("HomeDomain", "Library/x.db", bytes(data))
    acq = open_ios_backup(backup.finish())
    try:
        with open_sqlite(acq, PATH) as db:
            db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except ArtefactError:
        pass
    assert not marker.exists()


def test_a_schema_that_is_not_utf8_is_an_artefact_error_not_a_decoding_crash(tmp_path: Path) -> None:
    # SQLite's message about a damaged schema quotes its SQL; where that is not UTF-8 the sqlite3
    # module raises UnicodeDecodeError in place of the error (found by the fuzzer).
    path = tmp_path / "x.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT)")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = CAST(? AS TEXT) WHERE name = 'handle'",
        (b"CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT\x80UNIQUE, id TEXT)",),
    )
    conn.commit()
    conn.close()
    with pytest.raises(ArtefactError, match=r"malformed database schema.*\\x80"), open_database(path, "/x.db") as db:
        list(db.query("SELECT * FROM handle"))
