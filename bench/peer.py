"""The peer, MVT, in its own virtual environment: install it, run it, read its detections.

MVT is only run as a separate program (its CLI, or a tiny driver script inside its venv for the
loading benchmark); none of its code is imported into unmask or copied here. Its network access
is switched off (``MVT_NETWORK_ACCESS_ALLOWED=false`` stops URL unshortening; the two
``--disable-*-check`` flags stop the PyPI and GitHub update checks), and its data and config
folders point into ``bench/out`` so no downloaded indicator set of the user's is loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.generate import BENCH_DIR

MVT_VERSION = "2026.10.26"
VENV = BENCH_DIR / ".mvt-venv"
MVT_IOS = VENV / "bin" / "mvt-ios"
MVT_PY = VENV / "bin" / "python"
GROUP_FLAGS = ["--disable-update-check", "--disable-indicator-update-check"]


@dataclass(frozen=True)
class PeerStatus:
    """Whether MVT can be run, and why not when it cannot."""

    available: bool
    version: str | None
    note: str


DERIVED_SETS = frozenset({"echap__stalkerware-patterns.stix2"})
"""Bundled sets that unmask derives itself from a published source (``tools/``), not published as
such; MVT's loader stops with a traceback on their ``MATCHES`` patterns (bench/bench_android.py)."""


def public_sets() -> list[Path]:
    """The bundled indicator sets as their authors publish them: what both tools are given."""
    from unmask.detect.indicators.sets import bundled_files

    return [p for p in bundled_files() if p.name not in DERIVED_SETS]


def installed_version() -> str | None:
    """The MVT version in the bench venv, or None."""
    if not MVT_PY.exists():
        return None
    proc = subprocess.run(
        [str(MVT_PY), "-c", "import importlib.metadata as m; print(m.version('mvt'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def ensure_mvt(install: bool, log=print) -> PeerStatus:
    """Make MVT ``MVT_VERSION`` available in ``bench/.mvt-venv``, installing it when ``install``."""
    version = installed_version()
    if version == MVT_VERSION:
        return PeerStatus(True, version, f"MVT {version} in {VENV}")
    if not install:
        return PeerStatus(
            False, version, f"MVT {MVT_VERSION} not installed in {VENV} (the smoke run does not install it)"
        )
    log(f"installing MVT {MVT_VERSION} into {VENV} …")
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV / "bin" / "pip"), "install", "--quiet", f"mvt=={MVT_VERSION}"],
    ]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, check=False, timeout=1800)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return PeerStatus(
                False,
                None,
                f"MVT {MVT_VERSION} could not be installed ({' '.join(step[:3])} …: "
                f"{' / '.join(tail)}); unmask is benchmarked alone",
            )
    version = installed_version()
    if version != MVT_VERSION:
        return PeerStatus(False, version, f"installed MVT reports version {version}, expected {MVT_VERSION}")
    return PeerStatus(True, version, f"MVT {version} installed in {VENV}")


def mvt_env(home: Path) -> dict[str, str]:
    """Environment for every MVT run: no network, private data/config folders."""
    env = dict(os.environ)
    env.update(
        {
            "MVT_NETWORK_ACCESS_ALLOWED": "false",
            "MVT_DATA_FOLDER": str(home / "data"),
            "MVT_CONFIG_FOLDER": str(home / "config"),
            "MVT_STIX2": "",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    return env


def check_backup_cmd(backup: Path, iocs: list[Path], out: Path) -> list[str]:
    """``mvt-ios check-backup`` with every indicator file, as a user would run it."""
    cmd = [str(MVT_IOS), *GROUP_FLAGS, "check-backup"]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    return [*cmd, "--output", str(out), str(backup)]


# Run inside MVT's venv: load the files with MVT's own Indicators class and time only that call.
_LOAD_DRIVER = r"""
import json, logging, sys, time
logging.disable(logging.CRITICAL)
from mvt.common.indicators import Indicators
files = sys.argv[1:]
t0 = time.perf_counter()
ind = Indicators(log=logging.getLogger("bench"))
ind.load_indicators_files(files, load_default=False)
print(json.dumps({"seconds": time.perf_counter() - t0, "total": ind.total_ioc_count}))
"""


def load_indicators_seconds(files: list[Path], home: Path) -> tuple[float, int]:
    """Seconds MVT's ``Indicators.load_indicators_files`` takes on ``files`` (fresh process), and count."""
    proc = subprocess.run(
        [str(MVT_PY), "-c", _LOAD_DRIVER, *map(str, files)],
        capture_output=True,
        text=True,
        env=mvt_env(home),
        check=False,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"MVT loading driver failed: {proc.stderr.strip()[-400:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    return doc["seconds"], doc["total"]


def read_alerts(out: Path) -> list[dict[str, object]]:
    """MVT's alerts of one run: ``alerts.json`` (written only when there is at least one alert),
    else the union of the per-module ``*_detected.json`` files."""
    path = out / "alerts.json"
    if path.is_file():
        return list(json.loads(path.read_text()))
    alerts: list[dict[str, object]] = []
    for f in sorted(out.glob("*_detected.json")):
        data = json.loads(f.read_text())
        alerts.extend(data if isinstance(data, list) else [])
    return alerts
