from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.tcc import TccAccess, TccParser, client_observables

DOMAIN, REL = "HomeDomain", "Library/TCC/TCC.db"
T0 = datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)


def by_client(records: list[object]) -> dict[str, TccAccess]:
    return {r.client: r for r in records if isinstance(r, TccAccess) and r.client}


def test_client_observables() -> None:
    assert client_observables("com.example.app", 0) == ("com.example.app", "com.example.app", None)
    assert client_observables("/usr/libexec/bh", 1) == (None, "bh", "/usr/libexec/bh")
    assert client_observables("/private/var/db/x/roleaboutd", None) == (
        None,
        "roleaboutd",
        "/private/var/db/x/roleaboutd",
    )
    assert client_observables(None, 0) == (None, None, None)


def test_ios14_access_rows(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/TCC.db/ios14.sql",
        rows={
            "access": [
                {
                    "service": "kTCCServiceMicrophone",
                    "client": "com.example.Recorder",
                    "client_type": 0,
                    "auth_value": 2,
                    "auth_reason": 2,
                    "auth_version": 1,
                    "last_modified": int(T0.timestamp()),
                },
                {
                    "service": "kTCCServiceCamera",
                    "client": "/private/var/db/com.apple.xpc.roleaccountd.staging/roleaboutd",
                    "client_type": 1,
                    "auth_value": 0,
                    "auth_reason": 4,
                    "auth_version": 1,
                    "last_modified": 0,
                },
            ]
        },
    )
    records, cov = run(TccParser, backup.finish())
    assert cov.status is Status.PARSED and cov.records == 2
    clients = by_client(records)
    mic = clients["com.example.Recorder"]
    assert (mic.service, mic.auth, mic.auth_value, mic.auth_reason_name, mic.last_modified) == (
        "kTCCServiceMicrophone",
        "allowed",
        2,
        "user consent",
        T0,
    )
    assert mic.indirect_object is None  # the device default 'UNUSED'
    obs = {(o.type, o.value) for o in observables_of(mic)}
    assert (Obs.APP_ID, "com.example.recorder") in obs and (Obs.PROCESS, "com.example.Recorder") in obs
    cam = clients["/private/var/db/com.apple.xpc.roleaccountd.staging/roleaboutd"]
    assert (cam.auth, cam.auth_reason_name, cam.last_modified, cam.app_id) == (
        "denied",
        "system set",
        None,
        None,
    )
    obs = {(o.type, o.value) for o in observables_of(cam)}
    assert (Obs.PROCESS, "roleaboutd") in obs
    assert (Obs.FILE_PATH, "/private/var/db/com.apple.xpc.roleaccountd.staging/roleaboutd") in obs


def test_ios7_allowed_and_access_times(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/TCC.db/ios7.sql",
        rows={
            "access": [
                {
                    "service": "kTCCServicePhotos",
                    "client": "com.example.old",
                    "client_type": 0,
                    "allowed": 1,
                    "prompt_count": 1,
                },
                {
                    "service": "kTCCServiceAddressBook",
                    "client": "com.example.old",
                    "client_type": 0,
                    "allowed": 0,
                    "prompt_count": 2,
                },
            ],
            "access_times": [
                {
                    "service": "kTCCServicePhotos",
                    "client": "com.example.old",
                    "client_type": 0,
                    "last_used_time": int(T0.timestamp()),
                }
            ],
        },
    )
    records, cov = run(TccParser, backup.finish())
    assert cov.status is Status.PARSED
    got = sorted(
        (r.service, r.auth, r.allowed, r.prompt_count, r.last_used, r.auth_value)
        for r in records
        if isinstance(r, TccAccess)
    )
    assert got == [
        ("kTCCServiceAddressBook", "denied", 0, 2, None, None),
        ("kTCCServicePhotos", "allowed", 1, 1, T0, None),
    ]


def test_macos_style_without_access_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, None, extra_sql="CREATE TABLE admin (key TEXT, value INTEGER);")
    records, cov = run(TccParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "access" in (cov.reason or "")


def test_garbage_file_is_failed() -> None:
    records, cov = junk.run_file(TccParser, DOMAIN, REL, b"SQLite format 3\x00" + b"\xff" * 200)
    junk.assert_handled(cov)
    assert records == [] and cov.status is Status.FAILED


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hostile_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = data.draw(st.sampled_from(["ios/TCC.db/ios7.sql", "ios/TCC.db/ios14.sql"]))
    tables = {"access": data.draw(junk.rows(schema, "access"))}
    if schema.endswith("ios7.sql"):
        tables["access_times"] = data.draw(junk.rows(schema, "access_times"))
    records, cov = junk.run_file(TccParser, DOMAIN, REL, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    for record in records:
        list(observables_of(record))
        record.describe()
