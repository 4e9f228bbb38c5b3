"""Structural screening of files for zero-click exploit payloads (BlastDoor-style, defensive only).

Files are identified by content; what their name, MIME type or container claims is a separate
signal (``DISGUISE``). Format walkers read only headers and structures, never hand bytes to a
native decoder, and stop at the caps in :class:`Limits`. Rules, CVEs and output format:
``docs/payloads.md``.

Typical use::

    from unmask.detect.payloads import expand_inputs, screen_files, escalate

    reports = escalate(screen_files(expand_inputs(["attachments/"])))
    for r in reports:
        for f in r.findings:
            print(r.path, f.rule, f.severity, f.locator)
"""

from .engine import escalate, escalate_within, screen_bytes
from .magic import claim_from_mime, claim_from_name, sniff
from .pool import ScreenItem, expand_inputs, screen_files, screen_path
from .result import DEFAULT_LIMITS, FileReport, Limits, PayloadFinding, ScreenSummary, summarise

__all__ = [
    "DEFAULT_LIMITS",
    "FileReport",
    "Limits",
    "PayloadFinding",
    "ScreenItem",
    "ScreenSummary",
    "claim_from_mime",
    "claim_from_name",
    "escalate",
    "escalate_within",
    "expand_inputs",
    "screen_bytes",
    "screen_files",
    "screen_path",
    "sniff",
    "summarise",
]
