"""Seeds for every parser, harvested from the project's own sample builders.

Each :class:`Evidence` writes one acquisition with a builder of ``tests/builders`` (the sample
iOS backup, the same backup encrypted, the sample full-filesystem dump, a sysdiagnose with planted traces, the sample AndroidQF
acquisition with its nested bugreport and ``.ab`` backup, the bugreport and the ``.ab`` on their
own). :func:`harvest` opens each one through the acquisition registry, asks every registered
parser of its platform which artefacts it would read (``parser().resolve(acq)``) and keeps the
bytes of each (``ParseContext(acq).open(name)``), with the source of the parser it answers, the
acquisition's kind, time zone and collection time. It runs once per process (a few seconds).

A parser that no builder gives data to is named by
``tests/fuzz/test_regressions.py::test_every_registered_parser_is_a_fuzz_target``: add its artefact
to a builder (for Android, ``tests/builders/android_sample.py``), or hand-made seeds to
``tests/fuzz/targets.py``'s ``_PARSER_SEEDS``.
"""

from __future__ import annotations

import fnmatch
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from unmask.acquisition.base import Acquisition, compile_glob
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.registry import open_acquisition
from unmask.parsers.base import ParseContext, Parser, Source, Where
from unmask.parsers.registry import qualified, registry

MAX_SEED = 1 << 20
"""Artefacts bigger than this are not kept (inputs stay small enough to run many)."""
PER_SOURCE = 3
"""Distinct artefacts kept per source of a parser (a sysdiagnose holds dozens of crash reports)."""
PASSWORD = "correct horse"


@dataclass(frozen=True)
class Harvested:
    """One artefact's bytes, as a parser would read them."""

    parser: str
    """``platform/name``."""
    source: int
    """The index of the parser's source that names it."""
    name: str
    """Its name as the parser resolved it (a device path, a host file, a section)."""
    data: bytes
    origin: str
    """The :class:`Evidence` it came from."""
    acquisition: str
    """The kind of the acquisition that served it (``ios-backup``, ``androidqf`` …)."""
    timezone: str | None
    collected: datetime | None


@dataclass(frozen=True)
class Evidence:
    """A builder that writes one acquisition into a folder and returns its path."""

    name: str
    write: Callable[[Path], Path]
    options: Callable[[], OpenOptions] = OpenOptions
    own_files: bool = True
    """Whether to harvest the acquisition's own files (an encrypted backup's are ciphertext)."""


def _ios_backup(folder: Path) -> Path:
    """The sample backup (small), built once per harvest into ``folder/backup``."""
    from tests.builders.sample import build_sample

    root = folder / "backup"
    if not root.exists():
        build_sample(root, messages=6, visits=6, filler_files=12, processes=6, whatsapp=4)
    return root


def _ios_backup_encrypted(folder: Path) -> Path:
    """The same sample encrypted: its files decrypt to the plain ones (deduplicated), its
    Manifest.db is what an encrypted backup holds."""
    from tests.builders.encrypted_backup import encrypt_backup

    return encrypt_backup(_ios_backup(folder), folder / "encrypted", password=PASSWORD, seed=b"fuzz").root


def _ios_dump(folder: Path) -> Path:
    """The sample full-filesystem dump (small): the parsers only a dump feeds (filesystem,
    containers, Analytics, WebKit folders, caches …) get their artefacts from it."""
    from tests.builders.sample_fs import build_sample_dump

    return build_sample_dump(folder / "fs", files=40).folder


def _sysdiagnose(folder: Path) -> Path:
    from tests.builders.sysdiagnose import SysdiagnoseBuilder, plant

    return plant(SysdiagnoseBuilder().minimal()).write_tar(folder)


def _androidqf(folder: Path) -> Path:
    from tests.builders.android_sample import write_sample_androidqf

    (folder / "aqf").mkdir()
    return write_sample_androidqf(folder / "aqf")


def _bugreport(folder: Path) -> Path:
    from tests.builders.android_sample import bugreport_zip

    return bugreport_zip(folder / "bugreport.zip")


def _android_backup(folder: Path) -> Path:
    from tests.builders.android_sample import sms_backup

    path = folder / "backup.ab"
    path.write_bytes(sms_backup())
    return path


EVIDENCE: tuple[Evidence, ...] = (
    Evidence("ios-backup sample", _ios_backup),
    Evidence("ios-backup sample, encrypted", _ios_backup_encrypted, lambda: OpenOptions(password=lambda: PASSWORD),
             own_files=False),
    Evidence("ios-fs sample dump", _ios_dump),
    Evidence("sysdiagnose, planted", _sysdiagnose),
    Evidence("androidqf sample", _androidqf),
    Evidence("bugreport sample", _bugreport),
    Evidence("android backup sample", _android_backup),
)
"""Every builder seeds are harvested from; a new kind of acquisition adds its sample here."""


def source_of(parser: type[Parser], name: str, acq: Acquisition) -> int | None:
    """The index of the first source of ``parser`` that names the artefact ``name``."""
    section = name in acq.section_names()
    for i, source in enumerate(parser.sources):
        if source.where is Where.SECTION and section and fnmatch.fnmatchcase(name, source.pattern):
            return i
        if source.where is Where.HOST and not section and name == source.pattern:
            return i
        if source.where is Where.DEVICE and name.startswith("/") and compile_glob(source.pattern).match(name):
            return i
    return None


def _harvest_one(evidence: Evidence, folder: Path, parsers: list[type[Parser]],
                 found: dict[str, list[Harvested]]) -> None:
    path = evidence.write(folder)
    with open_acquisition(path, options=evidence.options()) as acq:
        zone, collected = acq.timezone(), acq.collected()
        for parser in parsers:
            if parser.platform not in (acq.platform, "any"):
                continue
            kept = found.setdefault(qualified(parser), [])
            per_source: dict[int, int] = {}
            for name in parser().resolve(acq):
                index = source_of(parser, name, acq)
                if index is None or per_source.get(index, 0) >= PER_SOURCE:
                    continue
                if parser.sources[index].where is Where.HOST and not evidence.own_files:
                    continue
                with ParseContext(acq).open(name) as handle:
                    data = handle.read(MAX_SEED + 1)
                if len(data) > MAX_SEED or any(h.data == data for h in kept):
                    continue
                per_source[index] = per_source.get(index, 0) + 1
                kept.append(Harvested(qualified(parser), index, name, data, evidence.name, acq.kind, zone,
                                      collected))


@cache
def harvest() -> dict[str, list[Harvested]]:
    """``platform/name`` → every artefact the builders give that parser (built once per process)."""
    parsers = list(registry())
    found: dict[str, list[Harvested]] = {}
    with tempfile.TemporaryDirectory(prefix="unmask-fuzz-harvest-") as tmp:
        for evidence in EVIDENCE:
            _harvest_one(evidence, Path(tmp), parsers, found)
    return {name: items for name, items in found.items() if items}


def concrete(source: Source) -> str:
    """A name a source pattern matches, for a source no builder gave an artefact to (``**`` and
    ``*`` made concrete: ``/data/log/**/*`` → ``/data/log/fuzz``)."""
    pattern = source.pattern.replace("**/", "").replace("*", "fuzz").replace("?", "z")
    return pattern
