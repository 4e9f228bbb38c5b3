from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.sms import SmsMessage, SmsParser, attributed_text
from unmask.timeutil import to_cocoa

DOMAIN, REL = "HomeDomain", "Library/SMS/sms.db"
PATH = "/private/var/mobile/Library/SMS/sms.db"
T0 = datetime(2021, 9, 13, 8, 30, tzinfo=UTC)
T1 = datetime(2021, 9, 13, 8, 31, 5, tzinfo=UTC)
T2 = datetime(2021, 9, 13, 9, 0, tzinfo=UTC)


def secs(when: datetime) -> int:
    return int(to_cocoa(when))


def nanos(when: datetime) -> int:
    return secs(when) * 1_000_000_000


def typedstream(body: str) -> bytes:
    """An attributedBody as Messages writes it: typedstream header, class chain, then the NSString."""
    raw = body.encode()
    # typedstream integers: one byte below 0x80, else 0x81 and a 16-bit little-endian value.
    length = bytes([len(raw)]) if len(raw) < 0x80 else b"\x81" + len(raw).to_bytes(2, "little")
    return (
        b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject"
        b"\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+"
        + length
        + raw
        + b"\x86\x84\x02iI\x01\x05\x92"
    )


def messages(records: list[object]) -> dict[int, SmsMessage]:
    return {r.rowid: r for r in records if isinstance(r, SmsMessage) and r.rowid is not None}


def test_ios14_message_with_handle_times_and_links(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/sms.db/ios14.sql",
        rows={
            "handle": [{"ROWID": 1, "id": "+41791234567", "service": "SMS"}],
            "message": [
                {
                    "ROWID": 7,
                    "guid": "G-7",
                    "text": "Your parcel: https://t.example.com/a?b=1 or bit-ly.example.org/x",
                    "handle_id": 1,
                    "service": "SMS",
                    "account": "p:+41790000000",
                    "destination_caller_id": "+41790000000",
                    "date": nanos(T0),
                    "date_read": nanos(T1),
                    "date_delivered": 0,
                    "is_from_me": 0,
                }
            ],
        },
    )
    records, cov = run(SmsParser, backup.finish())
    assert cov.status is Status.PARSED and cov.records == 1
    msg = messages(records)[7]
    assert msg.device_path == PATH and msg.locator == "message.ROWID=7"
    assert (msg.sent, msg.read, msg.delivered) == (T0, T1, None)
    assert (msg.direction, msg.service, msg.handle, msg.guid) == ("received", "SMS", "+41791234567", "G-7")
    assert (msg.account, msg.destination_caller_id) == ("p:+41790000000", "+41790000000")
    assert msg.links == ("https://t.example.com/a?b=1", "bit-ly.example.org/x")
    obs = {(o.type, o.value) for o in observables_of(msg)}
    assert (Obs.PHONE, "+41791234567") in obs
    assert (Obs.URL, "https://t.example.com/a?b=1") in obs
    assert (Obs.DOMAIN, "t.example.com") in obs and (Obs.DOMAIN, "bit-ly.example.org") in obs
    assert msg.timestamp == T0


def test_ios7_seconds_chat_identifier_and_sent_direction(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/sms.db/ios7.sql",
        rows={
            "handle": [{"ROWID": 3, "id": "someone@icloud.com", "service": "iMessage"}],
            "message": [
                {
                    "ROWID": 1,
                    "guid": "A",
                    "text": "hi",
                    "handle_id": 3,
                    "service": "iMessage",
                    "date": secs(T0),
                    "date_delivered": secs(T2),
                    "is_from_me": 1,
                },
                {"ROWID": 2, "guid": "B", "text": None, "handle_id": 0, "date": secs(T1), "is_from_me": 0},
            ],
            "chat": [
                {"ROWID": 9, "guid": "iMessage;-;someone@icloud.com", "chat_identifier": "someone@icloud.com"}
            ],
            "chat_message_join": [{"chat_id": 9, "message_id": 1}],
        },
    )
    records, cov = run(SmsParser, backup.finish())
    assert cov.status is Status.PARSED
    by_id = messages(records)
    first, second = by_id[1], by_id[2]
    assert (first.sent, first.delivered, first.direction) == (T0, T2, "sent")
    assert first.chat_identifier == "someone@icloud.com"
    assert (Obs.EMAIL, "someone@icloud.com") in {(o.type, o.value) for o in observables_of(first)}
    # handle_id 0 (no handle row) and NULL text: a record with no handle, no text, no links.
    assert (second.handle, second.text, second.links, second.sent) == (None, None, (), T1)
    assert second.destination_caller_id is None  # the column does not exist before iOS 11


def test_ios12_attributed_body_when_text_is_null(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/sms.db/ios12.sql",
        rows={
            "handle": [{"ROWID": 1, "id": "+15551230000", "service": "iMessage"}],
            "message": [
                {
                    "ROWID": 1,
                    "guid": "X",
                    "text": None,
                    "attributedBody": typedstream("see https://evil.example/x"),
                    "handle_id": 1,
                    "date": nanos(T0),
                    "is_from_me": 0,
                },
            ],
        },
    )
    records, _ = run(SmsParser, backup.finish())
    msg = messages(records)[1]
    assert msg.text == "see https://evil.example/x" and msg.text_from_attributed_body
    assert msg.links == ("https://evil.example/x",)


def test_ios6_and_ios9_schemas_parse(make_backup) -> None:  # type: ignore[no-untyped-def]
    for schema in ("ios/sms.db/ios6.sql", "ios/sms.db/ios9-plaso.sql", "ios/sms.db/ios11.sql"):
        builder = make_backup()
        builder.add_sqlite(
            DOMAIN,
            REL,
            schema,
            rows={
                "handle": [{"ROWID": 1, "id": "+33600000000", "service": "SMS"}],
                "message": [
                    {"ROWID": 1, "guid": "g", "text": "x.example.net", "handle_id": 1, "date": secs(T0)}
                ],
            },
        )
        records, cov = run(SmsParser, builder.finish())
        assert cov.status is Status.PARSED, (schema, cov.reason)
        (msg,) = records
        assert isinstance(msg, SmsMessage)
        assert (msg.sent, msg.handle, msg.links) == (T0, "+33600000000", ("x.example.net",)), schema


def test_invalid_utf8_text_becomes_escaped_text(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/sms.db/ios14.sql",
        extra_sql="INSERT INTO message (ROWID, guid, text, date) VALUES (1, 'g', CAST(X'61FF62' AS TEXT), 0)",
    )
    records, cov = run(SmsParser, backup.finish())
    assert cov.status is Status.PARSED
    assert messages(records)[1].text == "a\\xffb"


def test_database_without_message_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, None, extra_sql="CREATE TABLE other (x);")
    records, cov = run(SmsParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "message" in (cov.reason or "")


def test_truncated_and_garbage_files_are_failed_coverage(backup: BackupBuilder) -> None:
    for data in (b"", b"SQLite format 3\x00" + b"\x00" * 30, b"not a database at all"):
        records, cov = junk.run_file(SmsParser, DOMAIN, REL, data)
        junk.assert_handled(cov)
        assert records == [] and cov.status is Status.FAILED


def test_truncated_real_database(backup: BackupBuilder) -> None:
    data = junk.db_bytes(
        "ios/sms.db/ios12.sql",
        {"message": [{"ROWID": i, "guid": f"g{i}", "text": "x" * 500, "date": i} for i in range(1, 50)]},
    )
    _, cov = junk.run_file(SmsParser, DOMAIN, REL, data[: len(data) // 2])
    junk.assert_truncated_handled(cov)


def test_attributed_text_rejects_garbage() -> None:
    assert attributed_text(None) is None
    assert attributed_text(b"") is None
    assert attributed_text(b"\x04\x0bstreamtyped NSString\x01\x94\x84\x01+\xff") is None
    assert attributed_text(typedstream("x" * 300)) == "x" * 300
    assert attributed_text(typedstream("hello")[:-12]) is None  # length runs past the end


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hostile_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = data.draw(
        st.sampled_from(["ios/sms.db/ios7.sql", "ios/sms.db/ios12.sql", "ios/sms.db/ios14.sql"])
    )
    tables = {
        "handle": data.draw(junk.rows(schema, "handle")),
        "message": data.draw(junk.rows(schema, "message")),
    }
    if not schema.endswith("ios14.sql"):  # the trimmed iOS 14 file has no chat tables
        tables["chat"] = data.draw(junk.rows(schema, "chat"))
        tables["chat_message_join"] = data.draw(junk.rows(schema, "chat_message_join"))
    records, cov = junk.run_file(SmsParser, DOMAIN, REL, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    for record in records:
        assert isinstance(record, SmsMessage)
        list(observables_of(record))
        record.describe()
        record.to_json()


@settings(max_examples=30, deadline=None)
@given(blob=st.binary(max_size=200))
def test_attributed_text_never_raises(blob: bytes) -> None:
    result = attributed_text(b"\x04\x0bstreamtyped" + blob)
    assert result is None or isinstance(result, str)
