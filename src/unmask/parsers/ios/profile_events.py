"""Configuration profile events (``MCProfileEvents.plist``): when each profile was installed or removed, and by what.

The configuration-profiles system group keeps a log of profile operations: ``ProfileEvents`` is a
list of one-entry dictionaries, profile identifier → ``{timestamp, operation, process}``
(``install``, ``remove``…; the process that asked, such as ``profiled``, ``MCInstallationUIHost`` or
``dmd``). A profile installed by an unexpected process, or installed and removed within minutes,
is worth knowing, and the profile identifier can match an indicator. Keys as MVT's ProfileEvents
module reads them (research/mvt.md §3.1, backup only in MVT; the same file is on a dump).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, text

_FOLDER = "/private/var/containers/Shared/SystemGroup/*/Library/ConfigurationProfiles/"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileEvent(Record):
    """One operation on a configuration profile."""

    kind: ClassVar[str] = "ios/profile_events/event"
    summary: ClassVar[str] = "configuration profile {profile_id}: {operation} by {process}"

    time: datetime | None = None
    profile_id: Annotated[str | None, Obs.PROFILE_ID] = None
    operation: str | None = None
    process: Annotated[str | None, Obs.PROCESS] = None


class ProfileEventsParser(PlistParser):
    """Install and remove events of configuration profiles, with the process behind each (MCProfileEvents.plist)."""

    name = "profile_events"
    platform = "ios"
    sources = (
        Source(_FOLDER + "MCProfileEvents.plist"),
        Source("/private/var/mobile/Library/ConfigurationProfiles/MCProfileEvents.plist"),
    )
    records = (ProfileEvent,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """One record per event in ``ProfileEvents``."""
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        events = value.get("ProfileEvents")
        if not isinstance(events, list):
            return
        for i, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            for profile, info in event.items():
                if not isinstance(info, dict):
                    continue
                stamp = info.get("timestamp")
                yield ProfileEvent(
                    device_path=device_path,
                    locator=f"ProfileEvents[{i}]",
                    time=timeutil.aware(stamp) if isinstance(stamp, datetime) else None,
                    profile_id=str(profile)[:256],
                    operation=text(info.get("operation")) if isinstance(info.get("operation"), str) else None,
                    process=text(info.get("process")) if isinstance(info.get("process"), str) else None,
                )
