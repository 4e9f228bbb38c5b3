"""End to end: the CLI on built backups, exit codes, outputs, integrity."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.encrypted_backup import EncryptedBackupBuilder
from tests.builders.ios_backup import BackupBuilder
from tests.builders.sample import build_sample
from unmask.cli import main
from unmask.detect.indicators import sets
from unmask.detect.indicators.stix import load_file

ALERT_KEYS = {"severity", "rule", "message", "timestamp", "source", "device_path", "observable", "indicator"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sets.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv(sets.ENV_DATA, str(tmp_path / "data"))
    monkeypatch.delenv(sets.ENV_IOCS, raising=False)


def _tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_planted_traces_are_all_found_and_nothing_else(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup")
    before = _tree_hashes(sample.root)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["check-backup", str(sample.root), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "Known spyware traces found" in result.output
    alerts = json.loads((out / "alerts.json").read_text())
    matched = {
        (a["indicator"]["collection"], a["indicator"]["type"], a["indicator"]["value"])
        for a in alerts
        if a["rule"] == "indicator"
    }
    planted = {(p.collection, p.indicator_type, p.indicator) for p in sample.planted}
    assert matched == planted
    for alert in alerts:
        assert set(alert) >= ALERT_KEYS
        assert alert["severity"] in {"info", "low", "medium", "high", "critical"}
    # The evidence is byte-identical after the scan: no journal, -shm or anything else written.
    assert _tree_hashes(sample.root) == before


def test_planted_values_are_in_the_public_sets() -> None:
    files = {p.name: p for p in sets.bundled_files()}
    from tests.builders import sample as s

    expectations = [
        ("2021-07-18_nso__pegasus.stix2", s.PEGASUS_DOMAIN),
        ("2021-07-18_nso__pegasus.stix2", s.PEGASUS_PROCESS),
        ("intellexa_predator__predator.stix2", s.PREDATOR_DOMAIN),
        ("2023-06_01_operation_triangulation__operation_triangulation.stix2", s.TRIANGULATION_EMAIL),
        ("2023-04-11_quadream__kingspawn.stix2", s.QUADREAM_DOMAIN),
        ("2024-12-25_eaglemsgspy__eaglemsgspy.stix2", s.EAGLE_IP),
    ]
    for name, value in expectations:
        assert value in {i.value for i in load_file(files[name]).indicators}, (name, value)


def test_outputs_follow_the_documented_layout(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup")
    out = tmp_path / "out"
    CliRunner().invoke(main, ["check-backup", str(sample.root), "-o", str(out)])
    with (out / "timeline.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["UTC Timestamp", "Plugin", "Event", "Description"]
    assert rows[1:] == sorted(rows[1:])
    assert len(rows) > 100
    with (out / "alerts_timeline.csv").open() as handle:
        alert_rows = list(csv.reader(handle))
    assert alert_rows[0][:2] == ["Event Time", "Module"] and len(alert_rows) > 1
    info = json.loads((out / "info.json").read_text())
    assert info["tool"]["name"] == "unmask"
    assert {s["name"] for s in info["indicator_sets"]} == {p.name for p in sets.bundled_files()}
    assert all(len(s["sha256"]) == 64 for s in info["indicator_sets"])
    assert (
        info["evidence"]["hashes"]["Manifest.db"]
        == hashlib.sha256((sample.root / "Manifest.db").read_bytes()).hexdigest()
    )
    assert "/private/var/mobile/Library/SMS/sms.db" in info["evidence"]["artefacts_read"]
    statuses = {c["parser"]: c["status"] for c in info["coverage"]}
    assert statuses["sms"] == "parsed" and statuses["manifest"] == "parsed"
    assert json.loads((out / "sms.json").read_text())[0]["kind"] == "ios/sms/message"


def test_clean_backup_exits_zero(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup", plant=False)
    result = CliRunner().invoke(main, ["check-backup", str(sample.root), "--fail-on", "high"])
    assert result.exit_code == 0, result.output
    assert "No known spyware indicators found" in result.output


def test_fail_on_threshold(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup", plant=False)
    low = CliRunner().invoke(main, ["check-backup", str(sample.root), "--fail-on", "low"])
    assert low.exit_code == 1  # outdated iOS and Lockdown Mode off are low findings
    crit = CliRunner().invoke(
        main, ["check-backup", str(build_sample(tmp_path / "b2").root), "--fail-on", "CRITICAL"]
    )
    assert crit.exit_code == 1
    bad = CliRunner().invoke(main, ["check-backup", str(sample.root), "--fail-on", "severe"])
    assert bad.exit_code == 2 and "severe" in bad.output


@pytest.mark.parametrize("case", ["missing", "empty", "encrypted", "badiocs", "notstix"])
def test_unusable_input_exits_two_with_one_line(tmp_path: Path, case: str) -> None:
    args: list[str]
    if case == "missing":
        args = ["check-backup", str(tmp_path / "nope")]
    elif case == "empty":
        (tmp_path / "empty").mkdir()
        args = ["check-backup", str(tmp_path / "empty")]
    elif case == "encrypted":  # a real encrypted backup, and no password anywhere
        args = ["check-backup", str(EncryptedBackupBuilder(tmp_path / "enc").finish())]
    elif case == "badiocs":
        args = [
            "check-backup",
            str(BackupBuilder(tmp_path / "b").finish()),
            "--iocs",
            str(tmp_path / "none.stix2"),
        ]
    else:
        bad = tmp_path / "bad.stix2"
        bad.write_text("{not json")
        args = ["check-backup", str(BackupBuilder(tmp_path / "b").finish()), "--iocs", str(bad)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_corrupt_artefacts_are_failed_coverage_and_the_scan_goes_on(tmp_path: Path) -> None:
    b = BackupBuilder(tmp_path / "b")
    b.add_file("HomeDomain", "Library/SMS/sms.db", b"SQLite format 3\x00" + b"\x00\xff" * 300)  # truncated
    b.add_sqlite(
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
        None,
        extra_sql="CREATE TABLE ZSOMETHINGELSE (Z_PK INTEGER PRIMARY KEY, ZOTHER TEXT);",
    )  # unexpected schema
    b.add_file("HomeDomain", "Library/Preferences/.GlobalPreferences.plist", b"bplist00garbage")
    b.add_sqlite(
        "AppDomain-com.apple.mobilesafari",
        "Library/Safari/History.db",
        "ios/History.db/ios11.sql",
        rows={
            "history_items": [
                {
                    "id": 1,
                    "url": "https://weather4free.com/x",
                    "visit_count": 1,
                    "daily_visit_counts": b"",
                    "should_recompute_derived_visit_counts": 0,
                    "visit_count_score": 0,
                }
            ],
            "history_visits": [{"id": 1, "history_item": 1, "visit_time": 700000000.0}],
        },
    )
    root = b.finish()
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["check-backup", str(root), "-o", str(out)])
    assert result.exit_code == 1, result.output  # the Safari trace is still found
    coverage = {c["parser"]: c for c in json.loads((out / "info.json").read_text())["coverage"]}
    assert coverage["sms"]["status"] == "failed" and coverage["sms"]["reason"]
    assert coverage["datausage"]["status"] == "unsupported" and "ZPROCESS" in coverage["datausage"]["reason"]
    assert coverage["global_preferences"]["status"] == "failed"
    assert coverage["safari_history"]["status"] == "parsed"


def test_wal_is_applied_without_touching_the_evidence(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    db = scratch / "sms.db"
    conn = sqlite3.connect(db)
    conn.executescript((Path(__file__).parent / "schemas/ios/sms.db/ios14.sql").read_text())
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("INSERT INTO handle (ROWID, id, service) VALUES (1, '+100', 'SMS')")
    conn.execute(
        "INSERT INTO message (ROWID, guid, text, handle_id, date) VALUES (1, 'g', 'see weather4free.com/a', 1, 1)"
    )
    conn.commit()
    wal = Path(str(db) + "-wal").read_bytes()
    main_bytes = db.read_bytes()
    conn.close()
    assert wal, "the WAL holds the rows"
    b = BackupBuilder(tmp_path / "b")
    b.add_file("HomeDomain", "Library/SMS/sms.db", main_bytes)
    b.add_file("HomeDomain", "Library/SMS/sms.db-wal", wal)
    root = b.finish()
    before = _tree_hashes(root)
    result = CliRunner().invoke(main, ["check-backup", str(root)])
    assert result.exit_code == 1 and "weather4free.com" in result.output
    assert _tree_hashes(root) == before


def test_output_inside_the_evidence_is_refused(tmp_path: Path) -> None:
    root = build_sample(tmp_path / "backup").root
    before = _tree_hashes(root)
    for target in (root, root / "results"):
        result = CliRunner().invoke(main, ["check-backup", str(root), "-o", str(target)])
        assert result.exit_code == 2 and "inside the evidence" in result.output
    assert _tree_hashes(root) == before


def test_every_finding_names_the_hash_of_its_source(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup")
    out = tmp_path / "out"
    CliRunner().invoke(main, ["check-backup", str(sample.root), "-o", str(out)])
    alerts = json.loads((out / "alerts.json").read_text())
    assert alerts and all(a["sha256"] and len(a["sha256"]) == 64 for a in alerts), [
        (a["rule"], a["device_path"]) for a in alerts if not a["sha256"]
    ]
