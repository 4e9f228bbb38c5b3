"""IDS status cache: handles (emails, phone numbers) that iMessage/FaceTime looked up, and when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, integer

# Handle schemes whose remainder is an email address or a phone number.
_HANDLE_SCHEMES = {"mailto": "mailto", "tel": "tel"}


def split_handle(key: str) -> tuple[str | None, str | None]:
    """``(scheme, handle)`` of a cache key: ``mailto:a@b.c`` → ``("mailto", "a@b.c")``.

    NUL bytes and surrounding blanks are dropped from the handle (the raw key keeps them). Keys of
    other schemes (``urn:``, ``token:``…) have no handle; a bare email or ``+`` number is one.
    """
    scheme, sep, rest = key.partition(":")
    if sep and scheme.lower() in _HANDLE_SCHEMES:
        handle = rest.replace("\x00", "").strip()
        return scheme.lower(), handle or None
    if sep and scheme.isalpha() and "@" not in scheme:
        return scheme.lower(), None
    bare = key.replace("\x00", "").strip()
    if "@" in bare or (bare.startswith("+") and bare[1:].isdigit()):
        return None, bare
    return None, None


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return timeutil.aware(value)
    return timeutil.cocoa(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdStatusEntry(Record):
    """One IDS lookup: a handle queried for a service (iMessage, FaceTime…) and its result."""

    kind: ClassVar[str] = "ios/idstatuscache/entry"
    summary: ClassVar[str] = "IDS lookup of {handle} for {service}: status {status}"

    lookup: datetime | None = None
    valid_expiry: datetime | None = None
    service: str
    scheme: str | None = None
    handle: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    raw_key: str
    status: int | None = None


class IdStatusCacheParser(PlistParser):
    """Handles (emails, phone numbers) looked up by iMessage/FaceTime, from the IDS status cache plist."""

    name = "idstatuscache"
    platform = "ios"
    sources = (
        Source("/private/var/mobile/Library/Preferences/com.apple.identityservices.idstatuscache.plist"),
        Source("/private/var/mobile/Library/IdentityServices/idstatuscache.plist"),
    )
    records = (IdStatusEntry,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[IdStatusEntry]:
        """One record per (service, handle) pair; top-level values that are not services are skipped."""
        if plist.is_keyed_archive(value):
            value = plist.unarchive(value)
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        odd = 0
        for service, entries in value.items():
            if not isinstance(entries, dict):
                continue  # CacheVersion and other scalars
            for key, entry in entries.items():
                raw_key = str(key)
                if not isinstance(entry, dict):
                    odd += 1
                    entry = {}
                scheme, handle = split_handle(raw_key)
                yield IdStatusEntry(
                    device_path=device_path,
                    locator=f"{service}/{raw_key!r}",
                    lookup=_time(entry.get("LookupDate")),
                    valid_expiry=_time(entry.get("ValidExpiry")),
                    service=str(service),
                    scheme=scheme,
                    handle=handle,
                    raw_key=raw_key,
                    status=integer(entry.get("IDStatus")),
                )
        if odd:
            ctx.warn(f"{device_path}: {odd} entries are not dictionaries (no lookup time or status)")
