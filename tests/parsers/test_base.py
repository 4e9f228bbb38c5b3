"""The parser base: named sections mapped once and shared, host files, plugin provenance."""

from __future__ import annotations

import gzip
import hashlib
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import pytest

from unmask.acquisition.base import Acquisition, FileEntry, Section, is_regular_file
from unmask.formats.text import Line as TextLine
from unmask.formats.text import locator as text_locator
from unmask.model import Coverage, Record, Status, WallClockRecord
from unmask.parsers import registry as parser_registry
from unmask.parsers.base import ParseContext, Parser, Source, TextParser, iter_parser
from unmask.report.outputs import timeline_description
from unmask.report.writers import timeline_lines
from unmask.results import tool_info


class DumpOutput(Acquisition):
    """A folder holding one command-output file whose sections are split on '== NAME ==' lines."""

    platform = "android"  # no kind: a test class must not join the registry of acquisitions

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.mapped = 0

    def listing(self) -> Iterator[list[FileEntry]]:
        return iter(())

    def entry(self, device_path: str) -> FileEntry | None:
        return None

    def local_path(self, device_path: str) -> Path | None:
        return None

    def map_sections(self) -> Mapping[str, Section]:
        self.mapped += 1
        data = (self.root / "dumpsys.txt").read_bytes()
        sections: dict[str, Section] = {}
        offset, name, start = 0, None, 0
        for line in data.splitlines(keepends=True):
            if line.startswith(b"== ") and line.rstrip().endswith(b" =="):
                if name is not None:
                    sections[name] = Section(name, "dumpsys.txt", start, offset, host=True)
                name, start = "dumpsys:" + line.strip()[3:-3].decode(), offset + len(line)
            offset += len(line)
        if name is not None:
            sections[name] = Section(name, "dumpsys.txt", start, None, host=True)
        return sections

    def host_file(self, name: str) -> Path | None:
        path = self.root / name
        return path if is_regular_file(path) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Line(Record):
    kind: ClassVar[str] = "test/section/line"
    text: str


def _section_parser(name: str, pattern: str) -> type[Parser]:
    def parse(self: Parser, ctx: ParseContext, section: str) -> Iterator[Record]:
        with ctx.acq.open_section(section) as handle:
            for raw in handle:
                yield Line(device_path=section, text=raw.decode().rstrip("\n"))

    return type(name, (Parser,), {
        "__doc__": "Lines of a section.", "name": name, "platform": "android",
        "sources": (Source.section(pattern),), "records": (Line,), "parse": parse,
    })


@pytest.fixture
def dump(tmp_path: Path) -> DumpOutput:
    (tmp_path / "dumpsys.txt").write_bytes(b"== package ==\npkg a\npkg b\n== battery ==\nlevel 50\n")
    return DumpOutput(tmp_path)


def test_sections_are_mapped_once_and_shared_by_every_parser(dump: DumpOutput) -> None:
    with parser_registry.isolated():
        packages = _section_parser("test_packages", "dumpsys:package")
        everything = _section_parser("test_all_sections", "dumpsys:*")
        cov_a, cov_b = Coverage("a", ""), Coverage("b", "")
        first = list(iter_parser(packages(), dump, cov_a))
        second = list(iter_parser(everything(), dump, cov_b))
    assert [r.text for r in first] == ["pkg a", "pkg b"]  # type: ignore[attr-defined]
    assert [(r.device_path, r.text) for r in second] == [  # type: ignore[attr-defined]
        ("dumpsys:battery", "level 50"), ("dumpsys:package", "pkg a"), ("dumpsys:package", "pkg b"),
    ]
    assert dump.mapped == 1
    assert cov_a.status is Status.PARSED
    assert cov_a.artefacts[0].sha256 == hashlib.sha256(b"pkg a\npkg b\n").hexdigest()


def test_a_missing_section_is_absent(dump: DumpOutput) -> None:
    with parser_registry.isolated():
        parser = _section_parser("test_missing_section", "dumpsys:wifi")
        coverage = Coverage("x", "")
        assert list(iter_parser(parser(), dump, coverage)) == []
    assert coverage.status is Status.ABSENT and coverage.reason == "not in the evidence"


def test_plugins_from_entry_points_carry_their_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "unmask_test_plugin.py"
    module.write_text(textwrap.dedent('''
        from collections.abc import Iterator
        from unmask.parsers.base import Parser, Source

        class PluginParser(Parser):
            """A parser shipped by another package."""

            name = "test_plugin"
            platform = "ios"
            sources = (Source("/private/var/mobile/plugin.db"),)

            def parse(self, ctx, device_path) -> Iterator:
                yield from ()
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint("test", "unmask_test_plugin", parser_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(parser_registry, "entry_points", lambda group: [point] if group == point.group else [])
    with parser_registry.isolated():
        monkeypatch.setattr(parser_registry, "_loaded", False)
        try:
            names = [p.name for p in parser_registry.registry()]
            origins = tool_info()["plugins"]
        finally:
            sys.modules.pop("unmask_test_plugin", None)
    assert "test_plugin" in names
    assert origins == [{
        "parser": "ios/test_plugin", "entry_point": "test = unmask_test_plugin", "distribution": None,
        "version": None, "file": str(module), "sha256": hashlib.sha256(module.read_bytes()).hexdigest(),
    }]
    assert "test_plugin" not in [p.name for p in parser_registry.registry()]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine(WallClockRecord):
    kind: ClassVar[str] = "test/log/line"
    summary: ClassVar[str] = "{process}: {message}"
    when: datetime | None = None
    process: str = ""
    message: str = ""


class _SyslogParser(TextParser, abstract=True):
    """Syslog-style lines without a year: 'Dec  6 17:04:40 proc: message'."""

    records = (LogLine,)

    def continues(self, text: str) -> bool:
        return text.startswith((" ", "\t"))

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[TextLine]) -> Iterator[Record]:
        for line in lines:
            stamp, _, rest = line.text[:15], line.text[15:], line.text[16:]
            when = ctx.wall_time(stamp, ["%b %d %H:%M:%S"])
            process, _, message = rest.partition(": ")
            yield LogLine(
                device_path=device_path, locator=text_locator(line), when=when.value if when else None,
                time_inferred=when.inferred if when else "", process=process, message=message,
            )


class ZonedDump(DumpOutput):
    def timezone(self) -> str | None:
        return "Europe/Berlin"

    def collected(self) -> datetime | None:
        return datetime(2026, 1, 3, 9, 0, tzinfo=UTC)


def test_text_sources_stream_compressed_logs_with_line_locators_and_inferred_times(tmp_path: Path) -> None:
    log = b"Dec 31 23:59:58 backupd: done\nJan  1 00:00:01 launchd: starting\n  continued here\n"
    (tmp_path / "system.log.gz").write_bytes(gzip.compress(log))
    (tmp_path / "dumpsys.txt").write_bytes(b"")
    with parser_registry.isolated():
        parser = type("SyslogTest", (_SyslogParser,), {
            "__doc__": "Test syslog.", "name": "test_syslog", "platform": "android",
            "sources": (Source.host("system.log.gz"),),
        })
        records = list(iter_parser(parser(), ZonedDump(tmp_path), Coverage("test_syslog", "")))
    assert [(r.locator, r.process) for r in records] == [("line=1", "backupd"), ("line=2", "launchd")]
    assert records[1].message == "starting\n  continued here"
    # Berlin is UTC+1 in winter; the year comes from the collection date (January 2026).
    assert records[0].when == datetime(2025, 12, 31, 22, 59, 58, tzinfo=UTC)
    assert records[1].when == datetime(2025, 12, 31, 23, 0, 1, tzinfo=UTC)
    assert records[0].time_inferred == "year,zone"
    description = timeline_description(records[0])
    assert description.endswith("[time: year,zone inferred]")
    line = next(timeline_lines("test_syslog", records[:1]))
    assert line.startswith('"2025-12-31 22:59:58.000000","test_syslog","test/log/line when","backupd: done [time')


def test_a_log_line_without_zone_or_device_zone_is_taken_as_utc(tmp_path: Path) -> None:
    (tmp_path / "system.log").write_bytes(b"Mar  1 10:00:00 proc: x\n")
    (tmp_path / "dumpsys.txt").write_bytes(b"")

    class Unzoned(DumpOutput):
        def collected(self) -> datetime | None:
            return datetime(2026, 3, 2, tzinfo=UTC)

    with parser_registry.isolated():
        parser = type("SyslogUtc", (_SyslogParser,), {
            "__doc__": "Test syslog.", "name": "test_syslog_utc", "platform": "android",
            "sources": (Source.host("system.log"),),
        })
        records = list(iter_parser(parser(), Unzoned(tmp_path), Coverage("x", "")))
    assert records[0].when == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert records[0].time_inferred == "year,zone-unknown"


def test_a_plist_too_big_to_decode_within_the_memory_budget_is_refused_unread(tmp_path: Path) -> None:
    # plistlib builds a whole plist at once (about 15 bytes of memory per byte of a keyed archive)
    # and nothing interrupts it, so the size decides first: memory budget / PLIST_EXPANSION.
    import plistlib

    from tests.builders.ios_backup import BackupBuilder
    from unmask.acquisition import open_ios_backup
    from unmask.budget import Budget
    from unmask.parsers.base import PLIST_EXPANSION, run_parser
    from unmask.parsers.ios.backup_info import BackupInfoParser
    from unmask.parsers.ios.global_preferences import GlobalPreferencesParser

    limit = (64 << 20) // PLIST_EXPANSION
    builder = BackupBuilder(tmp_path / "backup")
    builder.add_plist("HomeDomain", "Library/Preferences/.GlobalPreferences.plist",
                      {"AppleLocale": "en_CH", "Padding": b"x" * limit})
    builder.add_plist("ManagedPreferencesDomain", "mobile/.GlobalPreferences.plist", {"AppleLocale": "de_CH"})
    root = builder.finish()
    (root / "Info.plist").write_bytes(plistlib.dumps({"Device Name": "x", "Padding": b"y" * limit}))
    acq = open_ios_backup(root)
    records, coverage = run_parser(GlobalPreferencesParser(), acq, Budget(memory_mb=64))
    big, small = coverage.artefacts
    assert big.status is Status.FAILED and "plist larger than 4 MB" in (big.reason or "")
    assert "--budget-memory" in (big.reason or "")
    assert small.status is Status.PARSED and len(records) == 1  # the parser goes on with the next one
    records, coverage = run_parser(GlobalPreferencesParser(), acq, Budget(memory_mb=128))
    assert coverage.status is Status.PARSED and len(records) == 2
    _, coverage = run_parser(BackupInfoParser(), acq, Budget(memory_mb=64))
    assert coverage.status is Status.FAILED and "plist larger than" in (coverage.reason or "")
