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
_TRUNCATED = (15, 16)  # Darwin keeps 16 characters of a process name, some tools 15
_MAX_NAMES = 10_000


class _Bloom:
    """A fixed-size set of names with no false negatives (4 MiB whatever the dump's size): a name
    never added is reported absent except with a probability of about 1e-4 at a million names."""

    BITS = 1 << 25

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS >> 3)

    def _slots(self, name: str) -> tuple[int, int, int, int]:
        a, b = hash(name), hash((name, 1))
        mask = self.BITS - 1
        return a & mask, (a >> 32) & mask, b & mask, (b >> 32) & mask

    def add(self, name: str) -> None:
        bits = self._bits
        for slot in self._slots(name):
            bits[slot >> 3] |= 1 << (slot & 7)

    def __contains__(self, name: str) -> bool:
        bits = self._bits
        return all(bits[slot >> 3] & (1 << (slot & 7)) for slot in self._slots(name))


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
        files = self._files
        for record in records:
            if isinstance(record, FilesystemEntry):
                self._entries += 1
                if record.entry_kind in ("file", "symlink"):
                    name = record.name
                    files.add(name)
                    if len(name) > _TRUNCATED[0]:
                        for cut in _TRUNCATED:
                            if len(name) > cut:
                                files.add(name[:cut])
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
