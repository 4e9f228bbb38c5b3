"""The shell environment (``env``): AndroidQF env.txt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Record
from unmask.parsers.base import ParseContext, Source, TextParser


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentVariable(Record):
    """One ``NAME=value`` of the ADB shell's environment (PATH, TMPDIR, EXTERNAL_STORAGE…)."""

    kind: ClassVar[str] = "android/env/variable"
    summary: ClassVar[str] = "{name}={value}"
    name: str
    value: str = ""


class EnvironmentParser(TextParser):
    """The environment ``env`` printed over ADB."""

    name = "environment"
    platform = "android"
    sources = (Source.section("env"),)
    records = (EnvironmentVariable,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[EnvironmentVariable]:
        for line in lines:
            name, sep, value = line.text.partition("=")
            if sep and name and " " not in name:
                yield EnvironmentVariable(device_path=device_path, locator=locator(line), name=name[:256],
                                          value=value[:4096])
