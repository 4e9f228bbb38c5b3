"""An ``adb bugreport`` zip, or the folder it was extracted to, alone or inside AndroidQF.

Layout (Android 7+; frameworks/native/cmds/dumpstate, ``bugreport_format.md``): the zip holds
``main_entry.txt`` naming the dumpstate text (``bugreport-<device>-<build>-<date>.txt``), that text,
``version.txt``, ``dumpstate_board.txt``, ``proto/`` and ``FS/<device path>`` copies of device files
(``FS/data/tombstones/tombstone_NN`` and ``.pb``, ``FS/data/anr/…``). Older or vendor reports name
the text ``dumpState_*.log`` or ``dumpstate.txt``.

The dumpstate text is split once per scan into named sections (``getprop``, ``ps``, ``logcat``,
``dumpsys:<service>`` …; see :mod:`unmask.acquisition.android_common`); ``FS/`` is the device root.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingT
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.acquisition.android_common import AndroidTree, getprop_value
from unmask.acquisition.base import Section
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.tree import Mapping, peek_names
from unmask.errors import AcquisitionError, ArtefactError
from unmask.formats.text import iter_lines

_TEXT = re.compile(r"(?:bugreport-.*\.txt|dumpstate.*\.txt|dumpState_.*\.log)\Z")
_HEADER = re.compile(r"== dumpstate: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


def _candidates(names: list[str]) -> list[str]:
    top = [n for n in names if "/" not in n]
    return sorted(n for n in top if _TEXT.match(n))


def _is_bugreport(names: list[str]) -> bool:
    return "main_entry.txt" in names or (bool(_candidates(names)) and any(n.startswith("FS/") for n in names)) or (
        bool(_candidates(names)) and "version.txt" in names
    )


class Bugreport(AndroidTree):
    """An Android bugreport (zip or folder): its dumpstate split into sections, ``FS/`` as the device."""

    kind = "bugreport"
    label = "an Android bugreport (adb bugreport .zip, or its folder)"
    own_files = ("main_entry.txt", "version.txt")

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """A bugreport zip, or a folder holding ``main_entry.txt`` or a dumpstate text beside ``FS/``."""
        if path.is_dir():
            try:
                names = [p.name + ("/" if p.is_dir() else "") for p in path.iterdir()]
            except OSError:
                return None
            plain = [n.rstrip("/") if not n.endswith("/") else "" for n in names]
            listed = [n for n in plain if n] + ["FS/x" for n in names if n == "FS/"]
            return path if _is_bugreport(listed) else None
        names_ = peek_names(path)
        if not names_:
            return None
        return path if _is_bugreport(list(names_)) else None

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        super().__init__(root, options)
        self.entry_name = self._find_text()
        if self.entry_name is None:
            self.close()
            raise AcquisitionError(f"{root} is not a bugreport: no dumpstate text (main_entry.txt, bugreport-*.txt)")
        self._header: dict[str, str] | None = None

    def _find_text(self) -> str | None:
        if self.has_host("main_entry.txt"):
            try:
                with self.open_host("main_entry.txt") as handle:
                    named = handle.read(4096).decode("utf-8", "replace").strip()
            except (OSError, ArtefactError) as exc:  # damaged in the zip: look for the text by name
                self.refuse("main_entry.txt", f"unreadable ({exc})")
                named = ""
            if named and "/" not in named and self.has_host(named):
                return named
        names = [e.path for batch in self.tree.entries() for e in batch if e.kind == "file"]
        found = _candidates(names)
        return found[0] if found else None

    def mappings(self) -> list[Mapping]:
        """``FS/`` holds device files under their paths."""
        return [Mapping("", "FS")]

    def own_sections(self) -> MappingT[str, Section]:
        """The sections of the dumpstate text."""
        assert self.entry_name is not None
        return self.text_sections(self.entry_name)

    def header(self) -> dict[str, str]:
        """The dumpstate header's ``Key: value`` lines (Build, Build fingerprint, Kernel …) and its date."""
        if self._header is None:
            out: dict[str, str] = {}
            try:
                assert self.entry_name is not None
                with self.open_host(self.entry_name) as handle:
                    for line in iter_lines(handle, max_line=4096):
                        if line.number > 60:
                            break
                        match = _HEADER.match(line.text)
                        if match:
                            out["dumpstate"] = match.group(1)
                        elif ": " in line.text and not line.text.startswith(("-", "=")):
                            key, _, value = line.text.partition(": ")
                            out.setdefault(key.strip(), value.strip().strip("'")[:256])
                        if line.text.startswith("------ "):
                            break
            except (OSError, ArtefactError):
                pass
            self._header = out
        return self._header

    def collected(self) -> datetime | None:
        """The dumpstate time (device local time, in the device zone)."""
        text = self.header().get("dumpstate")
        if not text:
            return None
        found = timeutil.parse_iso(text, zone=timeutil.zone(self.timezone()))
        return found.value if found is not None else None

    def metadata(self) -> dict[str, Any]:
        """The dumpstate header and the device's properties."""
        head = self.header()
        props: dict[str, str | None] = {}
        if "getprop" in self.sections():
            for key in ("ro.product.model", "ro.build.version.release", "ro.build.version.security_patch"):
                try:
                    props[key] = getprop_value(self.section_lines("getprop"), key)
                except (OSError, ArtefactError):
                    props[key] = None
        return {
            "dumpstate_text": self.entry_name,
            "dumpstate_time": head.get("dumpstate"),
            "build": head.get("Build fingerprint") or head.get("Build"),
            "product_type": props.get("ro.product.model"),
            "android_version": props.get("ro.build.version.release"),
            "security_patch": props.get("ro.build.version.security_patch"),
            "timezone": self.timezone(),
            "sections": len(self.sections()),
        }
