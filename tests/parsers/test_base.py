"""The parser base: named sections mapped once and shared, host files, plugin provenance."""

from __future__ import annotations

import hashlib
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import pytest

from unmask.acquisition.base import Acquisition, FileEntry, Section, is_regular_file
from unmask.model import Coverage, Record, Status
from unmask.parsers import registry as parser_registry
from unmask.parsers.base import ParseContext, Parser, Source, iter_parser
from unmask.results import tool_info


class DumpOutput(Acquisition):
    """A folder holding one command-output file whose sections are split on '== NAME ==' lines."""

    kind = "test-dump"
    platform = "android"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.mapped = 0

    def entries(self) -> Iterator[FileEntry]:
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
