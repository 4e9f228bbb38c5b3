"""Cookies (``Cookies.binarycookies``): the sites that set cookies in Safari and in every app's web views.

CFNetwork stores an app's HTTP cookies in one binary file, ``Library/Cookies/Cookies.binarycookies``
of the app's container (Safari's and the system's under ``/private/var/mobile/Library/Cookies``).
A cookie names the domain that set it, when, and until when: an exploit or phishing server the
user's browser or an in-app browser reached leaves one, and cookies survive clearing history.
MVT has no module for it. Format (big-endian file header, little-endian pages), as documented by
Satishb3's "Safari and iOS binarycookies" write-up and implemented by many forensic tools:

- ``cook``, page count (u32 BE), each page's size (u32 BE), then the pages;
- a page: ``00 00 01 00``, cookie count (u32 LE), each cookie's offset in the page (u32 LE), ``0``;
- a cookie: size, version, flags (1 secure, 4 HTTP only), unknown, then the offsets (u32 LE, from
  the cookie's start) of domain, name, path and value (NUL-terminated), an 8-byte end marker, and
  expiry and creation as Mac absolute seconds (f64 LE).

Everything is bounds-checked: a damaged page ends with a warning, never a crash.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Parser, Source
from unmask.parsers.ios.containers import app_of

_MAX = 64 << 20
_NAME = "Library/Cookies/Cookies.binarycookies"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cookie(Record):
    """One cookie: the domain that set it, its name and path, creation and expiry."""

    kind: ClassVar[str] = "ios/safari_cookies/cookie"
    summary: ClassVar[str] = "cookie {name} of {domain}{path} ({app})"

    created: datetime | None = None
    expires: datetime | None = None
    domain: Annotated[str | None, Obs.HOST] = None
    name: str | None = None
    path: str | None = None
    secure: bool = False
    http_only: bool = False
    app: str | None = None


def _cstring(data: bytes, start: int, end: int) -> str | None:
    if not 0 <= start < end:
        return None
    stop = data.find(b"\x00", start, end)
    raw = data[start : stop if stop >= 0 else end]
    return raw[:4096].decode("utf-8", "backslashreplace")


def parse_cookies(data: bytes) -> Iterator[tuple[int, int, dict[str, object]]]:
    """``(page, index, fields)`` of every cookie of a binarycookies file; raises ArtefactError when
    the file is not one, stops at the first damaged page."""
    if data[:4] != b"cook" or len(data) < 8:
        raise ArtefactError("not a binarycookies file (no 'cook' magic)")
    (pages,) = struct.unpack(">I", data[4:8])
    if pages > 1_000_000 or 8 + 4 * pages > len(data):
        raise ArtefactError(f"binarycookies header declares {pages} pages, more than the file holds")
    sizes = struct.unpack(f">{pages}I", data[8 : 8 + 4 * pages])
    offset = 8 + 4 * pages
    for page_no, size in enumerate(sizes):
        page = data[offset : offset + size]
        offset += size
        if len(page) < size or len(page) < 8 or page[:4] != b"\x00\x00\x01\x00":
            raise ArtefactError(f"page {page_no} is damaged or cut")
        (count,) = struct.unpack("<I", page[4:8])
        if 8 + 4 * count > len(page):
            raise ArtefactError(f"page {page_no} declares {count} cookies, more than it holds")
        for index, start in enumerate(struct.unpack(f"<{count}I", page[8 : 8 + 4 * count])):
            if start + 56 > len(page):
                raise ArtefactError(f"cookie {index} of page {page_no} lies outside its page")
            size_c, _version, flags, _unknown, dom, name, path, _value = struct.unpack("<8I", page[start : start + 32])
            end = min(len(page), start + max(size_c, 56))
            expiry, created = struct.unpack("<2d", page[start + 40 : start + 56])
            yield page_no, index, {
                "flags": flags,
                "domain": _cstring(page, start + dom, end),
                "name": _cstring(page, start + name, end),
                "path": _cstring(page, start + path, end),
                "expires": expiry,
                "created": created,
            }


class SafariCookiesParser(Parser):
    """Cookies of Safari and of every app's web views (Cookies.binarycookies): domains, names, times."""

    name = "safari_cookies"
    platform = "ios"
    sources = (
        Source("/private/var/mobile/" + _NAME),
        Source("/private/var/mobile/Containers/Data/Application/*/" + _NAME),
        Source("/private/var/root/" + _NAME),
    )
    records = (Cookie,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """One record per cookie."""
        with ctx.acq.open(device_path) as handle:
            data = handle.read(_MAX + 1)
        if len(data) > _MAX:
            raise ArtefactError(f"larger than {_MAX >> 20} MB")
        app = app_of(ctx.acq, device_path)
        for page, index, f in parse_cookies(data):
            flags = int(f["flags"])  # type: ignore[call-overload]
            domain = f["domain"]
            yield Cookie(
                device_path=device_path,
                locator=f"page={page} cookie={index}",
                created=timeutil.cocoa(f["created"]),
                expires=timeutil.cocoa(f["expires"]),
                domain=domain if isinstance(domain, str) and domain else None,
                name=f["name"] if isinstance(f["name"], str) else None,
                path=f["path"] if isinstance(f["path"], str) else None,
                secure=bool(flags & 1),
                http_only=bool(flags & 4),
                app=app,
            )
