"""Write a ``Cookies.binarycookies`` file (CFNetwork's cookie store) in code.

Layout as documented by Satishb3's binarycookies write-up (see the parser's docstring): a
big-endian header (``cook``, page count, page sizes), pages holding little-endian cookie records
(size, version, flags, offsets of domain/name/path/value, end marker, expiry and creation as Mac
absolute seconds), and a trailer.
"""

from __future__ import annotations

import struct
from datetime import datetime

from unmask import timeutil


def cookie(domain: str, name: str, path: str = "/", value: str = "v", *, flags: int = 0,
           created: datetime, expires: datetime) -> bytes:
    """One cookie record."""
    strings = b"".join(s.encode() + b"\x00" for s in (domain, name, path, value))
    header = 56
    offsets, at = [], header
    for s in (domain, name, path, value):
        offsets.append(at)
        at += len(s.encode()) + 1
    size = header + len(strings)
    body = struct.pack("<8I", size, 0, flags, 0, *offsets) + b"\x00" * 8
    body += struct.pack("<2d", timeutil.to_cocoa(expires), timeutil.to_cocoa(created))
    assert len(body) == header
    return body + strings


def page(cookies: list[bytes]) -> bytes:
    """One page of cookie records."""
    head = b"\x00\x00\x01\x00" + struct.pack("<I", len(cookies))
    start = len(head) + 4 * len(cookies) + 4
    offsets, at = [], start
    for c in cookies:
        offsets.append(at)
        at += len(c)
    return head + struct.pack(f"<{len(cookies)}I", *offsets) + b"\x00\x00\x00\x00" + b"".join(cookies)


def binarycookies(pages: list[bytes]) -> bytes:
    """The whole file."""
    out = b"cook" + struct.pack(">I", len(pages)) + struct.pack(f">{len(pages)}I", *(len(p) for p in pages))
    return out + b"".join(pages) + b"\x07\x17\x20\x05" + b"\x00" * 4
