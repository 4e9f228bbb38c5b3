"""A shutdown.log that is empty, or records fewer shutdowns than the phone's boots imply."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from unmask import timeutil
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.detect.heuristics.ios_outdated import version_tuple
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.processes import RunningProcess
from unmask.parsers.ios.shutdown_log import ShutdownLogFile, ShutdownReboot
from unmask.parsers.ios.spindump import SpindumpReport

SAME_BOOT = 600.0
"""Boot times derived from different reports (capture time less uptime, rounded) within this many
seconds are one boot."""
MIN_MISSING = 2
"""Boots without a shutdown before them that make a log 'much shorter' (and at least half of them)."""
OVERWRITING = 26
"""iOS 26 overwrites shutdown.log at every reboot (iVerify, Oct 2025; research/peers.md §2.2)."""


def cluster(times: Sequence[float], gap: float = SAME_BOOT) -> list[float]:
    """Distinct boots: sorted times, each one more than ``gap`` after the previous kept one."""
    out: list[float] = []
    for t in sorted(times):
        if not out or t - out[-1] > gap:
            out.append(t)
    return out


class ShutdownLogShort(Heuristic):
    """Flag a shutdown log with no shutdown at all, or missing the shutdowns that the boots seen in
    crash reports, the spindump and the process list imply."""

    id = "shutdown-log-short"
    title = "The shutdown log is empty or shorter than the phone's reboots"
    severity = Severity.MEDIUM
    consumes = (ShutdownLogFile, ShutdownReboot, CrashReport, SpindumpReport, RunningProcess)
    reference = (
        "iVerify, iOS 26 shutdown.log research (Oct 2025, via press coverage): a wiped or oddly formatted "
        "shutdown.log was itself a Pegasus tell, and iOS 26 overwrites the file at every reboot; "
        "research/peers.md H24, H25"
    )
    explanation = (
        "iOS appends a record to shutdown.log each time the phone shuts down properly, and before iOS 26 keeps "
        "them for years. Crash reports (their capture time less the phone's uptime), the spindump and the "
        "process list show when the phone booted; each boot after a proper shutdown should have its record. "
        "Spyware that cleans up after itself has been seen wiping this log. From iOS 26 on the file is "
        "overwritten at every reboot, so it can only hold the last shutdown: older records are missing by design, "
        "and only the last shutdown before the current boot is expected."
    )
    benign = (
        "A phone that ran out of battery, crashed (kernel panic) or was force-restarted with the buttons boots "
        "without writing a shutdown record; a restore or an update can start a new log; on iOS 26 every reboot "
        "replaces the log."
    )

    def __init__(self) -> None:
        self._files: list[ShutdownLogFile] = []
        self._shutdowns: list[float] = []
        self._boots: list[float] = []

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Keep the log files, the shutdown times and the boot times."""
        for record in records:
            if isinstance(record, ShutdownLogFile):
                self._files.append(record)
            elif isinstance(record, ShutdownReboot):
                if record.sigterm is not None:
                    self._shutdowns.append(record.sigterm.timestamp())
            elif isinstance(record, CrashReport | SpindumpReport):
                if record.booted is not None:
                    self._boots.append(record.booted.timestamp())
            elif (
                isinstance(record, RunningProcess) and record.pid == 1 and record.started is not None
                and "relative" in record.time_inferred
            ):
                # launchd (pid 1) started at the boot; taskinfo's run time gives it to the second (ps
                # only to the minute or the hour).
                self._boots.append(record.started.timestamp())
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """One finding per empty log file, and one when boots lack their shutdowns."""
        if not self._files:
            return
        version = version_tuple(str(ctx.metadata.get("ios_version") or ""))
        # iOS 26 also names its copy shutdown.0.log (iLEAPP PR #2205).
        overwriting = (bool(version) and version[0] >= OVERWRITING) or any(
            f.file_name != "shutdown.log" for f in self._files
        )
        for log in self._files:
            if log.reboots == 0:
                yield self.finding(
                    log,
                    f"{log.file_name} records no shutdown at all ({log.lines} line(s))"
                    + (": on iOS 26 the file is rewritten at each reboot, but should still hold the last shutdown"
                       if overwriting else ""),
                    severity=Severity.LOW if overwriting else Severity.MEDIUM,
                )
        boots = cluster(self._boots)
        if len(boots) < 2:
            return
        shutdowns = sorted(self._shutdowns)
        missing: list[float] = []
        intervals = list(itertools.pairwise(boots))
        if overwriting:
            intervals = intervals[-1:]
        for before, boot in intervals:
            if not any(before < s <= boot for s in shutdowns):
                missing.append(boot)
        if not missing:
            return
        if overwriting:
            if shutdowns:
                booted = timeutil.unix(missing[-1])
                when = f"{booted:%Y-%m-%d %H:%M} UTC" if booted else "recently"
                yield self.finding(
                    self._files[0],
                    f"The phone last booted around {when} but the shutdown log holds no shutdown "
                    "since the boot before: on iOS 26 it should hold exactly that one",
                    severity=Severity.LOW,
                )
            return
        if len(missing) >= MIN_MISSING and 2 * len(missing) >= len(intervals):
            yield self.finding(
                self._files[0],
                f"{len(missing)} of the {len(intervals)} boots seen in crash reports, the spindump and the process "
                f"list have no shutdown before them in the shutdown log ({len(shutdowns)} shutdown(s) recorded)",
            )
