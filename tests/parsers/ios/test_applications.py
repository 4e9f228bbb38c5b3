"""Installed applications: iTunesMetadata.plist on a dump, Info.plist's Applications in a backup."""

from __future__ import annotations

import plistlib
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, plist_bytes, plist_dicts
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.applications import ApplicationsParser, InstalledApp

META = {
    "softwareVersionBundleId": "com.example.sideload", "itemName": "Free VPN", "artistName": "Nobody",
    "sourceApp": "com.example.installer", "bundleShortVersionString": "1.0",
    "com.apple.iTunesStore.downloadInfo": {"purchaseDate": "2023-05-01T08:00:00Z", "accountInfo": {"AppleID": "a@b.c"}},
}


def test_apps_of_a_dump(dump: DumpBuilder) -> None:
    bundle = dump.container("bundle", "com.example.sideload")
    dump.add_plist(bundle + "/iTunesMetadata.plist", META)
    store = dump.container("bundle", "org.telegram.Telegram")
    dump.add_plist(store + "/iTunesMetadata.plist", {"softwareVersionBundleId": "org.telegram.Telegram",
                                                      "sourceApp": "com.apple.AppStore"}, binary=False)
    records, cov = run_evidence(ApplicationsParser, dump.finish("tar.gz"))
    assert cov.status is Status.PARSED
    apps = {r.bundle_id: r for r in records if isinstance(r, InstalledApp)}
    side = apps["com.example.sideload"]
    assert (side.source_app, side.artist, side.apple_id, side.purchased) == (
        "com.example.installer", "Nobody", "a@b.c", datetime(2023, 5, 1, 8, 0, tzinfo=UTC))
    assert (Obs.APP_ID, "com.example.sideload") in {(o.type, o.value) for o in observables_of(side)}
    assert apps["org.telegram.Telegram"].source_app == "com.apple.AppStore"


def test_apps_of_a_backup_from_its_info_plist(backup: BackupBuilder) -> None:
    root = backup.finish()
    info = plistlib.loads((root / "Info.plist").read_bytes())
    info["Applications"] = {
        "com.example.sideload": {"iTunesMetadata": plistlib.dumps(META, fmt=plistlib.FMT_BINARY)},
        "com.broken": {"iTunesMetadata": b"not a plist"},
        "com.nometa": {"PlaceholderIcon": b"png"},
    }
    (root / "Info.plist").write_bytes(plistlib.dumps(info))
    records, cov = run(ApplicationsParser, root)
    assert [(r.bundle_id, r.locator) for r in records if isinstance(r, InstalledApp)] == [
        ("com.example.sideload", "Applications.com.example.sideload")]
    assert any("not a readable plist" in w for w in cov.warnings)


def test_metadata_without_a_bundle_id_says_so(dump: DumpBuilder) -> None:
    bundle = dump.container("bundle", "x.y")
    dump.add_plist(bundle + "/iTunesMetadata.plist", {"itemName": "Nameless"})
    records, _ = run_evidence(ApplicationsParser, dump.finish("zip"))
    assert [(r.bundle_id, r.has_metadata_id) for r in records if isinstance(r, InstalledApp)] == [(None, False)]


@settings(max_examples=20, deadline=None)
@given(value=plist_dicts())
def test_garbage_never_crashes(value: dict[str, Any]) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        dump = DumpBuilder(Path(tmp), system=False)
        dump.add_file("/private/var/containers/Bundle/Application/X/iTunesMetadata.plist", plist_bytes(value))
        records, cov = run_evidence(ApplicationsParser, dump.finish("tar"))
    assert_tolerated(records, cov)
