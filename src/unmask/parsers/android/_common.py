"""Helpers and record bases shared by the Android parsers (no parser here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from unmask.errors import ArtefactError
from unmask.model import Obs, Record, WallClockRecord
from unmask.parsers.base import ParseContext

_SUBJECT_PART = re.compile(r"(?:^|,)\s*([A-Za-z.0-9]+)=((?:[^,\\]|\\.)*)")


def subject_field(subject: str | None, key: str) -> str | None:
    """One attribute (``O``, ``CN``) of an X.500 subject written ``C=US, O=Org, CN=Name``."""
    if not subject:
        return None
    for name, value in _SUBJECT_PART.findall(subject):
        if name.upper() == key:
            return value.strip().replace("\\,", ",") or None
    return None


def package_of(component: str) -> str | None:
    """The package of a component name (``com.x/.Service`` → ``com.x``)."""
    head = component.strip().strip("{}").split("/", 1)[0].strip()
    return head or None


def json_items(handle: BinaryIO, ctx: ParseContext, what: str, *, exact_numbers: bool = False) -> Iterator[Any]:
    """The items of a JSON array, read incrementally (ijson, yajl2 C backend): a 500 MB
    ``files.json`` streams in bounded memory. A file of one JSON object per line (NDJSON, which
    some AndroidQF versions and forks write) is read line by line. A damaged document ends with
    an :class:`ArtefactError` after the items before the damage.

    yajl refuses integers beyond 64 bits ("integer overflow"), which real files hold: AndroidQF
    writes a certificate's ``SerialNumber`` as a JSON number of up to 160 bits (Go's ``big.Int``;
    MVT's own androidqf sample has a 97-bit one). ``exact_numbers`` reads with ijson's pure-Python
    backend, which keeps them; without it, a seekable file whose C-backend read meets such a number
    is read again from the start with that backend, past the items already given."""
    import ijson

    head = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        import json

        from unmask.formats.text import iter_lines

        for line in iter_lines(handle, max_line=16 << 20):
            if not line.number & 4095:  # lines that are not JSON yield nothing: the runner's check never comes
                ctx.allowance.check()
            if not line.text.strip():
                continue
            try:
                yield json.loads(line.text)
            except ValueError:
                ctx.warn(f"{what}: line {line.number} is not JSON")
        return
    exact = ijson.get_backend("python")
    given = 0
    try:
        try:
            for item in (exact if exact_numbers else ijson).items(handle, "item", use_float=True):
                given += 1
                yield item
        except ijson.common.JSONError as exc:
            if exact_numbers or "integer overflow" not in str(exc) or not _rewinds(handle):
                raise
            for n, item in enumerate(exact.items(handle, "item", use_float=True)):
                if n >= given:
                    yield item
    except ijson.common.IncompleteJSONError as exc:
        raise ArtefactError(f"{what} is not complete JSON ({str(exc)[:120]})") from None
    except (ijson.common.JSONError, ValueError) as exc:
        # ValueError: the pure-Python backend's own decoding errors (a bad escape, a control
        # character) and text that is not UTF-8, from either backend.
        raise ArtefactError(f"{what} is not JSON ({str(exc)[:120]})") from None


def _rewinds(handle: BinaryIO) -> bool:
    """Whether ``handle`` could be moved back to its start."""
    try:
        if not handle.seekable():
            return False
        handle.seek(0)
    except (OSError, ValueError):
        return False
    return True


def text_of(value: object, limit: int = 4096) -> str | None:
    """A JSON value as short text (``None`` for nulls and empty strings, ``"null"`` kept)."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)[:limit]
    return text or None


def int_of(value: object) -> int | None:
    """A JSON value as an int when it is one (or a decimal string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessBase(Record):
    """A running process (from ``ps`` or AndroidQF's collector)."""

    pid: int | None = None
    ppid: int | None = None
    user: str | None = None
    name: Annotated[str | None, Obs.PROCESS] = None
    app: Annotated[str | None, Obs.APP_ID] = None
    """The process name when it is an app's (``com.x`` or ``com.x:service``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLineBase(WallClockRecord):
    """A log line that names links or addresses (only those lines are kept)."""

    source: str = ""
    tag: str | None = None
    message: str = ""
    links: Annotated[tuple[str, ...], Obs.URL] = ()
    addresses: Annotated[tuple[str, ...], Obs.HOST] = ()


_APP = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+")


def app_of_process(name: str | None) -> str | None:
    """The app id a process name stands for (``com.x:remote`` → ``com.x``), if it looks like one."""
    if not name:
        return None
    head = name.split(":", 1)[0]
    return head if _APP.fullmatch(head) and "/" not in head else None


_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")


def addresses_in(text: str) -> tuple[str, ...]:
    """IPv4 addresses written in free text (logs), without duplicates, private ranges included."""
    seen: list[str] = []
    for match in _IPV4.finditer(text):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return tuple(seen)
