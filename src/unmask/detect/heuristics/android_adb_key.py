"""ADB keys the device trusts: another computer's (low), a key that is not a valid public key
(low), and, for the record, every key when the acquisition does not say which computer took it,
and the acquiring computer's own key when it had connected more than a day before (info)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from datetime import timedelta

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.acquisition_info import AcquisitionInfo
from unmask.parsers.android.dumpsys_adb import AdbKey


def _material(key: str) -> str:
    return key.strip().split(" ", 1)[0] if key.strip() else ""


def _valid(material: str) -> bool:
    try:
        return bool(material) and bool(base64.b64decode(material, validate=True))
    except (binascii.Error, ValueError):
        return False


class AndroidUnknownAdbKey(Heuristic):
    """Trusted ADB keys, judged against the acquisition host's key (known from AndroidQF)."""

    id = "android-unknown-adb-key"
    title = "Another computer is trusted for ADB"
    severity = Severity.LOW
    consumes = (AdbKey, AcquisitionInfo)
    reference = ("MVT DumpsysADBState (key not the acquisition host's, or invalid: low; acquisition host key "
                 "last connected more than a day before: info)")
    explanation = ("A computer trusted for USB debugging can install apps and read data without unlocking "
                   "the phone again; someone who had the phone may have authorised theirs.")
    benign = "The owner may have used ADB from another computer of their own, or from this one before."

    def __init__(self) -> None:
        self.keys: dict[str, AdbKey] = {}
        self.host: set[str] = set()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AdbKey) and len(self.keys) < 1000:
                self.keys.setdefault(_material(r.key) or repr(r.key), r)
            elif isinstance(r, AcquisitionInfo) and r.adb_host_key:
                self.host.add(_material(r.adb_host_key))
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        taken = ctx.first_time("started", "completed")
        out: list[Finding] = []
        for material, k in self.keys.items():
            who = f"ADB key {k.fingerprint or k.key[:24]} of {k.user or 'an unnamed user'}"
            if not _valid(material):
                out.append(self.finding(k, f"{who} is trusted but is not a valid public key"))
            elif not self.host:
                out.append(self.finding(k, f"{who} is trusted (the acquisition does not say which computer took it)",
                                        severity=Severity.INFO))
            elif material not in self.host:
                out.append(self.finding(k, f"{who} is trusted and is not the acquiring computer's"))
            elif taken is not None and k.last_connected is not None and k.last_connected <= taken - timedelta(days=1):
                out.append(self.finding(k, f"the acquiring computer's {who} had already connected "
                                           f"{(taken - k.last_connected).days} day(s) before the acquisition",
                                        severity=Severity.INFO))
        return out
