"""``dumpsys package`` resolver tables: which components answer which intents (activities with
``android.intent.action.MAIN``, receivers of ``BOOT_COMPLETED``, SMS and call intents …)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, TextParser

_TABLE = re.compile(r"(Activity|Receiver|Service|Provider) Resolver Table:\Z")
_ENTRY = re.compile(r"\s+[0-9a-f]+ ([\w.$]+)/([\w.$]+)(?: filter [0-9a-f]+)?")


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentFilter(Record):
    """One component registered for one intent action (``<Table> Resolver Table:`` →
    ``Non-Data Actions:`` → ``<action>:`` → ``<hash> <package>/<class> filter <hash>``)."""

    kind: ClassVar[str] = "android/dumpsys/intent_filter"
    summary: ClassVar[str] = "{table} {component} handles {action}"
    table: str
    action: str
    package: Annotated[str, Obs.APP_ID]
    component: str


class DumpsysIntentsParser(TextParser):
    """The activity, receiver and service resolver tables of ``dumpsys package``."""

    name = "dumpsys_intents"
    platform = "android"
    sources = (Source.section("dumpsys:package"),)
    records = (IntentFilter,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[IntentFilter]:
        table = ""
        action = ""
        seen: set[tuple[str, str, str]] = set()
        for line in lines:
            text = line.text
            match = _TABLE.match(text.strip()) if not text.startswith("    ") else None
            if match:
                table = match.group(1).lower()
                action = ""
                continue
            if not text.startswith(" "):
                table = ""
                continue
            if not table:
                continue
            stripped = text.strip()
            if text.startswith("      ") and not text.startswith("        ") and stripped.endswith(":"):
                action = stripped[:-1]
                continue
            entry = _ENTRY.match(text)
            if entry and action:
                package, cls = entry.groups()
                component = f"{package}/{cls}"
                key = (table, action, component)
                if key in seen:
                    continue
                seen.add(key)
                yield IntentFilter(device_path=device_path, locator=locator(line), table=table, action=action[:256],
                                   package=package, component=component[:512])
