"""Every crash the fuzzer ever found, replayed; a short hypothesis-driven pass over every target;
and the fuzzer itself (its seeds, mutations, time limit and crash file) doing what it says."""

from __future__ import annotations

import base64
import io
import json
import random
import signal
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import fuzz
from tests.fuzz.mutate import FAMILIES, fix_wal_checksums, mutate
from tests.fuzz.targets import (
    Failure,
    ParserTarget,
    Target,
    Violation,
    _walkable,
    execute,
    execute_at,
    parsers_without_seeds,
    shared_chain,
    targets,
)
from unmask.errors import ArtefactError
from unmask.formats.sqlite import open_database

ENTRIES = fuzz.load_regressions(fuzz.REGRESSIONS)
TARGETS = sorted(targets())
PARSER_TARGETS = [name for name in TARGETS if name.startswith("parser.")]
FORMAT_TARGETS = [name for name in TARGETS if not name.startswith("parser.")]


def _entry_id(entry: dict) -> str:
    return f"{entry['target']}-{entry['signature'].rsplit('|', 1)[-1]}"


def _replayed(entry: dict) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=entry.get("note", "open"))] if entry.get("status") == "open" else []
    return pytest.param(entry, marks=marks, id=_entry_id(entry))


def test_the_regression_file_is_well_formed() -> None:
    assert ENTRIES, "the fuzzer's findings are kept"
    for entry in ENTRIES:
        assert entry["target"] in targets(), entry["target"]
        assert entry["signature"].startswith(entry["target"] + "|")
        assert len(fuzz.input_of(entry)) == entry["size"]
        assert entry["exception"] and entry["found"] and "note" in entry
        assert entry.get("status", "fixed") in ("fixed", "open")


@pytest.mark.parametrize("entry", [_replayed(e) for e in ENTRIES])
def test_a_saved_crash_no_longer_crashes(entry: dict) -> None:
    result = execute(targets()[entry["target"]], fuzz.input_of(entry))
    assert result.failure is None, result.failure.trace if result.failure else ""


@pytest.mark.parametrize("name", TARGETS)
def test_mutated_seeds_do_not_crash(name: str) -> None:
    target = targets()[name]
    seeds = target.seeds()

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(0, len(seeds) - 1), st.randoms(use_true_random=False))
    def check(index: int, rng: random.Random) -> None:
        data = mutate(rng, seeds[index], target.kind, seeds)
        result = execute(target, data)
        assert result.failure is None, result.failure.trace if result.failure else ""

    check()


def test_every_registered_parser_is_a_fuzz_target() -> None:
    assert parsers_without_seeds() == [], (
        "no sample builder gives these parsers an artefact: add one to a builder that tests/fuzz/harvest.py "
        "harvests (Android: tests/builders/android_sample.py), or hand-made seeds to tests/fuzz/targets.py"
    )


@pytest.mark.parametrize("name", PARSER_TARGETS)
def test_parser_seeds_reach_the_parser_and_give_records(name: str) -> None:
    target = targets()[name]
    assert isinstance(target, ParserTarget)
    harvested = {data for data, _ in target.origins}
    gave = []
    for data, place in target.origins:
        # Where its builder put it, a harvested artefact parses cleanly (a sample's Info.plist may
        # list no apps, its sms.db hold no attachment: no records is not a failure there) …
        result = execute_at(target, data, place)
        assert result.failure is None, result.failure.trace if result.failure else ""
        status, records, _ = result.outcome.split(":", 2)
        assert status == "parsed", (place, result.outcome)
        gave.append(int(records))
    # … and one at least gives records: the seeds reach the parser.
    assert not gave or max(gave) > 0, [place for _, place in target.origins]
    for seed in target.seeds():
        # Served at every place the parser reads, every seed gives records somewhere.
        result = execute(target, seed)
        assert result.failure is None, result.failure.trace if result.failure else ""
        status, records, _ = result.outcome.split(":", 2)
        assert status in ("parsed", "partial"), result.outcome
        if seed not in harvested:  # a hand-made seed is made to give records
            assert status == "parsed" and int(records) > 0, result.outcome


@pytest.mark.parametrize("name", FORMAT_TARGETS)
def test_format_seeds_are_read_not_refused(name: str) -> None:
    for seed in targets()[name].seeds():
        result = execute(targets()[name], seed)
        assert result.failure is None, result.failure.trace if result.failure else ""
        assert "refused" not in result.outcome, result.outcome
        assert ":skipped:" not in result.outcome or ":skipped:0" in result.outcome, result.outcome


def test_mutations_depend_on_the_seed_only() -> None:
    seeds = targets()["sqlite.open_database"].seeds()
    for kind in FAMILIES:
        first = [mutate(random.Random(f"7:{kind}"), seeds[0], kind, seeds) for _ in range(20)]
        again = [mutate(random.Random(f"7:{kind}"), seeds[0], kind, seeds) for _ in range(20)]
        other = [mutate(random.Random(f"8:{kind}"), seeds[0], kind, seeds) for _ in range(20)]
        assert first == again and first != other
        assert sum(m != seeds[0] for m in first) >= 15, kind


def test_a_wal_page_changed_with_its_checksums_fixed_is_applied_by_sqlite(tmp_path: Path) -> None:
    # The WAL mutations recompute the checksums so that SQLite reads the changed frame; with a
    # wrong checksum SQLite would ignore it (and the mutation would test nothing).
    wal = bytearray(targets()["sqlite.wal"].seeds()[-1])
    at = wal.rfind(b"message 2-0 ")
    assert at > 0
    wal[at : at + 7] = b"MESSAGE"
    broken = bytes(wal)
    fix_wal_checksums(wal)
    from tests.fuzz.targets import _wal_base

    def texts(log: bytes) -> list[str]:
        (tmp_path / "db.sqlite").write_bytes(_wal_base())
        (tmp_path / "db.sqlite-wal").write_bytes(log)
        with open_database(tmp_path / "db.sqlite", "/x", wal=tmp_path / "db.sqlite-wal") as db:
            return [row["text"] for row in db.query("SELECT text FROM message")]

    assert any(t.startswith("MESSAGE 2-0 ") for t in texts(bytes(wal)))
    assert not any(t.startswith("MESSAGE") for t in texts(broken))


def test_an_input_over_the_time_limit_is_a_crash_and_an_earlier_alarm_survives() -> None:
    def forever(data: bytes) -> None:
        while True:
            pass

    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        result = execute(Target("spin", "bytes", lambda: [b""], forever), b"", time_limit=0.2)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert result.failure is not None and result.failure.kind == "time limit"
    assert 0.2 <= result.seconds < 2
    assert 90 < remaining < 100


def test_only_what_the_contract_allows_passes() -> None:
    assert execute(targets()["plist.load"], b"not a plist").failure is None  # refused: ArtefactError

    def odd(data: bytes) -> None:
        raise KeyError(data)

    failure = execute(Target("odd", "bytes", lambda: [b""], odd), b"k").failure
    assert failure is not None and failure.kind == "KeyError"
    assert failure.signature == "odd|KeyError|tests/fuzz/test_regressions.py:odd"
    # A keyed archive whose objects unfold when resolved is refused, not handed out.
    assert "refused:ArtefactError:plist unfolds" in execute(targets()["plist.unarchive"], shared_chain(40)).outcome
    # What the check would say of such a value, had unarchive handed it out.
    chain: list[object] = []
    for _ in range(30):
        chain = [chain, chain]
    with pytest.raises(Violation, match="cannot be walked"):
        _walkable(chain)


def _crashy() -> Target:
    def run(data: bytes) -> None:
        if data and data[0] % 2:
            raise ValueError(f"odd first byte {data[0]}")
        if not data:
            raise ArtefactError("empty")  # not allowed here either: run decides what passes

    return Target("crashy", "bytes", lambda: [b"\x00" * 32], run)


def test_the_fuzzer_keeps_each_new_crash_and_reports_it(tmp_path: Path) -> None:
    target = _crashy()
    saved = tmp_path / "regressions.json"
    out = io.StringIO()
    new = fuzz.fuzz([target], seconds=1.0, seed=3, regressions=saved, out=out)
    entries = json.loads(saved.read_text())
    assert new == len(entries) >= 1
    kinds = {e["exception"].split(":")[0] for e in entries}
    assert "ValueError" in kinds
    for entry in entries:
        data = fuzz.input_of(entry)
        assert execute(target, data).failure is not None  # the kept input reproduces the crash
        assert entry["seed"] == 3 and entry["signature"].startswith("crashy|")
    value_error = next(e for e in entries if e["exception"].startswith("ValueError"))
    assert len(fuzz.input_of(value_error)) == 1  # shrunk to the one byte that matters
    report = out.getvalue()
    assert "CRASH crashy: ValueError: odd first byte" in report and "crashy" in report.split("target")[-1]

    # Marked open (reported, not fixed): printed, neither saved again nor failing the run.
    for entry in entries:
        entry["status"] = "open"
    saved.write_text(json.dumps(entries))
    out = io.StringIO()
    assert fuzz.fuzz([target], seconds=0.5, seed=3, regressions=saved, out=out) == 0
    assert json.loads(saved.read_text()) == entries and "known (open) crashy" in out.getvalue()


def test_the_command_line_lists_targets_and_refuses_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert fuzz.main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in TARGETS)
    assert [t.name for t in fuzz.select(["parser.ios/sms"])] == ["parser.ios/sms"]
    assert {t.name for t in fuzz.select(["plist."])} == {"plist.load", "plist.unarchive", "plist.mbfile_fields"}
    with pytest.raises(SystemExit, match="no fuzz target"):
        fuzz.select(["nonsense"])


def test_big_inputs_are_kept_compressed_and_read_back() -> None:
    failure = Failure("plist.load", "ValueError", "x", "here")
    small = fuzz._entry(failure, b"abc", 0)
    big = fuzz._entry(failure, bytes(100_000), 0)
    assert base64.b64decode(small["input"]) == b"abc" and "input_zlib" not in small
    assert "input" not in big and len(big["input_zlib"]) < 1000
    assert fuzz.input_of(big) == bytes(100_000)


def test_seeds_are_built_from_the_real_schemas() -> None:
    # The SQLite seeds are real device schemas (not blobs): sms.db has its message table.
    seed = targets()["parser.ios/sms"].seeds()[0]
    conn = sqlite3.connect(":memory:")
    conn.deserialize(seed)
    assert {"message", "handle", "attachment"} <= {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
