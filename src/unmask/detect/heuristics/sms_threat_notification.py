"""Apple's threat notification about state-sponsored / mercenary spyware attacks, received by SMS/iMessage."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.sms import SmsMessage

# The opening words of Apple's published notification texts, in folded form (see fold()).
PHRASES = (
    "alert: state-sponsored attackers may be targeting your",  # 2021 to 2023
    "alert: apple detected a targeted mercenary spyware attack against your",  # from 2024
)
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u00b4`"), "'") | dict.fromkeys(
    map(ord, "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"), '"'
)
_SPACE = re.compile(r"\s+")
_LEADING = " \t\r\n\"'*>\u200b\u200e\u200f\ufeff"


def fold(text: str) -> str:
    """Text in a comparable form: NFKC, one kind of dash and quote, single spaces, case-folded."""
    folded = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    folded = _SPACE.sub(" ", folded).lstrip(_LEADING).casefold()
    # "ALERT:State-sponsored" / "ALERT :" spacing variants around the colon.
    return re.sub(r"^alert\s*:\s*", "alert: ", folded)


def is_threat_notification(text: str | None) -> bool:
    """Whether a message text starts like one of Apple's threat notifications."""
    return bool(text) and fold(text or "").startswith(PHRASES)


class SmsThreatNotification(RecordRule):
    """Flag messages that carry Apple's threat-notification wording."""

    id = "sms-threat-notification"
    title = "Apple threat notification received"
    severity = Severity.HIGH
    consumes = (SmsMessage,)
    reference = (
        "Apple, 'About Apple threat notifications and protecting against mercenary spyware' "
        "(support.apple.com/en-us/102174); MVT SMS module threat-notification check (research/mvt.md §3.3)"
    )
    explanation = (
        "Apple sends this notification, by iMessage and email, to people it believes were individually "
        "targeted by state-sponsored or mercenary spyware. It is Apple's own detection, and the device "
        "should be examined by a specialist (Access Now Digital Security Helpline, Amnesty Security Lab)."
    )
    benign = (
        "Scam messages imitate this wording; a genuine notification also appears at the top of the "
        "appleid.apple.com page after signing in. A message sent by the device owner may be a forwarded copy."
    )

    def check_record(self, record: SmsMessage) -> Iterator[Finding]:
        """A finding for a message whose text opens with the notification wording."""
        text = record.text
        if isinstance(text, str) and is_threat_notification(text):
            handle = record.handle or "an unknown sender"
            yield self.finding(
                record,
                f"Apple threat notification in a {record.direction} message ({handle}): {text[:120]!r}",
            )
