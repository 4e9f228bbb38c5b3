"""Running unmask on hostile input the way a user would, and measuring what it costs.

:func:`run` starts the CLI in a child process with an address-space ceiling and a wall-clock
limit, samples the size of its private temporary folder and the peak resident memory of the child
and its own children while it runs, and returns the exit code, the wall time, the peak resident
memory and the peak temporary disk. The same harness drives the tests (which assert bounds) and
``bench/hostile.py`` (which reports them).

Peak memory is the largest ``VmHWM`` (the kernel's high-water mark of a process's resident set)
among the child and its descendants, sampled every 50 ms. ``wait4``'s ``ru_maxrss`` is kept as
``maxrss_mb`` but cannot be the measure: Linux folds the resident set the parent had when it
forked into the child's at ``exec``, so a child of a 500 MB test runner reports at least 500 MB.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.builders.ios_backup import file_id

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What one run cost and said."""

    rc: int
    seconds: float
    peak_mb: float
    """The largest peak resident set among the child and its descendants (``VmHWM``, sampled)."""
    temp_peak_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False
    maxrss_mb: float = 0.0
    """``wait4``'s ``ru_maxrss``: an upper bound that includes the parent's resident set at fork."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _folder_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _peak_kib(pid: int) -> int:
    """The largest ``VmHWM`` (KiB) among a process and its descendants; 0 once it is gone."""
    best = 0
    stack, seen = [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return best


def run(
    args: Sequence[str],
    *,
    tmp: Path,
    timeout: float = 120.0,
    memory_mb: int = 3072,
    env: dict[str, str] | None = None,
) -> Outcome:
    """``python -m unmask ARGS`` in a child with ``memory_mb`` of address space at most, killed after
    ``timeout`` seconds; its TMPDIR is a fresh folder under ``tmp`` whose size is sampled."""
    temp = tmp / f"tmpdir-{time.monotonic_ns()}"
    temp.mkdir(parents=True)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("UNMASK_")}
    child_env.update({"TMPDIR": str(temp), "UNMASK_CACHE_DIR": str(tmp / "cache"),
                      "UNMASK_DATA_DIR": str(tmp / "data"), "COLUMNS": "200"})
    child_env.update(env or {})
    limit = memory_mb * 1024 * 1024

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "unmask", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env, cwd=REPO, preexec_fn=limits,
        start_new_session=True,
    )
    peak_temp = 0
    peak_kib = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_temp, peak_kib
        while not stop.is_set():
            peak_temp = max(peak_temp, _folder_size(temp))
            peak_kib = max(peak_kib, _peak_kib(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out: list[bytes] = []

    def drain(stream: object, into: list[bytes]) -> None:
        into.append(stream.read())  # type: ignore[attr-defined]

    err: list[bytes] = []
    readers = [threading.Thread(target=drain, args=(proc.stdout, out)),
               threading.Thread(target=drain, args=(proc.stderr, err))]
    for r in readers:
        r.start()
    timed_out = False
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    stop.set()
    sampler.join()
    peak_temp = max(peak_temp, _folder_size(temp))
    leftover = list(temp.iterdir())
    shutil.rmtree(temp, ignore_errors=True)
    outcome = Outcome(proc.returncode, seconds, peak_kib / 1024, peak_temp / 1e6,
                      b"".join(out).decode("utf-8", "replace"), b"".join(err).decode("utf-8", "replace"),
                      timed_out, maxrss_mb=usage.ru_maxrss / 1024)
    if leftover:
        outcome.stderr += f"\n[harness] left in TMPDIR: {[p.name for p in leftover]}"
    return outcome


def stored(root: Path, domain: str, relative_path: str) -> Path:
    """Where a backup stores the content of one Manifest.db row."""
    fid = file_id(domain, relative_path)
    return root / fid[:2] / fid
