"""``dumpsys platform_compat``: packages named in compatibility overrides (the DOWNSCALED change
lists packages even after they were uninstalled)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, TextParser

_CHANGE = re.compile(r"ChangeId\((\d+); name=(\w+)")
_OVERRIDES = re.compile(r"(packageOverrides|rawOverrides)=\{([^}]*)\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatOverride(Record):
    """A package with an override of one compatibility change."""

    kind: ClassVar[str] = "android/dumpsys/compat_override"
    summary: ClassVar[str] = "{package} has an override of {change}"
    package: Annotated[str, Obs.APP_ID]
    change: str
    change_id: int


class DumpsysPlatformCompatParser(TextParser):
    """Packages with compatibility overrides (``ChangeId(…; rawOverrides={pkg=…})``)."""

    name = "dumpsys_platform_compat"
    platform = "android"
    sources = (Source.section("dumpsys:platform_compat"),)
    records = (CompatOverride,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[CompatOverride]:
        for line in lines:
            change = _CHANGE.search(line.text)
            if not change:
                continue
            seen: set[str] = set()
            for _, body in _OVERRIDES.findall(line.text):
                for item in body.split(","):
                    package = item.split("=", 1)[0].strip()
                    if package and package not in seen:
                        seen.add(package)
                        yield CompatOverride(device_path=device_path, locator=locator(line), package=package[:512],
                                             change=change.group(2), change_id=int(change.group(1)))
