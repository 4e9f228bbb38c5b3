"""Hostile evidence, built in code: each case damages a sample backup the way an adversary could.

A case is a function that takes the root of a freshly built sample backup (traces planted from
the public sets, :func:`tests.builders.sample.build_sample`) and a scratch folder, and shapes one
artefact. The tests (:mod:`tests.hostile.test_hostile_evidence`) and ``bench/hostile.py`` run the
same cases.
"""

from __future__ import annotations

import io
import os
import plistlib
import sqlite3
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
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


# --- more cases: archives, sizes, indexes, headers and encodings an adversary controls ------------

ATTACHMENT = ("MediaDomain", "Library/SMS/Attachments/ab/11/ATT-1/IMG_0001.jpeg")  # in sms.db's attachment row
IDS = (HOME, "Library/Preferences/com.apple.identityservices.idstatuscache.plist")
SMS_PATH = "/private/var/mobile/Library/SMS/sms.db"


def _zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (2024, 3, 1, 12, 0, 0)), data, compress_type=method)
    return buffer.getvalue()


def overlapping_zip_bomb(entries: int = 5000, kernel_mb: int = 100) -> bytes:
    """A ZIP whose central directory lists one deflated kernel (``kernel_mb`` MB of zeros, ~100 KB
    compressed) ``entries`` times over: 500 GB declared in about 300 KB (the overlapping-member
    construction; no recursion)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    kernel = b"".join(deflate.compress(block) for _ in range(kernel_mb)) + deflate.flush()
    size = kernel_mb << 20
    crc = 0
    for _ in range(kernel_mb):
        crc = zlib.crc32(block, crc)
    name = b"IMG_0001.jpeg"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x5861, crc, len(kernel), size, len(name), 0)
    body = local + name + kernel
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x5861, crc, len(kernel), size,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    directory = central * entries
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(entries, 0xFFFF), min(entries, 0xFFFF),
                      len(directory), len(body), 0)
    return body + directory + end


def under_the_ratio_bomb(members: int = 4, member_mb: int = 100) -> bytes:
    """A ZIP of ``members`` members of ``member_mb`` MB each that deflate about 85:1, under the
    screening's ratio cap, so each would be inflated in full: more than its decompression budget."""
    import random

    block = random.Random(5).randbytes(20_000)
    data = (block * (member_mb * 52 + 1))[: member_mb << 20]
    return _zip_bytes([(f"part{i}.jpeg", data) for i in range(members)], zipfile.ZIP_DEFLATED)


def nested_zip(levels: int = 1000) -> bytes:
    """A ZIP inside a ZIP inside a ZIP, ``levels`` deep, a JPEG at the bottom."""
    data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"
    for level in range(levels):
        data = _zip_bytes([(f"level{level}.zip" if level else "IMG_0001.jpeg", data)])
    return data


def attachment_overlap_bomb(root: Path, scratch: Path) -> None:
    """SMS attachment: an overlapping-member ZIP bomb (5,000 entries × 100 MB, 300 KB on disk)."""
    stored(root, *ATTACHMENT).write_bytes(overlapping_zip_bomb())


def attachment_ratio_bomb(root: Path, scratch: Path) -> None:
    """SMS attachment: a ZIP of 4 × 100 MB members deflated 85:1 (under the ratio cap, over the budget)."""
    stored(root, *ATTACHMENT).write_bytes(under_the_ratio_bomb())


def attachment_nested_zip(root: Path, scratch: Path) -> None:
    """SMS attachment: a ZIP nested 1,000 levels deep."""
    stored(root, *ATTACHMENT).write_bytes(nested_zip())


def _edit_sms(root: Path, scratch: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    target = stored(root, *SMS)
    work = scratch / "sms-edit.db"
    work.write_bytes(target.read_bytes())
    conn = sqlite3.connect(work)
    conn.execute(sql, params)
    conn.commit()
    conn.close()
    target.write_bytes(work.read_bytes())


def sms_50mb_text(root: Path, scratch: Path) -> None:
    """sms.db: one received message whose text is a single 50 MB line full of links."""
    line = ("see https://a.example/" + "x" * 80 + " ") * (50_000_000 // 104)
    _edit_sms(root, scratch, "UPDATE message SET text = ? WHERE ROWID = 2", (line,))


def ids_million_objects(root: Path, scratch: Path) -> None:
    """IDS status cache: an NSKeyedArchiver archive of 1,000,000 objects, a reference chain as
    long, and a dictionary of 200,000 handles."""
    objects: list[object] = ["$null", {"$classes": ["NSDictionary", "NSObject"], "$classname": "NSDictionary"},
                             {"$classes": ["NSArray", "NSObject"], "$classname": "NSArray"}]
    chain_start = len(objects)
    chain = 600_000
    for i in range(chain):
        nxt = plistlib.UID(chain_start + i + 1) if i < chain - 1 else plistlib.UID(0)
        objects.append({"$class": plistlib.UID(2), "NS.objects": [nxt]})
    keys, values = [], []
    for i in range(200_000):
        keys.append(plistlib.UID(len(objects)))
        objects.append(f"mailto:handle{i}@example.com")
        values.append(plistlib.UID(chain_start))
    service = len(objects)
    objects.append({"$class": plistlib.UID(1), "NS.keys": keys, "NS.objects": values})
    objects.append("com.apple.madrid")
    objects.append({"$class": plistlib.UID(1), "NS.keys": [plistlib.UID(service + 1)],
                    "NS.objects": [plistlib.UID(service)]})
    archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(len(objects) - 1)},
               "$objects": objects}
    stored(root, *IDS).write_bytes(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY))


def _manifest(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(root / "Manifest.db")


def manifest_300k_same_file(root: Path, scratch: Path) -> None:
    """Manifest.db: 300,000 more rows, all naming sms.db's stored file (the Files table rebuilt
    without its primary key, so they can)."""
    conn = _manifest(root)
    fid = file_id(*SMS)
    conn.executescript(
        """
        CREATE TABLE Files2 (fileID TEXT, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
        INSERT INTO Files2 SELECT * FROM Files;
        DROP TABLE Files;
        ALTER TABLE Files2 RENAME TO Files;
        CREATE INDEX FilesDomainIdx ON Files(domain);
        CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
        """
    )
    blob = conn.execute("SELECT file FROM Files WHERE fileID = ?", (fid,)).fetchone()[0]
    conn.executemany(
        "INSERT INTO Files VALUES (?, ?, ?, 1, ?)",
        ((fid, HOME, "Library/SMS/sms.db" if i % 2 else f"Library/SMS/copy{i}.db", blob) for i in range(300_000)),
    )
    conn.commit()
    conn.close()


def manifest_absurd_mbfile(root: Path, scratch: Path) -> None:
    """Manifest.db: every row's MBFile blob with absurd sizes and times (2^63-1, negative, 16-byte
    integers, a size of 2^100)."""
    odd = [
        mbfile_blob("x", size=2**63 - 1, mode=0xFFFF, birth=-(2**63), modified=2**63 - 1, changed=-1,
                    inode=2**63 - 1, uid=-1, gid=2**63 - 1, protection=2**31),
        plistlib.dumps({"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(1)},
                        "$objects": ["$null", {"Size": -(2**63), "Birth": 2**64 - 1, "Mode": 2**64 - 1,
                                               "LastModified": 10**19}]}, fmt=plistlib.FMT_BINARY),
        _wide_int_blob(),
    ]
    conn = _manifest(root)
    rows = conn.execute("SELECT fileID FROM Files").fetchall()
    conn.executemany("UPDATE Files SET file = ? WHERE fileID = ?", [(odd[i % 3], r[0]) for i, r in enumerate(rows)])
    conn.commit()
    conn.close()


def _wide_int_blob() -> bytes:
    """An MBFile whose Size is a 16-byte integer of 2^100 and whose Birth is a 16-byte -1."""
    from tests.builders import bplist

    archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(1)},
               "$objects": ["$null", {"Size": bplist.Int(2**100, 4), "Birth": bplist.Int(-1, 4), "Mode": 0o100644}]}
    return bplist.write(archive)


def sms_hostile_header(root: Path, scratch: Path) -> None:
    """sms.db: a header announcing 255 reserved bytes a page and 2^31 pages, valid for this version."""
    path = stored(root, *SMS)
    data = bytearray(path.read_bytes())
    data[20] = 255
    data[28:32] = (2**31).to_bytes(4, "big")
    data[92:96] = data[24:28]  # "version-valid-for" = change counter: the page count is believed
    path.write_bytes(bytes(data))


def _wal_of(db: bytes, scratch: Path, commits: int, rows_per_commit: int) -> tuple[bytes, bytes]:
    """(the database as it is on disk, its write-ahead log) after ``commits`` uncheckpointed
    transactions on a copy of ``db``."""
    work = scratch / "wal-work.db"
    for side in (work, scratch / "wal-work.db-wal", scratch / "wal-work.db-shm"):
        side.unlink(missing_ok=True)
    work.write_bytes(db)
    conn = sqlite3.connect(work)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("PRAGMA synchronous = OFF")
    base = work.read_bytes()
    for i in range(commits):
        conn.executemany(
            "INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES (?, ?, 1, 'SMS', 0, 0)",
            [(f"WAL-{i}-{j}", f"wal message {i}-{j} " + "y" * 600) for j in range(rows_per_commit)],
        )
        conn.commit()
    wal = (scratch / "wal-work.db-wal").read_bytes()
    conn.close()
    return base, wal


def sms_wal_64mb(root: Path, scratch: Path) -> None:
    """sms.db-wal: a valid write-ahead log of about 64 MB over a database of 250 KB (its private
    copy costs as much temporary disk)."""
    path = stored(root, *SMS)
    base, wal = _wal_of(path.read_bytes(), scratch, commits=820, rows_per_commit=3)
    path.write_bytes(base)
    add_file(root, HOME, "Library/SMS/sms.db-wal", wal)


def sms_wal_garbage(root: Path, scratch: Path) -> None:
    """sms.db-wal: frames with valid checksums whose pages are garbage, page 1 included."""
    from tests.fuzz.mutate import fix_wal_checksums

    path = stored(root, *SMS)
    base, wal = _wal_of(path.read_bytes(), scratch, commits=4, rows_per_commit=2)
    log = bytearray(wal)
    size = int.from_bytes(log[8:12], "big")
    frame = 32
    while frame + 24 + size <= len(log):
        log[frame : frame + 4] = (1 if frame == 32 else 3).to_bytes(4, "big")
        log[frame + 24 : frame + 24 + size] = bytes((i * 151 + frame) % 256 for i in range(size))
        frame += 24 + size
    fix_wal_checksums(log)
    path.write_bytes(base)
    add_file(root, HOME, "Library/SMS/sms.db-wal", bytes(log))


def manifest_traversal(root: Path, scratch: Path) -> None:
    """Manifest.db: rows whose relativePath climbs out (../../etc/passwd), holds NUL bytes, or is
    absolute, whose domain is '..', and whose fileID is a path; one of them names a real file
    outside the backup."""
    outside = scratch / "secret.txt"
    outside.write_text("outside the evidence")
    rows = [
        (file_id(HOME, "../../etc/passwd"), HOME, "../../etc/passwd"),
        (file_id(HOME, "Library/SMS/sms.db\x00.txt"), HOME, "Library/SMS/sms.db\x00.txt"),
        (file_id("..", "../../../etc/shadow"), "..", "../../../etc/shadow"),
        ("../secret.txt", HOME, "Library/secret.txt"),
        (str(outside), HOME, "/etc/hosts"),
        (file_id(HOME, "/private/var/mobile/Library/SMS/sms.db"), HOME, "/" + SMS[1]),
    ]
    conn = _manifest(root)
    conn.executemany("INSERT OR REPLACE INTO Files VALUES (?, ?, ?, 1, NULL)", rows)
    conn.commit()
    conn.close()


def manifest_long_paths(root: Path, scratch: Path) -> None:
    """Manifest.db: a relativePath of 1 MB, a domain of 100 KB, 10,000 path components."""
    conn = _manifest(root)
    conn.executemany(
        "INSERT OR REPLACE INTO Files VALUES (?, ?, ?, 1, NULL)",
        [
            ("a" * 40, HOME, "Library/" + "x" * 1_000_000),
            ("b" * 40, "AppDomain-" + "c" * 100_000, "Library/Preferences/x.plist"),
            ("c" * 40, HOME, "/".join(["d"] * 10_000) + "/https_weather4free.com_0.localstorage"),
        ],
    )
    conn.commit()
    conn.close()


def invalid_utf8_everywhere(root: Path, scratch: Path) -> None:
    """Invalid UTF-8 in Manifest.db domains and paths, in sms.db handles, texts and attachment
    names, and lone surrogates in Info.plist and the preferences (UTF-16 plist strings)."""
    conn = _manifest(root)
    # Filler rows only: a planted artefact whose row names another path is not there to be read.
    conn.execute("UPDATE Files SET relativePath = CAST(relativePath || X'C3FF28' AS TEXT) "
                 "WHERE rowid % 3 = 0 AND relativePath LIKE 'Library/Caches/%'")
    conn.execute("INSERT INTO Files VALUES ('e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0', CAST(X'486F6D65FF' AS TEXT),"
                 " CAST(X'4C6962726172792F80' AS TEXT), 1, NULL)")
    conn.commit()
    conn.close()
    _edit_sms(root, scratch, "UPDATE handle SET id = CAST(id || X'EDA080FF' AS TEXT) WHERE ROWID % 2 = 0")
    _edit_sms(root, scratch, "UPDATE message SET text = CAST(X'C0AFE282' || text AS TEXT) WHERE ROWID % 2 = 0")
    _edit_sms(root, scratch, "UPDATE attachment SET transfer_name = CAST(X'FF2E6A706567' AS TEXT)")
    from tests.builders import bplist

    info = plistlib.loads((root / "Info.plist").read_bytes())
    info["Device Name"] = bplist.Utf16("phone \ud800 \udfff")
    info["Product Version"] = bplist.Utf16("17.4.1\udc80")
    (root / "Info.plist").write_bytes(bplist.write(info))
    prefs = {"AppleLocale": bplist.Utf16("en_\ud83d"), "AppleLanguages": [bplist.Utf16("\udfffde")]}
    stored(root, *GLOBAL_PREFS).write_bytes(bplist.write(prefs))


def many_empty_folders(root: Path, scratch: Path) -> None:
    """100,000 empty folders named like stored files inside the bucket folders, and one where
    sms.db's own file should be."""
    import hashlib

    for i in range(100_000):
        name = hashlib.sha1(f"empty-{i}".encode()).hexdigest()
        (root / name[:2] / name).mkdir(parents=True, exist_ok=True)
    target = stored(root, *SMS)
    target.unlink()
    target.mkdir()


def sms_10000_columns(root: Path, scratch: Path) -> None:
    """sms.db: the message table's schema declares 10,000 columns (SQLite allows 2,000)."""
    columns = ", ".join(f"c{i} TEXT" for i in range(10_000))
    target = stored(root, *SMS)
    work = scratch / "sms-columns.db"
    work.write_bytes(target.read_bytes())
    conn = sqlite3.connect(work)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'message'",
                 (f"CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, {columns})",))
    conn.commit()
    conn.close()
    target.write_bytes(work.read_bytes())


def prefs_1gb_string(root: Path, scratch: Path) -> None:
    """.GlobalPreferences.plist: a binary plist whose strings declare 1 GB and 4 GB, and whose data
    object declares 4 GB (in a file of 200 KB)."""
    size = (70_000).to_bytes(4, "big")  # 70,000 is written as a 4-byte integer: room for 2^32 - 1
    data = bytearray(plistlib.dumps({"AppleLocale": "L" * 70_000, "AppleLanguages": ["M" * 70_000],
                                     "Blob": b"D" * 70_000}, fmt=plistlib.FMT_BINARY))
    for marker, length in ((b"\x5f\x12", 1 << 30), (b"\x5f\x12", (1 << 32) - 1), (b"\x4f\x12", (1 << 32) - 1)):
        at = data.index(marker + size)
        data[at + 2 : at + 6] = length.to_bytes(4, "big")
    stored(root, *GLOBAL_PREFS).write_bytes(bytes(data))


def manifest_index_page(root: Path, scratch: Path) -> None:
    """Manifest.db: the root page of the fileID index overwritten with garbage; the Files table
    itself is intact."""
    path = root / "Manifest.db"
    conn = sqlite3.connect(path)
    (rootpage,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Files' AND sql IS NULL"
    ).fetchone()
    conn.close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    start = (rootpage - 1) * page
    data[start : start + page] = bytes((i * 37) % 256 for i in range(page))
    path.write_bytes(bytes(data))


def big_plist(dictionaries: int = 8_000_000) -> bytes:
    """A binary plist of ``dictionaries`` small dictionaries (25 bytes of file each, about 250
    bytes once decoded): an array of them, each {"$class": UID(1), "NS.objects": []}."""
    head = b"bplist00" + b"\x56$class" + b"\x5aNS.objects" + b"\x80\x01" + b"\xa0"
    offsets = [8, 15, 26, 28]
    first = len(head)
    record = b"\xd2" + struct.pack(">IIII", 0, 1, 2, 3)
    body = record * dictionaries
    top = first + len(body)
    array = b"\xaf\x12" + struct.pack(">I", dictionaries) + b"".join(
        struct.pack(">I", 4 + i) for i in range(dictionaries))
    table = top + len(array)
    offset_table = struct.pack(">IIII", *offsets) + b"".join(
        struct.pack(">I", first + 17 * i) for i in range(dictionaries)) + struct.pack(">I", top)
    count = dictionaries + 5
    trailer = bytes(6) + bytes([4, 4]) + struct.pack(">QQQ", count, count - 1, table)
    return head + body + array + offset_table + trailer


def prefs_200mb_plist(root: Path, scratch: Path) -> None:
    """.GlobalPreferences.plist: a valid 200 MB binary plist of 8,000,000 small dictionaries
    (decoded whole, about 15 times its size in memory)."""
    stored(root, *GLOBAL_PREFS).write_bytes(big_plist())


def info_200mb_plist(root: Path, scratch: Path) -> None:
    """Info.plist: the same 200 MB plist of 8,000,000 small dictionaries (the acquisition reads
    Info.plist too, for the device's metadata and the backup's date)."""
    (root / "Info.plist").write_bytes(big_plist())


CASES.update({
    "attachment-overlapping-zip-bomb": attachment_overlap_bomb,
    "attachment-ratio-zip-bomb": attachment_ratio_bomb,
    "attachment-nested-zip": attachment_nested_zip,
    "sms-50mb-text": sms_50mb_text,
    "ids-1m-objects": ids_million_objects,
    "manifest-300k-same-file": manifest_300k_same_file,
    "manifest-absurd-mbfile": manifest_absurd_mbfile,
    "sms-hostile-header": sms_hostile_header,
    "sms-wal-64mb": sms_wal_64mb,
    "sms-wal-garbage": sms_wal_garbage,
    "manifest-traversal": manifest_traversal,
    "manifest-long-paths": manifest_long_paths,
    "invalid-utf8-everywhere": invalid_utf8_everywhere,
    "100k-empty-folders": many_empty_folders,
    "sms-10000-columns": sms_10000_columns,
    "prefs-1gb-string": prefs_1gb_string,
    "manifest-index-page": manifest_index_page,
    "prefs-200mb-plist": prefs_200mb_plist,
    "info-200mb-plist": info_200mb_plist,
})

FAMILIES = frozenset({"Pegasus", "Predator", "EagleMsgSpy", "OperationTriangulation", "KingSpawn"})
"""The families :func:`tests.builders.sample.build_sample` plants (Pegasus twice: in an SMS and as
a DataUsage process; the others once: Safari history, WhatsApp, the IDS status cache, a Manifest
path)."""


@dataclass(frozen=True)
class Damage:
    """What a case damages: the parsers whose coverage shows it, the families planted inside the
    damaged artefacts (which may be lost with it), and the exit code a user should see."""

    parsers: tuple[str, ...]
    lost: frozenset[str] = frozenset()
    rc: int = 1
    args: tuple[str, ...] = ()
    """Options of the scan (a budget shorter than the default of 600 s a parser)."""


_EVERYTHING = FAMILIES  # a damaged index can hide any artefact
DAMAGE: dict[str, Damage] = {
    "prefs-shared-bomb": Damage(("global_preferences",)),
    "info-shared-bomb": Damage(("backup_info",)),
    "info-self-containing": Damage(("backup_info",)),
    "info-200k-deep": Damage(("backup_info",)),
    "sms-endless-view": Damage(("sms", "sms_attachments"), args=("--budget-seconds", "10")),
    "bucket-link-outside": Damage(("sms", "sms_attachments")),
    "info-link-outside": Damage(("backup_info",)),
    "manifest-link-outside": Damage((), _EVERYTHING, rc=2),
    "sms-fifo": Damage(("sms", "sms_attachments")),
    "manifest-overwritten-page": Damage(("manifest",), _EVERYTHING),
    "markup-in-evidence": Damage(("sms", "tcc")),
    "attachment-overlapping-zip-bomb": Damage(("sms_attachments",)),
    "attachment-ratio-zip-bomb": Damage(("sms_attachments",)),
    "attachment-nested-zip": Damage(("sms_attachments",)),
    "sms-50mb-text": Damage(("sms",)),
    "ids-1m-objects": Damage(("idstatuscache",), frozenset({"OperationTriangulation"})),
    "manifest-300k-same-file": Damage(("manifest",)),
    "manifest-absurd-mbfile": Damage(("manifest",)),
    "sms-hostile-header": Damage(("sms", "sms_attachments")),
    "sms-wal-64mb": Damage(("sms", "sms_attachments")),
    "sms-wal-garbage": Damage(("sms", "sms_attachments")),
    "manifest-traversal": Damage(("manifest",)),
    "manifest-long-paths": Damage(("manifest",)),
    "invalid-utf8-everywhere": Damage(("manifest", "sms", "backup_info", "global_preferences")),
    "100k-empty-folders": Damage(("sms", "sms_attachments")),
    "sms-10000-columns": Damage(("sms", "sms_attachments")),
    "prefs-1gb-string": Damage(("global_preferences",)),
    "manifest-index-page": Damage(("manifest", "sms", "safari_history", "whatsapp", "idstatuscache")),
    "prefs-200mb-plist": Damage(("global_preferences",)),
    "info-200mb-plist": Damage(("backup_info",)),
}
"""Every case's damage (``tests/hostile/test_hostile_evidence.py`` checks that each case has one)."""
