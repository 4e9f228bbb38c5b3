"""``dumpsys accessibility``: accessibility services installed, enabled and bound."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record
from unmask.parsers.android._common import package_of
from unmask.parsers.base import ParseContext, Source, TextParser

# Up to Android 13: "  installed services: {" then "    0 : pkg/cls" lines then "  }".
# Android 14+: "     Enabled services:{{pkg/cls}, {pkg/cls}}" on one line.
_BLOCK = re.compile(r"\s*(installed|enabled|bound|binding) services:\s*\{\s*\Z", re.IGNORECASE)
_INLINE = re.compile(r"\s*(installed|enabled|bound|binding|crashed) services:\s*\{(.*)\}\s*\Z", re.IGNORECASE)
_ITEM = re.compile(r"\s*\d+ : (\S+/\S+)")
_COMPONENT = re.compile(r"([A-Za-z][\w.]*)/([\w.$]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessibilityService(Record):
    """One accessibility service in one state (``installed``, ``enabled``, ``bound``, ``binding``)."""

    kind: ClassVar[str] = "android/dumpsys/accessibility"
    summary: ClassVar[str] = "accessibility service {component} {state}"
    package: Annotated[str, Obs.APP_ID]
    component: str
    state: str


class DumpsysAccessibilityParser(TextParser):
    """Accessibility services from ``dumpsys accessibility`` (both the block form up to Android 13
    and the one-line form of Android 14+)."""

    name = "dumpsys_accessibility"
    platform = "android"
    sources = (Source.section("dumpsys:accessibility"),)
    records = (AccessibilityService,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[AccessibilityService]:
        state = ""
        seen: set[tuple[str, str]] = set()

        def make(component: str, state: str, line: Line) -> Iterator[AccessibilityService]:
            package = package_of(component)
            if package and (component, state) not in seen:
                seen.add((component, state))
                yield AccessibilityService(device_path=device_path, locator=locator(line), package=package,
                                           component=component[:512], state=state)

        for line in lines:
            block = _BLOCK.match(line.text)
            if block:
                state = block.group(1).lower()
                continue
            if state:
                if line.text.strip().startswith("}"):
                    state = ""
                    continue
                item = _ITEM.match(line.text)
                if item:
                    yield from make(item.group(1), state, line)
                continue
            inline = _INLINE.match(line.text)
            if inline and inline.group(1).lower() != "crashed":
                for match in _COMPONENT.finditer(inline.group(2)):
                    yield from make(match.group(0), inline.group(1).lower(), line)
