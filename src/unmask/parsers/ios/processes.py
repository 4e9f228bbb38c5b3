"""Processes running when the evidence was taken: the record every process list yields.

Not a parser: :class:`RunningProcess` is the base of the records of ``ps.txt``/``ps_thread.txt``
(:mod:`unmask.parsers.ios.ps`), ``taskinfo.txt`` (:mod:`unmask.parsers.ios.taskinfo`) and the
spindump (:mod:`unmask.parsers.ios.spindump`), so the rules on running processes consume one
class whatever list named the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.model import Obs, Timestamp, WallClockRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningProcess(WallClockRecord):
    """A process running when the evidence was taken: its pid, parent, user, start time and
    executable."""

    kind: ClassVar[str] = "ios/process/running"
    summary: ClassVar[str] = "process {name} (pid {pid}, parent {ppid}, user {user}) started {started}: {path}"

    started: Timestamp | None = None
    pid: int | None = None
    ppid: int | None = None
    user: str | None = None
    uid: int | None = None
    name: Annotated[str | None, Obs.PROCESS] = None
    path: Annotated[str | None, Obs.FILE_PATH] = None
    command: str | None = None
    threads: int | None = None


def executable(command: str) -> tuple[str | None, str | None]:
    """(path, name) of the executable a command line runs: a path up to its first ``-option``
    (paths hold spaces: ``/Applications/Some App.app/Some App``), its last component the name."""
    line = command.strip()
    if not line:
        return None, None
    if line.startswith("/"):
        path = line.split(" -", 1)[0].rstrip()
        return path, path.rstrip("/").rsplit("/", 1)[-1] or None
    first = line.split()[0]
    return None, first.rsplit("/", 1)[-1] or None
