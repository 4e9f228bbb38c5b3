"""Every run ends, stays inside the evidence and interprets nothing, on evidence shaped to hurt it.

Each test damages one artefact of a sample backup with traces planted from the public sets, runs
``unmask check-backup`` in a child process with an address-space ceiling, and asserts: the exit
code (1: the planted traces elsewhere are still found; never 3), bounded time, memory and
temporary disk, the coverage of the damaged artefact, and the findings that must survive.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.builders.sample import Sample, build_sample
from tests.hostile import cases
from tests.hostile.harness import Outcome, run

# Planted traces and the artefacts they live in (tests.builders.sample).
FAMILIES = {"Pegasus", "Predator", "EagleMsgSpy", "OperationTriangulation", "KingSpawn"}


@pytest.fixture
def sample(tmp_path: Path) -> Sample:
    return build_sample(tmp_path / "backup")


def _scan(sample: Sample, tmp_path: Path, *extra: str, timeout: float = 120.0) -> tuple[Outcome, dict, list]:
    out = tmp_path / "results"
    outcome = run(["check-backup", str(sample.root), "--output", str(out), *extra], tmp=tmp_path, timeout=timeout)
    info = json.loads((out / "info.json").read_text()) if (out / "info.json").is_file() else {}
    alerts = json.loads((out / "alerts.json").read_text()) if (out / "alerts.json").is_file() else []
    return outcome, info, alerts


def _families(alerts: list) -> set[str]:
    return {a["indicator"]["collection"] for a in alerts if a.get("indicator")}


def _coverage(info: dict, parser: str) -> dict:
    return next(c for c in info["coverage"] if c["parser"] == parser)


def _finished_cleanly(outcome: Outcome, tmp_path: Path) -> None:
    assert outcome.rc in (0, 1), outcome.output
    assert not outcome.timed_out
    assert "internal error" not in outcome.output and "Traceback" not in outcome.output
    assert "[harness] left in TMPDIR" not in outcome.output  # the private temporary files are gone
    out = tmp_path / "results"
    assert (out / "report.html").is_file() and (out / "info.json").is_file()
    assert not list(out.glob("*.part"))


@pytest.mark.parametrize("case", ["prefs-shared-bomb", "info-shared-bomb", "info-self-containing", "info-200k-deep"])
def test_plists_that_unfold_contain_themselves_or_nest_deep_are_refused_in_bounded_time(
    case: str, sample: Sample, tmp_path: Path
) -> None:
    cases.CASES[case](sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path, timeout=60)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.rc == 1
    assert outcome.seconds < 30 and outcome.peak_mb < 500, (outcome.seconds, outcome.peak_mb)
    parser = "global_preferences" if case.startswith("prefs") else "backup_info"
    coverage = _coverage(info, parser)
    assert coverage["status"] == "failed"
    assert re.search(r"unfolds|contains itself|nests deeper", coverage["reason"]), coverage["reason"]
    assert _families(alerts) == FAMILIES


def test_an_endless_query_is_stopped_by_the_budget_without_filling_the_disk(sample: Sample, tmp_path: Path) -> None:
    cases.sms_endless_view(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path, "--budget-seconds", "4", "--budget-memory", "512", timeout=90)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.rc == 1
    assert outcome.seconds < 45, outcome.seconds
    assert outcome.peak_mb < 1200 and outcome.temp_peak_mb < 50, (outcome.peak_mb, outcome.temp_peak_mb)
    for parser in ("sms", "sms_attachments"):
        coverage = _coverage(info, parser)
        assert coverage["status"] in ("failed", "partial"), coverage
        assert "budget" in coverage["reason"], coverage["reason"]
    # Pegasus was planted in an SMS; everything planted elsewhere is still found.
    assert _families(alerts) >= FAMILIES - {"Pegasus"}
    assert "Pegasus" in _families(alerts)  # also planted as a DataUsage process


def test_a_bucket_linked_outside_the_backup_is_refused_not_read(sample: Sample, tmp_path: Path) -> None:
    cases.bucket_link(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    coverage = _coverage(info, "sms")
    assert coverage["status"] == "failed" and "outside the evidence" in coverage["reason"]
    sms_path = "/private/var/mobile/Library/SMS/sms.db"
    assert sms_path not in info["evidence"]["artefacts_read"]  # never hashed as evidence
    assert any("outside the evidence" in why for why in info["evidence"]["refused"].values())
    assert "Refused" in outcome.stdout
    assert _families(alerts) >= FAMILIES - {"Pegasus"}


def test_a_host_file_linked_outside_is_refused_and_manifest_db_one_is_a_usage_error(
    sample: Sample, tmp_path: Path
) -> None:
    cases.info_link(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    coverage = _coverage(info, "backup_info")
    assert coverage["status"] == "failed" and coverage["reason"].startswith("Info.plist: refused: symbolic link")
    assert "Info.plist" not in info["evidence"]["hashes"]
    assert _families(alerts) == FAMILIES

    other = build_sample(tmp_path / "second")
    cases.manifest_link(other.root, tmp_path)
    outcome = run(["check-backup", str(other.root)], tmp=tmp_path)
    assert outcome.rc == 2 and "Manifest.db is symbolic link to" in outcome.stderr
    assert "Traceback" not in outcome.output and len(outcome.stderr.strip().splitlines()) == 1


def test_a_fifo_in_the_evidence_never_blocks(sample: Sample, tmp_path: Path) -> None:
    cases.file_fifo(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path, timeout=60)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.seconds < 30
    assert "FIFO" in _coverage(info, "sms")["reason"]
    assert _families(alerts) >= FAMILIES - {"Pegasus"}


def test_an_overwritten_manifest_page_is_failed_coverage_not_an_internal_error(
    sample: Sample, tmp_path: Path
) -> None:
    cases.manifest_page(sample.root, tmp_path)
    outcome, info, _alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    # The damage is said: in the coverage of what could not be read, or (when every row could be
    # read without the damaged indexes) in the evidence metadata.
    damaged = [c for c in info["coverage"] if "damaged" in (c["reason"] or "") or "malformed" in (c["reason"] or "")]
    noted = info["evidence"]["metadata"].get("manifest_damage", "")
    assert damaged or "damaged" in noted, [(c["parser"], c["status"], c["reason"]) for c in info["coverage"]]


def test_evidence_text_is_printed_as_text_and_csv_cells_never_run(sample: Sample, tmp_path: Path) -> None:
    cases.markup_in_sms(sample.root, tmp_path)
    outcome, _info, alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.rc == 1
    assert "\x1b" not in outcome.output and "\x07" not in outcome.output
    assert "[/x]" in outcome.stdout  # the markup is shown, not interpreted
    assert "\\x1b[2J" in outcome.stdout  # the escape sequence is shown as text
    assert "\x1b]8;" not in outcome.stdout  # no terminal hyperlink
    assert any(a["rule"] == "sms-attachment-var-tmp" for a in alerts)
    timeline = (tmp_path / "results" / "timeline.csv").read_text()
    for row in timeline.splitlines()[1:]:
        description = row.rsplit('","', 1)[-1]
        assert not description.startswith(("=", "+", "-", "@")), row
    assert "\"'=cmd|' /C calc'!A0" in timeline  # neutralised, and the raw value is in the JSON
    assert json.loads((tmp_path / "results" / "tcc.json").read_text())[0]["service"] == "=cmd|' /C calc'!A0"
    assert _families(alerts) == FAMILIES


def test_rechecking_a_tampered_results_folder_stays_inside_it(sample: Sample, tmp_path: Path) -> None:
    outcome, _info, _ = _scan(sample, tmp_path)
    assert outcome.rc == 1
    results = tmp_path / "results"

    def recheck(folder: Path) -> Outcome:
        return run(["recheck", str(folder)], tmp=tmp_path, timeout=30)

    named = tmp_path / "named"
    os.system(f"cp -r {results} {named}")
    data = json.loads((named / "info.json").read_text())
    data["coverage"][0]["parser"], data["coverage"][0]["records"] = "../x", 1
    (named / "info.json").write_text(json.dumps(data))
    done = recheck(named)
    assert done.rc == 2 and "not a parser name" in done.stderr

    for kind in ("fifo", "zero"):
        folder = tmp_path / kind
        os.system(f"cp -r {results} {folder}")
        (folder / "sms.json").unlink()
        if kind == "fifo":
            os.mkfifo(folder / "sms.json")
        else:
            os.symlink("/dev/zero", folder / "sms.json")
        done = recheck(folder)
        assert done.rc == 2 and not done.timed_out and done.seconds < 20, done.output
        assert "sms.json" in done.stderr and done.peak_mb < 400


def test_every_case_says_what_it_damages() -> None:
    assert set(cases.DAMAGE) == set(cases.CASES)
    assert cases.FAMILIES == FAMILIES
    for damage in cases.DAMAGE.values():
        assert damage.lost <= FAMILIES and damage.rc in (1, 2)


@pytest.mark.parametrize("case", ["attachment-overlapping-zip-bomb", "attachment-nested-zip"])
def test_an_archive_bomb_as_an_attachment_is_screened_within_its_caps(case: str, sample: Sample, tmp_path: Path) -> None:
    cases.CASES[case](sample.root, tmp_path)
    outcome, _info, alerts = _scan(sample, tmp_path, timeout=90)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.rc == 1 and outcome.seconds < 45 and outcome.peak_mb < 800, (outcome.seconds, outcome.peak_mb)
    assert outcome.temp_peak_mb < 50  # members are never extracted to disk
    screened = json.loads((tmp_path / "results" / "screened_files.json").read_text())
    (report,) = [r for r in screened if "/SMS/Attachments/" in r["device_path"]]
    assert report["detected_type"] == "zip"
    assert ("zip-ratio" if "overlapping" in case else "depth") in report["limits_hit"], report
    assert not [e for e in report["errors"] if "internal error" in e]
    assert _families(alerts) == FAMILIES


def test_unpaired_surrogates_and_invalid_utf8_everywhere_hide_nothing(sample: Sample, tmp_path: Path) -> None:
    # One UTF-16 string with an unpaired surrogate used to make a whole plist unreadable.
    cases.invalid_utf8_everywhere(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.rc == 1
    for parser in ("backup_info", "global_preferences", "manifest", "sms", "sms_attachments"):
        assert _coverage(info, parser)["status"] == "parsed", _coverage(info, parser)
    device = json.loads((tmp_path / "results" / "backup_info.json").read_text())[0]
    assert device["device_name"] == "phone \ufffd \ufffd"
    assert _families(alerts) == FAMILIES


def test_manifest_rows_that_climb_out_of_the_backup_read_nothing_outside(sample: Sample, tmp_path: Path) -> None:
    cases.manifest_traversal(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    assert outcome.rc == 1
    secret = "outside the evidence"
    read = json.dumps(info["evidence"])
    assert "secret.txt" not in read and "/etc/passwd" not in json.dumps(info["evidence"].get("artefacts_read", {}))
    records = (tmp_path / "results" / "manifest.json").read_text()
    assert "../../etc/passwd" in records  # listed as the evidence says, as a fact
    assert secret not in records
    assert _families(alerts) == FAMILIES


def test_peak_memory_is_the_scans_own_not_the_parents_at_fork(tmp_path: Path) -> None:
    # Linux folds the resident set a parent had when it forked into the child's ru_maxrss at exec:
    # a child of a big test runner would "use" the runner's memory. The harness samples VmHWM.
    ballast = bytearray(400 << 20)
    for at in range(0, len(ballast), 4096):
        ballast[at] = 1
    outcome = run(["--version"], tmp=tmp_path, timeout=60)
    del ballast
    assert outcome.rc == 0
    assert outcome.maxrss_mb > 400  # what wait4 says
    assert 5 < outcome.peak_mb < 200, outcome.peak_mb  # what the child used


def test_a_damaged_manifest_index_hides_no_artefact_whose_row_is_intact(sample: Sample, tmp_path: Path) -> None:
    cases.manifest_index_page(sample.root, tmp_path)
    outcome, info, alerts = _scan(sample, tmp_path)
    _finished_cleanly(outcome, tmp_path)
    assert _coverage(info, "manifest")["records"] == sample.counts["manifest_rows"]  # the table is intact
    for parser in ("sms", "safari_history", "whatsapp", "idstatuscache"):
        assert _coverage(info, parser)["status"] == "parsed", _coverage(info, parser)
    assert _families(alerts) == FAMILIES
