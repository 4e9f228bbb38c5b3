"""A process name that no iPhone ships: the macOS simulator's, seen in iPhone evidence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Obs, Record, Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.datausage import UsageProcess
from unmask.parsers.ios.osanalytics_addaily import NetUsageBaseline
from unmask.parsers.ios.processes import RunningProcess
from unmask.parsers.ios.shutdown_log import ShutdownClient

IMPOSSIBLE = frozenset({
    "com.apple.CoreSimulator.CoreSimulatorService", "CoreSimulatorService", "com.apple.CoreSimulator",
    "launchd_sim", "SimulatorTrampoline", "simctl",
})
"""Binaries of Xcode's iOS Simulator, which exist only on a Mac (research/peers.md item 6: Amnesty
found ``com.apple.CoreSimulator.CoreSimulatorService`` among the processes of Pegasus-infected
iPhones)."""


class ProcessImpossibleName(Heuristic):
    """Flag process names that no iPhone ships, in any record that names processes."""

    id = "process-impossible-name"
    title = "A process that cannot exist on an iPhone"
    severity = Severity.HIGH
    consumes = (RunningProcess, ShutdownClient, CrashReport, UsageProcess, NetUsageBaseline)
    reference = (
        "Amnesty International Security Lab, 'Forensic Methodology Report: How to catch NSO Group's Pegasus' "
        "(2021): com.apple.CoreSimulator.CoreSimulatorService in the network usage of infected iPhones; "
        "research/peers.md item 6 ('impossible process' heuristics)"
    )
    explanation = (
        "The CoreSimulator processes belong to Xcode's iOS Simulator and exist only on a Mac. Pegasus ran a "
        "process under that name on infected iPhones, where no such program can legitimately run: a process "
        "with that name is a program pretending to be a system component."
    )
    benign = (
        "None is known on an iPhone. Make sure the evidence really comes from the phone (not from a Mac that "
        "was syncing with it) before drawing conclusions."
    )

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """A finding per impossible name, once per kind of record that names it."""
        found: list[Finding] = []
        for record in records:
            for observable in record.raw_observables():
                if observable.type is not Obs.PROCESS or observable.value not in IMPOSSIBLE:
                    continue
                key = (observable.value, record.kind)
                if key in self._seen:
                    continue
                self._seen.add(key)
                found.append(self.finding(
                    record,
                    f"Process {observable.value} (in {observable.field}) cannot exist on an iPhone: it is part of "
                    "the Mac's iOS Simulator",
                    observable=observable,
                ))
        return found

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """Nothing kept for the end."""
        return ()
