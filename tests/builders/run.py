"""Run one parser over a built backup and return its records and coverage (test helper)."""

from __future__ import annotations

from pathlib import Path

from unmask.acquisition import open_ios_backup
from unmask.model import Coverage, Record
from unmask.parsers.base import Parser, run_parser


def run(parser: type[Parser], backup_root: Path) -> tuple[list[Record], Coverage]:
    """Parse a backup folder with one parser class."""
    return run_parser(parser(), open_ios_backup(backup_root))


def run_evidence(parser: type[Parser], path: Path, kind: str | None = None) -> tuple[list[Record], Coverage]:
    """Parse any evidence (a dump folder or archive, a backup) with one parser class."""
    from unmask.acquisition.registry import open_acquisition

    acq = open_acquisition(path, kind=kind)
    try:
        return run_parser(parser(), acq)
    finally:
        acq.close()
