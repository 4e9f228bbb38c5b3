"""The filesystem parser: every entry of a dump as a record, and the path semantics of matching.

``file:path`` matches the absolute device path on component boundaries (never a longer file name
that merely starts with the indicator), ``file:name`` the last component, ``process:name`` any
component (once, on the entry so named), hashes only with ``--hash-all``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder, container_uuid
from tests.builders.matching import ind
from tests.builders.run import run, run_evidence
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.registry import open_acquisition
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.indicators.match import match_records
from unmask.model import Obs, Record, Status
from unmask.parsers.base import run_parser
from unmask.parsers.ios.filesystem import FilesystemEntry, FilesystemParser

WHEN = datetime(2023, 9, 1, 8, 30, tzinfo=UTC)
IMPLANT = b"\xcf\xfa\xed\xfe implant"


def _dump(dump: DumpBuilder) -> DumpBuilder:
    dump.add_file("/private/var/tmp/hooker", b"trace", when=WHEN)
    dump.add_file("/private/var/tmp/hookerX", b"decoy: a longer name that starts like an indicator")
    dump.add_file("/private/var/tmp/hooker.bak", b"decoy")
    dump.add_file("/private/var/db/roleaccountd/com.apple.x.plist", b"a folder named like an implant process")
    dump.add_file("/private/var/containers/Bundle/Application/X/Evil.app/bh", IMPLANT, mode=0o755)
    dump.add_file("/private/var/mobile/Library/Caches/x/rce_loader.js", b"x")
    dump.add_file("/private/var/mobile/Library/Caches/x/rce_loader.js.tmp", b"decoy")
    folder = dump.container("data", "com.example.chat")
    dump.add_file(folder + "/Library/Caches/a.db", b"y")
    return dump


INDICATORS = [
    ind("file:path", "/private/var/tmp/hooker"),
    ind("file:path", "/private/var/db/keychain_dump.txt"),
    ind("file:path", "Library/Preferences/com.apple.photolibraryd.plist"),  # relative: never absolute paths
    ind("file:name", "rce_loader.js"),
    ind("process:name", "roleaccountd"),
    ind("process:name", "bh"),
    ind("file:hashes.sha256", hashlib.sha256(IMPLANT).hexdigest()),
]


def _findings(records: list[Record]) -> set[tuple[str, str, str]]:
    found = match_records(records, IndicatorIndex.build(INDICATORS))
    return {(f.device_path or "", f.observable.type.value, f.indicator.value) for f in found if f.observable and f.indicator}


@pytest.mark.parametrize("form", ["folder", "tar.gz", "zip"])
def test_path_semantics_on_a_dump(dump: DumpBuilder, form: str) -> None:
    records, cov = run_evidence(FilesystemParser, _dump(dump).finish(form))
    assert cov.status is Status.PARSED and cov.artefacts[0].device_path == "/"
    assert all(isinstance(r, FilesystemEntry) for r in records)
    assert _findings(records) == {
        ("/private/var/tmp/hooker", "file:path", "/private/var/tmp/hooker"),
        ("/private/var/db/roleaccountd", "process:name", "roleaccountd"),
        ("/private/var/containers/Bundle/Application/X/Evil.app/bh", "process:name", "bh"),
        ("/private/var/mobile/Library/Caches/x/rce_loader.js", "file:name", "rce_loader.js"),
    }  # no decoy (hookerX, hooker.bak, rce_loader.js.tmp), no hash without --hash-all, no relative path


def test_a_path_indicator_for_a_folder_matches_what_lies_inside(dump: DumpBuilder) -> None:
    dump.add_file("/private/var/tmp/l/payload", b"x")
    dump.add_file("/private/var/tmp/lx/other", b"x")
    records, _ = run_evidence(FilesystemParser, dump.finish("tar"))
    found = match_records(records, IndicatorIndex.build([ind("file:path", "/private/var/tmp/l/")]))
    assert {f.device_path for f in found} == {"/private/var/tmp/l", "/private/var/tmp/l/payload"}


def test_hashes_only_with_hash_all(dump: DumpBuilder) -> None:
    evidence = _dump(dump).finish("zip")
    with open_acquisition(evidence, options=OpenOptions(hash_all=True)) as acq:
        records, cov = run_parser(FilesystemParser(), acq)
    assert cov.status is Status.PARSED
    implant = next(r for r in records if isinstance(r, FilesystemEntry) and r.name == "bh")
    assert implant.sha256 == hashlib.sha256(IMPLANT).hexdigest() and implant.md5 and implant.sha1
    assert ("/private/var/containers/Bundle/Application/X/Evil.app/bh", "file:hashes.sha256",
            hashlib.sha256(IMPLANT).hexdigest()) in _findings(records)
    folders = [r for r in records if isinstance(r, FilesystemEntry) and r.entry_kind == "dir"]
    assert folders and all(r.sha256 is None for r in folders)


def test_folders_an_archive_only_implies_get_their_own_record(dump: DumpBuilder) -> None:
    records, _ = run_evidence(FilesystemParser, _dump(dump).finish("zip", dirs=False))
    by_path = {r.path: r for r in records if isinstance(r, FilesystemEntry)}
    folder = by_path["/private/var/db/roleaccountd"]
    assert folder.implied and folder.entry_kind == "dir" and folder.modified is None
    assert len(records) == len(by_path)  # every path once
    assert {"/private", "/private/var", "/private/var/db"} <= set(by_path)
    assert ("/private/var/db/roleaccountd", "process:name", "roleaccountd") in _findings(records)


def test_records_carry_times_sizes_modes_links_and_their_app(dump: DumpBuilder) -> None:
    records, _ = run_evidence(FilesystemParser, _dump(dump).finish("tar"))
    by_path = {r.path: r for r in records if isinstance(r, FilesystemEntry)}
    hooker = by_path["/private/var/tmp/hooker"]
    assert (hooker.modified, hooker.size, hooker.entry_kind, hooker.name) == (WHEN, 5, "file", "hooker")
    assert hooker.mode is not None and hooker.mode & 0o777 == 0o644
    assert by_path["/var"].entry_kind == "symlink" and by_path["/var"].link == "private/var"
    app_file = f"/private/var/mobile/Containers/Data/Application/{container_uuid('data', 'com.example.chat')}/Library/Caches/a.db"
    assert by_path[app_file].app == "com.example.chat"
    assert by_path["/private/var/tmp/hooker"].app is None
    assert "/" not in by_path
    assert [name for name, _ in hooker.timestamps()] == ["modified"]  # one timeline row per entry


def test_no_record_without_a_file_system(backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", "Library/SMS/sms.db", b"x")
    records, cov = run(FilesystemParser, backup.finish())
    assert records == [] and cov.status is Status.ABSENT
    assert cov.reason == "not a full-filesystem acquisition"


def test_memory_stays_bounded_by_the_folder_cache(tmp_path: Path) -> None:
    # More folders than the cache holds: every entry still appears once, none is implied.
    import unmask.parsers.ios.filesystem as fs

    dump = DumpBuilder(tmp_path / "d", system=False)
    for i in range(60):
        dump.add_file(f"/private/var/mobile/Library/Caches/f{i}/x", b"x")
    old = fs._SEEN_LIMIT
    fs._SEEN_LIMIT = 8
    try:
        records, _ = run_evidence(FilesystemParser, dump.finish("folder"))
    finally:
        fs._SEEN_LIMIT = old
    paths = [r.path for r in records if isinstance(r, FilesystemEntry)]
    assert len(paths) == len(set(paths)) and not any(r.implied for r in records if isinstance(r, FilesystemEntry))
    assert sum(p.endswith("/x") for p in paths) == 60


def test_observables_of_an_entry() -> None:
    from unmask.observables import observables_of

    record = FilesystemEntry(device_path="/private/var/tmp/x/bh", path="/private/var/tmp/x/bh", name="bh",
                             entry_kind="file")
    assert {(o.type, o.value) for o in observables_of(record)} == {
        (Obs.FILE_PATH, "/private/var/tmp/x/bh"), (Obs.FILE_NAME, "bh"), (Obs.PROCESS, "bh"),
    }


def test_files_of_attachment_stores_are_screened(dump: DumpBuilder, tmp_path: Path) -> None:
    from tests.payloads import vectors as v
    from unmask.api import check
    from unmask.parsers.ios.filesystem import AttachmentFile

    payload = v.jbig2_pdf(v.jbig2_globals(0x80000000), v.jbig2_image(0x80000000))
    dump.add_file("/private/var/mobile/Library/SMS/Attachments/ab/11/GUID-1/invoice.gif", payload)
    group = dump.container("group", "group.net.whatsapp.WhatsApp.shared")
    dump.add_file(group + "/Message/Media/4179@s.whatsapp.net/a/b/photo.png", v.png_1x1())
    dump.add_file("/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG", payload)  # not an attachment store
    evidence = dump.finish("zip")
    records, _ = run_evidence(FilesystemParser, evidence)
    stored = sorted(r.path for r in records if isinstance(r, AttachmentFile))
    assert stored == [group + "/Message/Media/4179@s.whatsapp.net/a/b/photo.png",
                      "/private/var/mobile/Library/SMS/Attachments/ab/11/GUID-1/invoice.gif"]
    result = check(evidence, output=tmp_path / "out")
    screened = {s["device_path"] for s in result.extra["screened_files"]}
    assert screened == set(stored)  # the camera roll is not an attachment store
    payloads = [f for f in result.findings if f.source == "ios/filesystem/attachment"]
    assert payloads and {f.device_path for f in payloads} == {
        "/private/var/mobile/Library/SMS/Attachments/ab/11/GUID-1/invoice.gif"}


def test_the_locator_names_the_member_only_when_it_differs_from_the_device_path(tmp_path: Path) -> None:
    plain = DumpBuilder(tmp_path / "a", system=False)
    plain.add_file("/private/var/mobile/x.txt", b"x")
    records, _ = run_evidence(FilesystemParser, plain.finish("tar"))
    assert {r.locator for r in records if isinstance(r, FilesystemEntry) and r.path == "/private/var/mobile/x.txt"} == {""}
    wrapped = DumpBuilder(tmp_path / "b", system=False)
    wrapped.add_file("/private/var/mobile/x.txt", b"x")
    records, _ = run_evidence(FilesystemParser, wrapped.finish("tar", wrap="FFS/", private=False))
    entry = next(r for r in records if isinstance(r, FilesystemEntry) and r.path == "/private/var/mobile/x.txt")
    assert entry.locator == "FFS/var/mobile/x.txt"
