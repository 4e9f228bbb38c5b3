"""DataUsage: processes that used the network and their live-usage rows (``DataUsage.sqlite``).

DataUsage.sqlite (and its sibling netusage.sqlite, see :mod:`unmask.parsers.ios.netusage`) is a
Core Data store. ``ZPROCESS`` has one row per process or app that moved data (its name, its bundle
id, when it was first and last seen); ``ZLIVEUSAGE`` has usage counters whose ``ZHASPROCESS`` points
at a ``ZPROCESS.Z_PK``. Spyware process names show up here even after the binary is gone, and
published Pegasus anti-forensics deletes ``ZPROCESS`` rows while leaving their usage rows behind,
so each live-usage record says whether the process row it points at still exists. The rules that
judge these facts live in :mod:`unmask.detect.heuristics`.

The reader here is shared: netusage.sqlite has the same two tables, and its parser is a thin
subclass that only changes the paths and the record kinds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, integer, number, text


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageProcess(Record):
    """One ``ZPROCESS`` row of DataUsage.sqlite: a process or app that used the network."""

    kind: ClassVar[str] = "ios/datausage/process"
    summary: ClassVar[str] = "Process {process} (bundle {bundle_id}, Z_PK {pk}) first seen {first_seen}"

    first_seen: datetime | None = None
    last_seen: datetime | None = None
    pk: int
    process: Annotated[str | None, Obs.PROCESS] = None
    bundle_id: Annotated[str | None, Obs.APP_ID] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveUsage(Record):
    """One ``ZLIVEUSAGE`` row of DataUsage.sqlite: network counters of one process.

    ``process_pk`` is the ``ZHASPROCESS`` foreign key; ``process_exists`` says whether that process
    row is in ``ZPROCESS`` (``None`` when the row points at no process at all). ``process`` and
    ``bundle_id`` are resolved from the process row for reading; they are deliberately not declared
    observables, because the process record already carries them and one process would otherwise
    be matched once per usage row.
    """

    kind: ClassVar[str] = "ios/datausage/live_usage"
    summary: ClassVar[str] = (
        "Usage by {process} (process Z_PK {process_pk}): wifi in {wifi_in} out {wifi_out}, "
        "cellular in {wwan_in} out {wwan_out}"
    )

    time: datetime | None = None
    pk: int
    process_pk: int | None = None
    process_exists: bool | None = None
    process: str | None = None
    bundle_id: str | None = None
    usage_kind: int | None = None
    wifi_in: float | None = None
    wifi_out: float | None = None
    wwan_in: float | None = None
    wwan_out: float | None = None
    wired_in: float | None = None
    wired_out: float | None = None


class CoreDataUsageParser(SqliteParser, abstract=True):
    """Shared reader of the ``ZPROCESS``/``ZLIVEUSAGE`` pair of DataUsage and netusage stores.

    Subclasses set ``name``, ``sources``, ``process_record`` and ``live_record``. Two queries per
    database (one per table); the process keys are kept in a set so the live-usage rows are linked
    without a query per row.
    """

    process_record: ClassVar[type[UsageProcess]] = UsageProcess
    live_record: ClassVar[type[LiveUsage]] = LiveUsage
    # Only the process key is indispensable: without it neither the processes nor the links from
    # usage rows can be told apart. Every other column is read when present.
    required: ClassVar[dict[str, set[str]]] = {"ZPROCESS": {"Z_PK"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """Yield every process row, then every live-usage row linked to its process."""
        processes: dict[int, UsageProcess] = {}
        t = "ZPROCESS"
        sql = (
            f"SELECT {db.col(t, 'Z_PK', 'pk')}, {db.col(t, 'ZPROCNAME', 'name')}, "
            f"{db.col(t, 'ZBUNDLENAME', 'bundle')}, {db.col(t, 'ZFIRSTTIMESTAMP', 'first')}, "
            f"{db.col(t, 'ZTIMESTAMP', 'last')} FROM ZPROCESS"
        )
        skipped = 0
        for row in db.query(sql):
            pk = integer(row["pk"])
            if pk is None:
                skipped += 1
                continue
            record = self.process_record(
                device_path=db.device_path,
                locator=f"ZPROCESS.Z_PK={pk}",
                pk=pk,
                process=text(row["name"]),
                bundle_id=text(row["bundle"]),
                first_seen=timeutil.cocoa(row["first"]),
                last_seen=timeutil.cocoa(row["last"]),
            )
            processes[pk] = record
            yield record
        if skipped:
            ctx.warn(f"{db.device_path}: {skipped} ZPROCESS rows without an integer Z_PK skipped")
        if not db.has("ZLIVEUSAGE", "Z_PK"):
            ctx.warn(f"{db.device_path}: no ZLIVEUSAGE table with Z_PK; live usage not read")
            return
        yield from self._live(ctx, db, processes)

    def _live(self, ctx: ParseContext, db: Database, processes: dict[int, UsageProcess]) -> Iterator[Record]:
        t = "ZLIVEUSAGE"
        sql = (
            f"SELECT {db.col(t, 'Z_PK', 'pk')}, {db.col(t, 'ZHASPROCESS', 'process')}, "
            f"{db.col(t, 'ZTIMESTAMP', 'time')}, {db.col(t, 'ZKIND', 'kind')}, "
            f"{db.col(t, 'ZWIFIIN', 'wifi_in')}, {db.col(t, 'ZWIFIOUT', 'wifi_out')}, "
            f"{db.col(t, 'ZWWANIN', 'wwan_in')}, {db.col(t, 'ZWWANOUT', 'wwan_out')}, "
            f"{db.col(t, 'ZWIREDIN', 'wired_in')}, {db.col(t, 'ZWIREDOUT', 'wired_out')} FROM ZLIVEUSAGE"
        )
        skipped = 0
        for row in db.query(sql):
            pk = integer(row["pk"])
            if pk is None:
                skipped += 1
                continue
            process_pk = integer(row["process"])
            process = processes.get(process_pk) if process_pk is not None else None
            yield self.live_record(
                device_path=db.device_path,
                locator=f"ZLIVEUSAGE.Z_PK={pk}",
                pk=pk,
                time=timeutil.cocoa(row["time"]),
                process_pk=process_pk,
                process_exists=None if process_pk is None else process is not None,
                process=process.process if process else None,
                bundle_id=process.bundle_id if process else None,
                usage_kind=integer(row["kind"]),
                wifi_in=number(row["wifi_in"]),
                wifi_out=number(row["wifi_out"]),
                wwan_in=number(row["wwan_in"]),
                wwan_out=number(row["wwan_out"]),
                wired_in=number(row["wired_in"]),
                wired_out=number(row["wired_out"]),
            )
        if skipped:
            ctx.warn(f"{db.device_path}: {skipped} ZLIVEUSAGE rows without an integer Z_PK skipped")


class DataUsageParser(CoreDataUsageParser):
    """Processes and per-process network usage recorded by the wireless stack (DataUsage.sqlite)."""

    name = "datausage"
    platform = "ios"
    sources = (Source("/private/var/wireless/Library/Databases/DataUsage.sqlite"),)
    records = (UsageProcess, LiveUsage)
