"""An Android security patch level more than six months older than the acquisition."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask import timeutil
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.getprop import AndroidProperty


class AndroidOldPatch(Heuristic):
    """ro.build.version.security_patch older than ~6 months at acquisition time."""

    id = "android-old-security-patch"
    title = "Security patches missing for more than six months"
    severity = Severity.MEDIUM
    consumes = (AndroidProperty,)
    reference = "MVT warn_android_patch_level (older than 6 x 31 days)"
    explanation = "Spyware exploits known vulnerabilities; an unpatched phone is open to chains that are public."
    benign = "Older phones no longer get updates; that is a risk, not a sign of infection."

    def __init__(self) -> None:
        self.patch: AndroidProperty | None = None

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AndroidProperty) and r.name == "ro.build.version.security_patch":
                self.patch = r
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        if self.patch is None:
            return ()
        patch = timeutil.parse_iso(self.patch.value.strip())
        reference = ctx.first_time("completed", "dumpstate_time", "started") or timeutil.now()
        if patch is None or (reference - patch.value).days <= 6 * 31:
            return ()
        return [self.finding(self.patch, f"the security patch level is {self.patch.value}, "
                                         f"{(reference - patch.value).days} days before the acquisition")]
