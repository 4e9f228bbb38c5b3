from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.call_history import CallHistoryParser, CallRecord, bundle_id
from unmask.timeutil import to_cocoa

HOME = "HomeDomain"
STORE = "Library/CallHistoryDB/CallHistory.storedata"
TEMP = "Library/CallHistoryDB/CallHistoryTemp.storedata"
LEGACY = ("WirelessDomain", "Library/CallHistory/call_history.db")
PATH = "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"
T0 = datetime(2024, 5, 2, 9, 15, 30, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 22, 1, tzinfo=UTC)
T2 = datetime(2013, 11, 4, 18, 0, 5, tzinfo=UTC)

IOS17 = "ios/CallHistory.storedata/ios17.sql"
CORE_DATA_SCHEMAS = (
    "ios/CallHistory.storedata/ios9.sql",
    "ios/CallHistory.storedata/ios10.sql",
    "ios/CallHistory.storedata/ios11.sql",
    IOS17,
)
LEGACY_SCHEMAS = ("ios/call_history.db/ios6.sql", "ios/call_history.db/ios7.sql")


def calls(records: list[object]) -> dict[int | None, CallRecord]:
    return {r.pk: r for r in records if isinstance(r, CallRecord)}


def obs(record: CallRecord) -> set[tuple[Obs, str]]:
    return {(o.type, o.value) for o in observables_of(record)}


def test_ios17_phone_facetime_and_whatsapp_calls(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        HOME,
        STORE,
        IOS17,
        rows={
            "ZCALLRECORD": [
                {
                    "Z_PK": 1,
                    "Z_ENT": 2,
                    "ZDATE": to_cocoa(T0),
                    "ZDURATION": 95.5,
                    "ZORIGINATED": 0,
                    "ZANSWERED": 1,
                    "ZCALLTYPE": 1,
                    "ZSERVICE_PROVIDER": "com.apple.Telephony",
                    "ZADDRESS": "+41791234567",
                    "ZNAME": "Alice",
                    "ZISO_COUNTRY_CODE": "ch",
                    "ZLOCATION": "Switzerland",
                    "ZREAD": 1,
                    "ZUNIQUE_ID": "8F0C6E2A-0000-4000-8000-000000000001",
                    "ZDISCONNECTED_CAUSE": 0,
                    "ZCALL_CATEGORY": 1,
                    "ZHANDLE_TYPE": 2,
                    "ZJUNKCONFIDENCE": 0,
                    "ZFILTERED_OUT_REASON": 0,
                },
                {
                    "Z_PK": 2,
                    "ZDATE": to_cocoa(T1),
                    "ZDURATION": 0.0,
                    "ZORIGINATED": 0,
                    "ZANSWERED": 0,
                    "ZCALLTYPE": 0,
                    "ZSERVICE_PROVIDER": "net.whatsapp.WhatsApp",
                    "ZADDRESS": None,
                    "ZLOCATION": "<<RecentsNumberLocationNotFound>>",
                    "ZUNIQUE_ID": "U-2",
                    "ZJUNKCONFIDENCE": 2,
                    "ZJUNKIDENTIFICATIONCATEGORY": "com.example.spamfilter",
                },
                {
                    "Z_PK": 3,
                    "ZDATE": to_cocoa(T1),
                    "ZDURATION": 12,
                    "ZORIGINATED": 1,
                    "ZANSWERED": 0,
                    "ZCALLTYPE": 8,
                    "ZSERVICE_PROVIDER": "com.apple.FaceTime",
                    "ZADDRESS": "attacker@example.com",
                    "ZFACE_TIME_DATA": 123456,
                    "ZUNIQUE_ID": "U-3",
                },
            ],
            "ZHANDLE": [
                {"Z_PK": 10, "ZTYPE": 2, "ZVALUE": "+44 7700 900123", "ZNORMALIZEDVALUE": "+447700900123"},
                {"Z_PK": 11, "ZTYPE": 2, "ZVALUE": "+15555550100", "ZNORMALIZEDVALUE": "+15555550100"},
                {"Z_PK": 12, "ZTYPE": 3, "ZVALUE": "attacker@example.com", "ZNORMALIZEDVALUE": None},
            ],
            "Z_2REMOTEPARTICIPANTHANDLES": [
                {"Z_2REMOTEPARTICIPANTCALLS": 2, "Z_3REMOTEPARTICIPANTHANDLES": 10},
                {"Z_2REMOTEPARTICIPANTCALLS": 2, "Z_3REMOTEPARTICIPANTHANDLES": 11},
                {"Z_2REMOTEPARTICIPANTCALLS": 3, "Z_3REMOTEPARTICIPANTHANDLES": 12},
            ],
        },
    )
    records, cov = run(CallHistoryParser, backup.finish())
    assert cov.status is Status.PARSED and cov.records == 3
    by_pk = calls(records)

    phone = by_pk[1]
    assert (phone.device_path, phone.locator) == (PATH, "ZCALLRECORD.Z_PK=1")
    assert (phone.started, phone.duration, phone.direction, phone.answered) == (T0, 95.5, "incoming", True)
    assert (phone.call_type, phone.call_type_code) == ("phone", 1)
    assert (phone.handle, phone.name, phone.country_code, phone.location) == (
        "+41791234567",
        "Alice",
        "ch",
        "Switzerland",
    )
    assert (phone.service_provider, phone.app_id) == ("com.apple.Telephony", "com.apple.Telephony")
    assert (phone.read, phone.unique_id, phone.disconnected_cause) == (
        True,
        "8F0C6E2A-0000-4000-8000-000000000001",
        0,
    )
    assert (phone.call_category, phone.handle_type, phone.junk_confidence, phone.filtered_out_reason) == (
        1,
        2,
        0,
        0,
    )
    assert phone.participants == () and phone.timestamp == T0
    assert (Obs.PHONE, "+41791234567") in obs(phone)

    whatsapp = by_pk[2]
    assert (whatsapp.call_type, whatsapp.direction, whatsapp.answered, whatsapp.duration) == (
        "third-party",
        "incoming",
        False,
        0.0,
    )
    assert whatsapp.handle is None and whatsapp.location is None
    assert whatsapp.participants == ("+44 7700 900123", "+447700900123", "+15555550100")
    assert (whatsapp.junk_confidence, whatsapp.junk_category) == (2, "com.example.spamfilter")
    found = obs(whatsapp)
    assert (Obs.APP_ID, "net.whatsapp.whatsapp") in found
    assert {(Obs.PHONE, "+447700900123"), (Obs.PHONE, "+15555550100")} <= found

    facetime = by_pk[3]
    assert (facetime.call_type, facetime.direction, facetime.face_time_data) == (
        "facetime-video",
        "outgoing",
        123456,
    )
    assert facetime.handle == "attacker@example.com" and facetime.participants == ("attacker@example.com",)
    assert (Obs.EMAIL, "attacker@example.com") in obs(facetime)
    assert "attacker@example.com" in facetime.describe()


def test_ios9_to_ios11_addresses_stored_as_blobs(make_backup) -> None:  # type: ignore[no-untyped-def]
    for schema in CORE_DATA_SCHEMAS[:3]:
        builder = make_backup()
        row = {
            "Z_PK": 4,
            "ZDATE": to_cocoa(T0),
            "ZDURATION": 61.0,
            "ZORIGINATED": 1,
            "ZANSWERED": 0,
            "ZCALLTYPE": 16,
            "ZADDRESS": b"+33612345678",
            "ZUNIQUE_ID": "U-4",
        }
        if not schema.endswith("ios9.sql"):
            row["ZSERVICE_PROVIDER"] = "com.apple.FaceTime"
        builder.add_sqlite(HOME, STORE, schema, rows={"ZCALLRECORD": [row]})
        records, cov = run(CallHistoryParser, builder.finish())
        assert cov.status is Status.PARSED, (schema, cov.reason)
        (call,) = records
        assert isinstance(call, CallRecord)
        assert (call.started, call.handle, call.call_type, call.direction) == (
            T0,
            "+33612345678",
            "facetime-audio",
            "outgoing",
        ), schema
        assert call.participants == () and call.junk_confidence is None
        # iOS 9 has no ZSERVICE_PROVIDER column at all.
        assert call.service_provider == (None if schema.endswith("ios9.sql") else "com.apple.FaceTime"), (
            schema
        )
        assert (Obs.PHONE, "+33612345678") in obs(call)


def test_join_table_with_renumbered_handle_column(backup: BackupBuilder) -> None:
    # iLEAPP's callHistoryGroupCall.py meets Z_4REMOTEPARTICIPANTHANDLES as well as the iOS 17
    # store's Z_3…: Core Data numbers the columns after the model's entities.
    renumber = (
        "DROP TABLE Z_2REMOTEPARTICIPANTHANDLES;"
        "CREATE TABLE Z_2REMOTEPARTICIPANTHANDLES ( Z_2REMOTEPARTICIPANTCALLS INTEGER,"
        " Z_4REMOTEPARTICIPANTHANDLES INTEGER,"
        " PRIMARY KEY (Z_2REMOTEPARTICIPANTCALLS, Z_4REMOTEPARTICIPANTHANDLES) );"
    )
    backup.add_sqlite(
        HOME,
        STORE,
        IOS17,
        extra_sql=renumber,
        rows={
            "ZCALLRECORD": [{"Z_PK": 7, "ZDATE": to_cocoa(T0), "ZCALLTYPE": 16, "ZUNIQUE_ID": "U-7"}],
            "ZHANDLE": [{"Z_PK": 1, "ZVALUE": "someone@icloud.com"}, {"Z_PK": 2, "ZVALUE": "+12025550123"}],
            "Z_2REMOTEPARTICIPANTHANDLES": [
                {"Z_2REMOTEPARTICIPANTCALLS": 7, "Z_4REMOTEPARTICIPANTHANDLES": 2},
                {"Z_2REMOTEPARTICIPANTCALLS": 7, "Z_4REMOTEPARTICIPANTHANDLES": 1},
                {"Z_2REMOTEPARTICIPANTCALLS": 99, "Z_4REMOTEPARTICIPANTHANDLES": 1},
            ],
        },
    )
    records, cov = run(CallHistoryParser, backup.finish())
    assert cov.status is Status.PARSED
    assert calls(records)[7].participants == ("someone@icloud.com", "+12025550123")


def test_temp_store_is_read_beside_the_main_one(backup: BackupBuilder) -> None:
    backup.add_sqlite(HOME, STORE, IOS17, rows={"ZCALLRECORD": [{"Z_PK": 1, "ZDATE": to_cocoa(T0)}]})
    backup.add_sqlite(HOME, TEMP, IOS17, rows={"ZCALLRECORD": [{"Z_PK": 1, "ZDATE": to_cocoa(T1)}]})
    records, cov = run(CallHistoryParser, backup.finish())
    assert cov.status is Status.PARSED and len(cov.artefacts) == 2
    assert sorted((r.device_path, r.timestamp) for r in records) == [
        (PATH, T0),
        ("/private/var/mobile/Library/CallHistoryDB/CallHistoryTemp.storedata", T1),
    ]


def test_legacy_call_history_db_ios7_and_ios6(make_backup) -> None:  # type: ignore[no-untyped-def]
    unix = int(T2.timestamp())
    rows = [
        {
            "ROWID": 1,
            "address": "0791234567",
            "date": unix,
            "duration": 42,
            "flags": 4,
            "country_code": "228",
            "network_code": "01",
            "read": 1,
            "name": "Bob",
            "id": -1,
        },
        {"ROWID": 2, "address": "+41791234567", "date": unix + 60, "duration": 0, "flags": 5},
        {"ROWID": 3, "address": "+41790000000", "date": unix + 120, "duration": 0, "flags": 8},
        {"ROWID": 4, "address": "friend@me.com", "date": unix + 180, "duration": 30, "flags": 17},
        {"ROWID": 5, "address": None, "date": None, "duration": None, "flags": None},
    ]
    for schema in LEGACY_SCHEMAS:
        builder = make_backup()
        ios7 = schema.endswith("ios7.sql")
        table = [dict(r, answered=1) if ios7 and r["ROWID"] == 1 else r for r in rows]
        builder.add_sqlite(*LEGACY, schema, rows={"call": table})
        records, cov = run(CallHistoryParser, builder.finish())
        assert cov.status is Status.PARSED and cov.records == 5, (schema, cov.reason)
        by_pk = calls(records)
        first = by_pk[1]
        assert first.device_path == "/private/var/wireless/Library/CallHistory/call_history.db"
        assert (first.locator, first.started, first.duration, first.direction) == (
            "call.ROWID=1",
            T2,
            42.0,
            "incoming",
        )
        assert (first.call_type, first.flags, first.name, first.read) == ("phone", 4, "Bob", True)
        assert (first.mobile_country_code, first.mobile_network_code, first.country_code) == (
            "228",
            "01",
            None,
        )
        assert first.answered is (True if ios7 else None), schema  # the column appears in iOS 7
        assert (by_pk[2].direction, by_pk[2].call_type) == ("outgoing", "phone")
        assert (by_pk[3].direction, by_pk[3].call_type, by_pk[3].flags) == ("incoming", None, 8)
        assert (by_pk[4].direction, by_pk[4].call_type) == ("outgoing", "facetime")
        assert (Obs.EMAIL, "friend@me.com") in obs(by_pk[4])
        empty = by_pk[5]
        assert (empty.started, empty.handle, empty.direction, empty.call_type) == (
            None,
            None,
            "unknown",
            None,
        )


def test_nulls_garbage_and_huge_values_are_tolerated(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        HOME,
        STORE,
        IOS17,
        rows={
            "ZCALLRECORD": [
                {"Z_PK": 1},
                {
                    "Z_PK": 2,
                    "ZDATE": 2**63 - 1,
                    "ZDURATION": "long",
                    "ZORIGINATED": 7,
                    "ZANSWERED": "yes",
                    "ZCALLTYPE": 2**62,
                    "ZSERVICE_PROVIDER": "not a bundle id",
                    "ZADDRESS": b"\xff\xfe+1",
                    "ZUNIQUE_ID": "U-2",
                },
                {
                    "Z_PK": 3,
                    "ZDATE": -(2**63),
                    "ZCALLTYPE": 4,
                    "ZSERVICE_PROVIDER": "=cmd|' /C calc'!A0",
                    "ZUNIQUE_ID": "U-3",
                },
            ],
            "ZHANDLE": [{"Z_PK": 1, "ZVALUE": None, "ZNORMALIZEDVALUE": None}],
            "Z_2REMOTEPARTICIPANTHANDLES": [
                {"Z_2REMOTEPARTICIPANTCALLS": 1, "Z_3REMOTEPARTICIPANTHANDLES": 1}
            ],
        },
        extra_sql="",
    )
    records, cov = run(CallHistoryParser, backup.finish())
    assert cov.status is Status.PARSED and cov.records == 3
    by_pk = calls(records)
    blank = by_pk[1]
    assert (blank.started, blank.direction, blank.answered, blank.handle, blank.participants) == (
        None,
        "unknown",
        None,
        None,
        (),
    )
    odd = by_pk[2]
    assert (odd.started, odd.duration, odd.direction, odd.answered) == (None, None, "unknown", None)
    assert (odd.call_type, odd.call_type_code, odd.app_id) == (None, 2**62, None)
    assert odd.handle == "\\xff\\xfe+1"
    assert (by_pk[3].started, by_pk[3].call_type, by_pk[3].app_id) == (None, None, None)
    junk.assert_tolerated(records, cov)


def test_invalid_utf8_text_is_escaped(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        HOME,
        STORE,
        IOS17,
        extra_sql=(
            "INSERT INTO ZCALLRECORD (Z_PK, ZADDRESS, ZNAME, ZUNIQUE_ID) "
            "VALUES (1, CAST(X'2B3431FF' AS TEXT), CAST(X'C3FFFE28' AS TEXT), 'u')"
        ),
    )
    records, cov = run(CallHistoryParser, backup.finish())
    assert cov.status is Status.PARSED
    call = calls(records)[1]
    assert (call.handle, call.name) == ("+41\\xff", "\\xc3\\xff\\xfe(")


def test_database_without_call_tables_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(HOME, STORE, None, extra_sql="CREATE TABLE ZOTHER (Z_PK INTEGER PRIMARY KEY);")
    records, cov = run(CallHistoryParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED
    assert "ZCALLRECORD" in (cov.reason or "") and "call.ROWID" in (cov.reason or "")


def test_missing_handle_table_leaves_participants_empty(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        HOME,
        STORE,
        IOS17,
        extra_sql="DROP TABLE ZHANDLE;",
        rows={"ZCALLRECORD": [{"Z_PK": 1, "ZADDRESS": "+1", "ZUNIQUE_ID": "u"}]},
    )
    records, cov = run(CallHistoryParser, backup.finish())
    assert cov.status is Status.PARSED and calls(records)[1].participants == ()


def test_truncated_and_garbage_files_are_failed_coverage() -> None:
    for data in (b"", b"SQLite format 3\x00" + b"\x00" * 30, b"not a database at all"):
        records, cov = junk.run_file(CallHistoryParser, HOME, STORE, data)
        junk.assert_handled(cov)
        assert records == [] and cov.status is Status.FAILED


def test_truncated_real_database() -> None:
    data = junk.db_bytes(
        IOS17,
        {
            "ZCALLRECORD": [
                {"Z_PK": i, "ZADDRESS": "+4179" + "1" * 400, "ZUNIQUE_ID": f"u{i}"} for i in range(1, 60)
            ]
        },
    )
    _, cov = junk.run_file(CallHistoryParser, HOME, STORE, data[: len(data) // 2])
    junk.assert_truncated_handled(cov)


def test_bundle_id_shape() -> None:
    assert bundle_id("net.whatsapp.WhatsApp") == "net.whatsapp.WhatsApp"
    assert bundle_id(" com.apple.FaceTime ") == "com.apple.FaceTime"
    for value in (None, "", "WhatsApp", "a b.c", "x." + "y" * 300, "com.example.", "=1+2"):
        assert bundle_id(value) is None, value


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hostile_core_data_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = data.draw(st.sampled_from(CORE_DATA_SCHEMAS))
    tables = {"ZCALLRECORD": data.draw(junk.rows(schema, "ZCALLRECORD"))}
    if schema == IOS17:
        tables["ZHANDLE"] = data.draw(junk.rows(schema, "ZHANDLE"))
        tables["Z_2REMOTEPARTICIPANTHANDLES"] = data.draw(junk.rows(schema, "Z_2REMOTEPARTICIPANTHANDLES"))
    records, cov = junk.run_file(CallHistoryParser, HOME, STORE, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    assert all(isinstance(r, CallRecord) for r in records)
    junk.assert_tolerated(records, cov)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_hostile_legacy_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = data.draw(st.sampled_from(LEGACY_SCHEMAS))
    tables = {"call": data.draw(junk.rows(schema, "call"))}
    records, cov = junk.run_file(CallHistoryParser, *LEGACY, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    junk.assert_tolerated(records, cov)
