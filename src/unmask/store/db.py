"""Opening the case store (SQLite by default, PostgreSQL when shared), migrating it, reading and writing it.

``--store URL`` or ``UNMASK_STORE`` names a store; without either it is ``cases.sqlite`` in the
user data folder (mode 0600 in a 0700 folder, no setup). Every open upgrades the schema in place
with the Alembic migrations shipped in ``migrations/`` and checks that the store secret is the one
the store was made with (a store keyed with another secret would never match anything).

Bulk rows (lookup keys, locators) go in through the driver: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL; everything else is SQLAlchemy Core.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from unmask import timeutil
from unmask.detect.indicators.sets import data_dir
from unmask.errors import UsageError
from unmask.store import schema as t
from unmask.store.secret import Keys, load_secret

ENV_STORE = "UNMASK_STORE"
ENV_CASE = "UNMASK_CASE"
STORE_FILE = "cases.sqlite"
_MIGRATIONS = Path(__file__).with_name("migrations")
_CASE_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,200}\Z")


def default_path() -> Path:
    """The SQLite store used when no URL is given."""
    return data_dir() / STORE_FILE


def store_url(url: str | None = None) -> str:
    """The store to open: the given URL, else ``UNMASK_STORE``, else the default SQLite file.

    A plain path is a SQLite file; ``postgresql://`` URLs use the psycopg 3 driver.
    """
    text = url or os.environ.get(ENV_STORE) or str(default_path())
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith(("postgresql+", "sqlite://")):
        return text
    if "://" in text:
        raise UsageError(f"{redact(text)}: the case store is a SQLite file or a postgresql:// URL")
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def redact(url: str) -> str:
    """A store URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def check_case_name(name: str) -> str:
    """A case name: 1–200 characters, no control characters."""
    if not _CASE_NAME.match(name) or not name.strip():
        raise UsageError(f"{name[:80]!r} is not a case name (1 to 200 characters, no control characters)")
    return name


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _prepare_sqlite_file(path: Path) -> None:
    """Make the store file 0600 in a folder only its owner reads, before SQLite opens it."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=120000", "cache_size=-262144",
                   "temp_store=MEMORY"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@dataclass(frozen=True)
class CaseSummary:
    """One case as ``unmask cases list`` shows it."""

    id: int
    name: str
    acquisitions: int
    records: int
    findings: dict[str, int]
    last_scan: datetime | None
    last_finding: dict[str, Any] | None


class Store:
    """An open case store: the engine, the keys derived from the store secret, and its operations."""

    def __init__(self, url: str | None = None, *, secret: bytes | None = None, migrate: bool = True) -> None:
        self.url = store_url(url)
        path = _sqlite_file(self.url)
        try:
            if path is not None:
                _prepare_sqlite_file(path)
                self.engine: Engine = create_engine(self.url, connect_args={"timeout": 120})
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise UsageError(f"{redact(self.url)}: cannot open the case store ({exc})") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot create the case store ({exc.strerror})") from None
        self.path = path
        self.keys = Keys.from_secret(secret if secret is not None else load_secret())
        try:
            if migrate:
                self.migrate()
                self._check_secret()
        except OperationalError as exc:
            self.engine.dispose()
            raise UsageError(f"{redact(self.url)}: cannot open the case store ({str(exc.orig).strip()})") from None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the store is at (``None`` before the first migration)."""
        from alembic.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema in place to ``revision`` (the newest by default)."""
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        if revision == "head" and self.revision() == head:
            return
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7242817)")  # one migrator at a time
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

    def _check_secret(self) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(select(t.meta.c.value).where(t.meta.c.name == "secret_check")).scalar()
            if found is None:
                conn.execute(insert(t.meta).values(name="secret_check", value=self.keys.check))
            elif found != self.keys.check:
                raise UsageError(
                    f"{redact(self.url)}: this case store was made with another store secret "
                    "(UNMASK_STORE_SECRET or the secret file); with this one nothing in it can be matched or read"
                )

    # -- cases ---------------------------------------------------------------------------------

    def case_id(self, name: str, *, create: bool = False, conn: Connection | None = None) -> int | None:
        """The id of a case by name; made when missing and ``create``."""
        check_case_name(name)
        if conn is None:
            with self.engine.begin() as own:
                return self.case_id(name, create=create, conn=own)
        found = conn.execute(select(t.cases.c.id).where(t.cases.c.name == name)).scalar()
        if found is None and create:
            now = timeutil.now()
            found = _new_id(conn.execute(insert(t.cases).values(name=name, created=now, updated=now)))
        return None if found is None else int(found)

    def require_case(self, name: str) -> int:
        """The id of an existing case, else a one-line error."""
        found = self.case_id(name)
        if found is None:
            raise UsageError(f"no case named {name!r} in the store")
        return found

    def case_names(self, names: Sequence[str] = ()) -> dict[int, str]:
        """Case id → name: the named cases (each must exist), or every case."""
        with self.engine.connect() as conn:
            query = select(t.cases.c.id, t.cases.c.name).order_by(t.cases.c.id)
            if names:
                query = query.where(t.cases.c.name.in_(list(names)))
            found = {int(i): str(n) for i, n in conn.execute(query)}
        missing = set(names) - set(found.values())
        if missing:
            raise UsageError(f"no case named {sorted(missing)[0]!r} in the store")
        return found

    def summaries(self) -> list[CaseSummary]:
        """Every case with its counts and its most recent finding."""
        out: list[CaseSummary] = []
        with self.engine.connect() as conn:
            acq = (
                select(t.acquisitions.c.case_id, func.count().label("n"), func.sum(t.acquisitions.c.records).label("r"),
                       func.max(t.acquisitions.c.scanned).label("last"))
                .group_by(t.acquisitions.c.case_id).subquery()
            )
            rows = conn.execute(
                select(t.cases.c.id, t.cases.c.name, acq.c.n, acq.c.r, acq.c.last)
                .select_from(t.cases.outerjoin(acq, acq.c.case_id == t.cases.c.id)).order_by(t.cases.c.name)
            ).all()
            for case_id, name, n, records, last in rows:
                counts: dict[str, int] = {}
                for severity, count in conn.execute(
                    select(t.findings.c.severity, func.count())
                    .select_from(t.findings.join(t.acquisitions, t.acquisitions.c.id == t.findings.c.acquisition_id))
                    .where(t.acquisitions.c.case_id == case_id).group_by(t.findings.c.severity)
                ):
                    counts[str(severity)] = int(count)
                latest = conn.execute(
                    select(t.findings)
                    .select_from(t.findings.join(t.acquisitions, t.acquisitions.c.id == t.findings.c.acquisition_id))
                    .where(t.acquisitions.c.case_id == case_id)
                    .order_by(t.findings.c.found.desc(), t.findings.c.id.desc()).limit(1)
                ).mappings().first()
                out.append(CaseSummary(int(case_id), str(name), int(n or 0), int(records or 0), counts,
                                       _aware(last), self._finding(latest) if latest else None))
        return out

    def acquisitions_of(self, case_id: int) -> list[dict[str, Any]]:
        """A case's acquisitions, oldest first, with their sealed fields opened."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.acquisitions).where(t.acquisitions.c.case_id == case_id).order_by(t.acquisitions.c.id)
            ).mappings().all()
        return [self._acquisition(row) for row in rows]

    def _acquisition(self, row: Any) -> dict[str, Any]:
        return {
            "id": int(row["id"]),
            "kind": row["kind"],
            "device": row["device"],
            "status": row["status"],
            "evidence_sha256": row["evidence_sha256"],
            "hashes": json.loads(row["hashes"] or "{}"),
            "indicators_sha256": row["indicators_sha256"],
            "tool_version": row["tool_version"],
            "acquired": _iso(row["acquired"]),
            "scanned": _iso(row["scanned"]),
            "finished": _iso(row["finished"]),
            "evidence": self.keys.open(row["evidence"], "evidence"),
            "output": self.keys.open(row["output"], "output"),
            "error": self.keys.open(row["error"], "error"),
            "records": int(row["records"]),
            "keys": int(row["keys"]),
        }

    def findings_of(self, case_id: int) -> list[dict[str, Any]]:
        """A case's findings (scan and re-hunts), opened: each alert as alerts.json has it, plus where
        and how it was found."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.findings)
                .select_from(t.findings.join(t.acquisitions, t.acquisitions.c.id == t.findings.c.acquisition_id))
                .where(t.acquisitions.c.case_id == case_id).order_by(t.findings.c.id)
            ).mappings().all()
        return [self._finding(row) for row in rows]

    def _finding(self, row: Any) -> dict[str, Any]:
        alert = json.loads(self.keys.open(row["sealed"], "finding") or "{}")
        return {
            "acquisition": int(row["acquisition_id"]),
            "origin": row["origin"],
            "found": _iso(row["found"]),
            "record_no": row["record_no"],
            "recheck": self.keys.open(row["recheck"], "output"),
            "alert": alert,
        }

    def delete_case(self, name: str) -> dict[str, int]:
        """Remove a case, its acquisitions, locators, lookup keys and findings; nothing else."""
        case_id = self.require_case(name)
        counts: dict[str, int] = {}
        with self.engine.begin() as conn:
            ids = [int(i) for i in conn.execute(select(t.acquisitions.c.id).where(t.acquisitions.c.case_id == case_id)).scalars()]
            for table in (t.keys, t.records, t.paths, t.parsers, t.findings):
                counts[table.name] = 0
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    counts[table.name] += conn.execute(delete(table).where(table.c.acquisition_id.in_(chunk))).rowcount
            counts["acquisitions"] = conn.execute(delete(t.acquisitions).where(t.acquisitions.c.case_id == case_id)).rowcount
            conn.execute(delete(t.cases).where(t.cases.c.id == case_id))
        return counts

    # -- acquisitions ----------------------------------------------------------------------------

    def begin_acquisition(
        self,
        case: str,
        *,
        kind: str,
        device: str,
        evidence_sha256: str,
        hashes: dict[str, str],
        indicators_sha256: str,
        tool_version: str,
        acquired: datetime | None,
        evidence: str,
        output: str | None,
    ) -> int:
        """Register an acquisition being scanned into a case (made when new); returns its id."""
        with self.engine.begin() as conn:
            case_id = self.case_id(case, create=True, conn=conn)
            now = timeutil.now()
            conn.execute(update(t.cases).where(t.cases.c.id == case_id).values(updated=now))
            return _new_id(conn.execute(insert(t.acquisitions).values(
                case_id=case_id, kind=kind, device=device[:200], evidence_sha256=evidence_sha256,
                hashes=json.dumps(hashes, sort_keys=True), indicators_sha256=indicators_sha256,
                tool_version=tool_version, acquired=acquired, scanned=now, status="scanning",
                evidence=self.keys.seal(evidence, "evidence"),
                output=self.keys.seal(output, "output") if output is not None else None, records=0, keys=0,
            )))

    def already_scanned(self, case: str, evidence_sha256: str, indicators_sha256: str) -> int | None:
        """The acquisition of this case already scanned to the end with the same evidence and indicator
        sets, if any."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(t.acquisitions.c.id)
                .select_from(t.acquisitions.join(t.cases, t.cases.c.id == t.acquisitions.c.case_id))
                .where(t.cases.c.name == case, t.acquisitions.c.evidence_sha256 == evidence_sha256,
                       t.acquisitions.c.indicators_sha256 == indicators_sha256, t.acquisitions.c.status == "done")
                .limit(1)
            ).scalar()
        return None if found is None else int(found)

    def end_acquisition(self, acquisition_id: int, *, records: int, keys: int, status: str = "done",
                        error: str | None = None) -> None:
        """Mark an acquisition scanned (or failed, with the reason sealed)."""
        with self.engine.begin() as conn:
            conn.execute(update(t.acquisitions).where(t.acquisitions.c.id == acquisition_id).values(
                finished=timeutil.now(), status=status, records=records, keys=keys,
                error=self.keys.seal(error, "error") if error else None,
            ))

    def output_of(self, acquisition_id: int) -> Path | None:
        """The output folder of an acquisition, where the values needed for display live."""
        with self.engine.connect() as conn:
            sealed = conn.execute(select(t.acquisitions.c.output).where(t.acquisitions.c.id == acquisition_id)).scalar()
        folder = self.keys.open(sealed, "output")
        return Path(folder) if folder else None

    def parser_ranges(self, acquisition_id: int) -> list[tuple[int, int, str]]:
        """``(first record number, count, parser)`` of each parser's records, in scan order."""
        with self.engine.connect() as conn:
            return [(int(a), int(b), str(c)) for a, b, c in conn.execute(
                select(t.parsers.c.first, t.parsers.c["count"], t.parsers.c.parser)
                .where(t.parsers.c.acquisition_id == acquisition_id).order_by(t.parsers.c.first))]

    # -- bulk rows -------------------------------------------------------------------------------

    def bulk(self, conn: Connection, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert many rows through the driver (``COPY`` on PostgreSQL, ``executemany`` on SQLite)."""
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))

    def add_rows(
        self,
        acquisition_id: int,
        *,
        keys: Sequence[tuple[int, int, int]] = (),
        locators: Sequence[tuple[int, int, int, int | None]] = (),
        paths: Sequence[tuple[int, int, bytes]] = (),
        parsers: Sequence[tuple[int, int, int, str]] = (),
    ) -> None:
        """Write one batch of an acquisition's rows in one transaction."""
        with self.engine.begin() as conn:
            self.bulk(conn, t.paths, ("acquisition_id", "path_id", "path"), paths)
            self.bulk(conn, t.records, ("acquisition_id", "record_no", "path_id", "time"), locators)
            self.bulk(conn, t.keys, ("key", "acquisition_id", "record_no"), sorted(keys))
            self.bulk(conn, t.parsers, ("acquisition_id", "first", "count", "parser"), parsers)

    def add_findings(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store findings (rows of the ``findings`` table); one already stored for the same
        acquisition (same fingerprint) is skipped. Returns how many were new."""
        added = 0
        with self.engine.begin() as conn:
            for row in rows:
                exists = conn.execute(select(t.findings.c.id).where(
                    t.findings.c.acquisition_id == row["acquisition_id"],
                    t.findings.c.fingerprint == row["fingerprint"])).first()
                if exists is None:
                    conn.execute(insert(t.findings).values(**row))
                    added += 1
        return added

    # -- re-hunting ------------------------------------------------------------------------------

    def lookup(self, keys: Iterable[int], acquisitions: Sequence[int] | None = None) -> Iterator[tuple[int, int, int]]:
        """``(acquisition, record number, key)`` for every stored key among ``keys``: one indexed join
        of the probe keys with the store's keys (never a scan of the table per key)."""
        probe = sorted(set(keys))
        if not probe:
            return
        with self.engine.begin() as conn:
            params: Any = ()
            if self.dialect == "postgresql":
                # One index-only scan of the primary key for the whole sorted array (= ANY); the
                # planner is not allowed a sequential scan or a hash join over the key table, which
                # it might pick before statistics exist.
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
                conn.exec_driver_sql("SET LOCAL jit = off")
                sql = "SELECT k.acquisition_id, k.record_no, k.key FROM lookup_keys k WHERE k.key = ANY(%(keys)s)"
                params = {"keys": probe}
                if acquisitions is not None:
                    sql += " AND k.acquisition_id = ANY(%(acquisitions)s)"
                    params["acquisitions"] = [int(a) for a in acquisitions]
            else:
                conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS probe (key INTEGER PRIMARY KEY)")
                conn.exec_driver_sql("DELETE FROM probe")
                self.bulk(conn, _Probe, ("key",), [(k,) for k in probe])
                # CROSS JOIN keeps SQLite's loop order: the probe keys outside, index probes inside.
                sql = ("SELECT k.acquisition_id, k.record_no, k.key FROM probe p "
                       "CROSS JOIN lookup_keys k ON k.key = p.key")
                if acquisitions is not None:
                    sql += f" WHERE k.acquisition_id IN ({', '.join(str(int(a)) for a in acquisitions)})"
            result = conn.exec_driver_sql(sql, params)
            while chunk := result.fetchmany(65536):
                for acq, record_no, key in chunk:
                    yield int(acq), int(record_no), int(key)
            if self.dialect == "sqlite":
                conn.exec_driver_sql("DROP TABLE probe")

    def known_matches(self, acquisition_id: int) -> set[tuple[int, int]]:
        """``(record number, indicator fingerprint)`` of the indicator findings already reported."""
        with self.engine.connect() as conn:
            return {(int(r), int(i)) for r, i in conn.execute(
                select(t.findings.c.record_no, t.findings.c.indicator).where(
                    t.findings.c.acquisition_id == acquisition_id, t.findings.c.record_no.is_not(None),
                    t.findings.c.indicator.is_not(None)))}

    def fingerprints(self, acquisition_id: int) -> set[int]:
        """The fingerprints of every finding stored for an acquisition."""
        with self.engine.connect() as conn:
            return {int(f) for f in conn.execute(
                select(t.findings.c.fingerprint).where(t.findings.c.acquisition_id == acquisition_id)).scalars()}

    def acquisitions_by_case(self, case_ids: Sequence[int] | None = None) -> dict[int, list[int]]:
        """Case id → ids of its acquisitions scanned to the end."""
        with self.engine.connect() as conn:
            query = select(t.acquisitions.c.case_id, t.acquisitions.c.id).where(t.acquisitions.c.status == "done")
            if case_ids is not None:
                query = query.where(t.acquisitions.c.case_id.in_(list(case_ids)))
            out: dict[int, list[int]] = {}
            for case_id, acq in conn.execute(query.order_by(t.acquisitions.c.id)):
                out.setdefault(int(case_id), []).append(int(acq))
        return out

    def log_rehunt(self, **row: Any) -> None:
        """Keep one line about a re-hunt (when, which sets, how much was probed and found)."""
        with self.engine.begin() as conn:
            conn.execute(insert(t.rehunts).values(**row))

    def size(self) -> int:
        """Bytes the store takes (the SQLite file with its WAL, or the PostgreSQL database)."""
        if self.path is not None:
            return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class _Probe:
    name = "probe"


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return timeutil.aware(value)


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware else None


def open_store(url: str | None = None, *, secret: bytes | None = None) -> Store:
    """Open (and upgrade in place) the case store at ``url``, ``UNMASK_STORE`` or the default file."""
    try:
        return Store(url, secret=secret)
    except SQLAlchemyError as exc:
        raise UsageError(f"{redact(store_url(url))}: cannot open the case store ({type(exc).__name__})") from None
