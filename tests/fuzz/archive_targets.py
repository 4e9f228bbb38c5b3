"""Fuzz targets of the archive layer and of the acquisitions that arrive as one file.

* ``archive.reader``: :class:`unmask.formats.archive.ArchiveReader` over a mutated tar (plain,
  gzip, bzip2, xz, zstd) or zip: every member listed, every served member opened and read.
* ``archive.tree``: :class:`unmask.acquisition.tree.TreeAcquisition` over the same inputs: the
  index built, every entry listed, links resolved inside the tree, globs, every file read, a few
  extracted into the private folder.
* ``acquisition.<kind>``: the acquisition kinds that arrive as one file (a sysdiagnose
  ``.tar.gz``, an AndroidQF ``.zip`` with its nested bugreport and ``.ab``, a bugreport ``.zip``,
  an Android ``.ab`` backup, a zip of intrusion logs, an iOS full-filesystem dump as ``.tar`` and
  ``.zip``) opened as that kind, then scanned the way
  ``unmask check`` scans (``api.scan_acquisition``: every parser of the platform, indicator
  matching, heuristics and correlation; no attachment screening).
* ``parser.<platform>/<name>`` for a parser that reads no file but the acquisition's listing (the
  dump's ``filesystem``): the mutated dump archive opened as that kind, then that parser alone.

The contract: only :class:`~unmask.errors.ArtefactError` and
:class:`~unmask.errors.AcquisitionError` (and their subclasses) refuse an input; every parser
ends with a coverage status, never a parser bug; the evidence is not changed; nothing is written
outside the scratch folder (its parent is listed before and after, Python's temporary folder points
inside it during the run, and the acquisition's private folder must be gone once it is closed).
Time and memory are bounded by :func:`tests.fuzz.targets.execute` (5 s an input; the fuzzer runs
under an address-space limit and a file-size limit).

Seeds are built in code: the tree of ``tests/acquisition/test_tree.py`` (files, a link to a
folder, a link to a file) as tar in each compression and as zip, a GNU tar with long names and a
hard link, the archives the sysdiagnose and Android sample builders write, and a small dump
(:func:`dump_archive`) as tar and zip.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import zstandard

from unmask.acquisition.tree import TreeAcquisition
from unmask.errors import AcquisitionError, ArtefactError
from unmask.formats.archive import ArchiveError, ArchiveLimits, ArchiveReader

LIMITS = ArchiveLimits(max_member=64 << 20, ratio_floor=1 << 20, max_total=256 << 20, max_members=200_000)
"""Smaller than the defaults, so that an input that declares absurd sizes meets the limits (and a
run cannot fill the disk)."""
READ_CAP = 32 << 20
"""Bytes read from all members of one input, at most."""

FILES = {
    "private/var/mobile/Library/SMS/sms.db": b"SQLite format 3\x00" + bytes(100),
    "private/var/mobile/Library/Preferences/a.plist": b"<?xml version='1.0'?><plist><dict/></plist>",
    "private/var/mobile/Library/Preferences/b.plist": b"bplist00\x08\x00",
    "private/var/db/x.txt": b"line https://evil.example/x\n" * 40,
    "System/Library/CoreServices/SystemVersion.plist": b"version",
}
LINKS = {"var": "private/var", "private/var/mobile/Library/Prefs": "Preferences",
         "private/var/mobile/Library/sms-link.db": "SMS/sms.db"}


def tar_bytes(files: dict[str, bytes], links: dict[str, str], *, fmt: int = tarfile.PAX_FORMAT,
              hardlinks: dict[str, str] | None = None) -> bytes:
    """A tar holding ``files``, folders before them, symbolic ``links`` and ``hardlinks``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        folders = sorted({"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)})
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1709294400
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1709294400, 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        for name, target in (hardlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.LNKTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def zip_bytes(files: dict[str, bytes], links: dict[str, str], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding ``files`` and ``links`` (symbolic links as Info-ZIP writes them: Unix mode
    ``S_IFLNK`` in the external attributes, the target as content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        zf.writestr(zipfile.ZipInfo("private/", (2024, 3, 1, 12, 0, 0)), b"")
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 3, 1, 12, 0, 0)), data, compress_type=method)
        for name, target in links.items():
            info = zipfile.ZipInfo(name, (2024, 3, 1, 12, 0, 0))
            info.create_system = 3
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, target)
    return buffer.getvalue()


def tree_seeds() -> list[bytes]:
    """The test tree as tar in every compression unmask reads, as zip (deflated and stored), and
    a GNU tar with a long name and a hard link."""
    tar = tar_bytes(FILES, LINKS)
    long_name = "private/var/mobile/Containers/Data/Application/" + "A" * 120 + "/Library/x.txt"
    gnu = tar_bytes({**FILES, long_name: b"long"}, {}, fmt=tarfile.GNU_FORMAT,
                    hardlinks={"private/var/db/hard.txt": "private/var/db/x.txt"})
    return [
        tar,
        gzip.compress(tar[: len(tar) // 2]) + gzip.compress(tar[len(tar) // 2 :]),  # two gzip members
        bz2.compress(tar),
        lzma.compress(tar),
        zstandard.ZstdCompressor().compress(tar),
        zip_bytes(FILES, LINKS),
        zip_bytes(FILES, {}, method=zipfile.ZIP_STORED),
        gnu,
    ]


@cache
def _built() -> dict[str, bytes]:
    """The sample builders' archives, written once: name → bytes."""
    from tests.builders.android_sample import bugreport_zip, intrusion_log, sample_androidqf, sms_backup
    from tests.builders.sysdiagnose import SysdiagnoseBuilder, plant

    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="unmask-fuzz-seeds-") as tmp:
        folder = Path(tmp)
        sysdiagnose = plant(SysdiagnoseBuilder().minimal()).write_tar(folder, level=9)
        out["sysdiagnose"] = sysdiagnose.read_bytes()
        out["sysdiagnose.name"] = sysdiagnose.name.encode()
        out["bugreport"] = bugreport_zip(folder / "bugreport.zip").read_bytes()
        aqf = sample_androidqf()
        aqf.files["bugreport.zip"] = out["bugreport"]
        aqf.files["backup.ab"] = sms_backup()
        out["androidqf"] = aqf.write_zip(folder / "aqf.zip", folder=True).read_bytes()
        out["android-backup"] = sms_backup()
        out["intrusion"] = zip_bytes({"log_1.txt": intrusion_log(), "log_2.txt": intrusion_log()[:200]}, {})
        out["ios-fs.tar"] = dump_archive(folder / "fs-tar", "tar").read_bytes()
        out["ios-fs.zip"] = dump_archive(folder / "fs-zip", "zip").read_bytes()
    return out


def dump_archive(folder: Path, form: str) -> Path:
    """A small full-filesystem dump (a few dozen entries: the system version, a container with
    its metadata, a daemon, an app with its store metadata, a preferences plist, a folder link)."""
    from tests.builders.ios_fs import DumpBuilder

    b = DumpBuilder(folder, ios_version="17.4.1", build="21E236", product_type="iPhone14,2")
    data = b.container("data", "com.example.notes")
    b.add_plist(f"{data}/Library/Preferences/com.example.notes.plist", {"url": "https://news.example/a"})
    b.add_file("/private/var/db/com.apple.xpc.roleaccountd.staging/bh", b"\xcf\xfa\xed\xfe" + bytes(28), mode=0o755)
    bundle = b.container("bundle", "com.example.notes")
    b.add_file(f"{bundle}/Notes.app/Notes", b"\xcf\xfa\xed\xfe", mode=0o755)
    b.add_plist(f"{bundle}/iTunesMetadata.plist", {"softwareVersionBundleId": "com.example.notes",
                                                    "sourceApp": "com.apple.AppStore"})
    b.add_link("/private/var/mobile/Library/Prefs", "Preferences")
    return b.finish(form)


def archive_seeds() -> list[bytes]:
    """Trees of files, and the archives of the sysdiagnose and Android builders."""
    built = _built()
    return [*tree_seeds(), built["sysdiagnose"], built["androidqf"], built["bugreport"], built["intrusion"]]


# --- the sealed scratch folder ---------------------------------------------------------------------


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def sealed(box: Path, evidence: Path) -> Iterator[Path]:
    """Run with Python's temporary folder inside ``box/tmp`` (yielded); afterwards the evidence is
    unchanged, ``box`` and its parent hold what they held, and the temporary folder is empty (the
    acquisition removed its private folder). Left-overs are removed either way."""
    from tests.fuzz.targets import Violation

    tmp = box / "tmp"
    tmp.mkdir(exist_ok=True)
    parent, inside, digest = _listing(box.parent), _listing(box), _digest(evidence)
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp)
    failed = True
    try:
        yield tmp
        failed = False
    finally:
        tempfile.tempdir = previous
        left = _listing(tmp)
        for name in left:
            target = tmp / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        if not failed:
            if left:
                raise Violation(f"left in the temporary folder after close: {left[:5]}")
            if _listing(box.parent) != parent or _listing(box) != inside:
                raise Violation(f"written beside the evidence: {sorted(set(_listing(box.parent)) ^ set(parent))} "
                                f"{sorted(set(_listing(box)) ^ set(inside))}")
            if _digest(evidence) != digest:
                raise Violation("the evidence changed")


def _box(name: str) -> Path:
    from tests.fuzz.targets import _scratch

    box = _scratch(name) / "box"
    box.mkdir(exist_ok=True)
    return box


# --- archive.reader --------------------------------------------------------------------------------


def run_archive_reader(data: bytes) -> None:
    """Every member listed; every served member opened and read (within :data:`READ_CAP`)."""
    from tests.fuzz.targets import note

    box = _box("archive.reader")
    evidence = box / "evidence"
    evidence.write_bytes(data)
    spool = box / "spool"
    spool.mkdir(exist_ok=True)
    with sealed(box, evidence):
        try:
            reader = ArchiveReader(evidence, limits=LIMITS, spool=spool)
        except ArchiveError as exc:
            return _refused(exc)
        members, served, left = 0, 0, READ_CAP
        try:
            for member in reader.members():
                members += 1
                if member.problem is not None or member.kind not in ("file", "symlink") or left <= 0:
                    continue
                try:
                    with reader.open(member) as handle:
                        while left > 0 and (chunk := handle.read(min(1 << 20, left))):
                            left -= len(chunk)
                    served += 1
                except ArchiveError as exc:
                    note(_outcome(exc))
        except ArchiveError as exc:
            _refused(exc)
        finally:
            reader.close()
            for name in _listing(spool):
                (spool / name).unlink()
        note(f"{reader.kind}:members:{min(members, 9)}:served:{min(served, 9)}:{'truncated' if reader.truncated else 'whole'}")
    return None


# --- archive.tree ----------------------------------------------------------------------------------


class FuzzTree(TreeAcquisition):
    """A tree whose root is the device root (no kind: not registered)."""

    platform = "ios"

    def __init__(self, root: Path) -> None:
        super().__init__(root, limits=LIMITS)


def run_tree(data: bytes) -> None:
    """The tree indexed; every entry listed and looked up again, links resolved, globs, every file
    read (within :data:`READ_CAP`), the first three extracted into the private folder."""
    from tests.fuzz.targets import note

    box = _box("archive.tree")
    evidence = box / "evidence"
    evidence.write_bytes(data)
    with sealed(box, evidence):
        try:
            acq = FuzzTree(evidence)
        except (AcquisitionError, ArtefactError) as exc:
            return _refused(exc)
        files, left = 0, READ_CAP
        try:
            for entry in acq.entries():
                acq.entry(entry.device_path)
                acq.resolve(entry.device_path)
                if entry.kind != "file" or not acq.exists(entry.device_path):
                    continue
                files += 1
                try:
                    if files <= 3:
                        acq.materialize(entry.device_path)
                        acq.sha256(entry.device_path)
                    with acq.open(entry.device_path) as handle:
                        while left > 0 and (chunk := handle.read(min(1 << 20, left))):
                            left -= len(chunk)
                except (ArtefactError, FileNotFoundError) as exc:
                    note(_outcome(exc))
            for pattern in ("/private/var/mobile/Library/*/*", "/**/*.plist", "/var/db/x.txt"):
                acq.glob(pattern)
            note(f"tree:{min(acq.tree.count, 9)}:files:{min(files, 9)}:skipped:{min(len(acq.refused), 3)}")
        finally:
            acq.close()
    return None


# --- acquisition.<kind> ----------------------------------------------------------------------------


@cache
def _indicators() -> Any:
    from unmask.detect.pipeline import load_indicators

    return load_indicators()


def scan(acq: Any) -> None:
    """``unmask check``'s scan of an open acquisition (no attachment screening), and what its
    output is made of: coverage without parser bugs, records every writer takes, findings as JSON."""
    from tests.builders.fuzz import assert_writable
    from tests.fuzz.parser_targets import check_coverage
    from tests.fuzz.targets import BUDGET, note
    from unmask import api

    result = api.scan_acquisition(acq, command="fuzz", indicators=_indicators(), screen=False, budget=BUDGET)
    for coverage in result.coverage:
        check_coverage([], coverage, absent=True)
    for records in result.records.values():
        assert_writable(records)
    json.dumps([f.to_json() for f in result.findings], default=str)
    json.dumps(result.metadata, default=str)
    parsed = sum(c.status.value in ("parsed", "partial") for c in result.coverage)
    note(f"scanned:{min(parsed, 12)}:findings:{min(len(result.findings), 5)}:skipped:{min(len(result.refused), 3)}")


def _acquisition_run(kind: str, file_name: Callable[[], str]) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from tests.fuzz.targets import note
        from unmask.acquisition.options import OpenOptions
        from unmask.acquisition.registry import open_acquisition

        box = _box(f"acquisition.{kind}")
        for name in _listing(box):
            if name != "tmp":
                (box / name).unlink()
        evidence = box / file_name()
        evidence.write_bytes(data)
        with sealed(box, evidence):
            try:
                acq = open_acquisition(evidence, kind=kind, options=OpenOptions(temp_mb=256))
            except (AcquisitionError, ArtefactError) as exc:
                return _refused(exc)
            try:
                note(f"opened:{min(len(acq.sections()), 20)}")
                scan(acq)
            finally:
                acq.close()
        return None

    return run


def acquisition_targets() -> list[Any]:
    """One target per kind of acquisition that arrives as one file."""
    from tests.fuzz.targets import Target

    def seeds(*names: str) -> Callable[[], list[bytes]]:
        return lambda: [_built()[n] for n in names]

    def sysdiagnose_name() -> str:
        return _built()["sysdiagnose.name"].decode()

    return [
        Target("acquisition.ios-sysdiagnose", "archive", seeds("sysdiagnose"),
               _acquisition_run("ios-sysdiagnose", sysdiagnose_name)),
        Target("acquisition.androidqf", "archive", seeds("androidqf"),
               _acquisition_run("androidqf", lambda: "4c1a9d8e-2b7f-4f3e-9a51-0d6f2c8b7e10.zip")),
        Target("acquisition.bugreport", "archive", seeds("bugreport"),
               _acquisition_run("bugreport", lambda: "bugreport-panther-AP1A.240405.002-2024-05-02-10-00-00.zip")),
        Target("acquisition.android-backup", "archive", seeds("android-backup"),
               _acquisition_run("android-backup", lambda: "backup.ab")),
        Target("acquisition.android-intrusion-logs", "archive", seeds("intrusion"),
               _acquisition_run("android-intrusion-logs", lambda: "intrusion_logs.zip")),
        # The name only says tar or zip: the archive layer tells the form from content.
        Target("acquisition.ios-fs", "archive", seeds("ios-fs.tar", "ios-fs.zip"),
               _acquisition_run("ios-fs", lambda: "dump.tar")),
    ]


def _listing_parser_run(parser: Any) -> Callable[[bytes], None]:
    from tests.fuzz.parser_targets import note_run
    from tests.fuzz.targets import BUDGET
    from unmask.acquisition.options import OpenOptions
    from unmask.acquisition.registry import open_acquisition
    from unmask.parsers.base import run_parser
    from unmask.parsers.registry import qualified

    def run(data: bytes) -> None:
        box = _box(f"parser.{qualified(parser)}")
        for name in _listing(box):
            if name != "tmp":
                (box / name).unlink()
        evidence = box / "dump.tar"
        evidence.write_bytes(data)
        with sealed(box, evidence):
            try:
                acq = open_acquisition(evidence, kind="ios-fs", options=OpenOptions(temp_mb=256))
            except (AcquisitionError, ArtefactError) as exc:
                return _refused(exc)
            try:
                records, coverage = run_parser(parser(), acq, BUDGET)
            finally:
                acq.close()
        note_run(records, coverage)
        return None

    return run


def listing_parser_targets() -> list[Any]:
    """A target per registered parser that reads only the acquisition's listing (no file): the
    dump archive mutated, opened as a dump, that parser run on it."""
    from tests.fuzz.targets import ParserTarget
    from unmask.parsers.base import Where
    from unmask.parsers.registry import qualified, registry

    out: list[Any] = []
    for parser in registry():
        if parser.platform == "ios" and parser.sources and all(s.where is Where.LISTING for s in parser.sources):
            out.append(ParserTarget(f"parser.{qualified(parser)}", "archive",
                                    lambda: [_built()["ios-fs.tar"], _built()["ios-fs.zip"]],
                                    _listing_parser_run(parser), parser=parser))
    return out


def archive_targets() -> list[Any]:
    """The archive layer's targets and the acquisitions'."""
    from tests.fuzz.targets import Target

    return [
        Target("archive.reader", "archive", archive_seeds, run_archive_reader),
        Target("archive.tree", "archive", archive_seeds, run_tree),
        *acquisition_targets(),
        *listing_parser_targets(),
    ]


def _outcome(exc: BaseException) -> str:
    from tests.fuzz.targets import VARIABLE

    return f"refused:{type(exc).__name__}:{VARIABLE.sub('#', str(exc))[:60]}"


def _refused(exc: BaseException) -> None:
    from tests.fuzz.targets import note

    note(_outcome(exc))
