"""A system partition mounted read-write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.mounts import Mount

SYSTEM_MOUNTS = frozenset({"/", "/system", "/vendor", "/product", "/system_ext", "/odm"})


class AndroidSystemMountRw(RecordRule):
    """/system, /vendor, /product or /system_ext writable."""

    id = "android-system-mount-rw"
    title = "System partition writable"
    severity = Severity.HIGH
    consumes = (Mount,)
    reference = ("MVT Mounts (system partitions mounted rw: high; the remount option: medium; unmask leaves out "
                 "MVT's noatime/nodiratime, which stock builds set on these partitions)")
    explanation = "Android mounts its system partitions read-only; a writable one means root and a changed system."
    benign = "Developer builds (userdebug, adb remount) mount them read-write."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if record.mount_point not in SYSTEM_MOUNTS:
            return
        if "rw" in record.options:
            yield self.finding(record, f"{record.mount_point} is mounted read-write ({','.join(record.options)})")
        elif "remount" in record.options:
            yield self.finding(record, f"{record.mount_point} was remounted ({','.join(record.options)})",
                               severity=Severity.MEDIUM)
