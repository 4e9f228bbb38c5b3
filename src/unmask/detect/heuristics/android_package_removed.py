"""An app removed from the phone, as battery statistics remember it: a ``pkgunin`` event of the
battery history (with its time), an ``Uninstall`` line of the daily stats, or an ``Update … vers=0``
line, which MVT's DumpsysBatteryDaily reads as a removal. One finding per package, naming every
source, and when it was installed if the history says so."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_battery_daily import BatteryDailyUpdate
from unmask.parsers.android.dumpsys_battery_history import BatteryHistoryEvent
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage

_LIMIT = 20_000


@dataclass
class _Trace:
    removals: list[Record] = field(default_factory=list)
    installs: list[BatteryHistoryEvent] = field(default_factory=list)


class AndroidPackageRemoved(Heuristic):
    """A package uninstalled according to the battery statistics (history or daily stats)."""

    id = "android-package-removed"
    title = "App removed from the phone"
    severity = Severity.MEDIUM
    consumes = (BatteryDailyUpdate, BatteryHistoryEvent, AndroidPackage, DumpsysPackage)
    reference = ("MVT DumpsysBatteryDaily (vers=0: medium); AOSP BatteryStats daily 'Uninstall' lines and "
                 "history 'pkgunin' events")
    explanation = ("Whoever installs stalkerware often removes it, or an installer app, before handing the "
                   "phone back or when a check is announced; the battery statistics keep the removal, and "
                   "the install, for days after the app is gone.")
    benign = "People uninstall apps every day; the name, the time and what else happened then tell them apart."

    def __init__(self) -> None:
        self.traces: dict[str, _Trace] = {}
        self.present: set[str] = set()

    def _trace(self, package: str) -> _Trace | None:
        trace = self.traces.get(package)
        if trace is None and len(self.traces) < _LIMIT:
            trace = self.traces[package] = _Trace()
        return trace

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AndroidPackage | DumpsysPackage):
                if len(self.present) < _LIMIT:
                    self.present.add(r.package)
            elif isinstance(r, BatteryHistoryEvent) and r.event in ("pkgunin", "pkginst"):
                trace = self._trace(r.package)
                if trace is not None:
                    (trace.removals if r.event == "pkgunin" else trace.installs).append(r)
            elif isinstance(r, BatteryDailyUpdate) and (r.action == "uninstall" or r.version_code == 0):
                trace = self._trace(r.package)
                if trace is not None and len(trace.removals) < 100:
                    trace.removals.append(r)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        out: list[Finding] = []
        for package, trace in sorted(self.traces.items()):
            if not trace.removals:
                continue
            # The history's exact time first, else the daily period.
            removals = sorted(trace.removals, key=lambda r: (not isinstance(r, BatteryHistoryEvent), r.locator))
            when = [_when(r) for r in removals]
            installed = [f"installed {_time(i.time)}" + (f" (version {i.value})" if i.value else "")
                         for i in trace.installs[:3] if i.time is not None]
            again = package in self.present
            message = (f"{package} was removed {'; '.join(dict.fromkeys(when))}"
                       + (f", after it was {', '.join(installed)}" if installed else "")
                       + ("; it is installed again now" if again else ""))
            out.append(self.finding(removals[0], message, severity=Severity.LOW if again else None))
        return out


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _time(value: datetime | None) -> str:
    return f"at {_utc(value)}" if value is not None else "at an unknown time"


def _when(r: Record) -> str:
    if isinstance(r, BatteryHistoryEvent):
        return f"{_time(r.time)} (battery history {r.locator})"
    assert isinstance(r, BatteryDailyUpdate)
    what = "Uninstall" if r.action == "uninstall" else "vers=0"
    span = (f"between {_utc(r.day_from)} and {_utc(r.day_to)}" if r.day_from and r.day_to
            else "on a day the daily stats name")
    return f"{span} (daily stats {what}, {r.locator})"
