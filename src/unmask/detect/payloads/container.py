"""ZIP and Wallet passes (``.pkpass``): members are screened recursively, never extracted to disk.

BLASTPASS hid a WebP named ``logo.png`` inside a pass; LANDFALL appended a ZIP of native modules to
a DNG. Member names are used only as *claims*; sizes and compression ratios are capped before a
single byte is inflated, so a ZIP bomb costs nothing.
"""

from __future__ import annotations

import io
import zipfile

from unmask.model import Severity

from .result import Ctx, LimitExceeded

PKPASS_REQUIRED = ("pass.json", "manifest.json")


def scan(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Screen each member of a ZIP; a ZIP with ``pass.json`` is reported as ``pkpass``."""
    base = locator or "zip"
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        ctx.error(f"{base}: unreadable ZIP: {exc}")
        return None
    names = {i.filename for i in infos}
    kind = "pkpass" if "pass.json" in names else "zip"
    if kind == "pkpass":
        missing = [n for n in PKPASS_REQUIRED if n not in names]
        if missing:
            ctx.add(
                "PKPASS-STRUCTURE",
                Severity.INFO,
                "Wallet pass without its required members",
                base,
                cve=None,
                missing=missing,
            )
    if len(infos) > ctx.limits.max_members:
        ctx.hit("zip-members")
        ctx.error(f"{base}: {len(infos)} members, only the first {ctx.limits.max_members} screened")
        infos = infos[: ctx.limits.max_members]
    for info in infos:
        ctx.tick(64)
        if info.filename.endswith("/"):  # a folder (ZipInfo.is_dir fails on an empty name)
            continue
        mloc = f"{locator} > zip member {info.filename}" if locator else f"zip member {info.filename}"
        if info.flag_bits & 0x1:
            ctx.error(f"{mloc}: encrypted member not screened")
            continue
        size = info.file_size
        if size > ctx.limits.max_member_bytes:
            ctx.hit("member-size")
            ctx.error(f"{mloc}: {size} bytes, over the member limit; not screened")
            continue
        if info.compress_size and size / info.compress_size > ctx.limits.max_ratio and size > 1 << 20:
            ctx.hit("zip-ratio")
            ctx.error(
                f"{mloc}: compression ratio {size / info.compress_size:.0f}:1 over the limit; not screened"
            )
            continue
        if size > ctx.remaining_decompress():
            raise LimitExceeded("decompressed-bytes", f"{mloc}")
        try:
            with zf.open(info) as fh:
                content = fh.read(size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            ctx.error(f"{mloc}: unreadable member: {exc}")
            continue
        except Exception as exc:  # zlib/bz2/lzma errors on hostile members
            ctx.error(f"{mloc}: unreadable member: {type(exc).__name__}: {exc}")
            continue
        ctx.charge(len(content))
        ctx.scan_nested(content, info.filename, mloc)
    return kind
