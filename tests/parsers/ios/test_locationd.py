"""locationd clients: names as process names, bundle and executable paths as file paths, both locations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, plist_bytes, plist_dicts, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.locationd import LocationClient, LocationdParser

WHEN = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
CLIENTS = {
    "com.apple.locationd.bundle-/System/Library/LocationBundles/Routine.bundle": {
        "BundlePath": "/System/Library/LocationBundles/Routine.bundle", "Authorization": 2, "Whitelisted": True,
        "LocationTimeStopped": timeutil.to_cocoa(WHEN),
    },
    "com.example.app:": {"BundleId": "com.example.app", "Executable": "/private/var/containers/Bundle/Application/X/App.app/App"},
    "/private/var/db/com.apple.xpc.roleaccountd.staging/subridged": {
        "Executable": "/private/var/db/com.apple.xpc.roleaccountd.staging/subridged", "Registered": "",
    },
    "CountOfMigrations": 3,
}


def test_clients_on_a_dump_in_both_locations(dump: DumpBuilder) -> None:
    dump.add_plist("/private/var/root/Library/Caches/locationd/clients.plist", CLIENTS)
    dump.add_plist("/private/var/mobile/Library/Caches/locationd/clients.plist", {"com.other.app": {"BundleId": "com.other.app"}})
    records, cov = run_evidence(LocationdParser, dump.finish("tar"))
    assert cov.status is Status.PARSED and len(cov.artefacts) == 2
    by_client = {r.client: r for r in records if isinstance(r, LocationClient)}
    assert set(by_client) == {"com.apple.locationd.bundle-/System/Library/LocationBundles/Routine.bundle",
                              "com.example.app", "/private/var/db/com.apple.xpc.roleaccountd.staging/subridged",
                              "com.other.app"}
    routine = by_client["com.apple.locationd.bundle-/System/Library/LocationBundles/Routine.bundle"]
    assert (routine.last_used, routine.authorization, routine.whitelisted) == (WHEN, 2, True)
    implant = by_client["/private/var/db/com.apple.xpc.roleaccountd.staging/subridged"]
    obs = {(o.type, o.value) for o in observables_of(implant)}
    assert (Obs.FILE_PATH, "/private/var/db/com.apple.xpc.roleaccountd.staging/subridged") in obs
    assert (Obs.PROCESS, "subridged") in obs
    app = by_client["com.example.app"]
    assert (Obs.APP_ID, "com.example.app") in {(o.type, o.value) for o in observables_of(app)}


def test_the_root_copy_in_a_backup(backup: BackupBuilder) -> None:
    backup.add_plist("RootDomain", "Library/Caches/locationd/clients.plist", CLIENTS)
    records, cov = run(LocationdParser, backup.finish())
    assert cov.status is Status.PARSED and len(records) == 3


def test_a_list_is_not_a_clients_plist(backup: BackupBuilder) -> None:
    backup.add_plist("RootDomain", "Library/Caches/locationd/clients.plist", [1, 2])
    records, cov = run(LocationdParser, backup.finish())
    assert records == [] and cov.status is Status.FAILED


@settings(max_examples=20, deadline=None)
@given(value=plist_dicts())
def test_garbage_never_crashes(value: dict[str, Any]) -> None:
    records, cov = run_file(LocationdParser, "RootDomain", "Library/Caches/locationd/clients.plist", plist_bytes(value))
    assert_tolerated(records, cov)
