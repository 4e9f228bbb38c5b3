"""Run a command in a fresh process and measure its wall time and peak memory; describe the machine.

Peak memory is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a small wrapper process that
runs nothing but the measured command. Linux reports there the peak resident set of the largest
descendant the wrapper waited for (not a sum over the tree); both tools do their work in a
single process, so that is the tool's peak. A fresh wrapper per run keeps one run's peak from
leaking into the next, which reading RUSAGE_CHILDREN in the harness itself would not. The small
wrapper also shields the figure from the harness's own size: Linux carries a forked copy's RSS
high-water mark across ``exec``, so a tool forked straight from a harness that had grown to 1 GB
would report at least 1 GB.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Runs the command given as argv, then prints one JSON line with its exit code, wall time and peak RSS.
_WRAPPER = r"""
import json, resource, subprocess, sys, time
out, err = sys.argv[1], sys.argv[2]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.perf_counter()
    rc = subprocess.call(sys.argv[3:], stdout=o, stderr=e)
    wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
doc = {"rc": rc, "wall": wall, "maxrss_kb": ru.ru_maxrss, "user": ru.ru_utime, "sys": ru.ru_stime}
print(json.dumps(doc))
"""


@dataclass(frozen=True)
class Run:
    """One measured run."""

    rc: int
    wall: float
    peak_mb: float
    cpu: float
    stdout: Path
    stderr: Path


def measure(
    cmd: list[str], *, log_prefix: Path, env: dict[str, str] | None = None, timeout: float = 3600
) -> Run:
    """Run ``cmd`` under the rusage wrapper; its output goes to ``log_prefix``.out/.err."""
    out, err = log_prefix.with_suffix(".out"), log_prefix.with_suffix(".err")
    log_prefix.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(out), str(err), *cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measuring wrapper failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    return Run(doc["rc"], doc["wall"], doc["maxrss_kb"] / 1024, doc["user"] + doc["sys"], out, err)


def median(values: list[float]) -> float:
    """Median, or NaN for no values (so a missing tool shows as n/a rather than crashing)."""
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    """CPU model, cores, memory, OS, Python: what docs/benchmarks.md states the numbers were taken on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def load_average() -> float:
    """The one-minute load average (the harness records it next to every measured batch)."""
    return os.getloadavg()[0]
