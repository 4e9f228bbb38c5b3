"""Content sniffing (what the bytes are) and claim decoding (what the name, MIME type or UTI say).

Dispatch is by content only; the claim is a separate signal compared in :mod:`.disguise`. Types
are short lower-case names (``pdf``, ``webp``, ``tiff``, ``dng``, ``ttf`` …); each belongs to a
*family* so that harmless variants (``.tif`` holding BigTIFF, ``.ttf`` holding OpenType) agree.
"""

from __future__ import annotations

import struct
from pathlib import PurePosixPath

# How far into a file a PDF header is still accepted by readers (Acrobat searches the first 1 KiB).
PDF_HEADER_WINDOW = 1024

FAMILY: dict[str, str] = {
    "gif": "gif",
    "png": "png",
    "jpeg": "jpeg",
    "webp": "webp",
    "pdf": "pdf",
    "psd": "psd",
    "tiff": "tiff",
    "bigtiff": "tiff",
    "dng": "tiff",
    "ttf": "font",
    "otf": "font",
    "ttc": "font",
    "woff": "font",
    "woff2": "font",
    "heif": "isobmff",
    "avif": "isobmff",
    "mp4": "isobmff",
    "zip": "zip",
    "pkpass": "zip",
    "jbig2": "jbig2",
    "jp2": "jp2",
    "jxl": "jxl",
    "bplist": "plist",
    "bmp": "bmp",
    "qmage": "qmage",
}

# Families that ImageIO-style "sniff and decode" stacks treat as images; a claim in this set is an
# "image claim" for the disguise severities.
IMAGE_FAMILIES = frozenset({"gif", "png", "jpeg", "webp", "tiff", "isobmff", "jp2", "jxl", "bmp", "psd"})

_EXT: dict[str, str] = {
    "gif": "gif",
    "png": "png",
    "apng": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "jfif": "jpeg",
    "webp": "webp",
    "pdf": "pdf",
    "ai": "pdf",
    "psd": "psd",
    "psb": "psd",
    "tif": "tiff",
    "tiff": "tiff",
    "dng": "dng",
    "nef": "tiff",
    "arw": "tiff",
    "cr2": "tiff",
    "orf": "tiff",
    "rw2": "tiff",
    "pef": "tiff",
    "srw": "tiff",
    "ttf": "ttf",
    "otf": "otf",
    "ttc": "ttc",
    "otc": "ttc",
    "woff": "woff",
    "woff2": "woff2",
    "heic": "heif",
    "heif": "heif",
    "hif": "heif",
    "avif": "avif",
    "mov": "mp4",
    "mp4": "mp4",
    "m4v": "mp4",
    "m4a": "mp4",
    "3gp": "mp4",
    "zip": "zip",
    "pkpass": "pkpass",
    "jar": "zip",
    "apk": "zip",
    "ipa": "zip",
    "epub": "zip",
    "docx": "zip",
    "xlsx": "zip",
    "pptx": "zip",
    "odt": "zip",
    "ods": "zip",
    "jb2": "jbig2",
    "jbig2": "jbig2",
    "jp2": "jp2",
    "j2k": "jp2",
    "jpx": "jp2",
    "jxl": "jxl",
    "bmp": "bmp",
}

_MIME: dict[str, str] = {
    "image/gif": "gif",
    "image/png": "png",
    "image/apng": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "image/vnd.adobe.photoshop": "psd",
    "image/tiff": "tiff",
    "image/x-adobe-dng": "dng",
    "image/dng": "dng",
    "font/ttf": "ttf",
    "font/otf": "otf",
    "font/collection": "ttc",
    "font/woff": "woff",
    "font/woff2": "woff2",
    "application/x-font-ttf": "ttf",
    "application/font-sfnt": "ttf",
    "image/heic": "heif",
    "image/heif": "heif",
    "image/avif": "avif",
    "video/mp4": "mp4",
    "video/quicktime": "mp4",
    "video/3gpp": "mp4",
    "application/zip": "zip",
    "application/vnd.apple.pkpass": "pkpass",
    "image/jp2": "jp2",
    "image/jxl": "jxl",
    "image/bmp": "bmp",
    # Apple Uniform Type Identifiers, as stored in sms.db ``attachment.uti``.
    "public.jpeg": "jpeg",
    "public.png": "png",
    "com.compuserve.gif": "gif",
    "org.webmproject.webp": "webp",
    "public.tiff": "tiff",
    "com.adobe.raw-image": "dng",
    "com.adobe.pdf": "pdf",
    "com.adobe.photoshop-image": "psd",
    "public.heic": "heif",
    "public.heif": "heif",
    "public.avif": "avif",
    "public.mpeg-4": "mp4",
    "com.apple.quicktime-movie": "mp4",
    "public.zip-archive": "zip",
    "com.apple.pkpass": "pkpass",
    "public.truetype-ttf-font": "ttf",
    "public.opentype-font": "otf",
    "public.jpeg-2000": "jp2",
}

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def family(kind: str | None) -> str | None:
    """The family a type belongs to (``dng`` -> ``tiff``), ``None`` for unknown."""
    if kind is None:
        return None
    return FAMILY.get(kind, kind)


def sniff(data: bytes) -> tuple[str | None, int]:
    """Identify ``data`` by its leading bytes; returns ``(type, header_offset)``.

    The offset is 0 except for PDF, whose header readers accept anywhere in the first KiB; a
    non-zero offset is itself an anomaly reported by :mod:`.disguise`.
    """
    head = data[:16]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif", 0
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", 0
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", 0
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", 0
    if head.startswith(b"%PDF-"):
        return "pdf", 0
    if head[:4] == b"8BPS" and head[4:6] in (b"\x00\x01", b"\x00\x02"):
        return "psd", 0
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff", 0
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return "bigtiff", 0
    if head[:4] in (b"\x00\x01\x00\x00", b"true", b"typ1") and _plausible_sfnt(data):
        return "ttf", 0
    if head[:4] == b"OTTO" and _plausible_sfnt(data):
        return "otf", 0
    if head[:4] == b"ttcf":
        return "ttc", 0
    if head[:4] == b"wOFF":
        return "woff", 0
    if head[:4] == b"wOF2":
        return "woff2", 0
    if head[4:8] == b"ftyp":
        return _isobmff(data), 0
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip", 0
    if head[:8] == b"\x97JB2\r\n\x1a\n":
        return "jbig2", 0
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xffO\xffQ":
        return "jp2", 0
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "jxl", 0
    if head[:8] == b"bplist00":
        return "bplist", 0
    if (
        head[:2] == b"BM"
        and len(data) >= 26
        and struct.unpack_from("<I", data, 14)[0] in (12, 40, 52, 56, 64, 108, 124)
    ):
        return "bmp", 0
    if head[:2] == b"QG" and len(head) >= 4 and head[2] in (1, 2) and head[3] < 16:
        return "qmage", 0
    pos = data.find(b"%PDF-", 0, PDF_HEADER_WINDOW)
    if pos > 0:
        return "pdf", pos
    return None, 0


def _plausible_sfnt(data: bytes) -> bool:
    # A 4-byte tag alone is too weak (b"true" starts English text); require a sane table directory.
    if len(data) < 12:
        return False
    num_tables: int = struct.unpack_from(">H", data, 4)[0]
    return 0 < num_tables < 512 and len(data) >= 12 + 16 * num_tables


def _isobmff(data: bytes) -> str:
    size = struct.unpack_from(">I", data, 0)[0]
    brands = [data[8:12]]
    end = min(len(data), size if 16 <= size <= 4096 else 16)
    brands += [data[i : i + 4] for i in range(16, end - 3, 4)]
    if any(b in _AVIF_BRANDS for b in brands[:1]):
        return "avif"
    if any(b in _HEIF_BRANDS for b in brands[:1]):
        return "heif"
    if any(b in _AVIF_BRANDS for b in brands):
        return "avif"
    if any(b in _HEIF_BRANDS for b in brands):
        return "heif"
    return "mp4"


def claim_from_name(name: str | None) -> str | None:
    """The type a file (or container member) name claims by its extension, ``None`` if it says nothing."""
    if not name:
        return None
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")
    return _EXT.get(suffix)


def claim_from_mime(mime: str | None) -> str | None:
    """The type a MIME type or Apple UTI claims, ``None`` if unknown or generic."""
    if not mime:
        return None
    return _MIME.get(mime.strip().lower().split(";", 1)[0].strip())
