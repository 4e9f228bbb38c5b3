from __future__ import annotations

import plistlib
from datetime import UTC, datetime

from hypothesis import given, settings

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.idstatuscache import IdStatusCacheParser, IdStatusEntry, split_handle
from unmask.timeutil import to_cocoa

OLD = ("HomeDomain", "Library/Preferences/com.apple.identityservices.idstatuscache.plist")
NEW = ("HomeDomain", "Library/IdentityServices/idstatuscache.plist")
T0 = datetime(2021, 7, 1, 10, 0, tzinfo=UTC)
T1 = datetime(2021, 8, 1, 10, 0, tzinfo=UTC)

CACHE = {
    "CacheVersion": 3,
    "com.apple.madrid": {
        "mailto:BadGuy@Example.com": {"LookupDate": to_cocoa(T0), "IDStatus": 1, "ValidExpiry": to_cocoa(T1)},
        "tel:+41791234567": {"LookupDate": to_cocoa(T1), "IDStatus": 2},
        "mailto:weird\x00\x00@example.com": {"LookupDate": to_cocoa(T0), "IDStatus": 1},
    },
    "com.apple.ess": {"urn:biz:1234": {"LookupDate": to_cocoa(T0), "IDStatus": 1}, "mailto:x@y.z": "oops"},
}


def entries(records: list[object]) -> dict[tuple[str, str], IdStatusEntry]:
    return {(r.service, r.raw_key): r for r in records if isinstance(r, IdStatusEntry)}


def test_split_handle() -> None:
    assert split_handle("mailto:a@b.c") == ("mailto", "a@b.c")
    assert split_handle("TEL:+123") == ("tel", "+123")
    assert split_handle("mailto:a\x00\x00@b.c") == ("mailto", "a@b.c")
    assert split_handle("urn:biz:1") == ("urn", None)
    assert split_handle("a@b.c") == (None, "a@b.c")
    assert split_handle("+4179") == (None, "+4179")
    assert split_handle("garbage") == (None, None)


def test_entries_per_service_and_handle(backup: BackupBuilder) -> None:
    backup.add_plist(*OLD, CACHE)
    records, cov = run(IdStatusCacheParser, backup.finish())
    assert cov.status is Status.PARSED and cov.records == 5
    by_key = entries(records)
    mail = by_key[("com.apple.madrid", "mailto:BadGuy@Example.com")]
    assert (mail.lookup, mail.valid_expiry, mail.status, mail.scheme, mail.handle) == (
        T0,
        T1,
        1,
        "mailto",
        "BadGuy@Example.com",
    )
    assert (
        mail.device_path
        == "/private/var/mobile/Library/Preferences/com.apple.identityservices.idstatuscache.plist"
    )
    assert (Obs.EMAIL, "badguy@example.com") in {(o.type, o.value) for o in observables_of(mail)}
    tel = by_key[("com.apple.madrid", "tel:+41791234567")]
    assert (Obs.PHONE, "+41791234567") in {(o.type, o.value) for o in observables_of(tel)}
    nul = by_key[("com.apple.madrid", "mailto:weird\x00\x00@example.com")]
    assert nul.raw_key == "mailto:weird\x00\x00@example.com" and nul.handle == "weird@example.com"
    urn = by_key[("com.apple.ess", "urn:biz:1234")]
    assert urn.handle is None and list(observables_of(urn)) == []
    odd = by_key[("com.apple.ess", "mailto:x@y.z")]
    assert (odd.lookup, odd.status, odd.handle) == (None, None, "x@y.z")
    assert any("not dictionaries" in w for w in cov.warnings)


def test_both_paths_are_read(backup: BackupBuilder) -> None:
    backup.add_plist(*OLD, {"com.apple.madrid": {"mailto:a@b.c": {"LookupDate": to_cocoa(T0)}}})
    backup.add_plist(*NEW, {"com.apple.madrid": {"mailto:d@e.f": {"LookupDate": to_cocoa(T1)}}}, binary=False)
    records, cov = run(IdStatusCacheParser, backup.finish())
    assert cov.status is Status.PARSED and len(cov.artefacts) == 2
    assert sorted((r.device_path, r.handle) for r in records if isinstance(r, IdStatusEntry)) == [
        ("/private/var/mobile/Library/IdentityServices/idstatuscache.plist", "d@e.f"),
        ("/private/var/mobile/Library/Preferences/com.apple.identityservices.idstatuscache.plist", "a@b.c"),
    ]


def test_garbage_and_wrong_shape_plists_fail_with_reason() -> None:
    for data in (b"bplist00garbage", b"<plist><dict><key>x", plistlib.dumps([1, 2])):
        records, cov = junk.run_file(IdStatusCacheParser, *OLD, data)
        junk.assert_handled(cov)
        assert records == [] and cov.status is Status.FAILED and cov.reason


@settings(max_examples=30, deadline=None)
@given(value=junk.plist_dicts())
def test_hostile_plists_never_break_the_parser(value: dict[str, object]) -> None:
    records, cov = junk.run_file(IdStatusCacheParser, *OLD, junk.plist_bytes(value))
    junk.assert_handled(cov)
    for record in records:
        list(observables_of(record))
        record.describe()
