"""The output writers: streamed records files, the spilled timeline, streamed == in-memory output."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.sample import build_sample
from unmask import api
from unmask.model import Obs, Record
from unmask.report.outputs import RecordsFile, csv_line
from unmask.report.writers import TimelineSpool, timeline_lines, write_all


@dataclass(frozen=True, slots=True, kw_only=True)
class _Sample(Record):
    kind: ClassVar[str] = "test/writers/sample"
    summary: ClassVar[str] = "{name}"

    when: datetime | None = None
    name: str = ""
    count: int | None = None
    raw: bytes | None = None
    hosts: Annotated[tuple[str, ...], Obs.HOST] = ()


def _lines(path: Path) -> list[dict[str, object]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def test_records_file_matches_to_json_including_values_orjson_refuses(tmp_path: Path) -> None:
    when = datetime(2024, 3, 1, 12, 0, 0, 5, tzinfo=UTC)
    records = [
        _Sample(device_path="/a", when=when, name="plain", count=3, raw=b"\x00\xff", hosts=("x.com",)),
        _Sample(device_path="/b", name="lone surrogate \udc80 from lenient decoding"),
        _Sample(device_path="/c", name="huge", count=2**80),
        _Sample(device_path="/d"),
    ]
    out = RecordsFile(tmp_path, "sample")
    out.write(records[:2])
    out.write([])
    out.write(records[2:])
    out.close()
    written = _lines(tmp_path / "sample.json")
    expected = json.loads(json.dumps([r.to_json() for r in records], default=str))
    # The surrogate cannot be UTF-8: it is written as a JSON escape, so it reads back unchanged.
    assert written == expected
    assert next(iter(written[0])) == "kind"
    assert not (tmp_path / "sample.json.part").exists()
    # One record per line, for people and line-oriented tools.
    assert len((tmp_path / "sample.json").read_text(encoding="utf-8").splitlines()) == len(records) + 2


def test_aborted_records_file_leaves_nothing(tmp_path: Path) -> None:
    out = RecordsFile(tmp_path, "sample")
    out.write([_Sample(device_path="/a")])
    out.abort()
    assert list(tmp_path.iterdir()) == []


_row = st.tuples(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.isoformat(" ", "microseconds")
    ),
    st.sampled_from(["sms", "manifest", "whatsapp"]),
    st.text(max_size=5),
    st.text(max_size=20),
).map(csv_line)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_row, max_size=40), max_size=6), st.integers(min_value=1, max_value=30))
def test_timeline_spool_sorts_like_sorted_however_it_spills(batches: list[list[str]], limit: int) -> None:
    spool = TimelineSpool(limit=limit)
    spool.CHUNK = 7  # several pickled chunks per run
    try:
        for batch in batches:
            spool.add(batch)
        assert spool.count == sum(len(b) for b in batches)
        assert list(spool.sorted_rows()) == sorted(row for b in batches for row in b)
    finally:
        spool.close()


def test_streamed_scan_writes_what_the_in_memory_writer_writes(tmp_path: Path) -> None:
    backup = build_sample(tmp_path / "backup", filler_files=3000, varied_paths=True).root
    streamed = api.check_backup(backup, output=tmp_path / "streamed")
    in_memory = api.check_backup(backup)
    write_all(in_memory, tmp_path / "memory")

    names = sorted(p.name for p in (tmp_path / "memory").iterdir())
    # The orchestrator adds the report page after the writer; write_all leaves it out.
    assert sorted([*names, "report.html"]) == sorted(p.name for p in (tmp_path / "streamed").iterdir())
    for name in names:
        if name.endswith(".json") and name != "info.json":
            assert json.loads((tmp_path / "streamed" / name).read_text(encoding="utf-8")) == json.loads(
                (tmp_path / "memory" / name).read_text(encoding="utf-8")
            ), name
    for name in ("timeline.csv", "alerts_timeline.csv"):
        assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "memory" / name).read_bytes()

    # Every record type's file holds exactly what Record.to_json gives (orjson writes it).
    for parser, records in in_memory.records.items():
        if records:
            expected = json.loads(json.dumps([r.to_json() for r in records], ensure_ascii=False))
            assert _lines(tmp_path / "streamed" / f"{parser}.json") == expected, parser

    # The streamed scan keeps only what heuristics and screening need; the manifest is on disk.
    assert streamed.records["manifest"] == []
    assert len(in_memory.records["manifest"]) == len(_lines(tmp_path / "streamed" / "manifest.json"))
    assert [f.message for f in streamed.findings] == [f.message for f in in_memory.findings]
    assert streamed.records["sms_attachments"] == in_memory.records["sms_attachments"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=5))
def test_csv_line_is_what_the_csv_module_writes(fields: list[str]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerow(fields)
    assert csv_line(fields) == buffer.getvalue()


def test_timeline_lines_once_per_distinct_time_and_read_back_by_csv(tmp_path: Path) -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Two(Record):
        kind: ClassVar[str] = "test/writers/two"
        summary: ClassVar[str] = 'two "{device_path}"'
        a: datetime | None = None
        b: datetime | None = None

    records = [Two(device_path="/x\n,", a=t, b=t), Two(device_path="/y", a=t, b=t + timedelta(1)), Two(device_path="/z")]
    lines = list(timeline_lines("p", records))
    rows = list(csv.reader(io.StringIO("".join(lines), newline="")))
    assert rows == [
        ["2024-01-01 00:00:00.000000", "p", "test/writers/two a", 'two "/x\n,"'],
        ["2024-01-01 00:00:00.000000", "p", "test/writers/two a", 'two "/y"'],
        ["2024-01-02 00:00:00.000000", "p", "test/writers/two b", 'two "/y"'],
    ]
