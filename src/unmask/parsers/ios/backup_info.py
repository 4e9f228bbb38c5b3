"""BackupInfo: the device, iOS version and installed apps recorded in a backup's Info.plist."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Parser, Source, text


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupInfo(Record):
    """The device a backup was taken from."""

    kind: ClassVar[str] = "ios/backup/info"
    summary: ClassVar[str] = "Backup of {device_name} ({product_type}), iOS {ios_version} ({build})"

    backup_date: datetime | None = None
    device_name: str | None = None
    product_type: str | None = None
    ios_version: str | None = None
    build: str | None = None
    serial_number: str | None = None
    udid: str | None = None
    imei: str | None = None
    phone_number: str | None = None
    itunes_version: str | None = None
    installed_apps: Annotated[tuple[str, ...], Obs.APP_ID] = ()


class BackupInfoParser(Parser):
    """Device model, iOS version and installed applications from the backup's Info.plist."""

    name = "backup_info"
    platform = "ios"
    sources = (Source.host("Info.plist"),)
    records = (BackupInfo,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Read Info.plist from the backup folder (it is the backup's own file, not the device's)."""
        if ctx.acq.host_file(device_path) is None:
            raise ArtefactError("Info.plist is missing")
        info = plist.load_dict(ctx.read_plist(device_path))
        apps = info.get("Installed Applications")
        last = info.get("Last Backup Date")
        yield BackupInfo(
            device_path=device_path,
            locator="Info.plist",
            backup_date=timeutil.aware(last) if isinstance(last, datetime) else None,
            device_name=_s(info, "Device Name"),
            product_type=_s(info, "Product Type"),
            ios_version=_s(info, "Product Version"),
            build=_s(info, "Build Version"),
            serial_number=_s(info, "Serial Number"),
            udid=_s(info, "Unique Identifier") or _s(info, "Target Identifier"),
            imei=_s(info, "IMEI"),
            phone_number=_s(info, "Phone Number"),
            itunes_version=_s(info, "iTunes Version"),
            installed_apps=tuple(a for a in apps if isinstance(a, str)) if isinstance(apps, list) else (),
        )


def _s(info: dict[str, Any], key: str) -> str | None:
    return text(info.get(key))
