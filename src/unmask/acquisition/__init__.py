"""Acquisitions: evidence presented as one device path space."""

from __future__ import annotations

from pathlib import Path

from unmask.acquisition.base import Acquisition, FileEntry
from unmask.errors import AcquisitionError


def open_ios_backup(path: Path) -> Acquisition:
    """Open an iOS backup folder; a folder holding exactly one backup (a UDID folder) is accepted too."""
    from unmask.acquisition.ios_backup import IOSBackup

    if not path.exists():
        raise AcquisitionError(f"{path} does not exist")
    if path.is_dir() and not (path / "Manifest.db").exists():
        children = [c for c in path.iterdir() if c.is_dir() and (c / "Manifest.db").exists()]
        if len(children) == 1:
            path = children[0]
    return IOSBackup(path)


__all__ = ["Acquisition", "AcquisitionError", "FileEntry", "open_ios_backup"]
