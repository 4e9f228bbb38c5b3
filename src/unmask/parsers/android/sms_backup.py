"""SMS and MMS from an Android backup (the telephony provider's ``*_sms_backup`` and
``*_mms_backup`` files: zlib-compressed JSON arrays, AOSP ``TelephonyBackupAgent``)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record, Timestamp
from unmask.observables import find_urls
from unmask.parsers.android._common import int_of, text_of
from unmask.parsers.base import ParseContext, Parser, Source

FOLDER = "/data/user_de/0/com.android.providers.telephony/files"
# Telephony.Sms.MESSAGE_TYPE_*: 1 inbox, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued.
_SENT_TYPES = {2, 4, 5, 6}
_MAX = 256 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class AndroidMessage(Record):
    """One SMS or MMS from a backup: address, body, date (SMS in ms, MMS in s), direction, links."""

    kind: ClassVar[str] = "android/backup/message"
    summary: ClassVar[str] = "{service} {direction} {address}: {body}"
    service: str = "sms"
    date: Timestamp | None = None
    address: Annotated[str | None, Obs.PHONE] = None
    recipients: Annotated[tuple[str, ...], Obs.PHONE] = ()
    direction: str = "unknown"
    body: str | None = None
    read: bool | None = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()


class SmsBackupParser(Parser):
    """SMS and MMS of the telephony provider in an Android backup (``adb backup``)."""

    name = "sms_backup"
    platform = "android"
    sources = (Source(FOLDER + "/*_sms_backup"), Source(FOLDER + "/*_mms_backup"))
    records = (AndroidMessage,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[AndroidMessage]:
        with ctx.open(device_path) as handle:
            raw = handle.read(_MAX)
        inflate = zlib.decompressobj()
        try:
            data = inflate.decompress(raw, _MAX)
        except zlib.error as exc:
            raise ArtefactError(f"not zlib data ({exc})") from None
        if inflate.unconsumed_tail:
            raise ArtefactError(f"inflates past {_MAX} bytes")
        try:
            items = json.loads(data)
        except (ValueError, RecursionError):
            raise ArtefactError("not a JSON array") from None
        if not isinstance(items, list):
            raise ArtefactError("not a JSON array")
        mms = device_path.endswith("_mms_backup")
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            body = text_of(item.get("mms_body") if mms else item.get("body"), 65536)
            date = int_of(item.get("date"))
            recipients = item.get("recipients")
            recips = tuple(str(r)[:128] for r in recipients if isinstance(r, str | int)) if isinstance(recipients, list) else ()
            if mms:
                box = int_of(item.get("msg_box"))  # Telephony.BaseMmsColumns: 1 inbox, 2 sent
                direction = "sent" if box == 2 else "received" if box == 1 else "unknown"
                addresses = item.get("mms_addresses")
                # PduHeaders.FROM = 137
                sender = next((a.get("address") for a in addresses if isinstance(a, dict) and a.get("type") == 137),
                              None) if isinstance(addresses, list) else None
                address = text_of(sender, 128)
                when = timeutil.unix(date)  # MMS dates are seconds (Telephony.Mms.DATE)
            else:
                kind = int_of(item.get("type"))
                direction = "sent" if kind in _SENT_TYPES else "received" if kind == 1 else "unknown"
                address = text_of(item.get("address"), 128)
                when = timeutil.unix_ms(date)  # SMS dates are milliseconds (Telephony.Sms.DATE)
            read = int_of(item.get("read"))
            yield AndroidMessage(
                device_path=device_path, locator=f"item={n}", service="mms" if mms else "sms", date=when,
                address=address, recipients=recips, direction=direction, body=body,
                read=None if read is None else read == 1, links=find_urls(body)[:100],
            )
