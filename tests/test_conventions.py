"""The design rules of DESIGN.md, made executable over the registries and the source tree.

Each rule that a registry enforces by raising is also shown to fail here, on a throwaway class
defined inside :func:`unmask.parsers.registry.isolated`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.builders.ios_backup import BackupBuilder
from unmask.acquisition import open_ios_backup
from unmask.detect.heuristics.base import registry as heuristics
from unmask.model import Coverage, Record, Status
from unmask.parsers.base import ParseContext, Parser, Source, SqliteParser, iter_parser
from unmask.parsers.registry import PLATFORMS, RegistryError, isolated, registry

SRC = Path(__file__).resolve().parents[1] / "src" / "unmask"
TESTS = Path(__file__).resolve().parent


def _module_file(obj: object) -> Path:
    return Path(inspect.getfile(obj))  # type: ignore[arg-type]


@pytest.mark.parametrize("parser", registry(), ids=lambda p: f"{p.platform}/{p.name}")
def test_every_parser_is_declared_documented_and_tested(parser: type[Parser]) -> None:
    assert inspect.getdoc(parser), f"{parser.__name__} needs a docstring"
    assert parser.platform in PLATFORMS
    assert parser.sources, f"{parser.__name__} declares no sources"
    assert parser.records, f"{parser.__name__} declares no record types"
    for record in parser.records:
        assert record.kind != "record" and "/" in record.kind
    module = _module_file(parser)
    rel = module.relative_to(SRC / "parsers")
    test_module = TESTS / "parsers" / rel.parent / f"test_{module.stem}.py"
    assert test_module.is_file(), f"{parser.__name__} has no test module {test_module}"
    if issubclass(parser, SqliteParser):
        assert re.search(r"\.sql[\"']", test_module.read_text()), (
            f"{test_module} builds no fixture from a real schema"
        )


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_concrete_parser_class_is_registered() -> None:
    # Walks the class tree itself, not the registry: a parser class of unmask that is neither
    # registered nor declared abstract fails here. Throwaway classes of other tests live in
    # tests.* modules and are left out.
    registered = set(registry())
    missing = [
        c.__qualname__
        for c in _subclasses(Parser)
        if c.__module__.startswith("unmask.") and not vars(c)["declared_abstract"] and c not in registered
    ]
    assert not missing, f"parser classes not in the registry: {missing}"
    bases = [c.__qualname__ for c in _subclasses(Parser) if c.__module__.startswith("unmask.") and vars(c)["declared_abstract"]]
    assert set(bases) >= {"SqliteParser", "PlistParser", "CoreDataUsageParser"}


def test_record_kinds_are_unique_and_yielded_by_one_parser() -> None:
    owners: dict[str, str] = {}
    for parser in registry():
        for record in parser.records:
            owner = owners.setdefault(record.kind, parser.name)
            assert owner == parser.name, f"{record.kind} is yielded by {owner} and {parser.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Thing(Record):
    kind: ClassVar[str] = "test/thing"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Other(Record):
    kind: ClassVar[str] = "test/other"


def _parser(name: str, platform: str = "ios", **attrs: Any) -> type[Parser]:
    def parse(self: Parser, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        yield from ()

    namespace = {"name": name, "platform": platform, "parse": parse, "__doc__": "A test parser.", **attrs}
    return type(f"Parser_{name}", (Parser,), namespace)


def test_a_second_parser_with_the_same_name_is_refused() -> None:
    with isolated():
        first = _parser("conventions_dup")
        with pytest.raises(RegistryError, match="conventions_dup"):
            _parser("conventions_dup")
        assert first in registry()
        # the same short name on another platform is fine, but not beside a platform-independent one
        _parser("conventions_dup", "android")
        with pytest.raises(RegistryError, match="unique"):
            _parser("conventions_dup", "any")
    assert not any(p.name == "conventions_dup" for p in registry())


def test_a_parser_without_a_name_or_with_an_unsafe_one_is_refused() -> None:
    with isolated():
        with pytest.raises(RegistryError, match="no name"):
            _parser("")
        with pytest.raises(RegistryError, match="output file"):
            _parser("../x")
        with pytest.raises(RegistryError, match="platform"):
            _parser("conventions_bad_platform", "ios-backup")


def test_an_abstract_base_is_not_registered() -> None:
    with isolated():
        class Base(Parser, abstract=True):
            """A shared base."""

        class Concrete(Base):
            """A parser on the shared base."""

            name = "conventions_concrete"
            platform = "ios"

            def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
                yield from ()

        assert Base not in registry() and Concrete in registry()


def test_a_record_of_an_undeclared_type_fails_the_artefact(backup: BackupBuilder) -> None:
    backup.finish()
    with isolated():
        class Liar(Parser):
            """Declares one record type and yields another."""

            name = "conventions_liar"
            platform = "ios"
            sources = (Source.host("Info.plist"),)
            records = (_Thing,)

            def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
                yield _Thing(device_path=device_path)
                yield _Other(device_path=device_path)

        coverage = Coverage("conventions_liar", "")
        records = list(iter_parser(Liar(), open_ios_backup(backup.root), coverage))
    assert [type(r) for r in records] == [_Thing]
    assert coverage.status is Status.PARTIAL
    assert "does not declare" in (coverage.reason or "")


def test_the_design_example_is_a_parser_that_registers() -> None:
    design = (SRC.parents[1] / "DESIGN.md").read_text()
    example = design.split("## Adding a parser", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    with isolated():
        exec(compile(example, "DESIGN.md", "exec"), namespace)
        parsers = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, Parser) and v in registry()]
    assert len(parsers) == 1, "the DESIGN.md example must define exactly one registered parser"


@pytest.mark.parametrize("rule", heuristics(), ids=lambda r: r.id)
def test_every_heuristic_explains_itself_and_is_tested(rule: type) -> None:
    for attr in ("id", "title", "reference", "explanation", "benign"):
        assert getattr(rule, attr), f"{rule.__name__}.{attr} is empty"
    assert rule.consumes, f"{rule.__name__} consumes no record classes"
    assert all(isinstance(c, type) and issubclass(c, Record) for c in rule.consumes)
    module = _module_file(rule)
    assert (TESTS / "detect" / "heuristics" / f"test_{module.stem}.py").is_file()


def test_heuristics_read_fields_not_getattr() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in (SRC / "detect" / "heuristics").glob("*.py")
        if re.search(r"\bgetattr\(", p.read_text())
    ]
    assert not offenders, f"heuristics must test record classes, not probe fields: {offenders}"


_OWNERS = {
    # pattern → the only files allowed to contain it
    r"\bsqlite3\.connect\(": {"formats/sqlite.py"},
    r"\bplistlib\.loads?\(": {"formats/plist.py"},
    r"\b(?:fromtimestamp|utcfromtimestamp)\(": {"timeutil.py"},
    # Times in text (log lines, command outputs) are parsed by timeutil.parse_wall, which says
    # what it inferred (year, zone); a bare strptime would drop that silently.
    r"\bstrptime\(": {"timeutil.py"},
    r"timedelta\((?:seconds|microseconds)=": {"timeutil.py"},
    # intel/client.py parses the server address the user typed, not evidence.
    r"\burlsplit\(|\burlparse\(": {"observables.py", "intel/client.py"},
    r"stix2patterns": {"detect/indicators/stix.py"},
}
# Building datetimes from evidence text: timeutil's job, never a parser's or an acquisition's.
_TIME_IN_PARSERS = r"\bstrptime\(|\bdatetime\(|\bfromisoformat\("


@pytest.mark.parametrize("pattern", sorted(_OWNERS))
def test_cross_cutting_concerns_have_one_owner(pattern: str) -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        if rel in _OWNERS[pattern]:
            continue
        if re.search(pattern, path.read_text()):
            offenders.append(rel)
    assert not offenders, f"{pattern} used outside its owner: {offenders}"


def test_parsers_and_acquisitions_leave_time_parsing_to_timeutil() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for folder in ("parsers", "acquisition", "formats")
        for p in (SRC / folder).rglob("*.py")
        if re.search(_TIME_IN_PARSERS, p.read_text())
    ]
    assert not offenders, f"strptime/datetime()/fromisoformat outside timeutil: {offenders}"


def test_every_heuristic_is_in_the_rules_catalogue() -> None:
    catalogue = (SRC.parents[1] / "docs" / "rules.md").read_text()
    missing = [rule.id for rule in heuristics() if f"`{rule.id}`" not in catalogue]
    assert not missing, f"docs/rules.md lacks {missing}"
