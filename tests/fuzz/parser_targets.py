"""One fuzz target per registered parser, whatever its platform and name space.

Each input is served to the parser by :class:`ArtefactAcquisition`: a scratch folder presented as
an acquisition of the parser's platform that holds the input at one place per source of the
parser: a device path (the glob made concrete with the name a builder gave, else with ``fuzz``), a
file of the acquisition's own (``Source.host``), or a named section (``Source.section``, mapped
by :meth:`~unmask.acquisition.base.Acquisition.map_sections`). So a parser that reads
``acquisition.json`` and ``adb_host_key.pub``, or ``sysdiagnose:ps.txt`` and ``ps_thread.txt``,
meets every input in each of its forms. The device's time zone and the collection time are those
of the acquisition the seeds came from, except for one input length in four without any and one
in four with another zone (so the inferred-zone and inferred-year paths are fuzzed too).

The files an iOS backup reads itself (``Manifest.db``, ``Info.plist``) are served in a one-file
backup instead (:class:`tests.fuzz.targets.OneFileBackup`): the acquisition, not the parser, reads
them first.

Seeds: everything :func:`tests.fuzz.harvest.harvest` finds for the parser in the project's sample
builders, then the hand-made extras of ``tests/fuzz/targets.py`` (``_PARSER_SEEDS``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.builders.fuzz import assert_writable
from tests.fuzz.harvest import Harvested, concrete, harvest
from unmask.acquisition.base import Acquisition, FileEntry, Section
from unmask.model import Coverage, Status
from unmask.parsers.base import Parser, Where, run_parser
from unmask.parsers.registry import qualified, registry

_WHEN = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
_OTHER_ZONE = ("Asia/Kathmandu", _WHEN)
"""The zone and collection time of one input length in four: an odd offset (+05:45)."""


@dataclass(frozen=True)
class Place:
    """Where an input is served: a name in one name space."""

    where: Where
    name: str


class ArtefactAcquisition(Acquisition):
    """A scratch folder presented as an acquisition of ``platform`` holding one file (``input``) at
    every :class:`Place`: device paths and files of its own are hard links to it, sections are
    all of it. Not registered (no ``kind``)."""

    def __init__(self, folder: Path, platform: str, places: list[Place], zone: str | None,
                 collected: datetime | None) -> None:
        super().__init__(folder / "own")
        self.platform = platform  # type: ignore[misc]  # a class variable elsewhere; one instance here
        self.input = folder / "input"
        self._zone = zone
        self._collected = collected
        self._device: dict[str, Path] = {}
        section_names: list[str] = []
        for place in places:
            if place.where is Where.DEVICE:
                self._device[place.name] = _linked(self.input, folder / "device" / place.name.lstrip("/"))
            elif place.where is Where.HOST:
                _linked(self.input, self.root / place.name)
            else:
                section_names.append(place.name)
        if section_names:
            _linked(self.input, self.root / "sections.bin")
        self._section_map = {n: Section(n, "sections.bin", host=True) for n in section_names}

    def entry(self, device_path: str) -> FileEntry | None:
        path = self._device.get(device_path)
        if path is None:
            return None
        return FileEntry(device_path, "file", path.stat().st_size, 0o100644, _WHEN, _WHEN, _WHEN, locator=device_path)

    def listing(self) -> Iterator[list[FileEntry]]:
        entries = [e for e in (self.entry(p) for p in self._device) if e is not None]
        if entries:
            yield entries

    def local_path(self, device_path: str) -> Path | None:
        return self._device.get(device_path)

    def map_sections(self) -> dict[str, Section]:
        return dict(self._section_map)

    def timezone(self) -> str | None:
        return self._zone

    def collected(self) -> datetime | None:
        return self._collected


def _linked(source: Path, link: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        if not source.exists():
            source.write_bytes(b"")
        os.link(source, link)
    return link


def place_of(parser: type[Parser], item: Harvested) -> Place:
    """Where a harvested artefact is served: its own name, in its source's name space."""
    return Place(parser.sources[item.source].where, item.name)


def _extension(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1] if "." in last else ""


def places_of(parser: type[Parser], harvested: list[Harvested]) -> list[Place]:
    """The places an input is served at: per source of the parser, each name a builder gave it
    with an extension of its own (``tombstone_00`` and ``tombstone_01.pb`` are read as text and as
    protobuf), else the pattern made concrete."""
    out: list[Place] = []
    for i, source in enumerate(parser.sources):
        names = [h.name for h in harvested if h.source == i]
        chosen: dict[str, str] = {}
        for name in names:
            chosen.setdefault(_extension(name), name)
        for name in list(chosen.values()) or [concrete(source)]:
            place = Place(source.where, name)
            if place not in out:
                out.append(place)
    return out


def check_coverage(records: list[Any], coverage: Coverage, *, absent: bool = False) -> None:
    """What every parser run must end with: a status (``absent`` only when allowed: a scan of a
    whole acquisition), a reason for each failure, no parser bug, records that every writer takes."""
    from tests.fuzz.targets import Violation

    allowed = (Status.PARSED, Status.PARTIAL, Status.FAILED, Status.UNSUPPORTED, *((Status.ABSENT,) if absent else ()))
    if coverage.status not in allowed:
        raise Violation(f"coverage {coverage.status} for a stored artefact ({coverage.reason})")
    for artefact in coverage.artefacts:
        if (artefact.reason or "").startswith("unexpected"):
            raise Violation(f"parser bug: {artefact.reason}")
        if artefact.status is not Status.PARSED and not artefact.reason:
            raise Violation(f"{artefact.status} without a reason")
    assert_writable(records)


def note_run(records: list[Any], coverage: Coverage) -> None:
    """Hold a parser run to :func:`check_coverage`, then note its outcome (status, records, the
    reason's variable parts blanked) for the fuzzer's coverage of behaviours."""
    from tests.fuzz.targets import VARIABLE, note

    check_coverage(records, coverage)
    reason = coverage.reason or ""
    note(f"{coverage.status}:{min(len(records), 3)}:{VARIABLE.sub('#', reason.partition(': ')[2])[:50]}")


@dataclass
class ParserRun:
    """Runs one parser on inputs served at its places, in a sealed scratch folder
    (:func:`tests.fuzz.archive_targets.sealed`: the input unchanged, nothing written beside it, no
    private folder left behind)."""

    parser: type[Parser]
    folder: Path
    zone: str | None = None
    collected: datetime | None = None
    places: list[Place] = field(default_factory=list)

    def __call__(self, data: bytes, place: Place | None = None) -> None:
        """Serve ``data`` at every place (or at ``place`` only) and run the parser on it."""
        from tests.fuzz.archive_targets import sealed
        from tests.fuzz.targets import BUDGET

        places = self.places if place is None else [place]
        zone, collected = self._zone_for(data)
        folder = self.folder / ("all" if place is None else f"{place.where}-{place.name.replace('/', '_')}")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "input").write_bytes(data)  # in place: every hard link sees it
        acq = ArtefactAcquisition(folder, self.parser.platform if self.parser.platform != "any" else "ios", places,
                                  zone, collected)
        with sealed(folder, folder / "input"):
            try:
                records, coverage = run_parser(self.parser(), acq, BUDGET)
            finally:
                acq.close()
        note_run(records, coverage)

    def _zone_for(self, data: bytes) -> tuple[str | None, datetime | None]:
        variant = len(data) % 4
        if variant == 2:
            return None, None
        if variant == 3:
            return _OTHER_ZONE
        return self.zone, self.collected


def backup_hosted(parser: type[Parser], harvested: list[Harvested]) -> bool:
    """Whether the parser reads a file an iOS backup reads itself (Manifest.db, Info.plist): such
    inputs are served in a one-file backup, which the acquisition opens first."""
    first = parser.sources[0]
    if first.where is not Where.HOST:
        return False
    kinds = {h.acquisition for h in harvested if h.source == 0}
    return "ios-backup" in kinds or (not kinds and parser.platform == "ios")


def parser_targets(scratch: Callable[[str], Path], hand_made: dict[str, Callable[[], list[bytes]]]) -> list[Any]:
    """A target per registered parser that has seeds (harvested or hand-made)."""
    from tests.fuzz.targets import OneFileBackup, ParserTarget

    found = harvest()
    out = []
    for parser in registry():
        name = qualified(parser)
        harvested = found.get(name, [])
        extra = hand_made.get(name)
        if not harvested and extra is None:
            continue
        origins = [(h.data, place_of(parser, h)) for h in harvested]

        def seeds(harvested: list[Harvested] = harvested, extra: Callable[[], list[bytes]] | None = extra) -> list[bytes]:
            out: list[bytes] = []
            for data in [h.data for h in harvested] + (extra() if extra else []):
                if data not in out:
                    out.append(data)
            return out

        first = harvested[0] if harvested else None
        if backup_hosted(parser, harvested):
            holder: list[OneFileBackup] = []

            def run_backup(data: bytes, place: Place | None = None, parser: type[Parser] = parser,
                           holder: list[OneFileBackup] = holder, seeds: Callable[[], list[bytes]] = seeds) -> None:
                if not holder:
                    holder.append(OneFileBackup(parser, seeds()[0]))
                holder[0].run(data)

            out.append(ParserTarget(f"parser.{name}", "auto", seeds, run_backup, parser=parser, origins=origins))
            continue
        run = ParserRun(parser, scratch(f"parser-{name}"), first.timezone if first else None,
                        first.collected if first else None, places_of(parser, harvested))
        out.append(ParserTarget(f"parser.{name}", "auto", seeds, run, parser=parser, origins=origins))
    return out
