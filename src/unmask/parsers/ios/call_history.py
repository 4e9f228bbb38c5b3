"""Call history: phone, FaceTime and third-party (CallKit) calls, from CallHistory.storedata and
the older call_history.db.

Where the files are. ``/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata`` (iOS 8
and later; backup HomeDomain ``Library/CallHistoryDB/CallHistory.storedata``), with its sibling
``CallHistoryTemp.storedata`` (same schema; iLEAPP's ``callHistory.py`` reads both and reports
the rows of each). Apple lists call history among what only an *encrypted* backup holds
(https://support.apple.com/en-ca/HT203790): these files reach unmask from encrypted backups (once
decrypted) and from full-filesystem dumps, not from unencrypted backups. iOS 7 and earlier kept
``/private/var/wireless/Library/CallHistory/call_history.db`` (backup WirelessDomain
``Library/CallHistory/call_history.db``), which old unencrypted backups did include
(http://avi.alkalay.net/2011/12/iphone-call-history.html; the iOS 7 backup in
``OTAPKI/iphone`` behind ``tests/schemas/ios/call_history.db/ios7.sql``).

CallHistory.storedata is a Core Data store; one ``ZCALLRECORD`` row per call. Columns differ by
iOS version (``tests/schemas/ios/CallHistory.storedata``: iOS 9, 10, 11 dumps from
``richinfante/iphonebackuptools``, a real iOS 17 store), so every column but ``Z_PK`` is read only
when present:

- ``ZDATE``: call start, Mac absolute seconds (Core Data ``TIMESTAMP``); ``ZDURATION``: seconds.
- ``ZORIGINATED``: 1 outgoing, 0 incoming; ``ZANSWERED``: 1 answered, 0 not (iLEAPP,
  https://github.com/abrignoni/iLEAPP/blob/main/scripts/artifacts/callHistory.py). Kept as
  stored; ``duration`` says whether a call lasted.
- ``ZCALLTYPE``: 1 phone (telephony), 8 FaceTime video, 16 FaceTime audio, 0 a third-party app
  through CallKit (iLEAPP ``callHistory.py``; iphonebackuptools,
  https://github.com/richinfante/iphonebackuptools/blob/master/tools/reports/phone/calls.js; the
  FaceTime codes also in
  https://kb-macfor-io.pages.dev/docs/communication/facetime). Other codes are kept as
  ``call_type_code`` with no name.
- ``ZSERVICE_PROVIDER``: ``com.apple.Telephony``, ``com.apple.FaceTime`` or the calling app's
  bundle id (``net.whatsapp.WhatsApp``: iLEAPP matches WhatsApp calls on it). A provider shaped
  like a bundle id is also declared as ``app_id``, so an indicator naming a spyware app's bundle
  id matches the calls it placed through CallKit.
- ``ZADDRESS``: the other party (number, or email for FaceTime). iOS 9–11 declare it ``BLOB`` and
  store the text as bytes (iLEAPP strips the ``b'…'`` of Python's bytes repr; iphonebackuptools
  calls ``toString()``); iOS 17 declares ``VARCHAR``. Bytes are decoded as UTF-8 here.
- ``ZLOCATION``: the place the number belongs to; ``<<RecentsNumberLocationNotFound>>`` means
  none (iphonebackuptools ``calls.js``) and becomes ``None``.
- iOS 17 (real store, ``shamrockmuffin/case``) adds ``ZHANDLE`` (``ZVALUE``,
  ``ZNORMALIZEDVALUE``, ``ZTYPE``) and the many-to-many join ``Z_2REMOTEPARTICIPANTHANDLES`` for
  the remote participants of each call (iLEAPP's ``callHistoryGroupCall.py`` lists a call's
  parties from it: one link for a direct call, several for a group call). Core Data
  names the join's columns after entity numbers that change between models: the iOS 17 store
  has ``Z_2REMOTEPARTICIPANTCALLS``/``Z_3REMOTEPARTICIPANTHANDLES``, iLEAPP's
  ``callHistoryGroupCall.py`` also handles ``Z_4REMOTEPARTICIPANTHANDLES``. So the join table is
  found by its name (``Z_*REMOTEPARTICIPANTHANDLES``) and its columns by their endings.
- ``ZJUNKCONFIDENCE`` (integer) and ``ZJUNKIDENTIFICATIONCATEGORY`` (text), ``ZFILTERED_OUT_REASON``
  (iOS 17), ``ZDISCONNECTED_CAUSE``, ``ZCALL_CATEGORY``, ``ZHANDLE_TYPE`` (iOS 10+),
  ``ZFACE_TIME_DATA`` (data used, which iLEAPP shows as a byte count), ``ZREAD``, ``ZNAME``,
  ``ZISO_COUNTRY_CODE``, ``ZUNIQUE_ID``: kept as stored, uninterpreted (iLEAPP's own decodes of
  ``ZDISCONNECTED_CAUSE`` are labelled "community-established" there and are not repeated here).

call_history.db (iOS ≤ 7), table ``call`` (``tests/schemas/ios/call_history.db``): ``date`` is
*Unix* seconds and ``flags`` a bit set: bit 0 set = outgoing, which the database's own
``timer_outgoing_trigger`` (``NEW.flags & (1 << 0) == 1``) uses; 4 incoming phone call, 5 outgoing,
8 blocked, 16 FaceTime (Practical Mobile Forensics,
http://what-when-how.com/Tutorial/topic-4347p/Practical-Mobile-Forensics-189.html; iLEAPP reads
the same table with ``flags&4`` phone, ``flags&16`` FaceTime, and converts ``date`` with SQLite's
``'unixepoch'`` modifier). ``country_code`` and ``network_code`` there are the mobile country and
network codes (MCC/MNC, same source), not ISO codes. ``answered`` exists only from iOS 7.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.errors import SchemaUnsupported
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, flag, integer, number, text

CALL_HISTORY = "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"
CALL_HISTORY_TEMP = "/private/var/mobile/Library/CallHistoryDB/CallHistoryTemp.storedata"
LEGACY_CALL_HISTORY = "/private/var/wireless/Library/CallHistory/call_history.db"

CALL_TYPES = {0: "third-party", 1: "phone", 8: "facetime-video", 16: "facetime-audio"}
"""``ZCALLTYPE`` codes with a published meaning (see the module docstring)."""

_NO_LOCATION = "<<RecentsNumberLocationNotFound>>"
# Reverse-DNS identifiers: two or more dot-separated labels of letters, digits, '-' and '_'.
_BUNDLE_ID = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+")


def bundle_id(provider: str | None) -> str | None:
    """The service provider when it has the shape of a bundle id (``net.whatsapp.WhatsApp``)."""
    if provider is None or len(provider) > 255:
        return None
    provider = provider.strip()
    return provider if _BUNDLE_ID.fullmatch(provider) else None


def _direction(originated: object) -> str:
    value = integer(originated)
    return "outgoing" if value == 1 else "incoming" if value == 0 else "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord(Record):
    """One call from the call history: when, who, which service, which way, answered, how long.

    ``handle`` is the other party as stored (``ZADDRESS``/``address``); ``participants`` are the
    remote participants' handles from ``ZHANDLE`` (each value, and its normalised form when it
    differs). ``pk`` is ``ZCALLRECORD.Z_PK`` or ``call.ROWID``.
    """

    kind: ClassVar[str] = "ios/call_history/call"
    summary: ClassVar[str] = (
        "{direction} {call_type} call {handle} {participants} via {service_provider}: "
        "answered {answered}, {duration} s"
    )

    started: datetime | None = None
    pk: int | None = None
    unique_id: str | None = None
    direction: str = "unknown"
    answered: bool | None = None
    duration: float | None = None
    handle: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    participants: Annotated[tuple[str, ...], Obs.PHONE_OR_EMAIL] = ()
    name: str | None = None
    call_type: str | None = None
    call_type_code: int | None = None
    service_provider: str | None = None
    app_id: Annotated[str | None, Obs.APP_ID] = None
    country_code: str | None = None
    location: str | None = None
    read: bool | None = None
    disconnected_cause: int | None = None
    call_category: int | None = None
    handle_type: int | None = None
    face_time_data: int | None = None
    junk_confidence: int | None = None
    junk_category: str | None = None
    filtered_out_reason: int | None = None
    flags: int | None = None
    mobile_country_code: str | None = None
    mobile_network_code: str | None = None


def _participant_links(db: Database) -> tuple[str, str, str] | None:
    """``(join table, call column, handle column)`` of the remote-participant relationship."""
    if not db.has("ZHANDLE", "Z_PK"):
        return None
    for table in sorted(db.tables):
        if not re.fullmatch(r"Z_\d+REMOTEPARTICIPANTHANDLES", table):
            continue
        cols = db.columns(table)
        call = next((c for c in sorted(cols) if c.endswith("REMOTEPARTICIPANTCALLS")), None)
        handle = next((c for c in sorted(cols) if c.endswith("REMOTEPARTICIPANTHANDLES")), None)
        if call and handle:
            return table, call, handle
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def participants(db: Database) -> dict[int, tuple[str, ...]]:
    """``ZCALLRECORD.Z_PK → remote participant handles``, loaded in one query rather than joined
    per call (empty before iOS 17, or when the join table cannot be found)."""
    links = _participant_links(db)
    if links is None:
        return {}
    table, call, handle = links
    q = _quote
    sql = (
        f"SELECT link.{q(call)} AS call_pk, {db.col('ZHANDLE', 'ZVALUE', 'value')}, "
        f"{db.col('ZHANDLE', 'ZNORMALIZEDVALUE', 'normalized')} "
        f"FROM {q(table)} AS link JOIN ZHANDLE ON ZHANDLE.Z_PK = link.{q(handle)} "
        f"ORDER BY link.{q(call)}, ZHANDLE.Z_PK"
    )
    out: dict[int, dict[str, None]] = {}  # ordered sets: a hostile join may repeat a handle often
    for row in db.query(sql):
        pk = integer(row["call_pk"])
        if pk is None:
            continue
        values = out.setdefault(pk, {})
        for value in (text(row["value"]), text(row["normalized"])):
            if value:
                values[value] = None
    return {pk: tuple(values) for pk, values in out.items()}


class CallHistoryParser(SqliteParser):
    """Phone, FaceTime and third-party app (CallKit) calls from CallHistory.storedata and call_history.db."""

    name = "call_history"
    platform = "ios"
    sources = (Source(CALL_HISTORY), Source(CALL_HISTORY_TEMP), Source(LEGACY_CALL_HISTORY))
    records = (CallRecord,)
    # The two layouts share no table: the check is made in rows(), where the layout is chosen.
    required: ClassVar[dict[str, set[str]]] = {}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[CallRecord]:
        """Yield one record per call, from whichever of the two layouts the database has."""
        if db.has("ZCALLRECORD", "Z_PK"):
            yield from self._core_data(db)
        elif db.has("call", "ROWID"):
            yield from self._legacy(db)
        else:
            raise SchemaUnsupported(
                "schema lacks ZCALLRECORD.Z_PK (CallHistory.storedata) and call.ROWID (call_history.db)"
            )

    def _core_data(self, db: Database) -> Iterator[CallRecord]:
        t = "ZCALLRECORD"
        cols = [
            db.col(t, "Z_PK", "pk"),
            db.col(t, "ZDATE", "date"),
            db.col(t, "ZDURATION", "duration"),
            db.col(t, "ZORIGINATED", "originated"),
            db.col(t, "ZANSWERED", "answered"),
            db.col(t, "ZCALLTYPE", "call_type"),
            db.col(t, "ZSERVICE_PROVIDER", "provider"),
            db.col(t, "ZADDRESS", "address"),
            db.col(t, "ZNAME", "name"),
            db.col(t, "ZISO_COUNTRY_CODE", "country"),
            db.col(t, "ZLOCATION", "location"),
            db.col(t, "ZREAD", "read"),
            db.col(t, "ZUNIQUE_ID", "unique_id"),
            db.col(t, "ZDISCONNECTED_CAUSE", "disconnected"),
            db.col(t, "ZCALL_CATEGORY", "category"),
            db.col(t, "ZHANDLE_TYPE", "handle_type"),
            db.col(t, "ZFACE_TIME_DATA", "face_time_data"),
            db.col(t, "ZJUNKCONFIDENCE", "junk_confidence"),
            db.col(t, "ZJUNKIDENTIFICATIONCATEGORY", "junk_category"),
            db.col(t, "ZFILTERED_OUT_REASON", "filtered"),
        ]
        remote = participants(db)
        for row in db.query(f"SELECT {', '.join(cols)} FROM ZCALLRECORD ORDER BY Z_PK"):
            pk = integer(row["pk"])
            code = integer(row["call_type"])
            provider = text(row["provider"])
            location = text(row["location"])
            yield CallRecord(
                device_path=db.device_path,
                locator=f"ZCALLRECORD.Z_PK={pk}",
                started=timeutil.cocoa(row["date"]),
                pk=pk,
                unique_id=text(row["unique_id"]),
                direction=_direction(row["originated"]),
                answered=flag(row["answered"]),
                duration=number(row["duration"]),
                handle=text(row["address"]) or None,
                participants=remote.get(pk, ()) if pk is not None else (),
                name=text(row["name"]),
                call_type=CALL_TYPES.get(code) if code is not None else None,
                call_type_code=code,
                service_provider=provider,
                app_id=bundle_id(provider),
                country_code=text(row["country"]),
                location=None if location == _NO_LOCATION else location,
                read=flag(row["read"]),
                disconnected_cause=integer(row["disconnected"]),
                call_category=integer(row["category"]),
                handle_type=integer(row["handle_type"]),
                face_time_data=integer(row["face_time_data"]),
                junk_confidence=integer(row["junk_confidence"]),
                junk_category=text(row["junk_category"]),
                filtered_out_reason=integer(row["filtered"]),
            )

    def _legacy(self, db: Database) -> Iterator[CallRecord]:
        t = "call"
        cols = [
            db.col(t, "ROWID", "pk"),
            db.col(t, "address", "address"),
            db.col(t, "date", "date"),
            db.col(t, "duration", "duration"),
            db.col(t, "flags", "flags"),
            db.col(t, "name", "name"),
            db.col(t, "country_code", "mcc"),
            db.col(t, "network_code", "mnc"),
            db.col(t, "read", "read"),
            db.col(t, "answered", "answered"),
            db.col(t, "face_time_data", "face_time_data"),
        ]
        for row in db.query(f'SELECT {", ".join(cols)} FROM "call" ORDER BY ROWID'):
            pk = integer(row["pk"])
            flags = integer(row["flags"])
            if flags is None:
                direction, call_type = "unknown", None
            else:
                direction = "outgoing" if flags & 1 else "incoming"
                call_type = "facetime" if flags & 16 else "phone" if flags & 4 else None
            yield CallRecord(
                device_path=db.device_path,
                locator=f"call.ROWID={pk}",
                started=timeutil.unix(row["date"]),
                pk=pk,
                direction=direction,
                answered=flag(row["answered"]),
                duration=number(row["duration"]),
                handle=text(row["address"]) or None,
                name=text(row["name"]),
                call_type=call_type,
                read=flag(row["read"]),
                face_time_data=integer(row["face_time_data"]),
                flags=flags,
                mobile_country_code=text(row["mcc"]),
                mobile_network_code=text(row["mnc"]),
            )
