"""``unmask check-many``: many acquisitions scanned into the case store on a Dask cluster.

Each acquisition is one task. A worker opens the store itself (the same URL, its own copy of the
store secret), skips an acquisition already scanned into the same case with the same evidence
hash and indicator sets, and otherwise runs :func:`unmask.api.check` with the case recorder, so
results land in the store as each scan finishes. A failure is reported for its acquisition and
does not stop the others. The cluster is a LocalCluster with one single-threaded worker process
per core unless a scheduler address is given.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unmask.errors import UnmaskError, UsageError


@dataclass(frozen=True)
class Job:
    """One acquisition to scan and the case it goes into."""

    path: str
    case: str


@dataclass
class Outcome:
    """What became of one job: ``done``, ``skipped`` (already scanned) or ``failed``."""

    path: str
    case: str
    status: str
    verdict: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    output: str | None = None
    error: str | None = None
    seconds: float = 0.0


def read_list(path: Path) -> list[str]:
    """Paths listed in a file, one a line (blank lines and ``#`` comments skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the list of acquisitions ({type(exc).__name__})") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def plan(paths: Sequence[str | Path], case: str | None = None) -> list[Job]:
    """One job per acquisition: into ``case`` when given, else a case named after the acquisition
    (its file or folder name; a repeated name gets ``-2``, ``-3``…)."""
    from unmask.store.db import check_case_name

    jobs: list[Job] = []
    taken: dict[str, int] = {}
    for raw in paths:
        path = Path(raw)
        if case is not None:
            jobs.append(Job(str(path), check_case_name(case)))
            continue
        name = path.resolve().name or "acquisition"
        taken[name] = taken.get(name, 0) + 1
        jobs.append(Job(str(path), check_case_name(name if taken[name] == 1 else f"{name}-{taken[name]}")))
    return jobs


def scan_job(job: Job, url: str, iocs: Sequence[str], output_root: str | None, screen: bool,
             tasks_per_host: int = 1) -> Outcome:
    """One task: scan one acquisition into its case (run on a worker). Its attachment screening
    takes this machine's share of the cores (``tasks_per_host`` scans run side by side on it), so
    that scans on every core do not each start a pool as large as the machine."""
    from unmask import api
    from unmask.acquisition.registry import open_acquisition
    from unmask.detect.pipeline import load_indicators
    from unmask.store.cases import case_folder
    from unmask.store.db import open_store
    from unmask.store.recorder import evidence_fingerprint, indicators_fingerprint

    t0 = time.perf_counter()
    try:
        with open_store(url) as store:
            indicators = load_indicators(iocs)
            acq = open_acquisition(Path(job.path))
            try:
                evidence = evidence_fingerprint(acq.kind, acq.evidence_hashes())
            finally:
                acq.close()
            if store.already_scanned(job.case, evidence, indicators_fingerprint(indicators[0])) is not None:
                return Outcome(job.path, job.case, "skipped", seconds=time.perf_counter() - t0)
            output = case_folder(job.case, Path(output_root)) if output_root else None
            share = max(1, (os.cpu_count() or 1) // max(1, tasks_per_host))
            result = api.check(job.path, iocs=iocs, indicators=indicators, case=job.case, store=store,
                               output=output, screen=screen, screen_workers=share)
            verdict = result.verdict()
            folder = output if output is not None else None
            return Outcome(job.path, job.case, "done", verdict.headline, result.counts(),
                           str(folder) if folder else None, seconds=time.perf_counter() - t0)
    except UnmaskError as exc:
        return Outcome(job.path, job.case, "failed", error=str(exc), seconds=time.perf_counter() - t0)
    except Exception as exc:  # a bug in one scan must not stop the others; reported per acquisition
        return Outcome(job.path, job.case, "failed", error=f"internal error: {type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - t0)


def tasks_per_host(client: Any) -> int:
    """The most tasks the cluster runs at once on one machine (worker threads summed by host)."""
    hosts: dict[str, int] = {}
    for address, info in client.scheduler_info().get("workers", {}).items():
        host = str(info.get("host") or address.rsplit(":", 1)[0])
        hosts[host] = hosts.get(host, 0) + int(info.get("nthreads") or 1)
    return max(hosts.values(), default=1)


def check_many(
    jobs: Sequence[Job],
    *,
    store: str | None = None,
    iocs: Sequence[str | Path] = (),
    output: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    screen: bool = True,
    on_outcome: Callable[[Outcome, int, int], None] | None = None,
) -> list[Outcome]:
    """Scan every job on a Dask cluster; outcomes in the order they finish."""
    from distributed import as_completed

    from unmask.detect.indicators.sets import resolve
    from unmask.store.cluster import dask_client
    from unmask.store.db import open_store

    if not jobs:
        raise UsageError("no acquisitions to scan")
    files = [str(p) for p in resolve(iocs)]
    with open_store(store) as opened:  # made and migrated once, before the workers open it
        url = opened.url
    root = str(Path(output).resolve()) if output is not None else None
    outcomes: list[Outcome] = []
    with dask_client(scheduler, workers) as client:
        per_host = tasks_per_host(client)
        futures = [client.submit(scan_job, job, url, files, root, screen, per_host, pure=False) for job in jobs]
        for done, future in enumerate(as_completed(futures), 1):
            try:
                outcome: Outcome = future.result()
            except Exception as exc:  # the worker died (killed, out of memory)
                job = jobs[futures.index(future)]
                outcome = Outcome(job.path, job.case, "failed", error=f"worker lost: {type(exc).__name__}: {exc}")
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome, done, len(jobs))
    return outcomes
