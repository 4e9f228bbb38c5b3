"""Registered system services (``service list``): AndroidQF services.txt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Record
from unmask.parsers.base import ParseContext, Source, TextParser

_SERVICE = re.compile(r"(\d+)\s+(\S+): \[(.*)\]\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemService(Record):
    """One registered binder service (``N\\tname: [interface]``)."""

    kind: ClassVar[str] = "android/services/service"
    summary: ClassVar[str] = "service {name} [{interface}]"
    name: str
    interface: str = ""


class ServicesParser(TextParser):
    """The binder services ``service list`` names."""

    name = "services"
    platform = "android"
    sources = (Source.section("services"),)
    records = (SystemService,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[SystemService]:
        for line in lines:
            match = _SERVICE.match(line.text.strip())
            if match:
                yield SystemService(device_path=device_path, locator=locator(line), name=match.group(2)[:512],
                                    interface=match.group(3)[:512])
