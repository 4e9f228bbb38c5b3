"""Whether Lockdown Mode, Apple's hardening against mercenary spyware, is on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity


class LockdownMode(Heuristic):
    """Report the Lockdown Mode state: INFO when on, LOW (with advice) when explicitly off."""

    id = "lockdown-mode"
    title = "Lockdown Mode state"
    severity = Severity.INFO
    kinds = ("ios/preferences/global",)
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

    def check(self, records: Sequence[Record], ctx: HeuristicContext) -> Iterator[Finding]:
        """One finding per preferences file that states the Lockdown Mode setting."""
        for record in records:
            state = getattr(record, "lockdown_mode", None)
            if state is True:
                yield self.finding(record, "Lockdown Mode is enabled")
            elif state is False:
                yield self.finding(record, f"Lockdown Mode is off. {_ADVICE}", severity=Severity.LOW)
            elif state is None and _major(ctx.metadata.get("ios_version")) >= 16:
                # On iOS 16+ the key appears once the setting has been used; its absence most likely
                # means Lockdown Mode was never turned on (an inference, so the message hedges).
                yield self.finding(
                    record,
                    f"Lockdown Mode is not recorded as on: it has probably never been turned on. {_ADVICE}",
                    severity=Severity.LOW,
                )


_ADVICE = (
    "People at risk of targeted spyware should consider turning it on (Settings > Privacy & Security > Lockdown Mode)."
)


def _major(version: object) -> int:
    head = str(version or "").split(".", 1)[0]
    return int(head) if head.isdigit() else 0
