"""End to end: a sysdiagnose with planted traces through the CLI, as .tar.gz and as a folder, and
read together with a backup of the same phone (``check --with``)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from tests.builders.ios_backup import BackupBuilder
from tests.builders.sysdiagnose import (
    DEFAULT_TIME,
    IMTRANSCODER,
    PLANTED_RULES,
    SysdiagnoseBuilder,
    ips_crash,
    plant,
)
from unmask.timeutil import to_cocoa


def unmask(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "unmask", *args], capture_output=True, text=True, timeout=600)


def alerts(folder: Path) -> list[dict]:
    return json.loads((folder / "alerts.json").read_text())


def key(alert: dict) -> tuple:
    return (alert["rule"], alert["severity"], alert["message"], alert["device_path"], alert["locator"],
            alert["timestamp"])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_tar_and_its_extracted_folder_give_the_same_findings(tmp_path: Path) -> None:
    builder = plant(SysdiagnoseBuilder().minimal())
    tar = builder.write_tar(tmp_path / "phone")
    folder = builder.write_folder(tmp_path / "extracted")
    before = sha(tar)
    done_tar = unmask("check-sysdiagnose", str(tar), "-o", str(tmp_path / "r-tar"), "-q")
    done_dir = unmask("check", str(folder.parent), "-o", str(tmp_path / "r-dir"), "-q")
    assert done_tar.returncode == 1 and done_dir.returncode == 1, (done_tar.stderr, done_dir.stderr)
    from_tar, from_dir = alerts(tmp_path / "r-tar"), alerts(tmp_path / "r-dir")
    assert sorted(map(key, from_tar)) == sorted(map(key, from_dir))
    assert {a["rule"] for a in from_tar} == PLANTED_RULES
    matched = {(a["indicator"]["collection"], a["observable"]["value"]) for a in from_tar if a["rule"] == "indicator"}
    assert {c for c, _ in matched} >= {"Pegasus"}
    assert any(v.endswith("subridged") for _, v in matched) and any(v.endswith("UserEventAgent") for _, v in matched)
    assert sha(tar) == before  # the evidence is never written
    # Every finding names the hash of what it came from, command outputs (sections) included.
    assert all(a["sha256"] for a in from_tar), [a["rule"] for a in from_tar if not a["sha256"]]
    info = json.loads((tmp_path / "r-tar" / "info.json").read_text())
    assert info["evidence"]["kind"] == "ios-sysdiagnose"
    assert info["evidence"]["metadata"]["ios_version"] == "17.2.1"
    coverage = {c["parser"]: c["status"] for c in info["coverage"]}
    assert {coverage[p] for p in ("shutdown_log", "crash_reports", "ps", "taskinfo", "spindump")} == {"parsed"}
    report = (tmp_path / "r-tar" / "report.html").read_text()
    assert 'id="history"' in report and "history-chart" in report and "2 delayed" in report


def test_with_a_backup_of_the_same_phone(tmp_path: Path) -> None:
    crash_at = DEFAULT_TIME - timedelta(hours=5)
    sysdiagnose = SysdiagnoseBuilder().minimal()
    sysdiagnose.crash("IMTranscoderAgent-1.ips", ips_crash(process="IMTranscoderAgent", path=IMTRANSCODER,
                                                            time=crash_at))
    tar = sysdiagnose.write_tar(tmp_path / "sd")
    backup = BackupBuilder(tmp_path / "backup")
    received = int(to_cocoa(crash_at - timedelta(minutes=2)))
    backup.add_sqlite("HomeDomain", "Library/SMS/sms.db", "ios/sms.db/ios12.sql", rows={
        "handle": [{"ROWID": 4, "id": "stranger@example.com", "service": "iMessage"}],
        "message": [{"ROWID": 10, "guid": "M-10", "text": "", "handle_id": 4, "service": "iMessage",
                     "date": received * 1_000_000_000, "is_from_me": 0}],
        "attachment": [{"ROWID": 1, "guid": "A-1", "created_date": received, "is_outgoing": 0,
                        "filename": "~/Library/SMS/Attachments/ab/11/GUID/x.gif", "mime_type": "image/gif",
                        "transfer_name": "x.gif", "original_guid": "O-1"}],
        "message_attachment_join": [{"message_id": 10, "attachment_id": 1}],
    })
    root = backup.finish()
    out = tmp_path / "results"
    alone = unmask("check", str(tar), "-o", str(tmp_path / "alone"), "-q", "--no-screen")
    assert alone.returncode == 0, alone.stderr  # the crash alone is medium
    done = unmask("check", str(root), "--with", str(tar), "-o", str(out), "--no-screen")
    assert done.returncode == 1, done.stderr
    (crash,) = [a for a in alerts(out) if a["rule"] == "crash-message-parser"]
    assert crash["severity"] == "high" and "120 s after an attachment (image/gif) from stranger@example.com" in crash["message"]
    assert crash["record"]["acquisition"] == "with1"
    info = json.loads((out / "info.json").read_text())
    (other,) = info["evidence"]["with"]
    assert (other["id"], other["kind"], other["path"]) == ("with1", "ios-sysdiagnose", str(tar))
    assert other["metadata"]["build"] == "21C66" and other["hashes"]
    runs = [a for c in info["coverage"] if c["parser"] == "crash_reports" for a in c["artefacts"]]
    assert [a.get("acquisition") for a in runs] == ["with1"]
    sms_runs = [a for c in info["coverage"] if c["parser"] == "sms" for a in c["artefacts"]]
    assert [a.get("acquisition") for a in sms_runs] == [None]
    saved = (out / "crash_reports.json").read_text()
    assert '"acquisition":"with1"' in saved.replace(" ", "")
    report = (out / "report.html").read_text()
    assert "Read together with it (with1)" in report and "history-chart" in report
    # A re-check of the saved records finds the same thing without either acquisition.
    again = unmask("recheck", str(out), "-o", str(tmp_path / "again"), "-q")
    assert again.returncode == 1, again.stderr
    (rechecked,) = [a for a in alerts(tmp_path / "again") if a["rule"] == "crash-message-parser"]
    assert rechecked["severity"] == "high" and rechecked["record"]["acquisition"] == "with1"


def test_a_with_path_that_is_not_evidence_is_one_line_and_exit_2(tmp_path: Path) -> None:
    tar = SysdiagnoseBuilder().minimal().write_tar(tmp_path / "sd")
    junk = tmp_path / "junk"
    junk.mkdir()
    done = unmask("check", str(tar), "--with", str(junk), "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and "is not evidence unmask recognises" in done.stderr
    assert "Traceback" not in done.stderr
