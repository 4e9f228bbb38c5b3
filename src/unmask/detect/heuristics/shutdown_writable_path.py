"""A process that delayed a shutdown while running from /private/var/db/ or /private/var/tmp/."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.detect.writable_paths import in_implant_folder
from unmask.model import Finding, Record, Severity, Timestamp
from unmask.parsers.ios.shutdown_log import ShutdownClient


@dataclass
class _Seen:
    first: ShutdownClient
    shutdowns: set[tuple[str, str, int]] = field(default_factory=set)
    earliest: Timestamp | None = None
    latest: Timestamp | None = None


class ShutdownWritablePath(Heuristic):
    """Flag shutdown.log clients under /private/var/db/ or /private/var/tmp/ (one finding per path)."""

    id = "shutdown-writable-path"
    title = "A process ran from a folder where spyware was found (shutdown.log)"
    severity = Severity.HIGH
    consumes = (ShutdownClient,)
    reference = (
        "Kaspersky GReAT, 'A lightweight method to detect potential iOS malware' (Securelist, Jan 2024): Pegasus "
        "ran from /private/var/db/, Predator from /private/var/tmp/, Reign from both; iShutdown_detect.py "
        "suspicious-location rule; Costin Raiu's YARA rule susp_iOS_shutdown; iLEAPP 'Location Indicator' "
        "(research/peers.md §2.3, H21, H23)"
    )
    explanation = (
        "iPhone system processes run from the read-only system volume and apps from their bundle folder. "
        "/private/var/db/ and /private/var/tmp/ hold data, not programs: in every Pegasus, Predator and Reign "
        "infection Kaspersky examined, the implant's processes ran from these folders and showed up in "
        "shutdown.log. Allowed: Apple's XPC services staged by an out-of-band update inside a com.apple.*.xpc "
        "bundle of /private/var/db/com.apple.xpc.roleaccountd.staging/, the one legitimate use documented."
    )
    benign = (
        "No Apple daemon was seen running from these folders in the public shutdown logs examined, so an "
        "innocent cause would be unusual: a developer's or a jailbreak's own tools, or a future iOS version "
        "staging code there. Compare the path with the public indicator sets and the device's history."
    )

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Remember each suspicious client path and the shutdowns it was seen in."""
        for record in records:
            if not isinstance(record, ShutdownClient) or not in_implant_folder(record.client):
                continue
            seen = self._seen.setdefault(record.client, _Seen(record))
            seen.shutdowns.add((record.acquisition, record.device_path, record.reboot))
            when = record.sigterm
            if when is not None:
                seen.earliest = when if seen.earliest is None or when < seen.earliest else seen.earliest
                seen.latest = when if seen.latest is None or when > seen.latest else seen.latest
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """One finding per suspicious path, with how many shutdowns it delayed."""
        for path, seen in sorted(self._seen.items()):
            span = ""
            if seen.earliest is not None and seen.latest is not None:
                first, last = f"{seen.earliest:%Y-%m-%d}", f"{seen.latest:%Y-%m-%d}"
                span = f", on {first}" if first == last else f", from {first} to {last}"
            yield self.finding(
                seen.first,
                f"{path} was still running during {len(seen.shutdowns)} shutdown(s){span}: a program in "
                f"{'/private/var/db/' if path.startswith('/private/var/db/') else '/private/var/tmp/'}, where "
                "Pegasus, Reign and Predator ran",
            )
