"""The design rules of DESIGN.md, made executable over the registries and the source tree."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from unmask.detect.heuristics.base import registry as heuristics
from unmask.parsers.base import Parser, SqliteParser, registry

SRC = Path(__file__).resolve().parents[1] / "src" / "unmask"
TESTS = Path(__file__).resolve().parent


def _module_file(obj: object) -> Path:
    return Path(inspect.getfile(obj))  # type: ignore[arg-type]


@pytest.mark.parametrize("parser", registry(), ids=lambda p: p.name)
def test_every_parser_is_declared_documented_and_tested(parser: type[Parser]) -> None:
    assert inspect.getdoc(parser), f"{parser.__name__} needs a docstring"
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


def test_parser_names_and_record_kinds_are_unique() -> None:
    names = [p.name for p in registry()]
    assert len(names) == len(set(names))
    owners: dict[str, str] = {}
    for parser in registry():
        for record in parser.records:
            owner = owners.setdefault(record.kind, parser.name)
            assert owner == parser.name, f"{record.kind} is yielded by {owner} and {parser.name}"


@pytest.mark.parametrize("rule", heuristics(), ids=lambda r: r.id)
def test_every_heuristic_explains_itself_and_is_tested(rule: type) -> None:
    for attr in ("id", "title", "reference", "explanation", "benign"):
        assert getattr(rule, attr), f"{rule.__name__}.{attr} is empty"
    assert rule.kinds, f"{rule.__name__} consumes no record kinds"
    module = _module_file(rule)
    assert (TESTS / "detect" / "heuristics" / f"test_{module.stem}.py").is_file()


_OWNERS = {
    # pattern → the only files allowed to contain it
    r"\bsqlite3\.connect\(": {"parsers/sqlite.py"},
    r"\bplistlib\.loads?\(": {"parsers/plist.py"},
    r"\b(?:fromtimestamp|utcfromtimestamp)\(": {"timeutil.py"},
    # Times in text (log lines, command outputs) are parsed by timeutil.parse_wall, which says
    # what it inferred (year, zone); a bare strptime would drop that silently.
    r"\bstrptime\(": {"timeutil.py"},
    r"timedelta\((?:seconds|microseconds)=": {"timeutil.py"},
    # intel/client.py parses the server address the user typed, not evidence.
    r"\burlsplit\(|\burlparse\(": {"observables.py", "intel/client.py"},
    r"stix2patterns": {"detect/indicators/stix.py"},
}


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


def test_every_heuristic_is_in_the_rules_catalogue() -> None:
    catalogue = (SRC.parents[1] / "docs" / "rules.md").read_text()
    missing = [rule.id for rule in heuristics() if f"`{rule.id}`" not in catalogue]
    assert not missing, f"docs/rules.md lacks {missing}"
