"""Hostile sysdiagnose archives through the CLI, with bounded memory and time: a shutdown.log that
is one endless line, an oversized crash report, a JSON body nested past any parser's depth, and a
member that links out of the archive. Each is recorded (failed coverage or a refused entry), the
planted traces elsewhere are still found, and the exit code is the verdict's."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders.sysdiagnose import SysdiagnoseBuilder, plant
from tests.hostile.harness import run


def scan(tmp_path: Path, builder: SysdiagnoseBuilder) -> tuple[object, dict, list]:
    tar = builder.write_tar(tmp_path / "evidence", level=9)
    out = tmp_path / "out"
    outcome = run(["check", str(tar), "-o", str(out), "-q"], tmp=tmp_path, memory_mb=2048, timeout=180)
    assert outcome.rc in (0, 1), outcome.output
    assert not outcome.timed_out and "Traceback" not in outcome.output and "internal error" not in outcome.output
    info = json.loads((out / "info.json").read_text())
    return outcome, info, json.loads((out / "alerts.json").read_text())


def coverage(info: dict, parser: str) -> dict:
    return next(c for c in info["coverage"] if c["parser"] == parser)


def test_endless_lines_oversized_and_deep_reports(tmp_path: Path) -> None:
    b = plant(SysdiagnoseBuilder().minimal())
    b.add("spindump-nosymbols.txt", b"Process: " + b"A" * (300 << 20))  # one 300 MB line
    b.crash("Huge-2025-11-22-000000.ips", b'{"bug_type":"309"}\n{"procName": "' + b"x" * (40 << 20) + b'"}\n')
    b.crash("Deep-2025-11-22-000000.ips", b'{"bug_type":"309"}\n' + b"[" * 200_000 + b"]" * 200_000 + b"\n")
    outcome, info, alerts = scan(tmp_path, b)
    assert outcome.peak_mb < 900 and outcome.seconds < 150, (outcome.peak_mb, outcome.seconds)  # type: ignore[attr-defined]
    crashes = {a["device_path"].rsplit("/", 1)[-1]: a for a in coverage(info, "crash_reports")["artefacts"]}
    assert crashes["Huge-2025-11-22-000000.ips"]["status"] == "failed"
    assert "longer than" in crashes["Huge-2025-11-22-000000.ips"]["reason"]
    assert crashes["Deep-2025-11-22-000000.ips"]["status"] in ("failed", "parsed")  # header-only at worst
    assert coverage(info, "spindump")["status"] in ("parsed", "failed")
    assert {"indicator", "shutdown-writable-path", "crash-message-parser"} <= {a["rule"] for a in alerts}


def test_a_member_linking_out_of_the_archive_is_refused(tmp_path: Path) -> None:
    b = plant(SysdiagnoseBuilder().minimal())
    del b.files["ps.txt"]
    b.link("ps.txt", "/etc/passwd")
    _, info, alerts = scan(tmp_path, b)
    assert any("ps.txt" in name for name in info["evidence"]["refused"])
    assert coverage(info, "shutdown_log")["status"] == "parsed"
    assert "indicator" in {a["rule"] for a in alerts}
