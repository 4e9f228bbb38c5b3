"""check-backup screens the attachments it finds and says which message delivered each finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.ios_backup import BackupBuilder
from tests.payloads import vectors as v
from unmask.cli import main
from unmask.detect.indicators import sets

A32 = 0x80000000
SENDER = "attacker@example.org"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sets.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv(sets.ENV_DATA, str(tmp_path / "data"))


def _backup(root: Path, payload: bytes, copies: int = 1) -> Path:
    b = BackupBuilder(root)
    messages, attachments, joins = [], [], []
    for i in range(1, copies + 1):
        messages.append({"ROWID": i, "guid": f"M{i}", "text": None, "handle_id": 1, "service": "iMessage",
                         "date": 726_000_000_000_000_000 + i * 10**9, "is_from_me": 0})
        path = f"Library/SMS/Attachments/0{i}/{i:02d}/AT{i}/image.gif"
        attachments.append({"ROWID": i, "guid": f"AT{i}", "original_guid": f"AT{i}", "filename": "~/" + path,
                            "mime_type": "image/gif", "transfer_name": "image.gif", "total_bytes": len(payload)})
        joins.append({"message_id": i, "attachment_id": i})
        b.add_file("MediaDomain", path, payload)
    b.add_sqlite("HomeDomain", "Library/SMS/sms.db", "ios/sms.db/ios12.sql", rows={
        "handle": [{"ROWID": 1, "id": SENDER, "service": "iMessage"}],
        "message": messages, "attachment": attachments, "message_attachment_join": joins,
    })
    return b.finish()


def test_forcedentry_shaped_attachment_is_reported_with_its_message(tmp_path: Path) -> None:
    payload = v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32))
    root = _backup(tmp_path / "b", payload)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["check-backup", str(root), "-o", str(out)])
    assert result.exit_code == 1, result.output
    alerts = json.loads((out / "alerts.json").read_text())
    by_rule = {a["rule"]: a for a in alerts}
    jbig2 = by_rule["FE-JBIG2-SUM"]
    assert jbig2["source"] == "ios/sms/attachment"
    assert jbig2["device_path"].endswith("/Library/SMS/Attachments/01/01/AT1/image.gif")
    assert SENDER in jbig2["message"] and "2024-01-03" in jbig2["message"]
    assert jbig2["timestamp"].startswith("2024-01-03T18:40:01")
    assert jbig2["severity"] in ("high", "critical")
    assert "DISGUISE" in {a["rule"] for a in alerts}  # a PDF claiming to be a GIF
    screened = json.loads((out / "screened_files.json").read_text())
    assert screened[0]["detected_type"] and screened[0]["claimed_type"]


def test_many_copies_escalate_and_a_clean_attachment_is_quiet(tmp_path: Path) -> None:
    payload = v.jbig2_pdf(v.jbig2_globals(1), v.jbig2_image(1))  # structurally fine PDF, named .gif
    root = _backup(tmp_path / "b", payload, copies=6)
    out = tmp_path / "out"
    CliRunner().invoke(main, ["check-backup", str(root), "-o", str(out)])
    rules = [a["rule"] for a in json.loads((out / "alerts.json").read_text())]
    assert rules.count("MANY-COPIES") == 6
    assert "FE-JBIG2-SUM" not in rules

    clean = _backup(tmp_path / "c", v.png_1x1())
    out2 = tmp_path / "out2"
    CliRunner().invoke(main, ["check-backup", str(clean), "-o", str(out2)])
    rules2 = {a["rule"] for a in json.loads((out2 / "alerts.json").read_text())}
    assert not rules2 & {"FE-JBIG2-SUM", "MANY-COPIES"}


def test_no_screen_skips_screening(tmp_path: Path) -> None:
    root = _backup(tmp_path / "b", v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32)))
    out = tmp_path / "out"
    CliRunner().invoke(main, ["check-backup", str(root), "-o", str(out), "--no-screen"])
    assert "FE-JBIG2-SUM" not in {a["rule"] for a in json.loads((out / "alerts.json").read_text())}


def test_screening_workers_start_only_when_a_parser_yields_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unmask import api
    from unmask.detect.payloads import pool

    calls: list[int] = []
    monkeypatch.setattr(pool, "prepare", lambda: calls.append(1))
    empty = BackupBuilder(tmp_path / "empty").finish()
    api.check_backup(empty)
    assert calls == []  # nothing declares content: no worker process is started
    api.check_backup(_backup(tmp_path / "with", v.png_1x1(), copies=3))
    assert calls == [1]  # once, however many records declare content
    api.check_backup(_backup(tmp_path / "off", v.png_1x1()), screen=False)
    assert calls == [1]


def test_the_number_of_screening_workers_is_passed_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # check-many gives each scan its machine's share of the cores (unmask.many.scan_job).
    from unmask import api
    from unmask.detect import attachments

    asked: list[int | None] = []
    real = attachments.screen_files

    def spy(items, *, workers=None, **kw):  # type: ignore[no-untyped-def]
        asked.append(workers)
        return real(items, workers=workers, **kw)

    monkeypatch.setattr(attachments, "screen_files", spy)
    api.check(_backup(tmp_path / "a", v.png_1x1(), copies=2), screen_workers=1)
    api.check(_backup(tmp_path / "b", v.png_1x1()))
    assert asked == [1, None]


def test_tasks_per_host_sums_the_worker_threads_of_each_machine() -> None:
    from unmask.many import tasks_per_host

    class Client:
        def __init__(self, workers: dict[str, dict[str, object]]) -> None:
            self.workers = workers

        def scheduler_info(self) -> dict[str, object]:
            return {"workers": self.workers}

    two_hosts = {"tcp://10.0.0.1:4001": {"host": "10.0.0.1", "nthreads": 1},
                 "tcp://10.0.0.1:4002": {"host": "10.0.0.1", "nthreads": 2},
                 "tcp://10.0.0.2:4001": {"host": "10.0.0.2", "nthreads": 1}}
    assert tasks_per_host(Client(two_hosts)) == 3
    assert tasks_per_host(Client({})) == 1
