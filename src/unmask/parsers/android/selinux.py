"""SELinux mode (``getenforce``): AndroidQF selinux.txt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Record
from unmask.parsers.base import ParseContext, Source, TextParser


@dataclass(frozen=True, slots=True, kw_only=True)
class SelinuxStatus(Record):
    """The SELinux mode the device reported: Enforcing, Permissive or Disabled."""

    kind: ClassVar[str] = "android/selinux/status"
    summary: ClassVar[str] = "SELinux {mode}"
    mode: str


class SelinuxParser(TextParser):
    """The output of ``getenforce``."""

    name = "selinux"
    platform = "android"
    sources = (Source.section("selinux"),)
    records = (SelinuxStatus,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[SelinuxStatus]:
        for line in lines:
            if line.text.strip():
                yield SelinuxStatus(device_path=device_path, locator=locator(line), mode=line.text.strip()[:64])
                return
