"""`unmask recheck DIR`: saved records re-matched against other indicators, without the evidence."""

from __future__ import annotations

import hashlib
import html
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.sample import Sample
from unmask import api
from unmask.cli import main
from unmask.detect.indicators import sets
from unmask.recheck import _new_folder, recheck

OUTPUTS = {"alerts.json", "alerts_timeline.csv", "timeline.csv", "info.json", "report.html"}


def _bundled(name_part: str) -> Path:
    return next(p for p in sets.bundled_files() if name_part in p.name)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def _saved(folder: Path) -> int:
    """Records in the <parser>.json files that the coverage of info.json names."""
    coverage = json.loads((folder / "info.json").read_text())["coverage"]
    return sum(len(json.loads((folder / f"{c['parser']}.json").read_text())) for c in coverage if c["records"])


@pytest.fixture
def pegasus_only(isolated_env: None, sample: Sample, tmp_path: Path) -> Path:
    """Results of a scan that used only the Pegasus set: an old case, before newer sets existed."""
    out = tmp_path / "case"
    api.check_backup(sample.root, output=out, iocs=[_bundled("pegasus")])
    return out


def test_recheck_finds_what_newer_indicators_name_and_keeps_the_old_results(
    pegasus_only: Path, sample: Sample
) -> None:
    before = _hashes(pegasus_only)
    old = json.loads((pegasus_only / "alerts.json").read_text())
    assert {a["indicator"]["collection"] for a in old if a["indicator"]} == {"Pegasus"}

    result = CliRunner().invoke(main, ["recheck", str(pegasus_only)])
    assert result.exit_code == 1, result.output
    folders = [p for p in pegasus_only.iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.startswith("recheck-")
    new = folders[0]
    assert {p.name for p in new.iterdir()} == OUTPUTS
    assert _hashes(pegasus_only) == before  # nothing of the original run was touched

    alerts = json.loads((new / "alerts.json").read_text())
    matched = {(a["indicator"]["collection"], a["indicator"]["value"]) for a in alerts if a["rule"] == "indicator"}
    assert matched == {(p.collection, p.indicator) for p in sample.planted}
    assert {a["rule"] for a in alerts} >= {"lockdown-mode"}  # heuristics ran again

    info = json.loads((new / "info.json").read_text())
    assert info["command"] == "recheck"
    rc = info["extra"]["recheck"]
    assert rc["results"] == str(pegasus_only.resolve())
    assert rc["original"]["indicator_sets"] == [
        {"name": s["name"], "sha256": s["sha256"]}
        for s in json.loads((pegasus_only / "info.json").read_text())["indicator_sets"]]
    assert rc["records_rechecked"] == _saved(pegasus_only)
    assert rc["records_skipped"] == {}
    new_families = {alerts[i]["indicator"]["collection"] for i in rc["new_findings"] if alerts[i]["indicator"]}
    assert new_families == {p.collection for p in sample.planted} - {"Pegasus"}
    assert rc["no_longer_found"] == []
    # The original evidence hashes and coverage are carried over: the evidence was not read again.
    original = json.loads((pegasus_only / "info.json").read_text())
    assert info["evidence"] == original["evidence"]
    assert info["coverage"] == original["coverage"]

    page = html.unescape((new / "report.html").read_text())
    assert info["verdict"]["headline"] in page
    assert "the phone itself was not examined again" in page
    assert page.count("New since the first check") == len(rc["new_findings"])


def test_recheck_never_overwrites(pegasus_only: Path, tmp_path: Path) -> None:
    first = recheck(pegasus_only)
    second = recheck(pegasus_only)
    assert first.folder != second.folder
    assert first.folder.parent == second.folder.parent == pegasus_only
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    made = [_new_folder(tmp_path, now) for _ in range(3)]
    assert [p.name for p in made] == ["recheck-20260102T030405Z", "recheck-20260102T030405Z-2",
                                      "recheck-20260102T030405Z-3"]
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "alerts.json").write_text("[]")
    result = CliRunner().invoke(main, ["recheck", str(pegasus_only), "--output", str(busy)])
    assert result.exit_code == 2
    assert "never overwrites" in result.output
    assert (busy / "alerts.json").read_text() == "[]"


def test_recheck_into_a_chosen_folder_and_fail_on(pegasus_only: Path, tmp_path: Path) -> None:
    target = tmp_path / "again"
    predator = _bundled("predator")
    result = CliRunner().invoke(main, ["recheck", str(pegasus_only), "-i", str(predator), "-o", str(target),
                                       "--fail-on", "critical", "-q"])
    assert result.exit_code == 0, result.output  # Predator's trace here is a domain: high, not critical
    alerts = json.loads((target / "alerts.json").read_text())
    assert {a["indicator"]["collection"] for a in alerts if a["indicator"]} == {"Predator"}
    info = json.loads((target / "info.json").read_text())
    assert [s["name"] for s in info["indicator_sets"]] == [predator.name]
    # The Pegasus findings of the original run are not matched by the Predator set alone.
    assert len(info["extra"]["recheck"]["no_longer_found"]) == 2
    result = CliRunner().invoke(main, ["recheck", str(pegasus_only), "-i", str(predator), "--fail-on", "high"])
    assert result.exit_code == 1


def test_records_of_unknown_kinds_are_skipped_and_counted(pegasus_only: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(pegasus_only, copy)
    rows = json.loads((copy / "sms.json").read_text())
    rows.append({"kind": "ios/future/thing", "device_path": "/x"})
    (copy / "sms.json").write_text(json.dumps(rows))
    done = recheck(copy)
    assert done.skipped == {"ios/future/thing": 1}
    assert done.result.extra["recheck"]["records_rechecked"] == _saved(copy) - 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: shutil.rmtree(p), "no such results folder"),
        (lambda p: (p / "info.json").unlink(), "info.json is missing"),
        (lambda p: (p / "sms.json").unlink(), "sms.json is missing"),
        (lambda p: (p / "sms.json").write_text("[{"), "sms.json: cannot be read"),
        (lambda p: (p / "alerts.json").write_text("{}"), "not an unmask alerts.json"),
    ],
)
def test_an_unusable_folder_is_a_one_line_error(pegasus_only: Path, tmp_path: Path, damage, message: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(pegasus_only, copy)
    damage(copy)
    result = CliRunner().invoke(main, ["recheck", str(copy)])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_a_missing_indicator_file_is_a_usage_error(pegasus_only: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["recheck", str(pegasus_only), "-i", str(tmp_path / "nope.stix2")])
    assert result.exit_code == 2
    assert not [p for p in pegasus_only.iterdir() if p.is_dir()]  # nothing written on failure


def test_findings_that_need_the_evidence_are_carried_over(pegasus_only: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(pegasus_only, copy)
    alerts = json.loads((copy / "alerts.json").read_text())
    screened = {**alerts[0], "rule": "payload-screening-example", "severity": "critical", "indicator": None,
                "message": "attachment IMG_0001.jpeg holds an exploit-shaped structure"}
    (copy / "alerts.json").write_text(json.dumps([*alerts, screened]))
    done = recheck(copy)
    new = json.loads((done.folder / "alerts.json").read_text())
    assert [a["message"] for a in new if a["rule"] == "payload-screening-example"] == [screened["message"]]
    assert done.result.extra["recheck"]["carried_over"] == 1
    assert screened["message"] not in done.no_longer_found
    assert "carried over unchanged" in html.unescape((done.folder / "report.html").read_text())
