"""Cases at scale: re-hunting a large case store, check-many throughput, store size per case.

    .venv/bin/python -m bench.bench_cases                                # the issue's scale (hours)
    .venv/bin/python -m bench.bench_cases --cases 1000 --observables 10000
    .venv/bin/python -m bench.bench_cases --stores sqlite --many 0       # SQLite re-hunt only
    .venv/bin/python -m bench.bench_cases --cases 0 --many 16            # check-many only

1. **Store**: ``--cases`` generated cases of ``--observables`` distinct observables each (hosts in
   URLs, iOS paths, process names, message handles, the mix of a phone) are recorded through the
   scan's own case recorder (:class:`unmask.store.recorder.CaseRecorder`: expansion into lookup
   keys, HMAC, bulk writes), by two processes. Every ``--plant-every``-th case also carries three
   observables named by synthetic indicators and has a real output folder, so the re-hunt has
   something to verify and re-check; the others point to no folder (a hit there would show as an
   error).
2. **Re-hunt**: :func:`unmask.store.rehunt.rehunt` against the bundled public sets plus
   ``--synthetic`` synthetic indicators (a STIX bundle from :mod:`bench.synthetic`), timed, with
   the new findings counted (each planted case must yield exactly its planted matches).
3. **check-many**: ``--many`` sample backups scanned into a store by a Dask LocalCluster of one
   and of two workers; cases per minute (wall time including the cluster's start).

Both stores: a SQLite file, and PostgreSQL started from Debian's binaries as an unprivileged
user (fsync off: it is a benchmark server). The load average is reported: the machine is shared.
Results are printed as JSON and written to ``bench/out/cases.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.builders.postgres import PostgresServer

from bench.generate import BENCH_DIR
from bench.synthetic import synthetic_bundle, synthetic_values

SECRET = "bench-store-secret-0123456789abcdef"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
_SYL = ("ar", "be", "cor", "da", "el", "fi", "go", "ha", "in", "jo", "ka", "lu", "me", "no", "pa", "qui", "ro",
        "sa", "tu", "ve", "wo", "xa", "yo", "ze")
_TLDS = ("com", "net", "org", "io", "de", "fr", "co.uk", "app")
_APPS = ("Documents", "Library/Caches", "Library/Preferences", "tmp", "Library/Application Support")


def _word(rng: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "".join(rng.choice(_SYL) for _ in range(rng.randint(lo, hi)))


def case_records(case: int, observables: int, planted: list[tuple[str, str]]) -> list[tuple[str, Any]]:
    """One generated case: records whose observables expand to ``observables`` distinct values."""
    from unmask.observables import record_pairs
    from unmask.parsers.ios.datausage import UsageProcess
    from unmask.parsers.ios.manifest import ManifestFile
    from unmask.parsers.ios.safari_history import SafariVisit
    from unmask.parsers.ios.sms import SmsMessage

    rng = random.Random(case)
    seen: set[tuple[Any, str]] = set()
    out: list[tuple[str, Any]] = []
    sites = [f"{_word(rng)}{case % 97}.{rng.choice(_TLDS)}" for _ in range(200)]
    apps = [str(uuid.UUID(int=rng.getrandbits(128))).upper() for _ in range(40)]
    i = 0
    while len(seen) < observables:
        i += 1
        roll = rng.random()
        if roll < 0.4:
            host = f"{rng.choice(('www.', 'cdn.', 'api.', ''))}{rng.choice(sites)}"
            record: Any = SafariVisit(device_path="/private/var/mobile/Library/Safari/History.db",
                                      locator=f"history_visits.id={i}", visit_time=NOW,
                                      url=f"https://{host}/{_word(rng, 1, 3)}/{i}")
            parser = "safari_history"
        elif roll < 0.8:
            path = (f"/private/var/mobile/Containers/Data/Application/{rng.choice(apps)}/"
                    f"{rng.choice(_APPS)}/{_word(rng)}{i}.{rng.choice(('db', 'plist', 'jpg', 'json'))}")
            record = ManifestFile(device_path=path, locator=f"Files.fileID={i:040x}", path=path, domain="AppDomain",
                                  relative_path=path, file_kind="file", file_id=f"{i:040x}")
            parser = "manifest"
        elif roll < 0.9:
            record = UsageProcess(device_path="/private/var/wireless/Library/Databases/DataUsage.sqlite",
                                  locator=f"ZPROCESS.Z_PK={i}", pk=i, process=f"{_word(rng, 1, 3)}-{i}")
            parser = "datausage"
        else:
            record = SmsMessage(device_path="/private/var/mobile/Library/SMS/sms.db", locator=f"message.ROWID={i}",
                                sent=NOW, handle=f"+4420{rng.randrange(10**7, 10**8)}" if rng.random() < 0.7
                                else f"{_word(rng)}@{rng.choice(sites)}")
            parser = "sms"
        seen.update((kind, value) for _, kind, value in record_pairs(record))
        out.append((parser, record))
    for j, (kind, value) in enumerate(planted):
        if kind == "domain-name:value":
            out.append(("safari_history", SafariVisit(device_path="/private/var/mobile/Library/Safari/History.db",
                                                      locator=f"planted={j}", visit_time=NOW,
                                                      url=f"https://{value}/x")))
        elif kind == "process:name":
            out.append(("datausage", UsageProcess(device_path="/private/var/wireless/Library/Databases/DataUsage.sqlite",
                                                  locator=f"planted={j}", pk=-j, process=value)))
        else:
            out.append(("manifest", ManifestFile(device_path=value, locator=f"planted={j}", path=value, domain="d",
                                                 relative_path=value, file_kind="file", file_id=f"p{j}")))
    order = ["manifest", "safari_history", "datausage", "sms"]
    out.sort(key=lambda pr: order.index(pr[0]))
    return out


def _ingest(args: tuple[str, list[int], int, int, list[tuple[str, str]], str]) -> dict[str, float]:
    """One process: record its share of the cases into the store through the case recorder."""
    url, cases, observables, plant_every, plants, folder = args
    os.environ["UNMASK_STORE_SECRET"] = SECRET
    from unmask.detect.indicators.sets import IndicatorSets
    from unmask.model import ArtefactRun, Coverage
    from unmask.report.writers import OutputWriter
    from unmask.results import ScanResult
    from unmask.store.db import open_store
    from unmask.store.recorder import CaseRecorder

    generating = recording = 0.0
    keys = records = 0
    with open_store(url) as store:
        for case in cases:
            t0 = time.perf_counter()
            planted = plant_every > 0 and case % plant_every == 0
            pairs = plants[(case // plant_every) * 3 % len(plants):][:3] if planted else []
            recs = case_records(case, observables, pairs)
            generating += time.perf_counter() - t0
            t0 = time.perf_counter()
            output = Path(folder) / f"case-{case:05d}" if planted else Path("/nonexistent/bench") / str(case)
            acq = store.begin_acquisition(f"bench-{case:05d}", kind="generated", device="iPhone15,2 iOS 17.5",
                                          evidence_sha256=f"{case:064x}", hashes={}, indicators_sha256="public",
                                          tool_version="bench", acquired=NOW, evidence=f"/evidence/{case}",
                                          output=str(output))
            recorder = CaseRecorder(store, acq)
            writer = OutputWriter(output) if planted else None
            counts: Counter[str] = Counter()
            for parser in dict.fromkeys(p for p, _ in recs):
                batch = [r for p, r in recs if p == parser]
                recorder.add(parser, batch, [])
                recorder.end(parser)
                if writer is not None:
                    writer.add(parser, batch)
                    writer.end(parser)
                counts[parser] += len(batch)
            coverage = [Coverage(p, "", [ArtefactRun("/generated", _parsed(), n)]) for p, n in counts.items()]
            result = ScanResult("check", "generated", "generated", {}, {}, coverage, [], IndicatorSets([], []), {}, {},
                                NOW, NOW)
            if writer is not None:
                writer.finish(result)
            recorder.finish(result)
            keys += recorder.key_count
            records += recorder.records
            recording += time.perf_counter() - t0
    return {"generating": generating, "recording": recording, "keys": keys, "records": records}


def _parsed() -> Any:
    from unmask.model import Status

    return Status.PARSED


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def pad_store(url: str, kind: str, cases: int, keys_per_case: int) -> dict[str, Any]:
    """Add ``cases`` cases to an empty store, each with one finished acquisition and
    ``keys_per_case`` lookup keys, made by the database itself in key order (one ``INSERT … SELECT``
    over a generated series: SQLite's recursive CTE, PostgreSQL's ``generate_series`` in the
    transaction that empties the table, so that with ``wal_level=minimal`` it skips the WAL).

    The keys are spread evenly over the 64-bit range with a jitter, as keyed hashes are; they are
    what recording that many cases would leave for the join, without the hours recording takes.
    The cases recorded afterwards through the recorder get the acquisition ids that follow."""
    from sqlalchemy import func, insert, select

    from unmask.store import schema as t
    from unmask.store.db import open_store

    t0 = time.perf_counter()
    now = datetime.now(UTC)
    with open_store(url) as store, store.engine.begin() as conn:
        conn.execute(insert(t.cases), [{"name": f"pad-{i:05d}", "created": now, "updated": now} for i in range(cases)])
        ids = [int(i) for i, in conn.execute(select(t.cases.c.id).order_by(t.cases.c.id))]
        conn.execute(insert(t.acquisitions), [
            {"case_id": c, "kind": "generated", "device": "", "evidence_sha256": f"{c:064x}", "hashes": "{}",
             "indicators_sha256": "public", "tool_version": "bench", "scanned": now, "finished": now,
             "status": "done", "records": keys_per_case // 4, "keys": keys_per_case} for c in ids])
        first, last = conn.execute(select(func.min(t.acquisitions.c.id), func.max(t.acquisitions.c.id))).one()
    total = cases * keys_per_case
    half = total // 2 + 1
    step = (2**63 - 1) // half - 1
    params = {"total": total, "half": half, "step": step, "first": first, "cases": cases}
    if kind == "postgresql":
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        with psycopg.connect(host=u.query["host"], port=int(u.query["port"]), user=u.username,
                             dbname=u.database) as pg:
            pg.execute("TRUNCATE lookup_keys")
            pg.execute(
                "INSERT INTO lookup_keys (key, acquisition_id, record_no) "
                "SELECT (i - %(half)s) * %(step)s + abs(hashint8extended(i, 7) %% %(step)s), "
                "       %(first)s + abs(hashint8extended(i, 11) %% %(cases)s), abs(hashint8extended(i, 13) %% 100000) "
                "FROM generate_series(1::bigint, %(total)s::bigint) AS i", params)
            pg.commit()  # statistics come with bench_store's VACUUM ANALYZE after the recording
    else:
        import sqlite3

        db = sqlite3.connect(_sqlite_file(url))
        try:
            db.execute("PRAGMA journal_mode=OFF")  # a bench store: no rollback journal for one insert
            db.execute(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :total) "
                "INSERT INTO lookup_keys (key, acquisition_id, record_no) "
                "SELECT (i - :half) * :step + (i * 2654435761) % :step, :first + (i * 40503) % :cases, "
                "       (i * 7919) % 100000 FROM s", params)
            db.commit()
        finally:
            db.close()
    assert last - first == cases - 1
    return {"padded_cases": cases, "padded_keys": total, "pad_seconds": round(time.perf_counter() - t0, 1)}


def _sqlite_file(url: str) -> str:
    """The file of a SQLite store named by a path or a ``sqlite:///`` URL."""
    return url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else url


def bench_store(url: str, kind: str, args: argparse.Namespace, folder: Path, iocs: list[Path],
                plants: list[tuple[str, str]]) -> dict[str, Any]:
    """Build a store of generated cases, then re-hunt it."""
    os.environ["UNMASK_STORE_SECRET"] = SECRET
    from unmask.store.db import open_store
    from unmask.store.rehunt import rehunt

    open_store(url).close()  # made and migrated before the writers open it
    padding = pad_store(url, kind, args.pad_to - args.cases, args.keys_per_case) if args.pad_to > args.cases else {}
    if padding:
        print(json.dumps({"store": kind, **padding}), flush=True)
    cases = list(range(args.cases))
    shares = [cases[i :: args.processes] for i in range(args.processes)]
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        parts = pool.map(_ingest, [(url, share, args.observables, args.plant_every, plants, str(folder))
                                   for share in shares])
    ingest = time.perf_counter() - t0
    if kind == "postgresql":  # statistics and the visibility map, as autovacuum would leave them
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        with psycopg.connect(host=u.query["host"], port=int(u.query["port"]), user=u.username, dbname=u.database,
                             autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    with open_store(url) as store:
        size = store.size()
    load_before = _load()
    t0 = time.perf_counter()
    done = rehunt(url, iocs=iocs)
    seconds = time.perf_counter() - t0
    planted_cases = len([c for c in cases if args.plant_every and c % args.plant_every == 0])
    new_by_case = {r.case: len(r.new) for r in done.results}
    errors = [r.error for r in done.results if r.error]
    t0 = time.perf_counter()
    again = rehunt(url, iocs=iocs)
    second = time.perf_counter() - t0
    return {
        "store": kind,
        "cases": args.cases + padding.get("padded_cases", 0),
        "recorded_cases": args.cases,
        **padding,
        "observables_per_case": args.observables,
        "records": int(sum(p["records"] for p in parts)),
        "lookup_keys": int(sum(p["keys"] for p in parts)),
        "ingest_seconds": round(ingest, 1),
        "ingest_generating_cpu_s": round(sum(p["generating"] for p in parts), 1),
        "ingest_recording_cpu_s": round(sum(p["recording"] for p in parts), 1),
        "store_bytes": size,
        "store_bytes_per_case": round(size / max(1, args.cases + padding.get("padded_cases", 0))),
        "rehunt_seconds": round(seconds, 2),
        "rehunt_timings": done.timings,
        "indicator_keys_probed": done.keys_probed,
        "hits": done.hits,
        "cases_with_new_findings": len(new_by_case),
        "planted_cases": planted_cases,
        "new_findings": done.new_findings(),
        "errors": errors[:5],
        "second_rehunt_seconds": round(second, 2),
        "second_rehunt_new_findings": again.new_findings(),
        "load_average_during_rehunt": [load_before, _load()],
    }


def bench_join_at_scale(path: Path, cases: int, keys_per_case: int, iocs: list[Path]) -> dict[str, Any]:
    """The re-hunt's join on a SQLite key table of the issue's full size, without recording every case.

    Recording 10,000 cases of 10,000 observables through the recorder takes hours on two cores, but
    the join only sees 64-bit keyed hashes, which are uniformly distributed: this fills the store's
    own ``lookup_keys`` table with ``cases * keys_per_case`` uniformly spread keys (written in key
    order, so the fill takes minutes), then times :func:`unmask.store.rehunt.rehunt` on it with the
    real indicator sets. The keys name no acquisition of the store, so hits are joined and dropped.
    """
    os.environ["UNMASK_STORE_SECRET"] = SECRET
    from unmask.store.db import open_store
    from unmask.store.rehunt import rehunt

    total = cases * keys_per_case
    rng = random.Random(11)
    spread = int(1.96 * (2**64 // total))
    t0 = time.perf_counter()
    with open_store(str(path)) as store:
        key = -(2**63)
        written = 0
        while written < total:
            rows = []
            for _ in range(min(1_000_000, total - written)):
                key += 1 + rng.randrange(spread)
                rows.append((key, 1 + rng.getrandbits(13) % cases, rng.getrandbits(13)))
            if rows[-1][0] >= 2**63:
                break
            with store.engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO lookup_keys (key, acquisition_id, record_no) VALUES (?, ?, ?)", rows)
            written += len(rows)
        fill = time.perf_counter() - t0
        size = store.size()
    load_before = _load()
    t0 = time.perf_counter()
    done = rehunt(str(path), iocs=iocs, write=False)
    seconds = time.perf_counter() - t0
    return {"store": "sqlite (keys only)", "cases": cases, "lookup_keys": written, "fill_seconds": round(fill, 1),
            "store_bytes": size, "rehunt_seconds": round(seconds, 2), "rehunt_timings": done.timings,
            "indicator_keys_probed": done.keys_probed, "hits": done.hits,
            "load_average_during_rehunt": [load_before, _load()]}


def bench_join_at_scale_postgresql(cases: int, keys_per_case: int, iocs: list[Path], plant_every: int = 100,
                                   ) -> dict[str, Any]:
    """The re-hunt's join on a PostgreSQL key table of the issue's full size.

    As :func:`bench_join_at_scale`, but the keys are made by the server itself (one
    ``INSERT … SELECT`` over ``generate_series``, in key order, in the transaction that empties the
    table, so that with ``wal_level=minimal`` nothing goes through the WAL and the primary key grows
    at its right edge without a sort): ``cases * keys_per_case`` keys spread evenly over the 64-bit
    range with a hashed jitter, as keyed hashes are. Then every ``plant_every``-th key a re-hunt
    looks up is added, so that the join returns hits (they name no acquisition of the store, so the
    re-hunt joins and drops them, as at SQLite scale). :func:`unmask.store.rehunt.rehunt` is timed
    twice: right after the load and once more (the index then in the page cache as far as it fits).
    """
    os.environ["UNMASK_STORE_SECRET"] = SECRET
    import psycopg

    from unmask.detect.pipeline import load_indicators
    from unmask.store.db import open_store
    from unmask.store.keys import indicator_keys
    from unmask.store.rehunt import rehunt

    total = cases * keys_per_case
    half = total // 2 + 1
    step = (2**63 - 1) // half - 1
    server = PostgresServer.start(options="-c wal_level=minimal -c max_wal_senders=0 -c shared_buffers=4GB "
                                          "-c maintenance_work_mem=1GB -c max_wal_size=4GB -c checkpoint_timeout=1h "
                                          "-c synchronous_commit=off")
    try:
        url = server.create_database("join")
        with open_store(url) as store:
            probe = sorted(indicator_keys(store.keys, load_indicators(iocs)[0].indicators))
        database = url.split("?")[0].rsplit("/", 1)[-1]
        t0 = time.perf_counter()
        with psycopg.connect(host=str(server.folder), port=server.port, user="unmask", dbname=database) as conn:
            conn.execute("TRUNCATE lookup_keys")
            conn.execute(
                "INSERT INTO lookup_keys (key, acquisition_id, record_no) "
                "SELECT (i - %(half)s) * %(step)s + abs(hashint8extended(i, 7) %% %(step)s), "
                "       1 + abs(hashint8extended(i, 11) %% %(cases)s), abs(hashint8extended(i, 13) %% 100000) "
                "FROM generate_series(1::bigint, %(total)s::bigint) AS i",
                {"half": half, "step": step, "cases": cases, "total": total})
            planted = [(key, 1 + n % cases, n) for n, key in enumerate(probe[::plant_every])]
            with conn.cursor().copy("COPY lookup_keys (key, acquisition_id, record_no) FROM STDIN") as copy:
                for row in planted:
                    copy.write_row(row)
            conn.commit()
            fill = time.perf_counter() - t0
            conn.autocommit = True
            conn.execute("ANALYZE lookup_keys")
            row = conn.execute("SELECT pg_total_relation_size('lookup_keys'), pg_relation_size('lookup_keys'), "
                               "pg_database_size(current_database()), (SELECT count(*) FROM lookup_keys "
                               "WHERE key = ANY(%(p)s))", {"p": probe}).fetchone()
            assert row is not None
            table_bytes, heap_bytes, database_bytes, present = (row[0], row[1], row[2], row[3])
        runs = []
        for _ in range(2):
            load_before = _load()
            t0 = time.perf_counter()
            done = rehunt(url, iocs=iocs, write=False)
            runs.append({"rehunt_seconds": round(time.perf_counter() - t0, 2), "rehunt_timings": done.timings,
                         "indicator_keys_probed": done.keys_probed, "hits": done.hits,
                         "load_average": [load_before, _load()]})
        return {"store": "postgresql (keys only)", "cases": cases, "lookup_keys": total + len(planted),
                "planted_hits": len(planted), "stored_keys_among_probes": present, "fill_seconds": round(fill, 1),
                "table_bytes": table_bytes, "heap_bytes": heap_bytes, "database_bytes": database_bytes,
                "rehunts": runs}
    finally:
        server.stop()


def bench_many(count: int, workers_list: list[int], folder: Path, files: int = 200) -> list[dict[str, Any]]:
    """check-many throughput: the same ``count`` sample backups scanned into a fresh store per run."""
    from tests.builders.sample import build_sample

    from unmask.many import check_many, plan

    os.environ["UNMASK_STORE_SECRET"] = SECRET
    template = build_sample(folder / "template" / "backup", filler_files=files, visits=max(60, files // 10),
                            messages=max(40, files // 20)).root
    paths = []
    for i in range(count):
        target = folder / "phones" / f"phone-{i:03d}"
        shutil.copytree(template, target)
        paths.append(str(target))
    out = []
    for workers in workers_list:
        store = folder / f"many-{workers}.sqlite"
        load_before = _load()
        t0 = time.perf_counter()
        outcomes = check_many(plan(paths), store=str(store), workers=workers, output=folder / f"results-{workers}")
        seconds = time.perf_counter() - t0
        status = Counter(o.status for o in outcomes)
        out.append({"workers": workers, "acquisitions": count, "files_per_backup": files, "seconds": round(seconds, 1),
                    "cases_per_minute": round(60 * status["done"] / seconds, 1), "status": dict(status),
                    "mean_scan_seconds": round(sum(o.seconds for o in outcomes) / max(1, len(outcomes)), 2),
                    "load_average": [load_before, _load()]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--observables", type=int, default=10_000)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--plant-every", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--many", type=int, default=16, help="sample backups for check-many (0: skip)")
    parser.add_argument("--many-files", type=int, default=200, help="files listed in each sample backup's Manifest")
    parser.add_argument("--pad-to", type=int, default=0, metavar="CASES",
                        help="before recording --cases cases, fill the store up to CASES cases at the key level "
                             "(pad_store), so the re-hunt runs over that many")
    parser.add_argument("--join-scale", type=int, default=0, metavar="CASES",
                        help="also time the join on a SQLite key table of CASES cases of --keys-per-case keys")
    parser.add_argument("--join-stores", default="sqlite", help="stores of --join-scale: sqlite, postgresql or both")
    parser.add_argument("--keys-per-case", type=int, default=41_684,
                        help="lookup keys of one case of 10,000 observables (as recorded by the generator)")
    parser.add_argument("--workdir", type=Path, default=None, help="where stores and folders go (default: a temp dir)")
    args = parser.parse_args()

    root = args.workdir or Path(tempfile.mkdtemp(prefix="unmask-bench-cases-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("UNMASK_DATA_DIR", str(root / "data"))
    os.environ.setdefault("UNMASK_CACHE_DIR", str(root / "cache"))
    from unmask.detect.indicators.sets import bundled_files

    report: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load_average_start": _load()}, "stores": [],
                              "check_many": []}
    if args.cases:
        synthetic = synthetic_bundle(args.synthetic) if args.synthetic else None
        iocs = [*bundled_files(), *([synthetic] if synthetic else [])]
        values = synthetic_values(args.synthetic) if args.synthetic else []
        plants = [(k, v) for k, v in values if k in ("domain-name:value", "process:name", "file:path")] or [
            ("domain-name:value", "weather4free.com")]
        for kind in args.stores.split(","):
            server = None
            try:
                if kind == "postgresql":
                    server = PostgresServer.start(options="-c shared_buffers=2GB -c maintenance_work_mem=512MB "
                                                          "-c max_wal_size=8GB -c checkpoint_timeout=30min "
                                                          "-c wal_level=minimal -c max_wal_senders=0")
                    url = server.create_database("bench")
                else:
                    url = str(root / "store" / "cases.sqlite")
                result = bench_store(url, kind, args, root / f"outputs-{kind}", iocs, plants)
                report["stores"].append(result)
                print(json.dumps(result), flush=True)
            finally:
                if server is not None:
                    server.stop()
                shutil.rmtree(root / f"outputs-{kind}", ignore_errors=True)
                shutil.rmtree(root / "store", ignore_errors=True)
    if args.join_scale:
        iocs = [*bundled_files(), *([synthetic_bundle(args.synthetic)] if args.synthetic else [])]
        joins = []
        for kind in args.join_stores.split(","):
            if kind == "postgresql":
                result = bench_join_at_scale_postgresql(args.join_scale, args.keys_per_case, iocs)
            else:
                result = bench_join_at_scale(root / "join" / "cases.sqlite", args.join_scale, args.keys_per_case, iocs)
                shutil.rmtree(root / "join", ignore_errors=True)
            joins.append(result)
            print(json.dumps(result), flush=True)
        report["join_at_scale"] = joins
    if args.many:
        report["check_many"] = bench_many(args.many, [1, 2], root / "many", args.many_files)
        print(json.dumps(report["check_many"]), flush=True)
    report["machine"]["load_average_end"] = _load()
    out = BENCH_DIR / "out"
    out.mkdir(exist_ok=True)
    (out / "cases.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
