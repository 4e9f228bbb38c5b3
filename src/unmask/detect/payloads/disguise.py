"""DISGUISE: the content is not what the name, MIME type or container says it is.

FORCEDENTRY arrived as PDF and PSD files named ``.gif``; LANDFALL as DNG files named ``.jpg``;
BLASTPASS as a WebP named ``logo.png`` inside a Wallet pass. Decoders that sniff content (ImageIO)
follow the bytes, so a claim that hides a complex format is a signal in itself.
"""

from __future__ import annotations

from unmask.model import Severity

from .magic import IMAGE_FAMILIES, family
from .result import Ctx

# Content families that reach large, historically exploited parsers when an image was expected.
_DANGEROUS_IN_IMAGE = frozenset({"pdf", "psd", "tiff", "font", "jbig2", "webp", "qmage"})


def disguise_severity(detected: str, claimed: str) -> Severity | None:
    """Severity of content ``detected`` under claim ``claimed``; ``None`` when they agree."""
    det, cla = family(detected), family(claimed)
    if det is None or cla is None or det == cla:
        return None
    if cla in IMAGE_FAMILIES and det in _DANGEROUS_IN_IMAGE:
        # Some apps store animated WebP under ".gif"; that alone is a look-alike, not a hiding place.
        if det == "webp" and cla == "gif":
            return Severity.LOW
        return Severity.MEDIUM
    return Severity.LOW


def check_claims(
    ctx: Ctx,
    detected: str | None,
    header_offset: int,
    claims: list[tuple[str, str]],
    locator: str,
) -> None:
    """Compare content with each claim (``(source, type)`` pairs) and flag headers not at offset 0."""
    if detected is None:
        return
    seen: set[str] = set()
    for source, claimed in claims:
        if claimed in seen:
            continue
        seen.add(claimed)
        sev = disguise_severity(detected, claimed)
        if sev is None:
            continue
        ctx.add(
            "DISGUISE",
            sev,
            f"content is {detected.upper()} but the {source} claims {claimed.upper()}",
            locator,
            detected_type=detected,
            claimed_type=claimed,
            claim_source=source,
        )
    if header_offset > 0:
        ctx.add(
            "DISGUISE-OFFSET",
            Severity.LOW,
            f"{detected.upper()} header found at offset {header_offset}, not at the start of the file",
            locator,
            detected_type=detected,
            header_offset=header_offset,
        )


def trailing(ctx: Ctx, kind: str, data: bytes, end: int, locator: str) -> None:
    """Flag bytes after the end of a format's own structure when they are another known format.

    Zero padding and unknown bytes are common and harmless; another recognisable file glued on
    (a ZIP, a PDF) is how payloads ride along with an image.
    """
    from .magic import sniff  # local: magic is tiny, but keeps this module's import graph flat

    if end >= len(data):
        return
    tail = data[end:]
    if not tail.strip(b"\x00\r\n \t"):
        return
    inner, off = sniff(tail)
    if inner is None or off:
        return
    ctx.add(
        "DISGUISE-TRAILING",
        Severity.LOW,
        f"{inner.upper()} data appended after the end of the {kind.upper()} structure",
        locator,
        outer_type=kind,
        trailing_type=inner,
        trailing_offset=end,
        trailing_bytes=len(tail),
    )
