"""Worker processes that screen files under hard per-file time and memory limits.

Hostile input is the normal case: a parser bug could loop, a fuzzed file could need gigabytes.
Each worker caps its own address space (``RLIMIT_AS``) and the parent kills and replaces a worker
that overruns its time, so one bad file yields a report with ``limits_hit`` and the scan goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .engine import screen_bytes
from .result import DEFAULT_LIMITS, FileReport, Limits

# Grace on top of Limits.seconds before the parent kills a worker: the cooperative deadline inside
# the parsers should normally end the file first and keep its partial findings.
_KILL_GRACE = 2.0


@dataclass(frozen=True)
class ScreenItem:
    """A file to screen, with the name and MIME type it *claims* (which may differ from the path).

    iOS stores attachments under hashed names; the original name and MIME type come from the
    messages database and are passed here so that a disguise is still seen.
    """

    path: Path
    name: str | None = None
    mime: str | None = None


def expand_inputs(
    paths: Iterable[str | Path], on_skip: Callable[[Path, str], None] | None = None
) -> Iterator[ScreenItem]:
    """Turn command-line paths into items: folders recursively (sorted, symlinks not followed).

    A path named on the command line is followed if it is a link (the user chose it); inside
    folders, links and anything that is not a regular file (FIFOs, sockets, devices, which could
    block or never end) are skipped and reported to ``on_skip`` with the reason. A ZIP file is
    yielded as one item; screening treats it as a container and screens its members. Raises
    ``FileNotFoundError`` for a path that does not exist.
    """
    skip = on_skip or (lambda path, why: None)
    for raw in paths:
        p = Path(raw)
        try:
            mode = os.stat(p).st_mode
        except OSError:
            raise FileNotFoundError(f"no such file or folder: {p}") from None
        if stat.S_ISDIR(mode):
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs.sort()
                for name in sorted(dirs):
                    if os.path.islink(os.path.join(root, name)):
                        skip(Path(root) / name, "a link to a folder, not followed")
                for fname in sorted(files):
                    fp = Path(root) / fname
                    kind = _kind(fp)
                    if kind is None:
                        yield ScreenItem(fp)
                    else:
                        skip(fp, kind)
        elif stat.S_ISREG(mode):
            yield ScreenItem(p)
        else:
            skip(p, _kind(p, follow=True) or "not a regular file")


def _kind(path: Path, *, follow: bool = False) -> str | None:
    """``None`` for a regular file, else what the path is instead (why it is not screened)."""
    try:
        mode = os.stat(path).st_mode if follow else os.lstat(path).st_mode
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link, not followed"
    if stat.S_ISFIFO(mode):
        return "a FIFO, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    return "not a regular file"


def _as_item(x: ScreenItem | str | Path) -> ScreenItem:
    if isinstance(x, ScreenItem):
        return x if isinstance(x.path, Path) else ScreenItem(Path(x.path), x.name, x.mime)
    return ScreenItem(Path(x))


def _failed(item: ScreenItem, error: str, limit: str | None) -> FileReport:
    sha, size = "", 0
    try:
        if not stat.S_ISREG(os.stat(item.path).st_mode):
            # A FIFO or device could block the parent too; only the worker may wait on it.
            return FileReport(
                str(item.path),
                "",
                0,
                None,
                None,
                errors=[error + "; not a regular file"],
                limits_hit=[limit] if limit else [],
            )
        h = hashlib.sha256()
        with open(item.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
        sha = h.hexdigest()
    except OSError as exc:
        error = f"{error}; cannot read: {exc}"
    return FileReport(
        path=str(item.path),
        sha256=sha,
        size=size,
        detected_type=None,
        claimed_type=None,
        errors=[error],
        limits_hit=[limit] if limit else [],
    )


def screen_path(item: ScreenItem | str | Path, limits: Limits = DEFAULT_LIMITS) -> FileReport:
    """Read and screen one file in this process (what a worker does for each item)."""
    item = _as_item(item)
    try:
        size = item.path.stat().st_size
        if size > limits.max_file_bytes:
            report = _failed(
                item, f"not screened: {size} bytes is over the {limits.max_file_bytes} limit", None
            )
            report.limits_hit.append("file-size")
            return report
        data = item.path.read_bytes()
    except OSError as exc:
        return FileReport(str(item.path), "", 0, None, None, errors=[f"cannot read: {exc}"])
    report = screen_bytes(data, name=item.name or item.path.name, mime=item.mime, limits=limits)
    report.path = str(item.path)
    return report


def _set_memory_limit(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the time limit still applies
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    base = 0
    try:  # the interpreter's own mappings must not count against the per-file budget
        with open("/proc/self/statm") as fh:
            base = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        base = 512 * 1024 * 1024
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = base + limit
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError):
        pass


def _worker_main(conn: Connection, limits: Limits) -> None:
    # Ctrl-C is the parent's to handle: it stops the scan and kills the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_memory_limit(limits.memory_bytes)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        item: ScreenItem = msg
        try:
            report = screen_path(item, limits)
        except MemoryError:
            report = FileReport(
                str(item.path),
                "",
                0,
                None,
                None,
                errors=["limit reached: out of memory"],
                limits_hit=["memory"],
            )
        except Exception as exc:  # a parser bug: report it, keep the worker
            report = FileReport(
                str(item.path), "", 0, None, None, errors=[f"internal error: {type(exc).__name__}: {exc}"]
            )
        try:
            conn.send(report)
        except MemoryError:
            conn.send(
                FileReport(
                    str(item.path),
                    "",
                    0,
                    None,
                    None,
                    errors=["limit reached: out of memory"],
                    limits_hit=["memory"],
                )
            )


class _Worker:
    def __init__(self, ctx: Any, limits: Limits) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, limits), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[int, ScreenItem] | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


def _mp_context() -> Any:
    # fork is unsafe once threads exist and unavailable on Windows; forkserver keeps start-up cheap
    # on Linux while giving each worker a clean interpreter. Its Unix socket lives in the temporary
    # folder, and a socket path longer than 107 bytes cannot be bound: with a long TMPDIR, spawn
    # (pipes only) is used instead.
    if sys.platform.startswith("linux") and len(tempfile.gettempdir()) <= _SOCKET_DIR_MAX:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["unmask.detect.payloads.engine"])
        return ctx
    return mp.get_context("spawn")


_SOCKET_DIR_MAX = 60
"""The longest temporary folder path under which forkserver's socket (``pymp-XXXXXXXX/listener-
XXXXXXXX``, about 40 bytes more) still fits the 107 bytes of a Unix socket path."""


def prepare() -> None:
    """Start the worker server now, so that its start-up (a fresh interpreter importing the
    screening engine) overlaps whatever the caller does before :func:`screen_files`."""
    ctx = _mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def screen_files(
    items: Iterable[ScreenItem | str | Path],
    *,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    on_progress: Callable[[FileReport], None] | None = None,
) -> list[FileReport]:
    """Screen many files in parallel worker processes; returns reports in input order.

    Each file gets at most ``limits.seconds`` (plus a short grace) and ``limits.memory_bytes`` of
    address space. A file that overruns, or that kills its worker, yields a report with an error
    and ``limits_hit`` (``time``, ``memory`` or ``crash``); the worker is replaced and the scan
    continues.
    ``workers=None`` uses the CPU count (at most 8); ``workers=0`` screens in this process with
    only the cooperative limits (for debugging; not for hostile input). ``on_progress`` is called
    in the parent with each report as it completes.
    """
    todo = [_as_item(x) for x in items]
    if not todo:
        return []
    results: list[FileReport | None] = [None] * len(todo)
    if workers == 0:
        for i, item in enumerate(todo):
            rep = screen_path(item, limits)
            results[i] = rep
            if on_progress:
                on_progress(rep)
        return [r for r in results if r is not None]
    n = max(1, min(workers or min(os.cpu_count() or 1, 8), len(todo) or 1))
    ctx = _mp_context()
    pool: list[_Worker] = []
    nxt = 0
    done = 0

    def finish(i: int, report: FileReport) -> None:
        nonlocal done
        results[i] = report
        done += 1
        if on_progress:
            on_progress(report)

    try:
        pool = [_Worker(ctx, limits) for _ in range(n)]
        while done < len(todo):
            for k, w in enumerate(pool):
                if w.task is None and nxt < len(todo):
                    try:
                        w.conn.send(todo[nxt])
                    except OSError:  # the idle worker died (killed from outside): replace it, retry
                        w.kill()
                        pool[k] = _Worker(ctx, limits)
                        continue
                    w.task = (nxt, todo[nxt])
                    w.deadline = time.monotonic() + limits.seconds + _KILL_GRACE
                    nxt += 1
            busy = [w for w in pool if w.task is not None]
            if not busy:
                continue
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=timeout)
            now = time.monotonic()
            for k, w in enumerate(pool):
                if w.task is None:
                    continue
                i, item = w.task
                replace = False
                if w.conn in ready:
                    try:
                        report: FileReport = w.conn.recv()
                        report.path = str(item.path)
                        finish(i, report)
                        w.task = None
                        continue
                    except (EOFError, OSError):
                        replace = True
                if replace or w.proc.sentinel in ready or not w.proc.is_alive():
                    code = w.proc.exitcode
                    finish(i, _failed(item, f"worker died while screening (exit code {code})", "crash"))
                    replace = True
                elif now >= w.deadline:
                    finish(
                        i,
                        _failed(
                            item,
                            f"limit reached: screening took over {limits.seconds:g} s; worker killed",
                            "time",
                        ),
                    )
                    replace = True
                if replace:
                    w.kill()
                    pool[k] = _Worker(ctx, limits)
    finally:
        for w in pool:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send(None)
        for w in pool:
            w.proc.join(timeout=2)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=2)
            w.conn.close()
    return [r for r in results if r is not None]
