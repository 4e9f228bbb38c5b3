"""netusage: processes and live network usage recorded by networkd (``netusage.sqlite``).

Same ``ZPROCESS``/``ZLIVEUSAGE`` Core Data pair as DataUsage.sqlite (the reader is shared with
:mod:`unmask.parsers.ios.datausage`); netusage adds wired counters. The store is not in iTunes or
Finder backups, only in full-filesystem dumps; older builds keep it one folder higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from unmask.parsers.base import Source
from unmask.parsers.ios.datausage import CoreDataUsageParser, LiveUsage, UsageProcess


@dataclass(frozen=True, slots=True, kw_only=True)
class NetusageProcess(UsageProcess):
    """One ``ZPROCESS`` row of netusage.sqlite: a process or app that used the network."""

    kind: ClassVar[str] = "ios/netusage/process"


@dataclass(frozen=True, slots=True, kw_only=True)
class NetusageLiveUsage(LiveUsage):
    """One ``ZLIVEUSAGE`` row of netusage.sqlite, with whether its process row still exists."""

    kind: ClassVar[str] = "ios/netusage/live_usage"


class NetusageParser(CoreDataUsageParser):
    """Processes and per-process network usage recorded by networkd (netusage.sqlite)."""

    name = "netusage"
    platform = "ios"
    sources = (
        Source("/private/var/networkd/netusage.sqlite"),
        Source("/private/var/networkd/db/netusage.sqlite"),
    )
    records = (NetusageProcess, NetusageLiveUsage)
    process_record = NetusageProcess
    live_record = NetusageLiveUsage
