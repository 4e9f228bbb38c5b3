"""Android evidence and indicators shaped to hurt the new readers: a regular-expression indicator
of the catastrophic-backtracking shape against a long app id (RE2 keeps matching linear), a
battery history whose one line is 40 MB and whose offsets are absurd, and a daily-stats block
of 200,000 package changes. The run ends quickly, in bounded memory, and still finds the trace
planted elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders.android import AndroidQFBuilder, battery_daily, package_json
from tests.hostile.harness import run

ECHAP_CERT = "31A6ECECD97CF39BC4126B8745CD94A7C30BF81C"  # TheTruthSpy (echap__stalkerware.stix2)


def _bundle(pattern: str) -> str:
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "malware", "id": "malware--1", "name": "Backtrack"},
        {"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "pattern": pattern},
        {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
         "source_ref": "indicator--1", "target_ref": "malware--1"}]})


def test_hostile_patterns_and_battery_stats_end_in_bounded_time_and_memory(tmp_path: Path) -> None:
    b = AndroidQFBuilder()
    long_id = "a" * 511 + "!"  # app ids are kept to 512 characters; exponential for a backtracking engine
    b.set_json("packages.json", [package_json("com.android.sys.update", installer="null", cert_sha1=ECHAP_CERT),
                                 package_json(long_id)])
    history = ("Battery History (1% used):\n"
               "                    0 (15) RESET:TIME: 2024-05-01-18-02-17\n"
               "  +99999999999999d (2) 100 pkginst=1:\"com.far.future\"\n"
               "          +1s000ms (2) 100 +top=u0a1:\"" + "x." * 20_000_000 + "\"\n\n")
    daily = battery_daily([("2024-04-30-03-00-00", "2024-05-01-03-00-00",
                            [(f"com.app{i}", i % 7) for i in range(200_000)])])
    b.add_dumpsys("batterystats", history + daily)
    root = b.write_folder(tmp_path / "aqf")
    (tmp_path / "iocs").mkdir()
    (tmp_path / "iocs" / "backtrack.stix2").write_text(_bundle(r"[app:id MATCHES '^(a+)+$']"))
    out = tmp_path / "results"
    outcome = run(["check-androidqf", str(root), "-o", str(out), "-q", "--no-screen",
                   "-i", str(tmp_path / "iocs"), "-i", "src/unmask/data/iocs/echap__stalkerware.stix2"],
                  tmp=tmp_path, timeout=240, memory_mb=3072)
    assert outcome.rc == 1 and not outcome.timed_out, outcome.output[-2000:]
    assert outcome.peak_mb < 1200, outcome.peak_mb
    alerts = json.loads((out / "alerts.json").read_text())
    assert any(a.get("indicator") and a["indicator"]["collection"] == "TheTruthSpy" for a in alerts)
    assert not any(a.get("indicator") and a["indicator"]["collection"] == "Backtrack" for a in alerts)
    coverage = {c["parser"]: c for c in json.loads((out / "info.json").read_text())["coverage"]}
    assert coverage["dumpsys_battery_history"]["status"] in ("parsed", "partial")
    assert coverage["dumpsys_battery_daily"]["records"] == 200_000
