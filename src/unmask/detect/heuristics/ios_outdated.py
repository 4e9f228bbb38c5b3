"""An iOS version older than the newest release unmask knows of."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.backup_info import BackupInfo


@cache
def newest_release() -> tuple[str, str]:
    """``(version, as-of date)`` of the newest iOS release in the bundled data."""
    data = json.loads(files("unmask.data").joinpath("ios_releases.json").read_text())
    return str(data["newest"]), str(data["as_of"])


def version_tuple(version: str) -> tuple[int, ...]:
    """``"17.4.1"`` → ``(17, 4, 1)``; non-numeric parts end the tuple."""
    parts: list[int] = []
    for piece in version.strip().split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


class OutdatedIOS(RecordRule):
    """Flag a device that runs an iOS version older than the newest known release."""

    id = "ios-outdated"
    title = "Outdated iOS version"
    severity = Severity.LOW
    consumes = (BackupInfo,)
    reference = "MVT backup_info warning; Apple security updates (support.apple.com/en-us/100100)"
    explanation = (
        "Mercenary spyware relies on vulnerabilities that Apple fixes in updates; an outdated phone is "
        "exposed to exploits that are already public."
    )
    benign = "The backup may simply predate the newest release; this is not a sign of compromise by itself."

    def check_record(self, record: BackupInfo) -> Iterator[Finding]:
        """A finding for a backup whose iOS version is older than the newest known release."""
        newest, as_of = newest_release()
        version = record.ios_version
        if not isinstance(version, str) or not version_tuple(version):
            return
        if version_tuple(version) < version_tuple(newest):
            yield self.finding(
                record,
                f"iOS {version} is older than the newest release known to unmask ({newest}, as of {as_of})",
            )
