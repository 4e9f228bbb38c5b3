"""A process in the network-usage databases whose binary is nowhere on the disk of a full-filesystem dump."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.datausage import UsageProcess
from unmask.parsers.ios.filesystem import FilesystemEntry

# Names under which traffic is recorded that no file on the data or system volume carries: the
# kernel, and processes whose executables live in the dyld shared cache or in the cryptex volumes
# (iOS 16+ moved Safari and WebKit's XPC services there) that many dumps do not include.
ALLOWED = frozenset({
    "kernel_task",
    "kernel",
    "com.apple.WebKit.Networking",
    "com.apple.WebKit.WebContent",
    "com.apple.WebKit.GPU",
    "com.apple.WebKit.Model",
    "com.apple.Safari.SafeBrowsing.Service",
    "MobileSafari",
    "SafariViewService",
    "SafariBookmarksSyncAgent",
})
_SYSTEM = ("/usr/", "/System/", "/sbin/", "/Applications/")
_MAX_NAMES = 10_000


class _Bloom:
    """A fixed-size set of names with no false negatives (4 MiB whatever the dump's size): a name
    never added is reported present with a probability of about 1e-3 at half a million names
    (two bits per name, both from one 64-bit string hash)."""

    BITS = 1 << 25

    def __init__(self) -> None:
        # Made on the first name: a backup (no file-system listing) never pays for the 4 MiB.
        self._bits = bytearray()

    def add(self, name: str) -> None:
        h = hash(name)
        bits = self._bits
        if not bits:
            bits = self._bits = bytearray(self.BITS >> 3)
        a, b = h & 0x1FFFFFF, (h >> 32) & 0x1FFFFFF
        bits[a >> 3] |= 1 << (a & 7)
        bits[b >> 3] |= 1 << (b & 7)

    def __contains__(self, name: str) -> bool:
        h = hash(name)
        bits = self._bits
        if not bits:
            return False
        a, b = h & 0x1FFFFFF, (h >> 32) & 0x1FFFFFF
        return bool(bits[a >> 3] & (1 << (a & 7))) and bool(bits[b >> 3] & (1 << (b & 7)))


class ProcessWithoutBinary(Heuristic):
    """Flag usage-database processes without a bundle id whose executable is on no path of the dump."""

    id = "process-without-binary"
    title = "Process with network usage but no binary on disk"
    severity = Severity.HIGH
    consumes = (UsageProcess, FilesystemEntry)
    reference = (
        "Amnesty International Security Lab, 'Forensic Methodology Report: How to catch NSO Group's Pegasus' "
        "(2021): Pegasus processes recorded in DataUsage/netusage whose binaries had been removed from the device; "
        "MVT Netusage/Datausage suspicious-process check on full-filesystem dumps (research/mvt.md §3.2, "
        "NetBase._find_suspicious_processes)"
    )
    explanation = (
        "iOS records every process that uses the network. A process without an app bundle is a system daemon or "
        "something that runs like one; on a full-filesystem dump that includes the system volume its executable "
        "should exist somewhere. Pegasus and similar implants run from files they delete after use, so their "
        "names remain in the usage databases while no binary of that name is left on the disk."
    )
    benign = (
        "An app or tool that was removed leaves its usage rows behind; a system daemon renamed or moved across iOS "
        "versions leaves rows that name its old binary; some processes live only in the dyld shared cache or in "
        "the cryptex volumes a dump may not include (an allow-list covers the known ones). The rule says nothing "
        "when the dump does not include the system volume."
    )

    def __init__(self) -> None:
        self._files = _Bloom()
        self._entries = 0
        self._system = False
        self._candidates: dict[str, UsageProcess] = {}

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Remember file names (as a bloom filter) and usage processes without a bundle id."""
        add = self._files.add
        for record in records:
            if type(record) is FilesystemEntry:
                self._entries += 1
                if record.entry_kind == "file" or record.entry_kind == "symlink":
                    name = record.name
                    add(name)
                    if len(name) > 15:  # the names a usage database may hold cut to 15 or 16 characters
                        add(name[:15])
                        if len(name) > 16:
                            add(name[:16])
                    if not self._system and record.path.startswith(_SYSTEM):
                        self._system = True
            elif isinstance(record, UsageProcess):
                name = (record.process or "").rsplit("/", 1)[-1].strip()
                if name and not record.bundle_id and name not in ALLOWED and len(self._candidates) < _MAX_NAMES:
                    self._candidates.setdefault(name, record)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """A finding per process whose name no file of the dump carries (only for dumps with a system volume)."""
        if not self._entries or not self._system:
            return []
        return [
            self.finding(record, f"Process {name} used the network, but no file named {name} exists on the dump "
                                 f"({self._entries:,} entries, system volume included)")
            for name, record in self._candidates.items()
            if name not in self._files
        ]
