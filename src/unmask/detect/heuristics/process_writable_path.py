"""A program running from the writable data volume, where no iPhone keeps executables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.detect.writable_paths import in_writable_data, norm
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.processes import RunningProcess


class ProcessWritablePath(Heuristic):
    """Flag running processes (and crashed ones) whose executable is on the writable data volume."""

    id = "process-writable-path"
    title = "A program ran from a data folder"
    severity = Severity.HIGH
    consumes = (RunningProcess, CrashReport)
    reference = (
        "Kaspersky GReAT (Securelist, Jan 2024): Pegasus, Reign and Predator ran from /private/var/db/ and "
        "/private/var/tmp/; MVT and Amnesty file-path indicators under /private/var/ (research/peers.md H21, "
        "H26, item 6)"
    )
    explanation = (
        "On an iPhone, Apple's programs run from the read-only system volume and apps from their bundle under "
        "/private/var/containers/Bundle/Application/. A process whose executable lies elsewhere on the writable "
        "data volume (/private/var/db/, /private/var/tmp/, /private/var/mobile/…) was put there after the "
        "system was installed: where mercenary implants have been found."
    )
    benign = (
        "Apple stages XPC services of out-of-band updates in com.apple.*.xpc bundles under "
        "/private/var/db/com.apple.xpc.roleaccountd.staging/ (allowed); developer or jailbreak tools also run from "
        "odd places. An ordinary phone has neither."
    )

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """A finding per executable path on the writable volume (once per path)."""
        found: list[Finding] = []
        for record in records:
            if isinstance(record, RunningProcess):
                path, name = record.path, record.name
            elif isinstance(record, CrashReport):
                path, name = record.process_path, record.process
            else:
                continue
            if not in_writable_data(path):
                continue
            key = norm(path) or ""
            if key in self._seen:
                continue
            self._seen.add(key)
            found.append(self.finding(record, f"{name or 'A process'} ran from {path}, a data folder, not the system or an app bundle"))
        return found

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """Nothing kept for the end."""
        return ()
