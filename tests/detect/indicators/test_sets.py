from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from unmask.detect.indicators import sets
from unmask.errors import UsageError


def _write(path: Path, *patterns: str) -> Path:
    objects = [{"type": "malware", "id": "malware--1", "name": "Family"}]
    for n, p in enumerate(patterns):
        objects.append({"type": "indicator", "id": f"indicator--{n}", "pattern": p, "pattern_type": "stix"})
    path.write_text(json.dumps({"type": "bundle", "objects": objects}))
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sets.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv(sets.ENV_DATA, str(tmp_path / "data"))
    monkeypatch.delenv(sets.ENV_IOCS, raising=False)


def test_default_is_the_bundled_sets_plus_downloaded(tmp_path: Path) -> None:
    default = sets.resolve()
    assert {p.name for p in default} == {p.name for p in sets.bundled_files()}
    folder = sets.downloaded_dir()
    folder.mkdir(parents=True)
    extra = _write(folder / "new.stix2", "[domain-name:value='n.example']")
    assert extra.resolve() in sets.resolve()


def test_explicit_paths_and_env_replace_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _write(tmp_path / "a.stix2", "[domain-name:value='a.example']")
    folder = tmp_path / "more"
    folder.mkdir()
    b = _write(folder / "b.json", "[domain-name:value='b.example']")
    monkeypatch.setenv(sets.ENV_IOCS, os.pathsep.join([str(folder), ""]))
    assert sets.resolve([a]) == [a.resolve(), b.resolve()]
    assert sets.resolve([a], use_env=False) == [a.resolve()]


def test_missing_paths_and_empty_folders_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        sets.resolve([tmp_path / "nope.stix2"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError):
        sets.resolve([tmp_path / "empty"])


def test_compiled_cache_gives_the_same_result_and_follows_content(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.stix2", "[domain-name:value='a.example']", "[process:name='bh']")
    first = sets.load_cached(path)
    assert list(sets.cache_dir().iterdir())
    second = sets.load_cached(path)
    assert second.indicators == first.indicators and second.info == first.info
    _write(path, "[domain-name:value='changed.example']")
    assert [i.value for i in sets.load_cached(path).indicators] == ["changed.example"]


def test_corrupt_cache_entry_is_ignored(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.stix2", "[domain-name:value='a.example']")
    sets.load_cached(path)
    for entry in sets.cache_dir().iterdir():
        entry.write_text("{broken")
    assert [i.value for i in sets.load_cached(path).indicators] == ["a.example"]


def test_duplicates_across_files_are_merged(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.stix2", "[domain-name:value='dup.example']")
    b = _write(tmp_path / "b.stix2", "[domain-name:value='dup.example']", "[domain-name:value='b.example']")
    loaded = sets.load_sets([a, b])
    assert sorted(i.value for i in loaded.indicators) == ["b.example", "dup.example"]
    assert [s.indicators for s in loaded.sets] == [1, 2]


def test_damaged_entries_are_recompiled_not_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.stix2", "[domain-name:value='a.example']")
    sets.load_cached(path)
    (entry,) = sets.cache_dir().iterdir()
    blob = entry.read_bytes()
    entry.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    assert [i.value for i in sets.load_cached(path).indicators] == ["a.example"]
    entry.write_bytes(blob[:20])
    assert [i.value for i in sets.load_cached(path).indicators] == ["a.example"]
