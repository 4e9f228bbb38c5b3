"""The case store, on SQLite and on a real PostgreSQL (every test runs against both stores):
recording scans into cases, re-hunting every case as indexed lookups, what a copy of the database
reveals, migrations, cases list/show/export/delete, and check-many on a Dask LocalCluster."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders.postgres import PostgresServer
from tests.builders.sample import Sample
from unmask import api
from unmask.cli import main
from unmask.detect.indicators import sets
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.indicators.match import RULE as INDICATOR_RULE
from unmask.detect.indicators.match import match_records
from unmask.detect.indicators.sets import IndicatorSets
from unmask.errors import UsageError
from unmask.model import ArtefactRun, Coverage, Indicator, Record, Status
from unmask.parsers.ios.datausage import UsageProcess
from unmask.parsers.ios.manifest import ManifestFile
from unmask.parsers.ios.safari_history import SafariVisit
from unmask.parsers.ios.sms import SmsMessage
from unmask.recheck import finding_key
from unmask.report.writers import OutputWriter
from unmask.results import ScanResult
from unmask.store import schema
from unmask.store.db import Store, open_store
from unmask.store.recorder import CaseRecorder
from unmask.store.rehunt import rehunt

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _bundled(name_part: str) -> Path:
    return next(p for p in sets.bundled_files() if name_part in p.name)


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _indicator_keys(alerts: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    return {finding_key(a) for a in alerts if a["rule"] == INDICATOR_RULE}


def _stored(store_url: str, case: str) -> list[dict[str, Any]]:
    with open_store(store_url) as store:
        return store.findings_of(store.require_case(case))


# --- recording a scan -------------------------------------------------------------------------------


def test_a_scan_with_case_records_its_acquisition_keys_and_findings(store_url: str, sample: Sample) -> None:
    result = _cli("check", str(sample.root), "--case", "alice 2024", "--store", store_url, "--no-screen", "-q")
    assert result.exit_code == 1, result.output

    listed = json.loads(_cli("cases", "list", "--json", "--store", store_url).output)
    assert [c["case"] for c in listed] == ["alice 2024"]
    assert listed[0]["acquisitions"] == 1 and listed[0]["records"] > 300
    assert listed[0]["findings"]["critical"] >= 1

    with open_store(store_url) as store:
        (acq,) = store.acquisitions_of(store.require_case("alice 2024"))
        assert acq["status"] == "done" and acq["kind"] == "ios-backup" and acq["keys"] > acq["records"]
        assert acq["device"] == "iPhone14,2 iOS 17.4.1"
        assert set(acq["hashes"]) >= {"Manifest.db", "Info.plist"}
        output = Path(acq["output"])
        # the store points to the output folder, where the values for display live
        assert json.loads((output / "alerts.json").read_text())
        ranges = store.parser_ranges(acq["id"])
        assert sum(count for _, count, _ in ranges) == acq["records"]
        for _, count, parser in ranges:
            assert len(json.loads((output / f"{parser}.json").read_text())) == count
    indicator = [f for f in _stored(store_url, "alice 2024") if f["alert"]["rule"] == INDICATOR_RULE]
    assert indicator and all(f["origin"] == "scan" for f in indicator)
    for f in indicator:  # each finding's record number is the line of its record in <parser>.json
        first, _, parser = next(r for r in ranges if r[0] <= f["record_no"] < r[0] + r[1])
        saved = json.loads((output / f"{parser}.json").read_text())[f["record_no"] - first]
        assert (saved["kind"], saved["locator"]) == (f["alert"]["source"], f["alert"]["locator"])

    shown = _cli("cases", "show", "alice 2024", "--store", store_url)
    assert shown.exit_code == 0 and "weather4free.com" in shown.output and "iPhone14,2" in shown.output


def test_a_case_without_an_output_folder_gets_one_in_the_data_folder(store_url: str, sample: Sample,
                                                                      store_env: Path) -> None:
    api.check(sample.root, case="bob", store=store_url, screen=False, iocs=[_bundled("pegasus")])
    with open_store(store_url) as store:
        (acq,) = store.acquisitions_of(store.require_case("bob"))
    folder = Path(acq["output"])
    assert folder.is_relative_to(store_env / "data" / "results") and (folder / "info.json").is_file()
    assert folder.stat().st_mode & 0o077 == 0


def test_the_case_comes_from_unmask_case_and_a_bad_name_is_refused(store_url: str, sample: Sample,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNMASK_CASE", "from the environment")
    assert _cli("check", str(sample.root), "--store", store_url, "--no-screen", "-q").exit_code == 1
    with open_store(store_url) as store:
        assert list(store.case_names().values()) == ["from the environment"]
    bad = _cli("check", str(sample.root), "--store", store_url, "--no-screen", "-q", "--case", "a\x1b[31mb")
    assert bad.exit_code == 2 and "not a case name" in bad.output
    broken = _cli("cases", "list", "--store", "mysql://nobody@localhost/x")
    assert broken.exit_code == 2 and "SQLite file or a postgresql:// URL" in broken.output


# --- re-hunting ---------------------------------------------------------------------------------------


def test_rehunt_finds_exactly_what_a_fresh_scan_finds_and_nothing_twice(store_url: str, sample: Sample,
                                                                         tmp_path: Path) -> None:
    api.check(sample.root, case="old case", store=store_url, screen=False, iocs=[_bundled("pegasus")],
              output=tmp_path / "old")
    fresh = api.check(sample.root, screen=False, output=tmp_path / "fresh")  # every public set
    old_alerts = json.loads((tmp_path / "old" / "alerts.json").read_text())
    expected = _indicator_keys([f.to_json() for f in fresh.findings]) - _indicator_keys(old_alerts)
    assert len(expected) >= 4  # Predator, Triangulation, KingSpawn, EagleMsgSpy… planted in the sample

    result = _cli("rehunt", "--store", store_url)
    assert result.exit_code == 1, result.output
    assert "old case: " in result.output and "Predator" in result.output
    new = [f for f in _stored(store_url, "old case") if f["origin"] == "rehunt"]
    assert _indicator_keys([f["alert"] for f in new]) == expected
    assert len(new) == len(expected)
    rechecks = {f["recheck"] for f in new}
    (recheck,) = rechecks
    assert Path(recheck).parent == (tmp_path / "old").resolve()
    assert expected <= _indicator_keys(json.loads((Path(recheck) / "alerts.json").read_text()))

    again = _cli("rehunt", "--store", store_url)
    assert again.exit_code == 0, again.output
    assert "0 new finding(s)" in again.output
    assert len([f for f in _stored(store_url, "old case") if f["origin"] == "rehunt"]) == len(expected)
    assert len([p for p in (tmp_path / "old").iterdir() if p.name.startswith("recheck-")]) == 1


def test_rehunt_of_named_cases_and_dry_run(store_url: str, sample: Sample, tmp_path: Path) -> None:
    for name in ("one", "two"):
        api.check(sample.root, case=name, store=store_url, screen=False, iocs=[_bundled("pegasus")],
                  output=tmp_path / name)
    dry = _cli("rehunt", "--store", store_url, "--case", "two", "--dry-run")
    assert dry.exit_code == 1 and "two: " in dry.output and "one: " not in dry.output
    assert not [f for f in _stored(store_url, "two") if f["origin"] == "rehunt"]
    assert not any(p.name.startswith("recheck-") for p in (tmp_path / "two").iterdir())
    missing = _cli("rehunt", "--store", store_url, "--case", "three")
    assert missing.exit_code == 2 and "no case named 'three'" in missing.output


def test_a_case_whose_output_folder_is_gone_is_reported_not_fatal(store_url: str, sample: Sample,
                                                                    tmp_path: Path) -> None:
    api.check(sample.root, case="moved", store=store_url, screen=False, iocs=[_bundled("pegasus")],
              output=tmp_path / "moved")
    shutil.rmtree(tmp_path / "moved")
    done = rehunt(store_url)
    (only,) = done.results
    assert only.case == "moved" and only.error and "missing" in only.error and not only.new


# --- the property: a re-hunt is a fresh scan minus what was reported ----------------------------------------

_LABELS = ["a", "b", "cdn", "xn--bcher-kva"]
_TLDS = ["com", "net"]
_domains = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(st.sampled_from(_LABELS), min_size=1,
                                                                               max_size=3), st.sampled_from(_TLDS))
_paths = st.builds(lambda parts: "/private/var/" + "/".join(parts),
                   st.lists(st.sampled_from(["mobile", "db", "tmp", "x1"]), min_size=1, max_size=3))
_processes = st.sampled_from(["bh", "roleaccountd", "abcdefghijklmnopq", "abcdefghijklmnop", "abcdefghijklmno"])
_emails = st.builds(lambda user, domain: f"{user}@{domain}", st.sampled_from(["x", "y"]), _domains)


@st.composite
def _records(draw: st.DrawFn) -> list[tuple[str, Record]]:
    out: list[tuple[str, Record]] = []
    for i in range(draw(st.integers(1, 25))):
        which = draw(st.integers(0, 3))
        if which == 0:
            record: Record = SafariVisit(device_path="/private/var/mobile/Library/Safari/History.db",
                                         locator=f"visit={i}", visit_time=NOW,
                                         url=f"https://{draw(_domains)}/{draw(st.sampled_from(['', 'p', 'q?r=1']))}")
            out.append(("safari_history", record))
        elif which == 1:
            path = draw(_paths)
            out.append(("manifest", ManifestFile(device_path=path, locator=f"Files.fileID={i}", path=path, domain="d",
                                                 relative_path=path, file_kind="file", file_id=str(i),
                                                 web_hosts=(draw(_domains),))))
        elif which == 2:
            out.append(("datausage", UsageProcess(device_path="/private/var/wireless/DataUsage.sqlite",
                                                  locator=f"ZPROCESS.Z_PK={i}", pk=i, process=draw(_processes))))
        else:
            out.append(("sms", SmsMessage(device_path="/private/var/mobile/Library/SMS/sms.db", locator=f"ROWID={i}",
                                          sent=NOW, handle=draw(_emails), links=(f"http://{draw(_domains)}/",))))
    order = ["manifest", "safari_history", "datausage", "sms"]
    return sorted(out, key=lambda pr: order.index(pr[0]))


_indicator = st.one_of(
    st.builds(lambda v: ("domain-name:value", v), st.one_of(_domains, st.sampled_from(_TLDS))),
    st.builds(lambda v: ("url:value", f"https://{v}/"), _domains),
    st.builds(lambda v: ("file:path", v), _paths),
    st.builds(lambda v: ("file:name", v), st.sampled_from(["mobile", "db", "x1"])),
    st.builds(lambda v: ("process:name", v), _processes),
    st.builds(lambda v: ("email-addr:value", v), _emails),
)


def _indicators(pairs: list[tuple[str, str]], family: str) -> IndicatorSets:
    unique = list(dict.fromkeys(pairs))
    return IndicatorSets([], [Indicator(k, v, family, f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, k + v)}", "gen")
                              for k, v in unique])


def _scan_into(store: Store, case: str, records: list[tuple[str, Record]], indicators: IndicatorSets,
               folder: Path) -> list[dict[str, Any]]:
    """What a scan does, without evidence: records streamed to the output writer and the case recorder
    with the findings the matching loop makes of each batch."""
    index = IndicatorIndex.build(indicators.indicators)
    acq = store.begin_acquisition(case, kind="generated", device="", evidence_sha256=uuid.uuid4().hex, hashes={},
                                  indicators_sha256="a", tool_version="test", acquired=None, evidence="generated",
                                  output=str(folder))
    recorder = CaseRecorder(store, acq)
    writer = OutputWriter(folder)
    findings = []
    counts: Counter[str] = Counter()
    for parser in dict.fromkeys(p for p, _ in records):
        batch = [r for p, r in records if p == parser]
        for start in range(0, len(batch), 7):  # several batches per parser
            chunk = batch[start : start + 7]
            found = match_records(chunk, index)
            findings.extend(found)
            writer.add(parser, chunk)
            recorder.add(parser, chunk, found)
            counts[parser] += len(chunk)
        writer.end(parser)
        recorder.end(parser)
    coverage = [Coverage(p, "", [ArtefactRun("/generated", Status.PARSED, n)]) for p, n in counts.items()]
    result = ScanResult("check", "generated", "generated", {}, {}, coverage, findings, indicators, {}, {}, NOW, NOW)
    writer.finish(result)
    recorder.finish(result)
    return [f.to_json() for f in findings]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(cases=st.lists(st.tuples(_records(), st.lists(_indicator, max_size=6)), min_size=1, max_size=3),
       new=st.lists(_indicator, min_size=1, max_size=12))
def test_a_rehunt_is_a_fresh_scan_of_each_case_minus_what_was_already_reported(
    store_url: str, tmp_path: Path, cases: list[tuple[list[tuple[str, Record]], list[tuple[str, str]]]],
    new: list[tuple[str, str]],
) -> None:
    # the new sets include every old one (and what a scan found then is not new)
    after = _indicators([pair for _, old in cases for pair in old] + new, "Old")
    indicators = (after, IndicatorIndex.build(after.indicators))
    with open_store(store_url) as store:
        names, expected = [], {}
        for records, old in cases:
            name = f"case-{uuid.uuid4().hex[:8]}"
            names.append(name)
            scanned = _scan_into(store, name, records, _indicators(old, "Old"), tmp_path / name)
            fresh = match_records([r for _, r in records], indicators[1])
            expected[name] = _indicator_keys([f.to_json() for f in fresh]) - _indicator_keys(scanned)
        first = rehunt(store, cases=names, indicators=indicators)
        found: dict[str, set[tuple[str, ...]]] = {n: set() for n in names}
        for r in first.results:
            assert r.error is None
            found[r.case] |= _indicator_keys(r.new)
        assert found == expected
        for name in names:
            stored = [f["alert"] for f in store.findings_of(store.require_case(name))]
            assert all(n == 1 for n in Counter(finding_key(a) for a in stored).values())  # nothing stored twice
        second = rehunt(store, cases=names, indicators=indicators)
        assert second.new_findings() == 0


# --- what a copy of the database reveals ---------------------------------------------------------------


def _database_bytes(store_url: str, request: pytest.FixtureRequest) -> bytes:
    if store_url.startswith("postgresql"):
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.dump(store_url)
    path = Path(store_url)
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def test_the_database_alone_holds_no_observable_value(store_url: str, sample: Sample, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    api.check(sample.root, case="confidential case", store=store_url, screen=False, iocs=[_bundled("pegasus")],
              output=tmp_path / "results")
    assert rehunt(store_url).new_findings() >= 4  # the re-hunt's findings are stored too
    with open_store(store_url) as store:
        store.close()
    data = _database_bytes(store_url, request)
    assert b"confidential case" in data  # the grep does see what is stored in the clear
    planted = {value for p in sample.planted for value in (p.observed, p.indicator)}
    saved = tmp_path / "results"
    for name in ("safari_history.json", "sms.json", "manifest.json"):
        for row in json.loads((saved / name).read_text())[:40]:
            for key in ("url", "handle", "path", "relative_path"):
                if isinstance(row.get(key), str) and len(row[key]) > 5:
                    planted.add(row[key])
    planted |= {"/private/var/mobile/Library/SMS/sms.db", str(sample.root), str(saved.resolve()),
                "www.wikipedia.org", "Pegasus", "Predator"}
    leaked = sorted(v for v in planted if v.encode() in data)
    assert not leaked
    assert len(planted) > 40


def test_a_store_opened_with_another_secret_is_refused(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_store(store_url).close()
    monkeypatch.setenv("UNMASK_STORE_SECRET", "another-secret-of-enough-length")
    with pytest.raises(UsageError, match="another store secret"):
        open_store(store_url)


def test_the_secret_file_is_made_private(store_url: str, monkeypatch: pytest.MonkeyPatch, store_env: Path) -> None:
    monkeypatch.delenv("UNMASK_STORE_SECRET")
    open_store(store_url).close()
    secret_file = store_env / "config" / "store.secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    if not store_url.startswith("postgresql"):
        assert Path(store_url).stat().st_mode & 0o777 == 0o600
    secret_file.chmod(0o644)
    with pytest.raises(UsageError, match="readable by others"):
        open_store(store_url)


# --- migrations -------------------------------------------------------------------------------------------


def test_an_old_store_upgrades_in_place(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect, text

    old = Store(store_url, migrate=False)
    old.migrate("0001")
    assert old.revision() == "0001" and "rehunts" not in inspect(old.engine).get_table_names()
    old.case_id("from the first version", create=True)
    old.close()

    with open_store(store_url) as store:
        assert store.revision() == "0002"
        assert store.case_names() == {1: "from the first version"}
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM rehunts")).scalar() == 0
            diffs = compare_metadata(MigrationContext.configure(conn), schema.metadata)
        assert diffs == []  # the migrations build exactly the tables the code uses


# --- cases list, show, export, delete -------------------------------------------------------------------


def _counts(store_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    with open_store(store_url) as store, store.engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                for t in schema.metadata.sorted_tables}


def test_delete_removes_a_case_with_all_its_keys_and_nothing_else(store_url: str, sample: Sample,
                                                                   tmp_path: Path) -> None:
    api.check(sample.root, case="keep", store=store_url, screen=False, output=tmp_path / "keep")
    before = _counts(store_url)
    api.check(sample.root, case="remove", store=store_url, screen=False, output=tmp_path / "remove")
    assert _counts(store_url)["lookup_keys"] == 2 * before["lookup_keys"]

    refused = CliRunner().invoke(main, ["cases", "delete", "remove", "--store", store_url], input="n\n")
    assert refused.exit_code == 2 and _counts(store_url)["cases"] == 2
    result = _cli("cases", "delete", "remove", "--store", store_url, "--yes")
    assert result.exit_code == 0, result.output
    after = _counts(store_url)
    assert {k: v for k, v in after.items() if k != "store_meta"} == {k: v for k, v in before.items() if k != "store_meta"}
    assert (tmp_path / "remove" / "alerts.json").is_file()  # the output folder is the investigator's
    assert _cli("cases", "show", "remove", "--store", store_url).exit_code == 2


def test_export_writes_the_case_and_its_sightings(store_url: str, sample: Sample, tmp_path: Path) -> None:
    api.check(sample.root, case="export me", store=store_url, screen=False, output=tmp_path / "r")
    result = _cli("cases", "export", "export me", "-o", str(tmp_path / "out"), "--store", store_url)
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "out" / "case.json").read_text())
    assert document["case"] == "export me" and len(document["acquisitions"]) == 1
    matched = [f["alert"] for f in document["findings"] if f["alert"]["rule"] == INDICATOR_RULE]
    bundle = json.loads((tmp_path / "out" / "sightings.stix2.json").read_text())
    assert bundle["type"] == "bundle"
    sightings = [o for o in bundle["objects"] if o["type"] == "sighting"]
    (identity,) = [o for o in bundle["objects"] if o["type"] == "identity"]
    assert {s["sighting_of_ref"] for s in sightings} == {a["indicator"]["stix_id"] for a in matched}
    for s in sightings:
        assert s["spec_version"] == "2.1" and s["where_sighted_refs"] == [identity["id"]] and s["count"] >= 1
        assert s["first_seen"].endswith("Z") and s["first_seen"] <= s["last_seen"]


# --- many scans on Dask -----------------------------------------------------------------------------------


def test_check_many_on_a_local_cluster_of_two_workers(store_url: str, sample: Sample, tmp_path: Path) -> None:
    first, second = tmp_path / "phones" / "first", tmp_path / "phones" / "second"
    shutil.copytree(sample.root, first)
    shutil.copytree(sample.root, second)
    not_evidence = tmp_path / "phones" / "holiday photos"
    not_evidence.mkdir()
    (not_evidence / "a.txt").write_text("not a phone")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# phones screened after the alert\n{first}\n\n{not_evidence}\n")
    args = ["check-many", str(second), "--from", str(listing), "--workers", "2", "--store", store_url,
            "--no-screen", "-o", str(tmp_path / "results"), "-i", str(_bundled("pegasus"))]

    result = _cli(*args)
    assert result.exit_code == 1, result.output
    assert "3 acquisition(s): 2 scanned, 0 skipped, 1 failed" in result.output
    assert "holiday photos" in result.output  # the failure is reported for its acquisition
    listed = {c["case"]: c for c in json.loads(_cli("cases", "list", "--json", "--store", store_url).output)}
    assert set(listed) == {"first", "second"}
    assert all(c["acquisitions"] == 1 and c["findings"].get("critical") for c in listed.values())

    again = _cli(*args)
    assert "3 acquisition(s): 0 scanned, 2 skipped, 1 failed" in again.output, again.output
    with open_store(store_url) as store:
        assert sum(len(a) for a in store.acquisitions_by_case().values()) == 2

    # new indicators: a re-run scans again (the indicator set changed)
    newer = _cli(*args[:-2])
    assert "3 acquisition(s): 2 scanned, 0 skipped, 1 failed" in newer.output, newer.output


def test_rehunt_spreads_cases_over_a_cluster_when_the_store_is_postgresql(store_url: str, sample: Sample,
                                                                         tmp_path: Path) -> None:
    for name in ("north", "south", "east"):
        api.check(sample.root, case=name, store=store_url, screen=False, iocs=[_bundled("pegasus")],
                  output=tmp_path / name)
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=40) as cluster:
        result = _cli("rehunt", "--store", store_url, "--scheduler", cluster.scheduler_address)
    if not store_url.startswith("postgresql"):
        assert result.exit_code == 2 and "needs a PostgreSQL store" in result.output
        return
    assert result.exit_code == 1, result.output
    assert "3 case(s) with" in result.output
    for name in ("north", "south", "east"):
        assert len([f for f in _stored(store_url, name) if f["origin"] == "rehunt"]) >= 4
    assert "0 new finding(s)" in _cli("rehunt", "--store", store_url).output


def test_sqlite_file_is_a_real_sqlite_database(store_url: str) -> None:
    open_store(store_url).close()
    if store_url.startswith("postgresql"):
        pytest.skip("SQLite only")
    with sqlite3.connect(store_url) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_record_keys_are_the_confidential_matchers_keys() -> None:
    from unmask.detect.indicators.confidential import canonical_key, lookup_keys
    from unmask.model import Obs, Observable
    from unmask.store.keys import record_keys
    from unmask.store.secret import Keys

    keys = Keys.from_secret(b"k" * 32)
    visit = SafariVisit(device_path="/h", url="https://cdn.evil.example/x")
    expected = {keys.key(canonical_key(*k)) for o in (Observable(Obs.URL, "https://cdn.evil.example/x"),
                                                        Observable(Obs.DOMAIN, "cdn.evil.example"))
                for k in lookup_keys(o)}
    assert record_keys(keys, visit) == expected and len(expected) == 4  # the URL and 3 label suffixes
