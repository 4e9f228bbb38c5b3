"""Micro-benchmarks: loading the public sets, matching throughput, payload screening throughput.

- Loading runs in fresh processes (what a user pays at the start of every scan): unmask cold
  (``load_sets(cache=False)``: every file parsed, no compiled entry read or written), unmask first
  run (an empty user cache: every file parsed and its compiled entry written), unmask warm (the per-file cache keyed by SHA-256 that any
  second scan finds), and MVT's own ``Indicators.load_indicators_files`` on the same files in
  MVT's venv. Interpreter start-up and imports are excluded on both sides.
- Matching times ``IndicatorIndex.lookup(type, value)`` alone (what the scan's matching loop calls),
  over observables expanded beforehand, so the
  number is the index's, not the parsers'. The observables are every observable of a generated
  backup's records (the realistic mix: manifest paths and file names, URLs, hosts, processes,
  handles) plus about 1 % that hit the synthetic indicators, shuffled. They are then copied, in
  that order, into fresh objects: a scan matches each observable right after expanding it, while
  in memory, and the objects as the scan left them would be read in a random order from all over
  the heap, which measures cache misses on the benchmark's own list (about a quarter of the time
  at 10^6 indicators) rather than the index. That figure is kept too, as ``obs_per_s_stored``.
- Payload screening is benchmarked by ``bench/bench_payloads.py`` (owned by the payloads work);
  it is called when present.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import BENCH_DIR, REPO
from bench.measure import median

# Run in a fresh unmask process: import first (not timed), then time loading + indexing only.
_UNMASK_LOAD_DRIVER = r"""
import json, sys, time
from pathlib import Path
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.indicators.sets import load_sets
files = [Path(p) for p in sys.argv[2:]]
t0 = time.perf_counter()
sets = load_sets(files, cache=sys.argv[1] != "cold")
t1 = time.perf_counter()
index = IndicatorIndex.build(sets.indicators)
t2 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "index": t2 - t1, "seconds": t2 - t0, "total": len(sets.indicators)}))
"""


def _unmask_load(files: list[Path], cache: Path, mode: str) -> dict[str, float]:
    env = {**os.environ, "UNMASK_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", _UNMASK_LOAD_DRIVER, mode, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"unmask loading driver failed: {proc.stderr.strip()[-400:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_loading(files: list[Path], runs: int, mvt_home: Path | None, log=print) -> dict[str, object]:
    """Median seconds to load (and index) ``files``: unmask cold, first run and warm, and MVT when
    available."""
    cold: list[float] = []
    first: list[float] = []
    warm: list[float] = []
    warm_split: dict[str, float] = {}
    total = 0
    with tempfile.TemporaryDirectory(prefix="unmask-bench-cache-") as tmp:
        for i in range(runs):
            cache = Path(tmp) / f"cold{i}"  # a new, empty cache every run
            doc = _unmask_load(files, cache, "cold")
            cold.append(doc["seconds"])
            total = int(doc["total"])
            first.append(_unmask_load(files, cache, "first")["seconds"])
            doc = _unmask_load(files, cache, "warm")  # the cache the first run just wrote
            warm.append(doc["seconds"])
            warm_split = {"load": doc["load"], "index": doc["index"]}
    result: dict[str, object] = {
        "files": len(files),
        "unmask_indicators": total,
        "unmask_cold": median(cold),
        "unmask_first_run": median(first),
        "unmask_warm": median(warm),
        "unmask_cold_runs": cold,
        "unmask_first_run_runs": first,
        "unmask_warm_runs": warm,
        "unmask_warm_split": warm_split,
    }
    log(
        f"  loading {len(files)} public sets: unmask cold {median(cold):.3f} s, "
        f"first run {median(first):.3f} s, warm {median(warm):.3f} s"
    )
    if mvt_home is not None:
        from bench.peer import load_indicators_seconds

        mvt: list[float] = []
        for _ in range(runs):
            seconds, count = load_indicators_seconds(files, mvt_home)
            mvt.append(seconds)
            result["mvt_indicators"] = count
        result["mvt"] = median(mvt)
        result["mvt_runs"] = mvt
        log(f"  loading with MVT: {median(mvt):.3f} s")
    return result


def observables_of_backup(backup: Path) -> list[object]:
    """Every expanded observable of every record unmask extracts from ``backup``, in record order."""
    from unmask.api import check_backup
    from unmask.detect.indicators.sets import bundled_files
    from unmask.observables import observables_of

    result = check_backup(backup, iocs=bundled_files())
    return [o for recs in result.records.values() for rec in recs for o in observables_of(rec)]


def _hits(values: list[tuple[str, str]], count: int, seed: int) -> list[object]:
    """Observables that match synthetic indicators (sub-domains of domains, exact values otherwise)."""
    from unmask.model import Obs, Observable

    kinds = {
        "domain-name:value": Obs.DOMAIN,
        "ipv4-addr:value": Obs.IPV4,
        "process:name": Obs.PROCESS,
        "email-addr:value": Obs.EMAIL,
        "file:name": Obs.FILE_NAME,
        "app:id": Obs.APP_ID,
        "file:hashes.sha256": Obs.SHA256,
    }
    rng = random.Random(seed)
    out: list[object] = []
    usable = [(k, v) for k, v in values if k in kinds]
    for kind, value in rng.sample(usable, min(count, len(usable))):
        if kind == "domain-name:value":
            value = f"img.{value}"
        out.append(Observable(kinds[kind], value, "bench"))
    return out


def _fresh(observable: object) -> object:
    """A copy of ``observable`` in new memory, value string included (see the module docstring)."""
    from unmask.model import Observable

    assert isinstance(observable, Observable)
    # Slicing a longer string is the one way to get an equal str that is a new object.
    return Observable(observable.type, (observable.value + " ")[:-1], observable.field)


def _rate_by_type(match, stream: list[object], min_seconds: float) -> dict[str, list[float]]:
    """``{observable type: [count per pass, observables/s]}``: which lookups make the average what it is."""
    groups: dict[str, list[object]] = {}
    for o in stream:
        groups.setdefault(o.type.value, []).append(o)  # type: ignore[attr-defined]
    out: dict[str, list[float]] = {}
    for kind, group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        done, elapsed = 0, 0.0
        while elapsed < min_seconds:
            t = time.perf_counter()
            for o in group:
                match(o)
            elapsed += time.perf_counter() - t
            done += len(group)
        out[kind] = [len(group), done / elapsed]
    return out


def bench_matching(
    sizes: list[int], backup: Path, *, seed: int = 1, min_seconds: float = 1.0, log=print
) -> list[dict[str, object]]:
    """Observables per second of ``IndicatorIndex.lookup`` against synthetic sets of each size (the
    split by type goes through ``match``, one call more)."""
    from bench.synthetic import synthetic_bundle, synthetic_values
    from unmask.detect.indicators.index import IndicatorIndex
    from unmask.detect.indicators.sets import cache_dir, load_sets

    base = observables_of_backup(backup)
    log(f"  matching: {len(base):,} observables from {backup.parent.name}")
    rows: list[dict[str, object]] = []
    for n in sizes:
        bundle = synthetic_bundle(n, seed, log=log)
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        warm_cache = any(cache_dir().glob(f"{digest}.*"))
        t0 = time.perf_counter()
        sets = load_sets([bundle])
        t1 = time.perf_counter()
        index = IndicatorIndex.build(sets.indicators)
        t2 = time.perf_counter()
        hits = _hits(synthetic_values(n, seed), max(1, len(base) // 100), seed)
        stored = list(base) + hits
        random.Random(seed).shuffle(stored)
        stream = [_fresh(o) for o in stored]
        lookup = index.lookup  # what the scan's matching loop calls, value by value
        rates: list[float] = []
        stored_rates: list[float] = []
        found = done = 0
        for _ in range(3):
            for observables, out in ((stream, rates), (stored, stored_rates)):
                done, elapsed, found = 0, 0.0, 0
                while elapsed < min_seconds:
                    t = time.perf_counter()
                    for o in observables:
                        if lookup(o.type, o.value):  # type: ignore[attr-defined]
                            found += 1
                    elapsed += time.perf_counter() - t
                    done += len(observables)
                out.append(done / elapsed)
        per_pass = found * len(stream) // max(done, 1)
        row = {
            "indicators": n,
            "indexed": index.count,
            "load_s": t1 - t0,
            "build_s": t2 - t1,
            "load_cache": "warm" if warm_cache else "cold",
            "observables": len(stream),
            "hits_per_pass": per_pass,
            "planted_hits": len(hits),
            "obs_per_s": median(rates),
            "obs_per_s_stored": median(stored_rates),
            "by_type": _rate_by_type(index.match, stream, min_seconds / 4),
        }
        log(
            f"  {n:>9,} indicators: {row['obs_per_s']:,.0f} observables/s "
            f"({row['obs_per_s_stored']:,.0f} over the objects as stored) "
            f"(load {t1 - t0:.2f} s, index {t2 - t1:.2f} s, {per_pass}/{len(hits)} hits per pass)"
        )
        rows.append(row)
        del index, sets
    return rows


def bench_payloads(log=print) -> dict[str, object]:
    """Screening throughput from ``bench/bench_payloads.py`` when it exists, else "not available yet"."""
    path = BENCH_DIR / "bench_payloads.py"
    if not path.is_file():
        return {"status": "not available yet", "detail": "bench/bench_payloads.py does not exist yet"}
    if importlib.util.find_spec("unmask.detect.payloads") is None:
        return {"status": "not available yet", "detail": "unmask.detect.payloads is not importable"}
    # Its interface belongs to the payloads work, so run it as a program and keep what it prints.
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_payloads"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    text = (proc.stdout.strip() or proc.stderr.strip())[-3000:]
    log("  payloads: " + (text.splitlines()[-1] if text else f"exit {proc.returncode}"))
    return {"status": "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})", "detail": text}
