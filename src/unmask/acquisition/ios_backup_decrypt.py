"""Encrypted iOS backups outside a scan: save the backup key, write a decrypted copy.

:func:`backup_key` derives (PBKDF2, seconds) and checks the passcode key that ``unmask backup-key``
saves, so later runs skip the derivation. :func:`decrypt_backup` writes a decrypted copy in the
layout MVT's ``decrypt-backup`` writes and plain-backup readers expect (MVT 2026.10.26,
``mvt/ios/decrypt.py``, read for its behaviour only): a plain ``Manifest.db``, every stored file
decrypted under ``<fileID[:2]>/<fileID>``, and the backup's own ``*.plist`` files copied unchanged.
So ``Manifest.plist`` keeps its keybag and ``IsEncrypted: true``, as in MVT's copies: readers that
decide by content (MVT, unmask) read the copy as plain, and the files' own hashes stay those of
the evidence.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from unmask.acquisition.base import is_regular_file
from unmask.acquisition.ios_backup import (
    EncryptedIOSBackup,
    IOSBackup,
    load_keybag,
    needs_keys,
    passcode_key,
    unlock_keybag,
)
from unmask.acquisition.options import OpenOptions
from unmask.errors import AcquisitionError, ArtefactError, UsageError
from unmask.formats import plist

_CHUNK = 1 << 20


def _encrypted_root(path: Path) -> Path:
    if not path.exists():
        raise AcquisitionError(f"{path} does not exist")
    root = IOSBackup.detect(path) or path
    if not (root / "Manifest.db").is_file():
        raise AcquisitionError(f"{path} is not an iOS backup (no Manifest.db)")
    if not needs_keys(root):
        raise UsageError(f"{root} is not encrypted (its Manifest.db is plain SQLite): nothing to decrypt")
    return root


def backup_key(path: Path, options: OpenOptions) -> bytes:
    """The passcode key of the encrypted backup at ``path``, derived from ``options.password()``
    and checked against the keybag (:class:`~unmask.errors.WrongPasswordError` if it opens
    nothing). Save it with :func:`unmask.formats.backup_crypto.write_key_file`."""
    root = _encrypted_root(path)
    manifest_plist = root / "Manifest.plist"
    if not is_regular_file(manifest_plist):
        raise AcquisitionError(f"{root}: no Manifest.plist, so no keybag")
    try:
        manifest = plist.load_dict(manifest_plist.read_bytes())
    except ArtefactError as exc:
        raise AcquisitionError(f"{manifest_plist}: {exc}") from None
    keybag = load_keybag(root, manifest)
    key, source = passcode_key(root, keybag, options)
    unlock_keybag(root, keybag, key, source)
    return key


@dataclass
class DecryptReport:
    """What :func:`decrypt_backup` wrote."""

    source: Path
    dest: Path
    files: int = 0
    bytes: int = 0
    not_stored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(device path, reason) of each stored file that could not be decrypted (not written)."""
    size_disagreements: list[tuple[str, int, int]] = field(default_factory=list)
    """(device path, size recorded in Manifest.db, size decrypted): written whole."""


def _refuse_dest(dest: Path, root: Path) -> None:
    real_dest, real_root = dest.resolve(), root.resolve()
    if real_dest == real_root or real_dest.is_relative_to(real_root):
        raise UsageError(f"{dest} is inside the backup {root}; choose a folder outside it")
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise UsageError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise UsageError(f"{dest} is not empty; give a new or empty folder")


def decrypt_backup(
    src: Path,
    dest: Path,
    options: OpenOptions,
    progress: Callable[[str, int, int], None] | None = None,
) -> DecryptReport:
    """Write a decrypted copy of the encrypted backup ``src`` into ``dest`` (new or empty, not
    inside ``src``). Files are written whole, whatever size Manifest.db records; files that cannot
    be decrypted are left out and reported. Folders are made 0700 and files 0600: the copy holds
    what the encryption protected. Nothing is left in ``dest`` when it fails or is interrupted.
    """
    root = _encrypted_root(src)
    _refuse_dest(dest, root)
    acq = EncryptedIOSBackup(root, options)  # the password is checked before anything is written
    created = not dest.exists()
    report = DecryptReport(root, dest)
    try:
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy_private(acq.manifest_db_path, dest / "Manifest.db")
        total = acq.count_files()
        done = 0
        buckets: set[str] = set()
        for entry in acq.entries():
            if entry.kind != "file":
                continue
            done += 1
            if progress is not None and not done % 256:
                progress("decrypting", done, total)
            if not entry.stored:
                report.not_stored += 1
                continue
            fid = entry.locator
            if fid[:2] not in buckets:
                (dest / fid[:2]).mkdir(mode=0o700, exist_ok=True)
                buckets.add(fid[:2])
            target = dest / fid[:2] / fid
            try:
                with acq.open_entry(entry) as source:
                    written = _write_private(source, target)
            except ArtefactError as exc:
                target.unlink(missing_ok=True)
                report.failed.append((entry.device_path, str(exc)))
                continue
            report.files += 1
            report.bytes += written
            size = acq.size_disagreement(entry.device_path)
            if size is not None:
                report.size_disagreements.append((entry.device_path, *size))
        for own in sorted(root.iterdir()):
            if own.name.endswith(".plist") and is_regular_file(own):
                shutil.copyfile(own, dest / own.name)
        if progress is not None:
            progress("decrypting", total, total)
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for child in dest.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise
    finally:
        acq.close()
    return report


def _write_private(source: object, target: Path) -> int:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written = 0
    with os.fdopen(fd, "wb") as sink:
        while chunk := source.read(_CHUNK):  # type: ignore[attr-defined]
            sink.write(chunk)
            written += len(chunk)
    return written


def _copy_private(source: Path, target: Path) -> None:
    with source.open("rb") as handle:
        _write_private(handle, target)
