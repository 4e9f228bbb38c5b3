"""Whether Lockdown Mode, Apple's hardening against mercenary spyware, is on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.global_preferences import GlobalPreferences


class LockdownMode(Heuristic):
    """Report the Lockdown Mode state: INFO when on, LOW (with advice) when explicitly off."""

    id = "lockdown-mode"
    title = "Lockdown Mode state"
    severity = Severity.INFO
    consumes = (GlobalPreferences,)
    reference = (
        "Apple, 'About Lockdown Mode' (support.apple.com/en-us/105120); MVT GlobalPreferences "
        "(research/mvt.md §3.3; LDMGlobalEnabled, research/plists.md §4)"
    )
    explanation = (
        "Lockdown Mode (iOS 16+) turns off much of the attack surface mercenary spyware has used for "
        "zero-click exploits: most message attachment types, link previews, some web technologies, "
        "and incoming FaceTime calls and invitations from unknown people."
    )
    benign = "This is the device's configuration, not a trace of compromise."

    def __init__(self) -> None:
        # Judged at the end, when the iOS version is known; there are at most a couple of files.
        self._records: list[GlobalPreferences] = []

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Keep the preferences records until the end."""
        self._records.extend(r for r in records if isinstance(r, GlobalPreferences))
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """One finding per preferences file that states the Lockdown Mode setting."""
        findings: list[Finding] = []
        for record in self._records:
            state = record.lockdown_mode
            if state is True:
                findings.append(self.finding(record, "Lockdown Mode is enabled"))
            elif state is False:
                findings.append(self.finding(record, f"Lockdown Mode is off. {_ADVICE}", severity=Severity.LOW))
            elif state is None and _major(ctx.metadata.get("ios_version")) >= 16:
                # On iOS 16+ the key appears once the setting has been used; its absence most likely
                # means Lockdown Mode was never turned on (an inference, so the message hedges).
                findings.append(
                    self.finding(
                        record,
                        f"Lockdown Mode is not recorded as on: it has probably never been turned on. {_ADVICE}",
                        severity=Severity.LOW,
                    )
                )
        return findings


_ADVICE = (
    "People at risk of targeted spyware should consider turning it on (Settings > Privacy & Security > Lockdown Mode)."
)


def _major(version: object) -> int:
    head = str(version or "").split(".", 1)[0]
    return int(head) if head.isdigit() else 0
