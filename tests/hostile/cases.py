"""Hostile evidence, built in code: each case damages a sample backup the way an adversary could.

A case is a function that takes the root of a freshly built sample backup (traces planted from
the public sets, :func:`tests.builders.sample.build_sample`) and a scratch folder, and shapes one
artefact. The tests (:mod:`tests.hostile.test_hostile_evidence`) and ``bench/hostile.py`` run the
same cases.
"""

from __future__ import annotations

import os
import plistlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.builders.ios_backup import file_id, mbfile_blob
from tests.builders.schema import create_db
from tests.hostile.harness import stored

HOME = "HomeDomain"
SMS = (HOME, "Library/SMS/sms.db")
GLOBAL_PREFS = (HOME, "Library/Preferences/.GlobalPreferences.plist")

Case = Callable[[Path, Path], None]


def shared_bomb(levels: int = 40) -> bytes:
    """A binary plist of a few hundred bytes whose value unfolds into 2^levels values: each array
    holds the next one twice (binary plists refer to objects by number)."""
    value: list[object] = []
    for _ in range(levels):
        value = [value, value]
    return plistlib.dumps({"AppleLocale": "en_US", "AppleLanguages": value}, fmt=plistlib.FMT_BINARY)


def self_containing() -> bytes:
    """A binary plist whose array contains itself."""
    loop: list[object] = []
    loop.append(loop)
    return plistlib.dumps({"Device Name": loop, "Product Version": "17.4.1"}, fmt=plistlib.FMT_BINARY)


def deep_xml(depth: int = 200_000) -> bytes:
    """An XML plist nesting arrays ``depth`` levels deep."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Device Name</key>'
        + b"<array>" * depth + b"</array>" * depth + b"</dict></plist>"
    )


def prefs_bomb(root: Path, scratch: Path) -> None:
    """.GlobalPreferences.plist: 474-byte-class shared-reference bomb."""
    stored(root, *GLOBAL_PREFS).write_bytes(shared_bomb())


def info_bomb(root: Path, scratch: Path) -> None:
    """Info.plist: the same bomb in the backup's own file."""
    info = plistlib.loads((root / "Info.plist").read_bytes())
    value: list[object] = []
    for _ in range(40):
        value = [value, value]
    info["Installed Applications"] = value
    (root / "Info.plist").write_bytes(plistlib.dumps(info, fmt=plistlib.FMT_BINARY))


def info_self(root: Path, scratch: Path) -> None:
    """Info.plist: a value that contains itself."""
    (root / "Info.plist").write_bytes(self_containing())


def info_deep(root: Path, scratch: Path) -> None:
    """Info.plist: 200,000 nested arrays."""
    (root / "Info.plist").write_bytes(deep_xml())


def sms_endless_view(root: Path, scratch: Path) -> None:
    """sms.db whose message table is a view over an endless recursive query."""
    target = stored(root, *SMS)
    work = scratch / "sms-view.db"
    work.write_bytes(target.read_bytes())
    conn = sqlite3.connect(work)
    conn.executescript(
        """
        ALTER TABLE message RENAME TO message_rows;
        CREATE VIEW message AS
          WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever)
          SELECT m.* FROM forever, message_rows AS m;
        """
    )
    conn.commit()
    conn.close()
    target.write_bytes(work.read_bytes())


def bucket_link(root: Path, scratch: Path) -> None:
    """The two-letter bucket folder holding sms.db is a link to a folder outside the backup."""
    target = stored(root, *SMS)
    outside = scratch / "outside-bucket"
    outside.mkdir()
    (outside / target.name).write_bytes(target.read_bytes())
    for sibling in target.parent.iterdir():
        if sibling != target:
            (outside / sibling.name).write_bytes(sibling.read_bytes())
    bucket = target.parent
    for item in bucket.iterdir():
        item.unlink()
    bucket.rmdir()
    os.symlink(outside, bucket)


def info_link(root: Path, scratch: Path) -> None:
    """Info.plist is a link to a file outside the backup."""
    outside = scratch / "Info.plist"
    outside.write_bytes((root / "Info.plist").read_bytes())
    (root / "Info.plist").unlink()
    os.symlink(outside, root / "Info.plist")


def manifest_link(root: Path, scratch: Path) -> None:
    """Manifest.db is a link to a file outside the backup."""
    outside = scratch / "Manifest.db"
    outside.write_bytes((root / "Manifest.db").read_bytes())
    (root / "Manifest.db").unlink()
    os.symlink(outside, root / "Manifest.db")


def file_fifo(root: Path, scratch: Path) -> None:
    """sms.db is a FIFO (a read from it would block forever)."""
    target = stored(root, *SMS)
    target.unlink()
    os.mkfifo(target)


def manifest_page(root: Path, scratch: Path) -> None:
    """One page in the middle of Manifest.db overwritten with garbage."""
    path = root / "Manifest.db"
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    pages = len(data) // page
    middle = pages // 2
    data[middle * page : (middle + 1) * page] = bytes((i * 37) % 256 for i in range(page))
    path.write_bytes(bytes(data))


def add_file(root: Path, domain: str, relative_path: str, data: bytes) -> None:
    """Add one file to a finished backup: its content and its Manifest.db row."""
    target = stored(root, domain, relative_path)
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(data)
    blob = mbfile_blob(relative_path, size=len(data), mode=0o100644, birth=1709294400, modified=1709294400,
                       changed=1709294400)
    conn = sqlite3.connect(root / "Manifest.db")
    conn.execute("INSERT OR REPLACE INTO Files (fileID, domain, relativePath, flags, file) VALUES (?, ?, ?, 1, ?)",
                 (file_id(domain, relative_path), domain, relative_path, blob))
    conn.commit()
    conn.close()


def markup_in_sms(root: Path, scratch: Path) -> None:
    """Console markup, escape sequences and formula cells in SMS handles, texts and attachment
    paths (a received attachment under /var/tmp, so a heuristic finding prints the path)."""
    target = stored(root, *SMS)
    work = scratch / "sms-markup.db"
    work.write_bytes(target.read_bytes())
    conn = sqlite3.connect(work)
    conn.execute("UPDATE handle SET id = '[/x]\x1b]0;pwned\x07[link=https://evil.example]x[/link]' WHERE ROWID = 1")
    conn.execute("UPDATE message SET text = '=HYPERLINK(\"https://evil.example\")' WHERE ROWID = 1")
    conn.execute(
        "INSERT INTO attachment (ROWID, guid, original_guid, filename, transfer_name, mime_type, total_bytes) "
        "VALUES (9001, 'hostile', 'hostile', '/private/var/tmp/[/x]\x1b[2J[link=https://evil.example]a[/link]-1', "
        "'[bold]x', 'image/gif', 10)"
    )
    conn.execute(
        "INSERT INTO message_attachment_join (message_id, attachment_id) "
        "SELECT ROWID, 9001 FROM message WHERE is_from_me = 0 LIMIT 1"
    )
    conn.commit()
    conn.close()
    target.write_bytes(work.read_bytes())
    # A TCC row whose service (the first thing its timeline description shows) is a formula.
    tcc = create_db(scratch / "TCC.db", "ios/TCC.db/ios14.sql", {"access": [{
        "service": "=cmd|' /C calc'!A0", "client": "@SUM(1+1)", "client_type": 0, "auth_value": 2,
        "auth_reason": 2, "auth_version": 1, "last_modified": 1709294400,
    }]})
    add_file(root, HOME, "Library/TCC/TCC.db", tcc.read_bytes())


CASES: dict[str, Case] = {
    "prefs-shared-bomb": prefs_bomb,
    "info-shared-bomb": info_bomb,
    "info-self-containing": info_self,
    "info-200k-deep": info_deep,
    "sms-endless-view": sms_endless_view,
    "bucket-link-outside": bucket_link,
    "info-link-outside": info_link,
    "manifest-link-outside": manifest_link,
    "sms-fifo": file_fifo,
    "manifest-overwritten-page": manifest_page,
    "markup-in-evidence": markup_in_sms,
}
