"""JPEG: find the real end of the image and look at what follows it.

Bytes after EOI are normal (Motion Photo MP4s, MPF secondary images), so only an archive or an
executable there is reported, and at INFO: it is how a payload rides along with a photo that
every viewer still shows. An appended ZIP is screened like any container.
"""

from __future__ import annotations

import struct

from unmask.model import Severity

from .result import Ctx

_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_EXECUTABLE = {
    b"\x7fELF": "elf",
    b"MZ": "pe",
    b"\xcf\xfa\xed\xfe": "mach-o",
    b"\xce\xfa\xed\xfe": "mach-o",
    b"\xca\xfe\xba\xbe": "mach-o-fat",
    b"dex\n": "dex",
}


def end_of_image(ctx: Ctx, data: bytes) -> int | None:
    """Offset just past the EOI marker of the first image, or ``None`` if the file ends first."""
    p = 2
    n = len(data)
    while p + 2 <= n:
        ctx.tick()
        if data[p] != 0xFF:
            return None
        m = data[p + 1]
        if m == 0xFF:
            p += 1
            continue
        if m == 0xD9:
            return p + 2
        if m in _STANDALONE:
            p += 2
            continue
        if p + 4 > n:
            return None
        seg = struct.unpack_from(">H", data, p + 2)[0]
        p += 2 + seg
        if m == 0xDA:
            # Entropy-coded data: the next marker is an FF not followed by 00 (stuffing) or RSTn.
            while True:
                q = data.find(b"\xff", p)
                if q < 0 or q + 1 >= n:
                    return None
                nxt = data[q + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    p = q + 1 if nxt == 0xFF else q + 2
                    continue
                p = q
                break
    return None


def scan(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Report an archive or executable appended after a JPEG's EOI, and screen an appended ZIP."""
    from .tiff import zip_after

    end = end_of_image(ctx, data)
    if end is None or end >= len(data):
        return None
    where = f"{locator} > jpeg" if locator else "jpeg"
    z = zip_after(data, end)
    kind = None
    if z is not None:
        kind = "zip"
    else:
        tail = data[end:].lstrip(b"\x00")
        kind = next((k for sig, k in _EXECUTABLE.items() if tail.startswith(sig)), None)
    if kind is None:
        return None
    ctx.add(
        "DISGUISE-TRAILING",
        Severity.INFO,
        f"{kind.upper()} data after the end of the JPEG image",
        where,
        cve=None,
        outer_type="jpeg",
        trailing_type=kind,
        trailing_offset=end if z is None else z,
        trailing_bytes=len(data) - (end if z is None else z),
    )
    if z is not None:
        ctx.scan_nested(data[z:], None, f"{where} appended@{z}")
    return None
