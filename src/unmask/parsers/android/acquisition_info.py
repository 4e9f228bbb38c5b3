"""AndroidQF's acquisition.json: when, by which version, with which ADB host key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Record, Timestamp
from unmask.parsers.android._common import text_of
from unmask.parsers.base import ParseContext, Parser, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class AcquisitionInfo(Record):
    """One AndroidQF acquisition's own facts (mvt-project/androidqf ``acquisition/acquisition.go``)."""

    kind: ClassVar[str] = "android/androidqf/acquisition"
    summary: ClassVar[str] = "AndroidQF {androidqf_version} acquisition {uuid}"
    uuid: str | None = None
    androidqf_version: str | None = None
    started: Timestamp | None = None
    completed: Timestamp | None = None
    tmp_dir: str | None = None
    sdcard: str | None = None
    cpu: str | None = None
    adb_host_key: str | None = None
    """The acquiring computer's ADB public key (``adb_host_public_key``), when recorded."""


class AcquisitionInfoParser(Parser):
    """AndroidQF acquisition.json (uuid, version, start and end, temp folder, ADB host key)."""

    name = "androidqf_acquisition"
    platform = "android"
    sources = (Source.host("acquisition.json"), Source.host("adb_host_key.pub"))
    records = (AcquisitionInfo,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[AcquisitionInfo]:
        with ctx.open(device_path) as handle:
            data = handle.read(16 << 20)
        if device_path == "adb_host_key.pub":
            key = data.decode("utf-8", "backslashreplace").strip()
            if key:
                yield AcquisitionInfo(device_path=device_path, adb_host_key=key[:8192])
            return
        try:
            info = json.loads(data)
        except (ValueError, RecursionError):
            raise ArtefactError("acquisition.json is not JSON") from None
        if not isinstance(info, dict):
            raise ArtefactError("acquisition.json is not a JSON object")

        def when(key: str) -> Timestamp | None:
            value = info.get(key)
            found = timeutil.parse_iso(value) if isinstance(value, str) else None
            return found.value if found is not None and found.value.year > 1971 else None

        yield AcquisitionInfo(
            device_path=device_path,
            uuid=text_of(info.get("uuid")),
            androidqf_version=text_of(info.get("androidqf_version")),
            started=when("started"),
            completed=when("completed"),
            tmp_dir=text_of(info.get("tmp_dir")),
            sdcard=text_of(info.get("sdcard")),
            cpu=text_of(info.get("cpu")),
            adb_host_key=text_of(info.get("adb_host_public_key"), 8192),
        )
