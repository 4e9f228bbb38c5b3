"""App containers: the bundle or group id behind each container UUID, and records that name their app."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, plist_bytes, plist_dicts
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import METADATA, DumpBuilder, container_uuid
from tests.builders.run import run, run_evidence
from unmask.acquisition.registry import open_acquisition
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.containers import AppContainer, ContainersParser, app_of


def test_every_container_kind_names_its_app(dump: DumpBuilder) -> None:
    data = dump.container("data", "org.telegram.Telegram")
    group = dump.container("group", "group.net.whatsapp.WhatsApp.shared")
    bundle = dump.container("bundle", "com.evil.app")
    plugin = dump.container("plugin", "com.example.widget")
    dump.add_dir(dump.container("data", "com.example.nometa", metadata=False))
    records, cov = run_evidence(ContainersParser, dump.finish("tar.gz"))
    assert cov.status is Status.PARSED
    found = {(r.container, r.container_kind, r.app_id) for r in records if isinstance(r, AppContainer)}
    assert {
        (data, "app data", "org.telegram.Telegram"),
        (group, "app group", "group.net.whatsapp.WhatsApp.shared"),
        (bundle, "app bundle", "com.evil.app"),
        (plugin, "extension data", "com.example.widget"),
    } <= found
    evil = next(r for r in records if isinstance(r, AppContainer) and r.app_id == "com.evil.app")
    assert (Obs.APP_ID, "com.evil.app") in {(o.type, o.value) for o in observables_of(evil)}


def test_app_of_a_path_on_a_dump_and_in_a_backup(dump: DumpBuilder, backup: BackupBuilder) -> None:
    folder = dump.container("data", "org.telegram.Telegram")
    dump.add_file(folder + "/Library/Caches/x", b"x")
    with open_acquisition(dump.finish("zip")) as acq:
        assert app_of(acq, folder + "/Library/Caches/x") == "org.telegram.Telegram"
        unknown = "/private/var/mobile/Containers/Data/Application/" + container_uuid("data", "nope") + "/x"
        assert app_of(acq, unknown) is None
        assert app_of(acq, "/private/var/mobile/Library/SMS/sms.db") is None
    backup.add_file("AppDomain-org.telegram.Telegram", "Library/x", b"x")
    with open_acquisition(backup.finish()) as acq:
        assert app_of(acq, "/private/var/mobile/Containers/Data/Application/org.telegram.Telegram/Library/x") == (
            "org.telegram.Telegram"
        )


def test_the_newer_metadata_file_name(dump: DumpBuilder) -> None:
    folder = "/private/var/mobile/Containers/Data/Application/" + container_uuid("data", "x.y")
    dump.add_plist(folder + "/.com.apple.containermanagerd.metadata.plist", {"MCMMetadataIdentifier": "x.y"})
    records, _ = run_evidence(ContainersParser, dump.finish("tar"))
    assert [r.app_id for r in records if isinstance(r, AppContainer)] == ["x.y"]


@settings(max_examples=30, deadline=None)
@given(value=plist_dicts())
def test_garbage_metadata_never_crashes(value: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        builder = BackupBuilder(Path(tmp) / "b")
        builder.add_file("AppDomain-x.y", METADATA, plist_bytes(value))
        records, cov = run(ContainersParser, builder.finish())
    assert_tolerated(records, cov)
