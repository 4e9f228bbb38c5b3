"""Shared fixtures: builders of real-schema evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder


@pytest.fixture
def backup(tmp_path: Path) -> BackupBuilder:
    """An empty backup builder in a temporary folder; call ``.finish()`` after adding files."""
    return BackupBuilder(tmp_path / "backup")


@pytest.fixture
def make_backup(tmp_path: Path) -> Callable[..., BackupBuilder]:
    """A factory of backup builders (several backups in one test)."""
    counter = iter(range(1000))

    def factory(**kwargs: object) -> BackupBuilder:
        return BackupBuilder(tmp_path / f"backup{next(counter)}", **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def dump(tmp_path: Path) -> DumpBuilder:
    """An empty full-filesystem dump builder; call ``.finish(form)`` after adding files."""
    return DumpBuilder(tmp_path / "dump")
