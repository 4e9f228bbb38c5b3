"""Opening SQLite evidence: the one owner of ``sqlite3.connect`` on anything from a device.

Evidence is opened read-only and ``immutable`` so SQLite never creates a journal or ``-shm`` file
beside it. When the artefact has a ``-wal`` (uncheckpointed writes, often the newest messages), the
database and its WAL are copied to a private temporary folder and the copy is opened, so the WAL is
applied without touching the evidence. A malformed database is recovered into a temporary copy with
the ``sqlite3`` shell's ``.recover`` when that shell is installed.

Budgets (:mod:`unmask.budget`): a database can make one query run forever (a view over an endless
recursive query) or spill gigabytes of temporary b-trees. Temporary storage is kept in memory
(``temp_store=MEMORY``, never the disk), and a progress handler checks the parser's allowance every
:data:`PROGRESS_STEPS` virtual-machine steps and interrupts the query once time or memory is used
up; copies (WAL, recovery) are refused when they would exceed the temporary-disk budget.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from unmask.budget import Allowance, BudgetExceeded
from unmask.errors import ArtefactError

_RECOVER_TIMEOUT = 120


@contextmanager
def _messages() -> Iterator[None]:
    """SQLite's error messages quote the evidence (the SQL of a damaged schema), and where that
    text is not UTF-8 the sqlite3 module raises ``UnicodeDecodeError`` in place of the error:
    raise the error it stands for, with the message decoded leniently."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raw = exc.object
        text = bytes(raw).decode("utf-8", "backslashreplace") if isinstance(raw, bytes | bytearray) else str(exc)
        raise sqlite3.DatabaseError(text) from None


def _text(raw: bytes) -> str:
    # Device databases hold invalid UTF-8 (truncated multibyte sequences, binary in TEXT columns).
    return raw.decode("utf-8", "backslashreplace")


def _connect(path: Path, *, immutable: bool, lenient: bool = True) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    if immutable:
        uri += "&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    if lenient:
        conn.text_factory = _text
    return conn


@contextmanager
def open_readonly(path: Path, *, lenient: bool = True) -> Iterator[sqlite3.Connection]:
    """A read-only, immutable connection to a SQLite file that is not part of a WAL set.

    ``lenient=False`` keeps SQLite's own (C) UTF-8 decoding, several times faster on big tables;
    it raises ``sqlite3.OperationalError`` on invalid text, so the caller retries leniently.
    """
    conn = _connect(path, immutable=True, lenient=lenient)
    try:
        yield conn
    finally:
        conn.close()


def connect_readonly(path: Path, *, lenient: bool = True) -> sqlite3.Connection:
    """Like :func:`open_readonly`, for a connection an object holds for its lifetime; the caller
    closes it."""
    return _connect(path, immutable=True, lenient=lenient)


PROGRESS_STEPS = 100_000
"""SQLite virtual-machine steps between two checks of the budget (a few milliseconds)."""


class _Guard:
    """The progress handler of one connection: interrupts a query once the allowance is spent,
    keeping the reason to raise in its place."""

    def __init__(self, allowance: Allowance | None) -> None:
        self.allowance = allowance
        self.exceeded: BudgetExceeded | None = None

    def __call__(self) -> int:
        if self.allowance is None:
            return 0
        try:
            self.allowance.check()
            self.allowance.check_memory()
        except BudgetExceeded as exc:
            self.exceeded = exc
            return 1
        return 0

    def install(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.set_progress_handler(self, PROGRESS_STEPS)

    def reraise(self) -> None:
        """Raise the budget error that interrupted a query, if one did."""
        if self.exceeded is not None:
            raise BudgetExceeded(f"query interrupted: {self.exceeded}") from None


def working_database(path: Path) -> sqlite3.Connection:
    """A private database unmask writes itself (an index of evidence in its own temporary folder),
    never evidence: no journal, no fsync, usable from the thread that made it."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    return conn


class Database:
    """A read-only view of one SQLite artefact with schema helpers for column-adaptive queries."""

    def __init__(
        self, conn: sqlite3.Connection, device_path: str, notes: Sequence[str] = (), guard: _Guard | None = None
    ) -> None:
        self.conn = conn
        self.device_path = device_path
        self.notes = list(notes)
        self.guard = guard or _Guard(None)
        self._columns: dict[str, set[str]] = {}
        try:
            with _messages():
                rows = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')").fetchall()
        except sqlite3.DatabaseError as exc:
            raise ArtefactError(f"not a readable SQLite database ({exc})") from None
        self.tables = {str(r[0]) for r in rows}

    def columns(self, table: str) -> set[str]:
        """Column names of a table (empty when the table does not exist)."""
        if table not in self._columns:
            if table not in self.tables:
                self._columns[table] = set()
            else:
                quoted = table.replace('"', '""')
                with _messages():
                    rows = self.conn.execute(f'PRAGMA table_info("{quoted}")').fetchall()
                self._columns[table] = {str(r[1]) for r in rows}
        return self._columns[table]

    def has(self, table: str, *columns: str) -> bool:
        """Whether a table exists with all the given columns."""
        cols = self.columns(table)
        return bool(cols) and all(c in cols for c in columns)

    def missing(self, required: dict[str, set[str]]) -> list[str]:
        """``table.column`` names (or ``table``) that a parser requires and this database lacks."""
        out: list[str] = []
        for table, cols in required.items():
            have = self.columns(table)
            if not have:
                out.append(table)
            else:
                out.extend(f"{table}.{c}" for c in sorted(cols - have))
        return out

    def col(self, table: str, column: str, alias: str | None = None, default: str = "NULL") -> str:
        """A select expression for a column that may not exist in every schema version."""
        name = alias or column
        if column in self.columns(table):
            return f'"{table}"."{column}" AS "{name}"'
        return f'{default} AS "{name}"'

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[sqlite3.Row]:
        """Rows as :class:`sqlite3.Row` (access by column name); a query interrupted by the budget
        raises :class:`BudgetExceeded`."""
        self.conn.row_factory = sqlite3.Row
        try:
            with _messages():
                cursor = self.conn.execute(sql, params)
                while True:
                    batch = cursor.fetchmany(2048)
                    if not batch:
                        return
                    yield from batch
        except sqlite3.OperationalError:
            self.guard.reraise()
            raise

    def user_version(self) -> int:
        """``PRAGMA user_version`` (parsers sometimes branch on it)."""
        with _messages():
            row = self.conn.execute("PRAGMA user_version").fetchone()
        return int(row[0]) if row else 0


def _copy_set(source: Path, sides: dict[str, Path], folder: Path) -> Path:
    target = folder / "db.sqlite"
    shutil.copyfile(source, target)
    for suffix, side in sides.items():
        shutil.copyfile(side, folder / f"db.sqlite{suffix}")
    return target


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(args, input=data, capture_output=True, timeout=_RECOVER_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _recover(source: Path, folder: Path) -> Path | None:
    """Salvage the rows of a corrupt database into a new one, working on a private copy only.

    ``.recover`` reads damaged b-trees page by page but gives up on some truncated files in
    SQLite 3.40, where ``.dump`` still salvages the readable rows (it ends with a ROLLBACK that
    we turn into a COMMIT to keep them).
    """
    shell = shutil.which("sqlite3")
    if shell is None or not _has_safe_mode(shell):
        return None
    copy = folder / "corrupt-copy.sqlite"
    if source != copy:
        shutil.copyfile(source, copy)
    target = folder / "recovered.sqlite"
    for command in (".recover", ".dump"):
        if target.exists():
            target.unlink()
        # -safe: the dump is evidence-controlled text (schema SQL is copied verbatim), so the shell
        # that reads it back must refuse dot-commands such as .shell or .output.
        dumped = _run([shell, "-safe", str(copy), command])
        if dumped is None or not dumped.stdout:
            continue
        script = dumped.stdout
        if command == ".recover" and (dumped.returncode != 0 or b"sql error" in dumped.stderr):
            continue
        if script.rstrip().endswith(b"ROLLBACK; -- due to errors"):
            script = script.rstrip()[: -len(b"ROLLBACK; -- due to errors")] + b"COMMIT;\n"
        _run([shell, "-safe", str(target)], script)
        if target.exists() and _table_count(target) > 0:
            return target
    return None


def _has_safe_mode(shell: str) -> bool:
    """Whether this sqlite3 shell has ``-safe`` (3.37+); without it, recovery is not attempted."""
    probe = _run([shell, "-safe", ":memory:", "SELECT 1"])
    return probe is not None and probe.returncode == 0 and probe.stdout.strip() == b"1"


def _table_count(path: Path) -> int:
    conn = _connect(path, immutable=True)
    try:
        with _messages():
            row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.DatabaseError:
        return 0
    finally:
        conn.close()


def _healthy(conn: sqlite3.Connection) -> str | None:
    try:
        with _messages():
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            row = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    if row and row[0] != "ok":
        return str(row[0])
    return None


@contextmanager
def open_database(
    source: Path,
    device_path: str,
    *,
    wal: Path | None = None,
    shm: Path | None = None,
    allowance: Allowance | None = None,
    scratch: Path | None = None,
) -> Iterator[Database]:
    """Open a SQLite artefact safely; raise :class:`ArtefactError` if unusable.

    ``source`` is the database file, ``wal`` and ``shm`` its ``-wal`` and ``-shm`` companions when
    the evidence holds them; ``device_path`` names the artefact in messages; ``allowance`` is the
    budget the parser spends (time and memory of every query, temporary disk of every copy);
    ``scratch`` is the private folder in which copies are made (the system's temporary folder
    when not given).
    """
    with source.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise ArtefactError("not a SQLite database (bad header)")
    guard = _Guard(allowance)
    size = source.stat().st_size
    with tempfile.TemporaryDirectory(prefix="unmask-sqlite-", dir=scratch) as tmp:
        folder = Path(tmp)
        notes: list[str] = []
        if wal is not None:
            sides = {"-wal": wal} | ({"-shm": shm} if shm is not None else {})
            size += sum(side.stat().st_size for side in sides.values())
            if allowance is not None:
                allowance.check_temp(size, "a private copy of the database and its write-ahead log")
            path = _copy_set(source, sides, folder)
            conn = _connect(path, immutable=False)
            notes.append("write-ahead log applied on a private copy")
        else:
            path = source
            conn = _connect(path, immutable=True)
        guard.install(conn)
        problem = _healthy(conn)
        guard.reraise()
        if problem is not None:
            conn.close()
            if allowance is not None:
                # a copy, the shell's dump and the recovered database
                allowance.check_temp(3 * size, "recovering the damaged database")
            recovered = _recover(path, folder)
            if recovered is None:
                raise ArtefactError(f"corrupt SQLite database ({problem}); recovery not possible")
            conn = _connect(recovered, immutable=True)
            guard.install(conn)
            if _healthy(conn) is not None:
                conn.close()
                raise ArtefactError(f"corrupt SQLite database ({problem}); recovery failed")
            notes.append(f"database was corrupt ({problem}); rows recovered with sqlite3 .recover")
        try:
            yield Database(conn, device_path, notes, guard)
        except sqlite3.DatabaseError as exc:
            guard.reraise()
            raise ArtefactError(f"SQLite error while reading ({exc})") from None
        finally:
            conn.close()
