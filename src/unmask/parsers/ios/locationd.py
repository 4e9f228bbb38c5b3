"""Location clients (locationd ``clients.plist``): every app, daemon and bundle that asked for the location.

locationd keeps one entry per client that used location services, keyed by bundle id for apps or
``com.apple.locationd.bundle-/System/…`` for system bundles, with the bundle id, the path of the
bundle and of its executable, whether it is authorised, and the times it last stopped receiving
locations, visits, fences… (Mac absolute seconds). An implant that asked for the location leaves
its executable path or name here. Keys as documented in tests/schemas/plists.md §3 (from a real
iOS 7 file and iLEAPP/MVT); both locations MVT's LocationdClients module reads (research/mvt.md
§3.3); MVT matches the entry's name and ``BundleId`` as process names and ``BundlePath``,
``Executable`` and ``Registered`` as file paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.observables import basename
from unmask.parsers.base import ParseContext, PlistParser, Source, flag, integer, text

_TIMES = (
    "ConsumptionPeriodBegin",
    "ReceivingLocationInformationTimeStopped",
    "VisitTimeStopped",
    "LocationTimeStopped",
    "BackgroundLocationTimeStopped",
    "SignificantTimeStopped",
    "NonPersistentSignificantTimeStopped",
    "FenceTimeStopped",
    "FenceTimeStarted",
    "BeaconRegionTimeStopped",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationClient(Record):
    """One location-services client and what locationd knows of it."""

    kind: ClassVar[str] = "ios/locationd/client"
    summary: ClassVar[str] = "location client {client} ({bundle_path}) authorization {authorization}"

    last_used: datetime | None = None
    period_begin: datetime | None = None
    client: str
    bundle_id: Annotated[str | None, Obs.APP_ID] = None
    names: Annotated[tuple[str, ...], Obs.PROCESS] = ()
    paths: Annotated[tuple[str, ...], Obs.FILE_PATH] = ()
    bundle_path: str | None = None
    executable: str | None = None
    authorization: int | None = None
    whitelisted: bool | None = None


def _path(value: object) -> str | None:
    found = text(value) if isinstance(value, str) else None
    return found if found and found.startswith(("/", "file://")) else None


class LocationdParser(PlistParser):
    """Apps, daemons and bundles that used location services (locationd clients.plist)."""

    name = "locationd"
    platform = "ios"
    sources = (
        Source("/private/var/mobile/Library/Caches/locationd/clients.plist"),
        Source("/private/var/root/Library/Caches/locationd/clients.plist"),
    )
    records = (LocationClient,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """One record per client entry (top-level values that are not dictionaries are counters)."""
        if not isinstance(value, dict):
            raise ArtefactError(f"clients.plist top level is {type(value).__name__}, expected a dictionary")
        for key, entry in value.items():
            if not isinstance(entry, dict) or not isinstance(key, str):
                continue
            client = key.rstrip(":")
            bundle_id = text(entry.get("BundleId")) if isinstance(entry.get("BundleId"), str) else None
            paths = [p for p in (_path(entry.get(k)) for k in ("BundlePath", "Executable", "Registered")) if p]
            if client.startswith("com.apple.locationd.bundle-"):
                paths.append(client[len("com.apple.locationd.bundle-") :])
            names = [basename(client)] if "/" in client else [client]
            if bundle_id:
                names.append(bundle_id)
            names.extend(basename(p) for p in paths if basename(p))
            times = [t for t in (timeutil.cocoa(entry.get(k)) for k in _TIMES[1:]) if t is not None]
            yield LocationClient(
                device_path=device_path,
                locator=f"client={client}"[:512],
                last_used=max(times) if times else None,
                period_begin=timeutil.cocoa(entry.get("ConsumptionPeriodBegin")),
                client=client[:1024],
                bundle_id=bundle_id,
                names=tuple(dict.fromkeys(n for n in names if n)),
                paths=tuple(dict.fromkeys(paths)),
                bundle_path=_path(entry.get("BundlePath")),
                executable=_path(entry.get("Executable")),
                authorization=integer(entry.get("Authorization")),
                whitelisted=flag(entry.get("Whitelisted")),
            )
