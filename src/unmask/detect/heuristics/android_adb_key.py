"""ADB keys the device trusts that are not the acquiring computer's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.acquisition_info import AcquisitionInfo
from unmask.parsers.android.dumpsys_adb import AdbKey


class AndroidUnknownAdbKey(Heuristic):
    """A trusted ADB key other than the acquisition host's (known from AndroidQF)."""

    id = "android-unknown-adb-key"
    title = "Another computer is trusted for ADB"
    severity = Severity.LOW
    consumes = (AdbKey, AcquisitionInfo)
    reference = "MVT DumpsysADBState (key not the acquisition host's: low)"
    explanation = ("A computer trusted for USB debugging can install apps and read data without unlocking "
                   "the phone again; someone who had the phone may have authorised theirs.")
    benign = "The owner may have used ADB from another computer of their own."

    def __init__(self) -> None:
        self.keys: list[AdbKey] = []
        self.host: set[str] = set()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AdbKey) and len(self.keys) < 1000:
                self.keys.append(r)
            elif isinstance(r, AcquisitionInfo) and r.adb_host_key:
                self.host.add(r.adb_host_key.split()[0])
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        if not self.host:
            return ()
        return [self.finding(k, f"ADB key {k.fingerprint or k.key[:24]} of {k.user or 'an unnamed user'} is trusted "
                                "and is not the acquiring computer's") for k in self.keys if k.key.split()[0] not in self.host]
