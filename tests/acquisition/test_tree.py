"""Trees of evidence: a folder, a tar (plain and compressed) and a zip read the same way, safely."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import resource
import stat
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from unmask.acquisition.tree import Mapping, TreeAcquisition
from unmask.errors import ArtefactError

FILES = {
    "private/var/mobile/Library/SMS/sms.db": b"sqlite bytes",
    "private/var/mobile/Library/Preferences/a.plist": b"plist a",
    "private/var/mobile/Library/Preferences/b.plist": b"plist b",
    "private/var/db/x.txt": b"x" * 100_000,
    "System/Library/CoreServices/SystemVersion.plist": b"version",
}
LINKS = {"var": "private/var", "private/var/mobile/Library/Prefs": "Preferences"}


class Dump(TreeAcquisition):
    """A test tree whose root is the device root (no kind: it must not join the registry)."""

    platform = "ios"


def _folder(root: Path) -> Path:
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    for name, target in LINKS.items():
        os.symlink(target, root / name)
    return root


def _tar_bytes(extra: Callable[[tarfile.TarFile], None] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1709294400
            tar.addfile(info, io.BytesIO(data))
        for name, target in LINKS.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        if extra:
            extra(tar)
    return buffer.getvalue()


COMPRESS = {
    "tar": lambda b: b,
    "tar.gz": lambda b: gzip.compress(b[: len(b) // 2]) + gzip.compress(b[len(b) // 2 :]),  # two members
    "tar.bz2": bz2.compress,
    "tar.xz": lzma.compress,
    "tar.zst": lambda b: zstandard.ZstdCompressor().compress(b),
}


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in FILES.items():
            zf.writestr(name, data)
        for name, target in LINKS.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def _forms(tmp_path: Path) -> dict[str, Path]:
    forms = {"folder": _folder(tmp_path / "folder")}
    tar = _tar_bytes()
    for kind, compress in COMPRESS.items():
        forms[kind] = tmp_path / f"dump.{kind}"
        forms[kind].write_bytes(compress(tar))
    forms["zip"] = _zip(tmp_path / "dump.zip")
    return forms


def test_every_form_gives_the_same_tree(tmp_path: Path) -> None:
    seen = {}
    for form, path in _forms(tmp_path).items():
        with Dump(path) as acq:
            listing = sorted((e.device_path, e.kind, e.size) for batch in acq.listing() for e in batch)
            contents = {name: acq.read_bytes("/" + name) for name in FILES}
            assert contents == FILES, form
            # links are followed inside the tree: /var → /private/var, a linked folder of prefs
            assert acq.read_bytes("/var/mobile/Library/SMS/sms.db") == b"sqlite bytes", form
            assert acq.read_bytes("/private/var/mobile/Library/Prefs/a.plist") == b"plist a", form
            assert acq.glob("/private/var/mobile/Library/Preferences/*.plist") == [
                "/private/var/mobile/Library/Preferences/a.plist", "/private/var/mobile/Library/Preferences/b.plist"
            ], form
            assert acq.glob("/private/var/**/sms.db") == ["/private/var/mobile/Library/SMS/sms.db"], form
            assert acq.sha256("/private/var/db/x.txt") == __import__("hashlib").sha256(b"x" * 100_000).hexdigest()
            local = acq.materialize("/private/var/mobile/Library/SMS/sms.db")
            assert local.read_bytes() == b"sqlite bytes"
            if form != "folder":
                assert local.is_relative_to(acq.workdir) and oct(local.stat().st_mode & 0o777) == "0o600"
            seen[form] = [(p, k, s if k == "file" else None) for p, k, s in listing if k != "dir"]
            workdir = acq.workdir
        assert not workdir.exists()  # the private folder is gone with the acquisition
    reference = seen.pop("folder")
    for form, listing in seen.items():
        assert listing == reference, form


def _unsafe_tar(tar: tarfile.TarFile) -> None:
    def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> None:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size = kind, link, len(data)
        tar.addfile(info, io.BytesIO(data) if data else None)

    add("/etc/absolute", data=b"abs")
    add("private/../../escape", data=b"dots")
    add("private/var/evil-link", tarfile.SYMTYPE, link="../../../../etc/passwd")
    add("private/var/evil-hardlink", tarfile.LNKTYPE, link="../../etc/shadow")
    add("private/var/dev", tarfile.CHRTYPE)
    add("private/var/fifo", tarfile.FIFOTYPE)
    add("private/var/twice", data=b"one")
    add("private/var/twice", data=b"two")


@pytest.mark.parametrize("kind", ["tar", "tar.gz"])
def test_unsafe_members_are_refused_and_reported(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"evil.{kind}"
    path.write_bytes(COMPRESS[kind](_tar_bytes(_unsafe_tar)))
    with Dump(path) as acq:
        refused = acq.refused
        assert any("absolute name" in why for why in refused.values())
        assert any("climbs out" in why for why in refused.values())
        assert any("device file" in why for why in refused.values())
        assert refused["private/var/twice"].startswith("two or more members")
        for device in ("/private/var/twice", "/private/var/dev", "/private/var/fifo"):
            assert not acq.exists(device)
            with pytest.raises((FileNotFoundError, ArtefactError)):
                acq.read_bytes(device)
        # a link climbing out of the tree is never followed, anywhere
        assert acq.entry("/private/var/evil-link") is None or not acq.exists("/private/var/evil-link")
        assert not acq.exists("/private/var/evil-hardlink")
        assert "/private/var/evil-link" in acq.refused
        # the safe members are still served
        assert acq.read_bytes("/private/var/mobile/Library/SMS/sms.db") == b"sqlite bytes"
    assert not (tmp_path / "etc").exists() and not Path("/etc/absolute").exists()


def _mark_encrypted(path: Path, name: str) -> None:
    """Set the 'encrypted' flag of one member in its local header and central directory entry
    (zipfile writes no encrypted members)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo(name).header_offset
    data[offset + 6] |= 0x1
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + name_len] == name.encode():
            data[central + 8] |= 0x1
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_zip_bombs_encryption_and_odd_methods_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("private/var/mobile/bomb.bin", "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(2048):  # 2 GiB of zeros, about 2 MB compressed
                member.write(chunk)
        zf.writestr("private/var/mobile/ok.txt", b"fine")
        zf.writestr("private/var/mobile/locked.txt", b"pretend-encrypted")
    _mark_encrypted(path, "private/var/mobile/locked.txt")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with Dump(path) as acq:
        assert "decompression bomb" in acq.refused["private/var/mobile/bomb.bin"]
        assert "encrypted" in acq.refused["private/var/mobile/locked.txt"]
        assert not acq.exists("/private/var/mobile/bomb.bin")
        assert acq.read_bytes("/private/var/mobile/ok.txt") == b"fine"
    assert time.perf_counter() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_a_large_compressed_tar_is_read_in_bounded_memory(tmp_path: Path) -> None:
    # 128 MiB of members, compressed: listing and reading members out of order must not hold it.
    path = tmp_path / "big.tar.gz"
    block = os.urandom(1 << 16) * 16  # 1 MiB that gzip cannot shrink to nothing
    with gzip.open(path, "wb", compresslevel=1) as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        for i in range(128):
            info = tarfile.TarInfo(f"private/var/mobile/f{i:03d}.bin")
            info.size = len(block)
            tar.addfile(info, io.BytesIO(block))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Dump(path) as acq:
        assert sum(len(b) for b in acq.listing()) >= 128
        for i in (100, 3, 127, 64):
            with acq.open(f"/private/var/mobile/f{i:03d}.bin") as handle:
                assert handle.read(16) == block[:16]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 120, grown_mb


def test_a_truncated_archive_lists_what_it_can_and_says_so(tmp_path: Path) -> None:
    data = gzip.compress(_tar_bytes())
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    with Dump(path) as acq:
        assert "(the archive)" in acq.refused
        listed = [e.device_path for batch in acq.listing() for e in batch]
        assert "/private/var/mobile/Library/SMS/sms.db" in listed


def test_a_folder_tree_never_follows_host_links_or_opens_fifos(tmp_path: Path) -> None:
    root = _folder(tmp_path / "dump")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"host file")
    os.symlink(secret, root / "private/var/mobile/outside")
    os.mkfifo(root / "private/var/mobile/pipe")
    with Dump(root) as acq:
        assert not acq.exists("/private/var/mobile/outside")  # /…/secret.txt is not in the tree
        assert not acq.exists("/private/var/mobile/pipe")
        assert "FIFO" in acq.refused["private/var/mobile/pipe"]
        with pytest.raises((FileNotFoundError, ArtefactError)):
            acq.read_bytes("/private/var/mobile/pipe")


def test_mappings_place_a_subtree_at_a_device_path(tmp_path: Path) -> None:
    class Wrapped(TreeAcquisition):
        platform = "ios"

        def mappings(self) -> list[Mapping]:
            return [Mapping("/private/var/mobile/Library/Logs/CrashReporter", "crashes_and_spins"),
                    Mapping("/private/var", "wrapper/var")]

    root = tmp_path / "w"
    (root / "crashes_and_spins").mkdir(parents=True)
    (root / "crashes_and_spins" / "a.ips").write_bytes(b"crash")
    (root / "wrapper" / "var" / "db").mkdir(parents=True)
    (root / "wrapper" / "var" / "db" / "x").write_bytes(b"x")
    with Wrapped(root) as acq:
        assert acq.read_bytes("/private/var/mobile/Library/Logs/CrashReporter/a.ips") == b"crash"
        assert acq.read_bytes("/private/var/db/x") == b"x"
        assert acq.glob("/private/var/mobile/Library/Logs/CrashReporter/*.ips") == [
            "/private/var/mobile/Library/Logs/CrashReporter/a.ips"
        ]
        assert acq.glob("/private/var/**/x") == ["/private/var/db/x"]
        assert {e.device_path for b in acq.listing() for e in b} >= {
            "/private/var/mobile/Library/Logs/CrashReporter/a.ips", "/private/var/db/x"
        }


def test_an_archive_inside_an_archive_opens_as_a_nested_acquisition(tmp_path: Path) -> None:
    inner = _zip(tmp_path / "inner.zip")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "nested/inner.zip")
    with Dump(outer) as acq:
        nested = acq.open_nested("/nested/inner.zip")  # recognised by content: a full-filesystem dump
        assert nested.kind == "ios-fs" and nested in acq.children
        assert nested.read_bytes("/private/var/mobile/Library/SMS/sms.db") == b"sqlite bytes"
        child_path = acq.materialize("/nested/inner.zip")
        with Dump(child_path) as child:
            assert child.read_bytes("/private/var/mobile/Library/SMS/sms.db") == b"sqlite bytes"
        workdir = acq.workdir
    assert not workdir.exists()
