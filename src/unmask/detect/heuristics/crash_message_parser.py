"""A crash of a process that parses received messages or media, raised when a message arrived just before."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.sms import SmsMessage
from unmask.parsers.ios.sms_attachments import SmsAttachment
from unmask.parsers.ios.whatsapp import WhatsAppMedia, WhatsAppMessage

PARSERS = frozenset({
    "IMTranscoderAgent", "imagent", "IMDPersistenceAgent", "MessagesBlastDoorService", "mediaserverd",
    "mediaparserd", "ImageIOXPCService", "identityservicesd",
})
"""Processes that parse what a message delivers: iMessage's agents and BlastDoor sandbox, the
media server, the ImageIO decoder service (research/peers.md H14, H28 and item 5)."""
PREFIXES = ("com.apple.WebKit.", "BlastDoor", "com.apple.MessagesBlastDoor")
"""WebKit's processes (link previews, web content) and BlastDoor's variants."""
BEFORE = 600.0
"""A message or attachment at most this many seconds before the crash raises it to high."""
AFTER = 60.0
"""… or at most this many seconds after (the message's stored time is the sender's clock)."""
CRASH_TYPES = frozenset({"crash"})


def parses_messages(name: str | None) -> bool:
    """Whether a process name is one of the message and media parsers."""
    return bool(name) and name is not None and (name in PARSERS or name.startswith(PREFIXES))


class CrashMessageParser(Heuristic):
    """Flag crashes of message and media parsers; high when a received message or attachment (in
    any acquisition read together) is within minutes before them."""

    id = "crash-message-parser"
    title = "A message or media parser crashed"
    severity = Severity.MEDIUM
    consumes = (CrashReport, SmsMessage, SmsAttachment, WhatsAppMessage, WhatsAppMedia)
    reference = (
        "Citizen Lab, FORCEDENTRY (2021): IMTranscoderAgent crashes around exploit delivery; iVerify (2024): "
        "Pegasus traces in crash reports; research/peers.md H14, H28"
    )
    explanation = (
        "Zero-click exploits arrive as messages whose content a system process parses without the user doing "
        "anything: iMessage's transcoder and agents, the BlastDoor sandbox, the media server, WebKit, the image "
        "decoders. A failed or noisy exploit attempt crashes that parser. A crash shortly after a message or "
        "attachment arrived is what Citizen Lab saw around FORCEDENTRY deliveries."
    )
    benign = (
        "These processes also crash on ordinary bugs, broken media and low memory; one crash with no message "
        "nearby is common. Several crashes, crashes right after messages from an unknown sender, or crash "
        "reports naming exploitable memory errors (EXC_BAD_ACCESS, EXC_GUARD) deserve a closer look."
    )

    def __init__(self) -> None:
        self._crashes: list[CrashReport] = []
        # (time, rank, what kind, sender, detail): the record's own strings, its text built only for
        # the message nearest a crash (a phone holds hundreds of thousands of messages).
        self._received: list[tuple[float, int, int, str | None, str | None]] = []

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Keep the parsers' crashes and the times of received messages and attachments."""
        for record in records:
            if isinstance(record, CrashReport):
                if record.report_type in CRASH_TYPES and record.time is not None and parses_messages(record.process):
                    self._crashes.append(record)
            elif isinstance(record, SmsMessage | SmsAttachment | WhatsAppMessage | WhatsAppMedia):
                if record.direction != "received" or record.timestamp is None:
                    continue
                rank = 0 if isinstance(record, SmsAttachment | WhatsAppMedia) else 1  # files first in a tie
                self._received.append((record.timestamp.timestamp(), rank, *_brief(record)))
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """One finding per crash, high when a received message is near."""
        self._received.sort()
        times = [item[0] for item in self._received]
        for crash in self._crashes:
            assert crash.time is not None
            at = crash.time.timestamp()
            lo, hi = bisect.bisect_left(times, at - BEFORE), bisect.bisect_right(times, at + AFTER)
            how = " ".join(x for x in (crash.exception_type, crash.signal) if x) or crash.termination_reason or ""
            where = f" in thread {crash.faulting_thread_name}" if crash.faulting_thread_name else ""
            base = f"{crash.process} crashed{(' (' + how + ')') if how else ''}{where}"
            if lo < hi:
                t, _, which, sender, detail = min(self._received[lo:hi], key=lambda item: (abs(at - item[0]), item[1]))
                what = _what(which, sender, detail)
                lag = at - t
                timing = f"{abs(lag):.0f} s {'after' if lag >= 0 else 'before'}"
                yield self.finding(
                    crash,
                    f"{base}, {timing} {what} ({hi - lo} received message(s) or attachment(s) within "
                    f"{BEFORE / 60:.0f} minutes)",
                    severity=Severity.HIGH,
                )
            else:
                yield self.finding(crash, base)


def _brief(record: Record) -> tuple[int, str | None, str | None]:
    """(what kind, sender, detail) of a received message or attachment."""
    if isinstance(record, SmsAttachment):
        return 0, record.handle, record.mime_type or record.transfer_name
    if isinstance(record, SmsMessage):
        return 1, record.handle, record.service
    if isinstance(record, WhatsAppMedia):
        return 2, record.from_jid, None
    assert isinstance(record, WhatsAppMessage)
    return 3, record.from_jid, None


def _what(which: int, sender: str | None, detail: str | None) -> str:
    who = sender or "an unknown sender"
    if which == 0:
        return f"an attachment ({detail or 'unknown type'}) from {who} arrived"
    if which == 1:
        return f"a message ({detail or 'SMS'}) from {who} arrived"
    if which == 2:
        return f"WhatsApp media from {who} arrived"
    return f"a WhatsApp message from {who} arrived"
