"""An app replaced by an older version of itself, as the daily battery stats record its version
codes (``Update <package> vers=<n>``, one period after another). Installing an older, vulnerable
build over a current one is how some exploit chains and tampering tools get a foothold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_battery_daily import BatteryDailyUpdate

_LIMIT = 20_000


class AndroidPackageDowngraded(Heuristic):
    """A package whose version code went down from one daily period to a later one."""

    id = "android-package-downgraded"
    title = "App replaced by an older version"
    severity = Severity.MEDIUM
    consumes = (BatteryDailyUpdate,)
    reference = "MVT DumpsysBatteryDaily (version downgrade: medium); AOSP BatteryStats daily package changes"
    explanation = ("Android refuses to install an older version over a newer one unless someone forces it "
                   "(adb install -d, a debuggable build, a device-owner tool); an older build can bring back "
                   "a vulnerability that an exploit or a tampering tool relies on.")
    benign = ("Users roll back an update that broke an app, and app stores roll back faulty releases; the app "
              "and its versions tell which.")

    def __init__(self) -> None:
        self.updates: dict[str, list[BatteryDailyUpdate]] = {}

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, BatteryDailyUpdate) and r.action == "update" and r.version_code and r.day_from:
                seen = self.updates.get(r.package)
                if seen is None:
                    if len(self.updates) >= _LIMIT:
                        continue
                    seen = self.updates[r.package] = []
                if len(seen) < 200:
                    seen.append(r)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        out: list[Finding] = []
        for package, updates in sorted(self.updates.items()):
            ordered = sorted(updates, key=lambda u: (u.day_from, u.locator))
            highest: BatteryDailyUpdate | None = None
            for update in ordered:
                assert update.version_code is not None
                if highest is not None and highest.version_code is not None and update.version_code < highest.version_code:
                    out.append(self.finding(update, f"{package} went from version {highest.version_code} to the older "
                                                    f"version {update.version_code} (daily stats {update.locator})"))
                    break
                if highest is None or (highest.version_code or 0) < update.version_code:
                    highest = update
        return out
