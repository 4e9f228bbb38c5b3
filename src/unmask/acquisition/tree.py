"""A file tree of evidence, a folder or an archive, indexed once and read safely.

Full-filesystem dumps, sysdiagnose archives and AndroidQF acquisitions all arrive as a folder, a
``.tar`` (plain or compressed) or a ``.zip`` holding a tree of files. :class:`Tree` presents any of
them the same way: every entry is listed once into a small SQLite index in the acquisition's
private folder (memory stays flat for millions of entries; globs become indexed queries), and
content is read as a stream (:class:`unmask.formats.archive.ArchiveReader` for archives; the
file itself for a folder). Nothing is ever extracted by name or followed on the host:

- a folder is walked with ``lstat``: links are recorded with their target, never followed; FIFOs,
  sockets and devices are recorded as refused (a read from a FIFO would block forever);
- archive members with unsafe names or absurd sizes are recorded as refused with the reason
  (:mod:`unmask.formats.archive`); two members of one name are both refused (which one is
  evidence cannot be told);
- links are resolved by the acquisition *inside* the tree's own name space
  (:meth:`TreeAcquisition.resolve`), never on the host file system.

:class:`TreeAcquisition` is the base of every acquisition that is such a tree: it maps device
paths to tree names with prefix rules (a dump with or without its leading ``private/``, a wrapping
folder, a sysdiagnose's copies of device files), and implements entry, listing, glob, open and
materialize over the tree.
"""

from __future__ import annotations

import operator
import os
import stat
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from unmask import timeutil
from unmask.acquisition.base import Acquisition, FileEntry, compile_glob
from unmask.acquisition.options import OpenOptions
from unmask.errors import AcquisitionError, ArtefactError
from unmask.formats.archive import (
    DEFAULT_LIMITS,
    ArchiveError,
    ArchiveLimits,
    ArchiveMember,
    ArchiveReader,
    sniff,
    stream_names,
)
from unmask.formats.sqlite import working_database

_SCHEMA = """
CREATE TABLE entries (
  seq INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  size INTEGER, mode INTEGER, mtime REAL, atime REAL, ctime REAL, birth REAL,
  link TEXT NOT NULL DEFAULT '',
  locator BLOB,
  problem TEXT
);
"""
# Built once every entry is in (rows are appended in listing order, the rowid being the sequence
# number): one sort per index instead of a B-tree update per row.
_INDEXES = """
CREATE INDEX entries_path ON entries(path);
CREATE INDEX entries_name ON entries(name);
"""
_COLUMNS = "path, name, kind, size, mode, mtime, atime, ctime, birth, link, locator, problem, seq"


class TreeEntry(NamedTuple):
    """One indexed entry: ``path`` is the tree name (``a/b/c``, no leading slash)."""

    path: str
    name: str
    kind: str
    size: int | None
    mode: int | None
    mtime: float | None
    atime: float | None
    ctime: float | None
    birth: float | None
    link: str
    locator: Any
    problem: str | None
    seq: int


def _text(name: str) -> str:
    """A name as text SQLite can store (file systems hand out undecodable bytes as surrogates)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _decoded(raw: bytes) -> str:
    """A name from the file system as text SQLite can store: ``_text(os.fsdecode(raw))`` on a
    UTF-8 system, without the surrogate round trip for the names that are valid UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


class Tree:
    """The entries of a folder or an archive, indexed once in ``index_dir``."""

    def __init__(self, source: Path, index_dir: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        self.source = source
        self.limits = limits
        self.is_folder = source.is_dir()
        self.archive: ArchiveReader | None = None
        if not self.is_folder:
            try:
                self.archive = ArchiveReader(source, limits=limits, spool=index_dir)
            except ArchiveError as exc:
                raise AcquisitionError(f"{source}: {exc}") from None
        self.truncated: str | None = None
        self.refused: dict[str, str] = {}
        self._db = working_database(index_dir / "tree-index.sqlite")
        self._db.executescript(_SCHEMA)
        self.count = 0
        try:
            self._build()
        except ArchiveError as exc:  # not even a first member could be read: not a tree at all
            self.close()
            raise AcquisitionError(f"{source}: {exc}") from None

    # -- indexing --------------------------------------------------------------------------------

    def _build(self) -> None:
        rows = self._walk() if self.is_folder else self._members()
        sql = f"INSERT INTO entries ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 8192:
                self._db.executemany(sql, batch)
                self.count += len(batch)
                batch = []
        self._db.executemany(sql, batch)
        self.count += len(batch)
        self._db.executescript(_INDEXES)
        self._mark_duplicates()
        self._db.commit()
        if self.archive is not None and self.archive.truncated:
            self.truncated = self.archive.truncated

    def _mark_duplicates(self) -> None:
        """Two members of one name: which one is the evidence cannot be told; serve neither (the
        first stays listed, refused; the others are dropped)."""
        why = "two or more members have this name; neither is read"
        dupes = [r[0] for r in self._db.execute("SELECT path FROM entries GROUP BY path HAVING count(*) > 1")]
        for path in dupes:
            first = self._db.execute("SELECT min(seq) FROM entries WHERE path = ?", (path,)).fetchone()[0]
            self._db.execute("DELETE FROM entries WHERE path = ? AND seq != ?", (path, first))
            self._db.execute("UPDATE entries SET problem = ? WHERE seq = ?", (why, first))
            self._refuse(path, why)

    def _refuse(self, path: str, why: str) -> None:
        if len(self.refused) < 10_000:
            self.refused.setdefault(path or "(archive root)", why)

    def _members(self) -> Iterator[tuple[Any, ...]]:
        assert self.archive is not None
        seq = 0
        for member in self.archive.members():
            seq += 1
            if member.problem is not None:
                self._refuse(member.name or member.raw_name, member.problem)
            if not member.name:
                continue
            size = member.size if member.size < 1 << 63 else None  # a base-256 size of 2^90 bytes: refused anyway
            yield (_text(member.name), _text(member.name.rsplit("/", 1)[-1]), member.kind, size, member.mode,
                   member.mtime, None, None, None, _text(member.link), _pack(member), member.problem, seq)

    def _walk(self) -> Iterator[tuple[Any, ...]]:
        # Bytes paths throughout (names need not be valid UTF-8), joined by hand: os.path.join and
        # os.fsdecode cost more than the stat call itself over a quarter of a million entries.
        seq = 0
        root = os.fsencode(self.source)
        # (bytes path, text path, whether the text is the exact UTF-8 form of the bytes)
        stack: list[tuple[bytes, str, bool]] = [(b"", "", True)]
        is_dir, is_reg, is_lnk = stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK
        by_name = operator.attrgetter("name")
        while stack:
            rel, rel_text, exact = stack.pop()
            try:
                with os.scandir(root + b"/" + rel if rel else root) as it:
                    found = sorted(it, key=by_name)
            except OSError as exc:
                self._refuse(rel_text, f"unreadable folder ({exc.strerror})")
                continue
            for item in reversed(found):
                raw = item.name
                name = rel + b"/" + raw if rel else raw
                leaf = _decoded(raw)
                leaf_exact = len(leaf) == len(raw) or leaf.encode("utf-8") == raw
                text = rel_text + "/" + leaf if rel_text else leaf
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError as exc:
                    self._refuse(text, f"unreadable ({exc.strerror})")
                    continue
                mode = st.st_mode
                link, problem = "", None
                if is_reg(mode):
                    kind = "file"
                elif is_dir(mode):
                    kind = "dir"
                    stack.append((name, text, exact and leaf_exact))
                elif is_lnk(mode):
                    kind = "symlink"
                    try:
                        link = _decoded(os.readlink(root + b"/" + name))
                    except OSError:
                        link = ""
                else:
                    kind, problem = "other", "a FIFO, socket or device file, not read"
                if problem is not None:
                    self._refuse(text, problem)
                seq += 1
                yield (text, leaf, kind, st.st_size if kind == "file" else None, mode,
                       st.st_mtime, st.st_atime, st.st_ctime, getattr(st, "st_birthtime", None), link,
                       None if exact and leaf_exact else name, problem, seq)

    # -- queries ---------------------------------------------------------------------------------

    def get(self, path: str) -> TreeEntry | None:
        """The entry named ``path`` (tree name), or ``None``."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM entries WHERE path = ?", (path,)).fetchone()
        return TreeEntry(*row) if row else None

    def exists_prefix(self, prefix: str) -> bool:
        """Whether any entry lies under the folder ``prefix`` (or is it)."""
        row = self._db.execute(
            "SELECT 1 FROM entries WHERE path = ? OR (path >= ? AND path < ?) LIMIT 1",
            (prefix, prefix + "/", prefix + "0"),
        ).fetchone()
        return row is not None

    def entries(self, prefix: str = "") -> Iterator[list[TreeEntry]]:
        """Every entry (under ``prefix``), in archive or walk order, in batches."""
        if prefix:
            query = f"SELECT {_COLUMNS} FROM entries WHERE path = ? OR (path >= ? AND path < ?) ORDER BY seq"
            params: Sequence[Any] = (prefix, prefix + "/", prefix + "0")
        else:
            query, params = f"SELECT {_COLUMNS} FROM entries ORDER BY seq", ()
        cursor = self._db.execute(query, params)
        while batch := cursor.fetchmany(4096):
            yield [TreeEntry(*row) for row in batch]

    def latest_mtime(self, before: float) -> float | None:
        """The latest modification time of any regular file that is not after ``before`` (folders and
        links of an extracted tree carry the extraction's time)."""
        row = self._db.execute(
            "SELECT max(mtime) FROM entries WHERE kind = 'file' AND mtime <= ?", (before,)
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def rows(self, columns: str) -> Iterator[list[tuple[Any, ...]]]:
        """Chosen columns (``"path, kind, mtime"``) of every entry, in listing order, in batches:
        for callers that read a quarter of a million entries and need few of their fields."""
        if not set(columns.replace(" ", "").split(",")) <= set(_COLUMNS.replace(" ", "").split(",")):
            raise ValueError(f"unknown columns in {columns!r}")
        cursor = self._db.execute(f"SELECT {columns} FROM entries ORDER BY seq")
        while batch := cursor.fetchmany(4096):
            yield batch

    def candidates(self, prefix: str, name: str | None) -> Iterator[str]:
        """Names of file-like entries under the literal ``prefix`` (a string prefix, not a folder),
        with last component ``name`` when given: the indexed narrowing of a glob."""
        clauses, params = ["kind IN ('file', 'symlink', 'hardlink')"], []
        if prefix:
            clauses.append("path >= ? AND path < ?")
            params += [prefix, prefix + "\U0010ffff"]
        if name is not None:
            clauses.append("name = ?")
            params.append(name)
        for (path,) in self._db.execute(f"SELECT path FROM entries WHERE {' AND '.join(clauses)}", params):
            yield path

    def open(self, entry: TreeEntry) -> BinaryIO:
        """A stream over a file entry's content."""
        if entry.problem is not None:
            raise ArtefactError(f"refused: {entry.problem}")
        if self.is_folder:
            path = os.path.join(os.fsencode(self.source), _raw_name(entry))
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            except OSError as exc:
                raise FileNotFoundError(entry.path) from exc
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise ArtefactError("refused: not a regular file")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        assert self.archive is not None
        try:
            return self.archive.open(_unpack(entry))
        except ArchiveError as exc:
            raise ArtefactError(str(exc)) from None

    def local_path(self, entry: TreeEntry) -> Path | None:
        """The file on disk for a folder's regular file entry (no copy needed), else ``None``."""
        if self.is_folder and entry.kind == "file" and entry.problem is None:
            return Path(os.fsdecode(os.path.join(os.fsencode(self.source), _raw_name(entry))))
        return None

    def close(self) -> None:
        """Release the index and the archive."""
        self._db.close()
        if self.archive is not None:
            self.archive.close()


def _raw_name(entry: TreeEntry) -> bytes:
    """The on-disk name of a folder's entry: kept in the locator only when the text name is not
    its exact UTF-8 form (a name that is not valid UTF-8)."""
    return entry.locator if isinstance(entry.locator, bytes) else entry.path.encode("utf-8")


def _pack(member: ArchiveMember) -> bytes:
    """What opening an archive member needs, in the index's locator column."""
    import json

    return json.dumps([member.locator, member.raw_name, member.size, member.csize, member.method, member.crc,
                       member.flags], ensure_ascii=True).encode()


def _unpack(entry: TreeEntry) -> ArchiveMember:
    import json

    locator, raw, size, csize, method, crc, flags = json.loads(entry.locator)
    return ArchiveMember(entry.path, "file" if entry.kind != "symlink" else "symlink", size, None, entry.mode,
                         entry.link, locator, raw, None, csize, method, crc, flags)


@lru_cache(maxsize=16)
def _peek(path: str, size: int, mtime: float, limit: int) -> tuple[str, ...] | None:
    kind = sniff(Path(path))
    if kind is None:
        return None
    if kind in ("tar.bz2", "tar.xz", "tar.zst"):
        return tuple(stream_names(Path(path), kind, limit))
    names: list[str] = []
    reader = ArchiveReader(Path(path), kind=kind)
    try:
        for member in reader.members():
            if member.name:
                names.append(member.name + ("/" if member.kind == "dir" else ""))
            if len(names) >= limit:
                break
    except ArchiveError:
        pass
    finally:
        reader.close()
    return tuple(names)


def peek_names(path: Path, limit: int = 20_000) -> tuple[str, ...] | None:
    """The first ``limit`` member names of an archive (``/`` after folders), or ``None`` when
    ``path`` is not a tar or zip archive: what detection looks at, cheaply and once per path.

    A zip's names all come from its central directory; a tar's from its first members (a compressed
    tar is decompressed only that far)."""
    if not path.is_file():
        return None
    st = path.stat()
    return _peek(str(path), st.st_size, st.st_mtime, limit)


def open_tree(acq: Acquisition, source: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> Tree:
    """The :class:`Tree` of ``source`` indexed in the acquisition's private folder; when it cannot
    be read, that folder is removed at once (not when the half-made acquisition is collected)."""
    try:
        return Tree(source, acq.workdir, limits=limits)
    except BaseException:
        Acquisition.close(acq)
        raise


class Mapping(NamedTuple):
    """Device paths under ``device`` live in the tree under ``tree`` (both without trailing slash;
    ``device`` is absolute, ``tree`` relative, ``""`` for the tree's root)."""

    device: str
    tree: str


def link_target(path: str, link: str) -> str | None:
    """Where a symbolic link at ``path`` points, as a path without ``.``/``..`` and without a
    leading slash (a relative link read from the link's folder, an absolute one from the root);
    ``None`` when it climbs above the root."""
    base = link if link.startswith("/") else path.rsplit("/", 1)[0] + "/" + link
    parts: list[str] = []
    for part in base.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


class TreeAcquisition(Acquisition):
    """Evidence that is a tree of files (a folder, a tar or a zip) mapped into a device path space.

    Subclasses give :meth:`mappings` (found from the content at opening: the dump's root folder,
    a sysdiagnose's copies of device files); device paths that no mapping covers do not exist.
    Links are followed inside the tree, absolute targets against the device root, at most 40 hops;
    a link that climbs out of the tree is refused.
    """

    MAX_HOPS = 40

    def __init__(self, root: Path, options: OpenOptions | None = None, *,
                 limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        super().__init__(root, options)
        self.tree = open_tree(self, root, limits)
        for name, why in self.tree.refused.items():
            self.refuse(name, why)
        if self.tree.truncated:
            self.refuse("(the archive)", self.tree.truncated)
        self._mappings: list[Mapping] = self.mappings()

    def mappings(self) -> list[Mapping]:
        """Device prefix → tree prefix rules, most specific first (default: the tree is the device root)."""
        return [Mapping("", "")]

    # -- mapping ---------------------------------------------------------------------------------

    def to_tree(self, device_path: str) -> str | None:
        """The tree name holding a device path, or ``None`` when no mapping covers it."""
        for m in self._mappings:
            if device_path == m.device or device_path.startswith(m.device + "/") or not m.device:
                rest = device_path[len(m.device):].lstrip("/")
                return f"{m.tree}/{rest}".strip("/") if m.tree else rest
        return None

    def to_device(self, name: str) -> str | None:
        """The device path of a tree name, or ``None`` when no mapping covers it."""
        best: Mapping | None = None
        for m in self._mappings:
            if (not m.tree or name == m.tree or name.startswith(m.tree + "/")) and (
                best is None or len(m.tree) > len(best.tree)
            ):
                best = m
        if best is None:
            return None
        rest = name[len(best.tree):].lstrip("/") if best.tree else name
        return (best.device + "/" + rest).rstrip("/") if rest else (best.device or "/")

    def resolve(self, device_path: str) -> TreeEntry | None:
        """The entry at a device path, following links inside the tree."""
        path = device_path
        for _ in range(self.MAX_HOPS):
            name = self.to_tree(path)
            if name is None:
                return None
            entry = self.tree.get(name)
            if entry is not None and entry.kind not in ("symlink", "hardlink"):
                return entry
            target = self._follow(path, entry) if entry is not None else self._through_parent(path)
            if target is None:
                return None
            path = target
        self.refuse(device_path, f"more than {self.MAX_HOPS} links to follow")
        return None

    def _follow(self, path: str, entry: TreeEntry) -> str | None:
        if entry.kind == "hardlink":
            return self.to_device(entry.link)
        link = entry.link
        if not link:
            return None
        target = link_target(path, link)
        if target is None:
            self.refuse(path, f"a link to {link}, which climbs out of the evidence")
            return None
        return "/" + target

    def _through_parent(self, path: str) -> str | None:
        """A path whose parent folder is a link: follow the deepest link among its parents."""
        head, _, tail = path.rpartition("/")
        while head:
            name = self.to_tree(head)
            entry = self.tree.get(name) if name is not None else None
            if entry is not None:
                if entry.kind != "symlink":
                    return None
                target = self._follow(head, entry)
                return None if target is None else target.rstrip("/") + "/" + tail
            head, _, rest = head.rpartition("/")
            tail = rest + "/" + tail
        return None

    # -- the acquisition interface ---------------------------------------------------------------

    def _file_entry(self, device_path: str, e: TreeEntry) -> FileEntry:
        kind = e.kind if e.kind in ("file", "dir", "symlink") else ("file" if e.kind == "hardlink" else "other")
        return FileEntry(
            device_path, kind, e.size, e.mode, timeutil.unix(e.birth), timeutil.unix(e.mtime), timeutil.unix(e.ctime),
            e.problem is None and kind == "file", e.path, link=e.link,
        )

    def entry(self, device_path: str) -> FileEntry | None:
        """The entry at a device path (links followed inside the tree)."""
        name = self.to_tree(device_path)
        if name is None:
            return None
        found = self.tree.get(name)
        if found is not None and found.kind in ("symlink", "hardlink"):
            target = self.resolve(device_path)
            found = target if target is not None else found
        elif found is None:
            found = self.resolve(device_path)
        if found is None:
            return None
        if found.problem is not None:
            self.refuse(device_path, found.problem)
        return self._file_entry(device_path, found)

    def listing(self) -> Iterator[list[FileEntry]]:
        """Every entry of the tree that a mapping covers, in tree order, with its metadata."""
        for batch in self.tree.entries():
            out = []
            for e in batch:
                device = self.to_device(e.path)
                if device is not None:
                    out.append(self._file_entry(device, e))
            if out:
                yield out

    def glob(self, pattern: str) -> list[str]:
        """Device paths of stored files matching a glob, narrowed through the tree index: the
        glob's literal head becomes a name prefix per mapping, a literal file name an equality."""
        if not any(c in pattern for c in "*?["):
            return [pattern] if self.exists(pattern) else []
        regex = compile_glob(pattern)
        first = min(i for i, c in enumerate(pattern) if c in "*?[")
        head = pattern[:first]
        last = pattern.rsplit("/", 1)[-1]
        name = None if any(c in last for c in "*?[") else last
        found: set[str] = set()
        for m in self._mappings:
            if not m.device or head.startswith(m.device + "/"):
                tree_head = (self.to_tree(head.rstrip("/") or "/") or "") if head.rstrip("/") else m.tree
                if head.endswith("/") and tree_head:
                    tree_head += "/"
            elif (m.device + "/").startswith(head):
                tree_head = m.tree + "/" if m.tree else ""
            else:
                continue
            for candidate in self.tree.candidates(tree_head, name):
                device = self.to_device(candidate)
                if device is not None and regex.match(device) and self.exists(device):
                    found.add(device)
        return sorted(found)

    def exists(self, device_path: str) -> bool:
        """Whether the tree holds a readable file at a device path."""
        entry = self.entry(device_path)
        return entry is not None and entry.kind == "file" and entry.stored

    def open(self, device_path: str) -> BinaryIO:
        """A stream over the file at a device path (links followed inside the tree); the private
        copy when the file was already extracted."""
        copy = self._materialized.get(device_path)
        if copy is not None:
            return copy.open("rb")
        entry = self.resolve(device_path)
        if entry is None or entry.kind not in ("file", "hardlink"):
            raise FileNotFoundError(device_path)
        if entry.problem is not None:
            self.refuse(device_path, entry.problem)
            raise ArtefactError(f"refused: {entry.problem}")
        return self.tree.open(entry)

    def local_path(self, device_path: str) -> Path | None:
        """For a folder, the file itself (no copy); ``None`` for an archive."""
        if not self.tree.is_folder:
            return None
        entry = self.resolve(device_path)
        return self.tree.local_path(entry) if entry is not None else None

    def close(self) -> None:
        """Release the tree and the private folder."""
        self.tree.close()
        super().close()
