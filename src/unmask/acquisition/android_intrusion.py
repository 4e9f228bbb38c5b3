"""Android 16 intrusion logs (Advanced Protection "Intrusion Logging"), a folder or a zip of them.

The device writes newline-delimited JSON files into ``/sdcard/Download/Intrusion Logging/``; each
line wraps one event under its type: ``{"dns_event": {...}}``, ``{"connect_event": {...}}`` or
``{"security_event": {...}}`` (the SecurityLog events, one key per event tag). AndroidQF pulls the
folder into ``intrusion_logs/`` (mvt-project/androidqf ``modules/intrusion_logs.go``); MVT documents
the line format in ``docs/android/intrusion_logs.md``. The files keep their device folder here, so
the parsers read the same paths from a standalone folder and from an AndroidQF acquisition.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from unmask.acquisition.android_common import AndroidTree
from unmask.acquisition.androidqf import INTRUSION_FOLDER
from unmask.acquisition.tree import Mapping, Tree

EVENT_KEYS = frozenset({"dns_event", "connect_event", "security_event"})


def _first_line_is_event(data: bytes) -> bool:
    line = data.split(b"\n", 1)[0].strip()
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and bool(EVENT_KEYS & set(value))


class IntrusionLogs(AndroidTree):
    """A folder or zip of Android intrusion logs, presented at the device folder they come from."""

    kind = "android-intrusion-logs"
    label = "Android 16 intrusion logs (a folder or .zip of NDJSON .txt files)"

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """A folder or zip whose first ``.txt`` files start with an intrusion-log event."""
        if path.is_dir():
            # Detection runs for every folder given to `unmask check`: look at most two levels down
            # and at a bounded number of entries, never walk a whole dump.
            files = sorted(_shallow_txt(path))[:3]
            heads = []
            for p in files:
                with p.open("rb") as handle:
                    heads.append(handle.read(65536))
        else:
            from unmask.acquisition.tree import peek_names

            names = peek_names(path)
            if not names or any(not n.endswith((".txt", "/")) for n in names):
                return None
            heads = _zip_heads(path, [n for n in names if n.endswith(".txt")][:3])
        return path if heads and all(_first_line_is_event(h) for h in heads) else None

    def mappings(self) -> list[Mapping]:
        """The tree's root is the device's intrusion-logging folder."""
        return [Mapping(INTRUSION_FOLDER, "")]

    def metadata(self) -> dict[str, Any]:
        """How many log files the acquisition holds."""
        return {"log_files": len(self.glob(INTRUSION_FOLDER + "/**/*.txt"))}


def _shallow_txt(folder: Path, depth: int = 2, budget: int = 2000) -> list[Path]:
    """``.txt`` regular files within ``depth`` levels of ``folder``, looking at no more than ``budget``
    entries."""
    found: list[Path] = []
    level = [folder]
    for _ in range(depth):
        below: list[Path] = []
        for current in level:
            try:
                entries = list(os.scandir(current))
            except OSError:
                continue
            for entry in entries:
                budget -= 1
                if budget < 0:
                    return found
                if entry.is_file(follow_symlinks=False) and entry.name.endswith(".txt"):
                    found.append(Path(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    below.append(Path(entry.path))
        level = below
    return found


def _zip_heads(path: Path, names: list[str]) -> list[bytes]:
    import tempfile

    out: list[bytes] = []
    with tempfile.TemporaryDirectory(prefix="unmask-peek-") as tmp:
        tree = Tree(path, Path(tmp))
        try:
            for name in names:
                entry = tree.get(name)
                if entry is None or entry.problem is not None:
                    return []
                with tree.open(entry) as handle:
                    out.append(handle.read(65536))
        finally:
            tree.close()
    return out
