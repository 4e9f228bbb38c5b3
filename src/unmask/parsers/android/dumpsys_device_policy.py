"""``dumpsys device_policy``: the apps enabled as device administrators."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, TextParser

_SECTION = re.compile(r"\s*Enabled Device Admins \(User (\d+)")
_ADMIN = re.compile(r"\s+([A-Za-z][\w.]*)/([\w.$]+):\s*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceAdmin(Record):
    """One enabled device administrator (``Enabled Device Admins (User 0, …):`` → ``pkg/cls:``)."""

    kind: ClassVar[str] = "android/dumpsys/device_admin"
    summary: ClassVar[str] = "device admin {component} (user {user})"
    package: Annotated[str, Obs.APP_ID]
    component: str
    user: int | None = None


class DumpsysDevicePolicyParser(TextParser):
    """Enabled device administrators from ``dumpsys device_policy``."""

    name = "dumpsys_device_policy"
    platform = "android"
    sources = (Source.section("dumpsys:device_policy"),)
    records = (DeviceAdmin,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[DeviceAdmin]:
        user: int | None = None
        indent = -1
        for line in lines:
            section = _SECTION.match(line.text)
            if section:
                user = int(section.group(1))
                indent = len(line.text) - len(line.text.lstrip())
                continue
            if user is None:
                continue
            depth = len(line.text) - len(line.text.lstrip())
            if line.text.strip() and depth <= indent:
                user = None
                continue
            admin = _ADMIN.match(line.text)
            if admin and depth == indent + 2:
                yield DeviceAdmin(device_path=device_path, locator=locator(line), package=admin.group(1),
                                  component=f"{admin.group(1)}/{admin.group(2)}"[:512], user=user)
