"""Acquisitions: evidence presented as one device path space (see base.py); the registry of kinds."""

from __future__ import annotations

from unmask.acquisition.base import Acquisition, FileEntry
from unmask.acquisition.ios_backup import open_ios_backup
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.registry import open_acquisition
from unmask.errors import AcquisitionError

__all__ = ["Acquisition", "AcquisitionError", "FileEntry", "OpenOptions", "open_acquisition", "open_ios_backup"]
