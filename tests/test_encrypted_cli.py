"""Encrypted backups from the command line: same results as plain, secrets kept out of every
output, plaintext only in the private temporary folder (gone after the run, also after a crash
or a signal), backup-key, decrypt-backup."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import plistlib
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.builders.encrypted_backup import Encrypted, encrypt_backup
from tests.builders.sample import Sample, build_sample
from tests.hostile.harness import REPO, run

PASSWORD = "Tr0ub4dor&3 is the backup password"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Sample, Encrypted]:
    """The sample backup, plain and encrypted (same content)."""
    base = tmp_path_factory.mktemp("pair")
    sample = build_sample(base / "plain")
    return sample, encrypt_backup(sample.root, base / "enc", password=PASSWORD)


def _env(**extra: str) -> dict[str, str]:
    return {"UNMASK_BACKUP_PASSWORD": PASSWORD, **extra}


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _secrets(enc: Encrypted) -> list[bytes]:
    key = enc.passcode_key
    return [PASSWORD.encode(), key.hex().encode(), key.hex().upper().encode(), repr(key).encode()[2:-1], key]


def _assert_no_secret(enc: Encrypted, *texts: str | bytes, folder: Path | None = None) -> None:
    blobs = [t.encode() if isinstance(t, str) else t for t in texts]
    if folder is not None:
        blobs += [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    for blob in blobs:
        for secret in _secrets(enc):
            assert secret not in blob


def test_wrong_password_is_one_line_exit_two_and_writes_nothing(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    _, enc = pair
    out = tmp_path / "results"
    before = _tree(enc.root)
    for env in (
        _env(UNMASK_BACKUP_PASSWORD="not it"),
        _env(UNMASK_BACKUP_PASSWORD="not it", UNMASK_DEBUG="1"),
    ):
        outcome = run(["check", str(enc.root), "--output", str(out)], tmp=tmp_path, env=env)
        assert outcome.rc == 2, outcome.output
        lines = outcome.output.strip().splitlines()
        assert len(lines) == 1 and "does not open" in lines[0], outcome.output
        assert "Traceback" not in outcome.output and "not it" not in outcome.output
        assert not out.exists()  # no output folder, not even an empty one
        assert "[harness] left in TMPDIR" not in outcome.output
    pw = tmp_path / "pw"
    pw.write_text("not it either\n")
    outcome = run(["check-backup", str(enc.root), "-o", str(out), "--password-file", str(pw)], tmp=tmp_path)
    assert outcome.rc == 2 and len(outcome.output.strip().splitlines()) == 1 and not out.exists()
    assert _tree(enc.root) == before


def test_encrypted_and_plain_give_identical_alerts_and_records(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    sample, enc = pair
    plain_out, enc_out = tmp_path / "plain", tmp_path / "enc"
    assert run(["check", str(sample.root), "-o", str(plain_out)], tmp=tmp_path).rc == 1
    outcome = run(["check", str(enc.root), "-o", str(enc_out)], tmp=tmp_path, env=_env(UNMASK_DEBUG="1"))
    assert outcome.rc == 1, outcome.output
    assert "[harness] left in TMPDIR" not in outcome.output
    same = sorted(
        p.name
        for p in plain_out.iterdir()
        if p.suffix in (".json", ".csv") and p.name not in ("info.json", "screened_files.json")
    )
    assert {"alerts.json", "sms.json", "manifest.json", "timeline.csv"} <= set(same)
    for name in same:
        assert (enc_out / name).read_bytes() == (plain_out / name).read_bytes(), name
    alerts = json.loads((enc_out / "alerts.json").read_text())
    assert {a["indicator"]["collection"] for a in alerts if a["indicator"]} >= {"Pegasus", "Predator"}
    info = json.loads((enc_out / "info.json").read_text())
    plain_info = json.loads((plain_out / "info.json").read_text())
    meta = info["evidence"]["metadata"]
    assert meta["encrypted"] is True and meta["decryption"]["files_not_decrypted"] == []
    assert plain_info["evidence"]["metadata"]["encrypted"] is False
    # Artefact hashes are of the plaintext: the same as the plain backup's (the encrypted scan also
    # lists the attachments it decrypted to screen them).
    assert plain_info["evidence"]["artefacts_read"].items() <= info["evidence"]["artefacts_read"].items()
    assert (
        info["evidence"]["hashes"]["Manifest.db"]
        == hashlib.sha256((enc.root / "Manifest.db").read_bytes()).hexdigest()
    )
    _assert_no_secret(enc, outcome.stdout, outcome.stderr, folder=enc_out)


def test_secrets_never_appear_in_a_traceback(pair: tuple[Sample, Encrypted], tmp_path: Path) -> None:
    """An internal error after the keybag is unlocked, with UNMASK_DEBUG=1 (full traceback)."""
    _, enc = pair
    proc = _driver(
        ["check", str(enc.root), "-o", str(tmp_path / "out")],
        tmp_path,
        "internal-error",
        _env(UNMASK_DEBUG="1"),
    )
    proc.wait(120)
    err = proc.stderr.read()  # type: ignore[union-attr]
    assert proc.returncode == 1 and b"Traceback" in err and b"planted internal error" in err
    _assert_no_secret(enc, err, proc.stdout.read())  # type: ignore[union-attr]
    assert list((tmp_path / "tmpdir").iterdir()) == []


# --- where plaintext goes -------------------------------------------------------------------------

_DRIVER = r"""
import os, sys, time
from pathlib import Path
from unmask.parsers.ios import sms
mode = os.environ["UNMASK_TEST_MODE"]
if mode == "internal-error":
    from unmask import api
    def boom(*args, **kwargs):
        raise RuntimeError("planted internal error")
    api.finalise = boom
elif mode in ("crash", "slow"):
    def rows(self, ctx, db):
        if mode == "crash":
            raise RuntimeError("planted parser crash")
        Path(os.environ["UNMASK_TEST_MARKER"]).write_text("parsing")
        time.sleep(120)
        yield from ()
    sms.SmsParser.rows = rows
from unmask.cli import main
sys.argv = ["unmask", *sys.argv[1:]]
main()
"""


def _driver(args: list[str], tmp_path: Path, mode: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    temp = tmp_path / "tmpdir"
    temp.mkdir(exist_ok=True)
    child = {k: v for k, v in os.environ.items() if not k.startswith("UNMASK_")}
    child.update(
        {
            "TMPDIR": str(temp),
            "UNMASK_CACHE_DIR": str(tmp_path / "cache"),
            "UNMASK_TEST_MODE": mode,
            "UNMASK_TEST_MARKER": str(tmp_path / "marker"),
            "UNMASK_DATA_DIR": str(tmp_path / "data"),
            **env,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-c", _DRIVER, *args],
        cwd=REPO,
        env=child,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class _Watch:
    """Lists TMPDIR every few milliseconds while a run goes on: every path seen, with its mode."""

    def __init__(self, temp: Path) -> None:
        self.temp = temp
        self.seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for dirpath, dirs, files in os.walk(self.temp):
                for name in dirs + files:
                    path = os.path.join(dirpath, name)
                    with contextlib.suppress(OSError):
                        self.seen.setdefault(os.path.relpath(path, self.temp), os.lstat(path).st_mode)
            self._stop.wait(0.005)

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        return self.seen


def _only_private(seen: dict[str, int]) -> None:
    """Everything written under TMPDIR was inside a private 0700 unmask folder, files 0600; the
    multiprocessing folders (pymp-*) hold sockets only."""
    evidence = [p for p in seen if "/" not in p and p.startswith("unmask-evidence-")]
    assert evidence, seen
    for path, mode in seen.items():
        top = path.split("/", 1)[0]
        if top.startswith("unmask-evidence-"):
            if "/" not in path:
                assert stat.S_IMODE(mode) == 0o700
            elif stat.S_ISREG(mode) and path.count("/") == 1:
                assert stat.S_IMODE(mode) & 0o077 == 0, (path, oct(mode))
        else:
            assert top.startswith("pymp-") and not stat.S_ISREG(mode), path


def test_plaintext_touches_disk_only_in_the_private_folder_gone_after_the_scan(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    _, enc = pair
    before = _tree(enc.root)
    out = tmp_path / "out"
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    watch = _Watch(temp)
    proc = _driver(["check", str(enc.root), "-o", str(out)], tmp_path, "unpatched", _env())
    proc.wait(120)
    seen = watch.stop()
    _only_private(seen)
    assert any(p.endswith("/Manifest.db") for p in seen)  # the decrypted Manifest.db was there
    assert list(temp.iterdir()) == []
    assert _tree(enc.root) == before  # nothing written into the evidence
    for path in out.rglob("*"):  # the results hold records, never a decrypted file
        assert not path.read_bytes().startswith(b"SQLite format 3")


def test_a_parser_crash_fails_its_coverage_and_the_private_folder_still_goes(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    _, enc = pair
    out = tmp_path / "out"
    proc = _driver(["check", str(enc.root), "-o", str(out)], tmp_path, "crash", _env())
    proc.wait(120)
    assert proc.returncode == 1, proc.stderr.read()  # type: ignore[union-attr]
    info = json.loads((out / "info.json").read_text())
    sms = next(c for c in info["coverage"] if c["parser"] == "sms")
    assert sms["status"] == "failed" and "planted parser crash" in sms["reason"]
    assert list((tmp_path / "tmpdir").iterdir()) == []


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_mid_scan_removes_the_private_folder(
    pair: tuple[Sample, Encrypted], tmp_path: Path, signum: int, code: int, word: str
) -> None:
    """SIGTERM and Ctrl-C unwind through the normal error path. SIGKILL cannot be caught: the
    private folder then stays in TMPDIR (docs/encrypted-backups.md says so)."""
    _, enc = pair
    proc = _driver(["check", str(enc.root), "-o", str(tmp_path / "out")], tmp_path, "slow", _env())
    marker = tmp_path / "marker"
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    temp = tmp_path / "tmpdir"
    folders = [p for p in temp.iterdir() if p.name.startswith("unmask-evidence-")]
    assert folders and (folders[0] / "Manifest.db").is_file()  # mid-scan, plaintext in the private folder
    proc.send_signal(signum)
    proc.wait(60)
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert proc.returncode == code and word in err and "Traceback" not in err
    assert [p for p in temp.iterdir() if p.name.startswith("unmask-evidence-")] == []


# --- backup-key and decrypt-backup ----------------------------------------------------------------


def test_backup_key_saves_a_private_key_file_that_skips_the_password(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    sample, enc = pair
    key = tmp_path / "backup.key"
    bad = run(
        ["backup-key", str(enc.root), "--out", str(key)], tmp=tmp_path, env=_env(UNMASK_BACKUP_PASSWORD="x")
    )
    assert bad.rc == 2 and len(bad.output.strip().splitlines()) == 1 and not key.exists()
    made = run(["backup-key", str(enc.root), "--out", str(key)], tmp=tmp_path, env=_env())
    assert made.rc == 0, made.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_text() == enc.passcode_key.hex()
    _assert_no_secret(enc, made.stdout, made.stderr)
    again = run(["backup-key", str(enc.root), "--out", str(key)], tmp=tmp_path, env=_env())
    assert again.rc == 2 and "exists" in again.output
    out = tmp_path / "out"
    scan = run(
        ["check", str(enc.root), "--key-file", str(key), "-o", str(out)], tmp=tmp_path
    )  # no password anywhere
    assert scan.rc == 1, scan.output
    assert (
        json.loads((out / "info.json").read_text())["evidence"]["metadata"]["decryption"]["key_from"]
        == "key file"
    )
    plain = run(["backup-key", str(sample.root), "--out", str(tmp_path / "k2")], tmp=tmp_path, env=_env())
    assert plain.rc == 2 and "not encrypted" in plain.output


def test_decrypt_backup_writes_a_copy_plain_readers_and_unmask_read_alike(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    sample, enc = pair
    dest = tmp_path / "decrypted"
    done = run(["decrypt-backup", str(enc.root), str(dest)], tmp=tmp_path, env=_env())
    assert done.rc == 0, done.output
    assert "[harness] left in TMPDIR" not in done.output
    # What a plain-backup reader does: open Manifest.db with SQLite, read files by ID.
    with sqlite3.connect(dest / "Manifest.db") as conn:
        rows = conn.execute("SELECT fileID FROM Files WHERE flags = 1").fetchall()
    assert rows
    for (fid,) in rows:
        original = sample.root / fid[:2] / fid
        assert (dest / fid[:2] / fid).read_bytes() == original.read_bytes()
        assert stat.S_IMODE((dest / fid[:2] / fid).stat().st_mode) == 0o600
    for name in ("Info.plist", "Manifest.plist", "Status.plist"):  # unchanged, as MVT's copies
        assert (dest / name).read_bytes() == (enc.root / name).read_bytes()
    assert plistlib.loads((dest / "Manifest.plist").read_bytes())["IsEncrypted"] is True
    # Re-scanned by unmask (as plain, no password needed): the same alerts as the encrypted scan.
    a, b = tmp_path / "from-copy", tmp_path / "from-encrypted"
    assert run(["check", str(dest), "-o", str(a)], tmp=tmp_path).rc == 1
    assert run(["check", str(enc.root), "-o", str(b)], tmp=tmp_path, env=_env()).rc == 1
    assert (a / "alerts.json").read_bytes() == (b / "alerts.json").read_bytes()
    assert json.loads((a / "info.json").read_text())["evidence"]["metadata"]["encrypted"] is False


def test_decrypt_backup_refuses_a_destination_inside_the_source_or_not_empty_and_a_wrong_password(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    _, enc = pair
    inside = run(["decrypt-backup", str(enc.root), str(enc.root / "copy")], tmp=tmp_path, env=_env())
    assert inside.rc == 2 and "inside the backup" in inside.output and not (enc.root / "copy").exists()
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert run(["decrypt-backup", str(enc.root), str(full)], tmp=tmp_path, env=_env()).rc == 2
    wrong = run(
        ["decrypt-backup", str(enc.root), str(tmp_path / "new")],
        tmp=tmp_path,
        env=_env(UNMASK_BACKUP_PASSWORD="no"),
    )
    assert wrong.rc == 2 and len(wrong.output.strip().splitlines()) == 1 and not (tmp_path / "new").exists()


def test_decrypt_backup_reads_what_it_can_and_reports_the_rest(
    pair: tuple[Sample, Encrypted], tmp_path: Path
) -> None:
    sample, _ = pair
    enc = encrypt_backup(
        sample.root,
        tmp_path / "enc",
        password=PASSWORD,
        foreign_classes=(2,),
        class_of=lambda d, r: 2 if r == "Library/SMS/sms.db" else None,
        sizes={("HomeDomain", "Library/Preferences/.GlobalPreferences.plist"): 7},
    )
    dest = tmp_path / "copy"
    done = run(["decrypt-backup", str(enc.root), str(dest)], tmp=tmp_path, env=_env())
    assert done.rc == 0, done.output
    assert "1 could not be decrypted" in done.output and "sms.db" in done.output
    assert "recorded 7" in done.output
