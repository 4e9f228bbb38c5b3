from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.sms_attachments import SmsAttachment, SmsAttachmentsParser, device_file_path
from unmask.timeutil import to_cocoa

DOMAIN, REL = "HomeDomain", "Library/SMS/sms.db"
T0 = datetime(2021, 3, 2, 10, 0, tzinfo=UTC)
T1 = datetime(2021, 3, 2, 10, 0, 3, tzinfo=UTC)


def attachment_rows(schema: str) -> dict[str, list[dict[str, object]]]:
    ns = schema.endswith("ios12.sql")  # message.date in ns from iOS 11; attachment.created_date in seconds
    base = int(to_cocoa(T0))
    extra = {"original_guid": "O-1"} if ns else {}
    extra2 = {"original_guid": "O-2"} if ns else {}
    return {
        "handle": [{"ROWID": 4, "id": "attacker@example.com", "service": "iMessage"}],
        "message": [
            {
                "ROWID": 10,
                "guid": "M-10",
                "text": "",
                "handle_id": 4,
                "service": "iMessage",
                "date": base * 1_000_000_000 if ns else base,
                "is_from_me": 0,
            },
        ],
        "attachment": [
            {
                "ROWID": 1,
                "guid": "A-1",
                "created_date": int(to_cocoa(T1)),
                "filename": "~/Library/SMS/Attachments/ab/11/GUID/photo.gif",
                "uti": "com.compuserve.gif",
                "mime_type": "image/gif",
                "transfer_name": "photo.gif",
                "total_bytes": 1234,
                "is_outgoing": 0,
                **extra,
            },
            # Not linked to any message (the join row is missing): still reported, direction from is_outgoing.
            {
                "ROWID": 2,
                "guid": "A-2",
                "filename": "/var/tmp/com.apple.messages/x-1",
                "is_outgoing": 1,
                **extra2,
            },
        ],
        "message_attachment_join": [{"message_id": 10, "attachment_id": 1}],
    }


def test_device_file_path() -> None:
    assert (
        device_file_path("~/Library/SMS/Attachments/a/b.jpg")
        == "/private/var/mobile/Library/SMS/Attachments/a/b.jpg"
    )
    assert device_file_path("/var/tmp/x") == "/var/tmp/x"
    assert device_file_path("~") == "/private/var/mobile"
    assert device_file_path(None) is None and device_file_path("") is None


def test_attachments_across_schema_versions(make_backup) -> None:  # type: ignore[no-untyped-def]
    for schema in ("ios/sms.db/ios7.sql", "ios/sms.db/ios9-plaso.sql", "ios/sms.db/ios12.sql"):
        builder = make_backup()
        builder.add_sqlite(DOMAIN, REL, schema, rows=attachment_rows(schema))
        records, cov = run(SmsAttachmentsParser, builder.finish())
        assert cov.status is Status.PARSED, (schema, cov.reason)
        by_id = {r.rowid: r for r in records if isinstance(r, SmsAttachment)}
        gif, tmp = by_id[1], by_id[2]
        assert gif.path == "/private/var/mobile/Library/SMS/Attachments/ab/11/GUID/photo.gif", schema
        assert gif.filename == "~/Library/SMS/Attachments/ab/11/GUID/photo.gif"
        assert (gif.transfer_name, gif.mime_type, gif.uti, gif.total_bytes) == (
            "photo.gif",
            "image/gif",
            "com.compuserve.gif",
            1234,
        )
        assert (gif.created, gif.message_date) == (T1, T0), schema
        assert (gif.direction, gif.handle, gif.service) == ("received", "attacker@example.com", "iMessage")
        assert (gif.message_rowid, gif.message_guid) == (10, "M-10")
        assert gif.locator == "attachment.ROWID=1 message.ROWID=10"
        obs = {(o.type, o.value) for o in observables_of(gif)}
        assert (Obs.FILE_PATH, "/private/var/mobile/Library/SMS/Attachments/ab/11/GUID/photo.gif") in obs
        assert (Obs.FILE_NAME, "photo.gif") in obs and (Obs.EMAIL, "attacker@example.com") in obs
        assert (tmp.direction, tmp.message_rowid, tmp.handle) == ("sent", None, None)
        assert (Obs.FILE_PATH, "/private/var/tmp/com.apple.messages/x-1") in {
            (o.type, o.value) for o in observables_of(tmp)
        }


def test_ios6_attachment_table_without_transfer_name(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/sms.db/ios6.sql",
        rows={
            "attachment": [
                {"ROWID": 1, "guid": "g", "filename": "~/Library/SMS/Attachments/x.jpg", "is_outgoing": 0}
            ],
        },
    )
    records, cov = run(SmsAttachmentsParser, backup.finish())
    assert cov.status is Status.PARSED
    (att,) = records
    assert isinstance(att, SmsAttachment)
    assert (att.transfer_name, att.total_bytes, att.direction) == (None, None, "received")


def test_trimmed_ios14_file_without_attachment_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, "ios/sms.db/ios14.sql", rows={})
    records, cov = run(SmsAttachmentsParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "attachment" in (cov.reason or "")


def test_garbage_file_is_failed() -> None:
    records, cov = junk.run_file(SmsAttachmentsParser, DOMAIN, REL, b"\x00" * 100)
    junk.assert_handled(cov)
    assert records == [] and cov.status is Status.FAILED


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hostile_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = data.draw(st.sampled_from(["ios/sms.db/ios7.sql", "ios/sms.db/ios12.sql"]))
    tables = {t: data.draw(junk.rows(schema, t)) for t in ("handle", "message", "attachment")}
    tables["message_attachment_join"] = data.draw(junk.rows(schema, "message_attachment_join"))
    records, cov = junk.run_file(SmsAttachmentsParser, DOMAIN, REL, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    for record in records:
        assert isinstance(record, SmsAttachment)
        list(observables_of(record))
        record.describe()
