"""OSAnalytics ADDaily ``netUsageBaseline``: processes that used the network, first seen when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, number


@dataclass(frozen=True, slots=True, kw_only=True)
class NetUsageBaseline(Record):
    """One process of ``netUsageBaseline``: first-seen time and Wi-Fi/cellular byte counters."""

    kind: ClassVar[str] = "ios/osanalytics/netusage_baseline"
    summary: ClassVar[str] = "{process} (wifi in {wifi_in} out {wifi_out}, wwan in {wwan_in} out {wwan_out})"

    first_seen: datetime | None = None
    process: Annotated[str, Obs.PROCESS]
    wifi_in: float | None = None
    wifi_out: float | None = None
    wwan_in: float | None = None
    wwan_out: float | None = None


def _counter(values: list[Any], index: int) -> float | None:
    return number(values[index]) if index < len(values) else None


class OSAnalyticsADDailyParser(PlistParser):
    """Processes with network usage from com.apple.osanalytics.addaily.plist (netUsageBaseline)."""

    name = "osanalytics_addaily"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/Preferences/com.apple.osanalytics.addaily.plist"),)
    records = (NetUsageBaseline,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[NetUsageBaseline]:
        """One record per ``netUsageBaseline`` key: ``[NSDate, wifi_in, wifi_out, wwan_in, wwan_out]``."""
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        baseline = value.get("netUsageBaseline")
        if baseline is None:
            return
        if not isinstance(baseline, dict):
            raise ArtefactError(f"netUsageBaseline is {type(baseline).__name__}, expected a dictionary")
        odd = 0
        for process, entry in baseline.items():
            values = entry if isinstance(entry, list) else []
            if not isinstance(entry, list):
                odd += 1
            first = values[0] if values else None
            yield NetUsageBaseline(
                device_path=device_path,
                locator=f"netUsageBaseline/{process}",
                first_seen=timeutil.aware(first) if isinstance(first, datetime) else None,
                process=str(process),
                wifi_in=_counter(values, 1),
                wifi_out=_counter(values, 2),
                wwan_in=_counter(values, 3),
                wwan_out=_counter(values, 4),
            )
        if odd:
            ctx.warn(f"{device_path}: {odd} netUsageBaseline entries are not arrays (no time or counters)")
