"""Android settings (``cmd settings list system|secure|global``): AndroidQF settings_*.txt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record
from unmask.parsers.android._common import package_of
from unmask.parsers.base import ParseContext, Source, TextParser

# Settings whose values list components (``pkg/cls:pkg/cls``): their packages are app ids too.
COMPONENT_LISTS = frozenset({
    "enabled_accessibility_services", "enabled_notification_listeners", "enabled_notification_assistant",
    "enabled_notification_policy_access_packages", "default_input_method", "enabled_input_methods",
})


@dataclass(frozen=True, slots=True, kw_only=True)
class AndroidSetting(Record):
    """One setting: its namespace (system, secure, global), name and value."""

    kind: ClassVar[str] = "android/settings/setting"
    summary: ClassVar[str] = "{namespace} setting {name} = {value}"
    namespace: str
    name: str
    value: str = ""
    apps: Annotated[tuple[str, ...], Obs.APP_ID] = ()
    """Packages named by a component-list value (enabled accessibility services, notification listeners…)."""


class SettingsParser(TextParser):
    """Settings as ``cmd settings list`` prints them (``name=value`` lines)."""

    name = "settings"
    platform = "android"
    sources = (Source.section("settings:*"),)
    records = (AndroidSetting,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[AndroidSetting]:
        namespace = device_path.split(":", 1)[1]
        for line in lines:
            name, sep, value = line.text.partition("=")
            if not sep or not name.strip() or " " in name.strip():
                continue
            name = name.strip()
            apps: tuple[str, ...] = ()
            if name in COMPONENT_LISTS:
                found = [package_of(c) for c in value.replace(",", ":").split(":") if "/" in c or "." in c]
                apps = tuple(dict.fromkeys(p for p in found if p))
            yield AndroidSetting(device_path=device_path, locator=locator(line), namespace=namespace,
                                 name=name[:512], value=value[:4096], apps=apps)
