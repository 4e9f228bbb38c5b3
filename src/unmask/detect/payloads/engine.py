"""Dispatch by content, recursion into embedded parts, and severity escalation.

:func:`screen_bytes` is pure and deterministic: it never touches the file system or the network
and never hands the bytes to a native image/font/PDF decoder. Resource caps are enforced
cooperatively here and hard by :mod:`.pool`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import PurePath

from unmask.model import Severity

from . import container, dng, font, jbig2, jpeg, pdf, webp
from .disguise import check_claims
from .magic import claim_from_mime, claim_from_name, sniff
from .result import DEFAULT_LIMITS, Ctx, FileReport, LimitExceeded, Limits, PayloadFinding

Handler = Callable[[Ctx, bytes, int, str], str | None]

_HANDLERS: dict[str, Handler] = {
    "pdf": pdf.scan,
    "jbig2": jbig2.scan_file,
    "webp": webp.scan,
    "ttf": font.scan,
    "otf": font.scan,
    "ttc": font.scan,
    "woff": font.scan,
    "woff2": font.scan,
    "tiff": dng.scan,
    "bigtiff": dng.scan,
    "zip": container.scan,
    "jpeg": jpeg.scan,
}

_SEVERITIES = list(Severity)
# Locator of findings about the file as a whole (its claim, its copies).
ROOT = "file"


def scan_content(ctx: Ctx, data: bytes, claims: list[tuple[str, str]], locator: str) -> str | None:
    """Screen one blob (a file or an embedded part) and return its detected (refined) type."""
    kind, offset = sniff(data)
    refined: str | None = kind
    try:
        handler = _HANDLERS.get(kind or "")
        if handler is not None:
            refined = handler(ctx, data, offset, locator) or kind
        if refined == "zip" and any(c == "pkpass" for _, c in claims):
            ctx.add(
                "PKPASS-STRUCTURE",
                Severity.INFO,
                "file claimed as a Wallet pass has no pass.json",
                locator or ROOT,
                missing=["pass.json"],
            )
    finally:
        # Claims are compared with the refined type (DNG rather than TIFF) even if a limit cut the
        # walk short: a disguise is worth reporting on a file we could not finish.
        check_claims(ctx, refined, offset, claims, locator or ROOT)
    return refined


def scan_nested(ctx: Ctx, data: bytes, name: str | None, locator: str) -> str | None:
    """Screen an embedded part (container member, PDF embedded file, appended archive)."""
    if ctx.depth >= ctx.limits.max_depth:
        ctx.hit("depth")
        ctx.error(f"{locator}: not screened, nesting deeper than {ctx.limits.max_depth}")
        return None
    claims: list[tuple[str, str]] = []
    claimed = claim_from_name(name)
    if claimed:
        claims.append(("member name", claimed))
    ctx.depth += 1
    try:
        return scan_content(ctx, data, claims, locator)
    finally:
        ctx.depth -= 1


def screen_bytes(
    data: bytes,
    *,
    name: str | None = None,
    mime: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> FileReport:
    """Screen one file's bytes in this process and return its report.

    ``name`` (the original file name, e.g. from ``sms.db``) and ``mime`` (a MIME type or Apple UTI)
    are the *claims*; dispatch never depends on them. A resource cap turns into ``limits_hit`` and
    an error entry, never an exception. For hostile input in bulk use :func:`screen_files`, which
    adds hard time and memory limits by running this in worker processes.
    """
    ctx = Ctx(limits, nested=scan_nested)
    claims: list[tuple[str, str]] = []
    by_name, by_mime = claim_from_name(name), claim_from_mime(mime)
    if by_name:
        claims.append(("file name", by_name))
    if by_mime:
        claims.append(("MIME type", by_mime))
    detected: str | None = sniff(data)[0]
    try:
        detected = scan_content(ctx, data, claims, "")
    except LimitExceeded as exc:
        ctx.hit(exc.name)
        ctx.error(f"limit reached: {exc}")
    except MemoryError:
        ctx.hit("memory")
        ctx.error("limit reached: out of memory")
    except RecursionError:
        ctx.hit("depth")
        ctx.error("limit reached: recursion depth")
    except Exception as exc:  # a parser bug must not lose the rest of a scan
        ctx.error(f"internal error: {type(exc).__name__}: {exc}")
    return FileReport(
        path=name or "<bytes>",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        detected_type=detected,
        claimed_type=by_name or by_mime,
        findings=escalate_within(ctx.findings),
        errors=ctx.errors,
        limits_hit=ctx.limits_hit,
    )


def _bump(f: PayloadFinding, to: Severity, why: str) -> PayloadFinding:
    if to.rank <= f.severity.rank:
        return f
    evidence = dict(f.evidence)
    evidence.setdefault("escalated_from", f.severity.value)
    evidence["escalation"] = why
    return dataclasses.replace(f, severity=to, evidence=evidence)


def _up(sev: Severity) -> Severity:
    return _SEVERITIES[min(sev.rank + 1, len(_SEVERITIES) - 1)]


def escalate_within(findings: list[PayloadFinding]) -> list[PayloadFinding]:
    """A structural finding on a disguised object raises both: the disguise to HIGH, MEDIUM to HIGH.

    Scope is by locator: a disguise on ``zip member a.gif`` only combines with findings inside that
    member, so one odd member does not escalate an unrelated one.
    """
    disguises = [f for f in findings if f.rule == "DISGUISE"]
    if not disguises:
        return findings
    out: list[PayloadFinding] = []
    structural = [f for f in findings if not f.rule.startswith("DISGUISE") and f.severity.rank >= 2]

    def covers(d: PayloadFinding, f: PayloadFinding) -> bool:
        return d.locator == ROOT or f.locator == d.locator or f.locator.startswith(d.locator + " > ")

    for f in findings:
        if f.rule == "DISGUISE":
            if any(covers(f, s) for s in structural):
                f = _bump(f, Severity.HIGH, "structural finding in the disguised content")
        elif f in structural and f.severity == Severity.MEDIUM and any(covers(d, f) for d in disguises):
            f = _bump(f, Severity.HIGH, "content is disguised")
        out.append(f)
    return out


def _default_group(report: FileReport) -> str:
    return str(PurePath(report.path).parent)


def escalate(
    reports: list[FileReport],
    *,
    min_copies: int = 5,
    group_by: Callable[[FileReport], str] | None = None,
) -> list[FileReport]:
    """Cross-file escalation: many copies of one file in one attachments folder (``MANY-COPIES``).

    FORCEDENTRY left 27 identical "GIFs" in ``Library/SMS/Attachments``; repeated delivery is how
    zero-click exploits retry. Files are grouped by ``group_by`` (default: the parent folder; iOS
    stores each attachment in its own sub-folder, so check-backup passes a key naming the whole
    attachments tree). Each copy gets a ``MANY-COPIES`` finding (INFO when the file is otherwise
    clean, MEDIUM when it has findings) and its other LOW+ findings are raised one level. Returns
    new report objects; the input list is not modified.
    """
    key = group_by or _default_group
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(reports):
        if r.size > 0:
            groups[(key(r), r.sha256)].append(i)
    out = list(reports)
    for (group, digest), idxs in groups.items():
        if len(idxs) < min_copies:
            continue
        for i in idxs:
            r = reports[i]
            bumped = [
                _bump(f, _up(f.severity), f"{len(idxs)} copies of this file") if f.severity.rank >= 1 else f
                for f in r.findings
            ]
            sev = Severity.MEDIUM if any(f.severity.rank >= 1 for f in r.findings) else Severity.INFO
            bumped.append(
                PayloadFinding(
                    "MANY-COPIES",
                    sev,
                    f"{len(idxs)} identical copies of this file in {group}",
                    None,
                    ROOT,
                    {"copies": len(idxs), "group": group, "sha256": digest},
                )
            )
            out[i] = dataclasses.replace(r, findings=bumped)
    return out
