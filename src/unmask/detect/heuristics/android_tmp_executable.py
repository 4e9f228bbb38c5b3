"""Files in /data/local/tmp, the world-writable folder exploits and implants drop their payloads in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.files import AndroidFile

# AndroidQF pushes its own collector there (adb/collector.go).
COLLECTORS = frozenset({"collector", "android-collector"})


class AndroidTmpExecutable(RecordRule):
    """A file under /data/local/tmp other than AndroidQF's collector."""

    id = "android-tmp-file"
    title = "File in /data/local/tmp"
    severity = Severity.HIGH
    consumes = (AndroidFile,)
    reference = "MVT AQFFiles (any file under /data/local/tmp: high); Predator's /data/local/tmp payloads (Amnesty 2023)"
    explanation = ("Exploit chains stage their payloads in /data/local/tmp; nothing ordinary leaves files "
                   "there on a phone that is not used for development.")
    benign = "Developers push tools there with adb; acquisition tools leave their helpers for a moment."

    def check_record(self, record: Any) -> Iterator[Finding]:
        path = record.path
        if path.startswith("/data/local/tmp/") and path.rsplit("/", 1)[-1] not in COLLECTORS:
            executable = " (executable)" if record.mode and "x" in record.mode else ""
            yield self.finding(record, f"{path} is in /data/local/tmp{executable}")
