"""A process outside the system volume that held up several shutdowns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.detect.writable_paths import is_system_path
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.shutdown_log import ShutdownClient

MIN_SHUTDOWNS = 3
"""Shutdowns a client must have been still running in."""


class ShutdownPersistentClient(Heuristic):
    """Flag a non-system client that was still running during three or more shutdowns."""

    id = "shutdown-persistent-client"
    title = "A program outside the system kept running through several shutdowns"
    severity = Severity.MEDIUM
    consumes = (ShutdownClient,)
    reference = (
        "Kaspersky GReAT, 'A lightweight method to detect potential iOS malware' (Securelist, Jan 2024): the "
        "same implant processes recurred across the reboots of infected iPhones; research/peers.md §2.4 (no "
        "tool scores persistence across reboots)"
    )
    explanation = (
        "Every reboot of an iPhone snapshots the processes that would not stop. Apple's own daemons run from the "
        "read-only system volume; a program from anywhere else that was still running in shutdown after "
        "shutdown is one that starts again each time and resists being stopped: what an implant that "
        "survives reboots looks like. Kaspersky recommends frequent reboots precisely so that these traces "
        "accumulate."
    )
    benign = (
        "Apps that run in the background for good reasons (a VPN, a backup or sync app, an MDM or security "
        "agent, a navigation or music app) can be caught by several shutdowns too. Check whether the path is an "
        "app bundle of something installed on purpose."
    )

    def __init__(self) -> None:
        self._seen: dict[str, tuple[ShutdownClient, set[tuple[str, str, int]]]] = {}

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Count the shutdowns each non-system client path was seen in."""
        for record in records:
            if not isinstance(record, ShutdownClient) or is_system_path(record.client):
                continue
            entry = self._seen.get(record.client)
            if entry is None:
                entry = self._seen[record.client] = (record, set())
            entry[1].add((record.acquisition, record.device_path, record.reboot))
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """A finding per client seen in at least :data:`MIN_SHUTDOWNS` shutdowns."""
        for path, (first, shutdowns) in sorted(self._seen.items()):
            if len(shutdowns) >= MIN_SHUTDOWNS:
                yield self.finding(
                    first,
                    f"{path}, which is not part of the system, was still running during {len(shutdowns)} "
                    "shutdowns",
                )
