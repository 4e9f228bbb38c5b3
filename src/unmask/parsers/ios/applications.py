"""Installed applications (``iTunesMetadata.plist``): each app's bundle id, publisher and where it came from.

Every app installed through the App Store (or an MDM, or a sideloading channel) has, in its bundle
container (``/private/var/containers/Bundle/Application/<UUID>/``), an ``iTunesMetadata.plist``
with ``softwareVersionBundleId``, ``itemName``, ``artistName``, the store account
(``com.apple.iTunesStore.downloadInfo`` → ``accountInfo``, ``purchaseDate``) and ``sourceApp``, the
app that installed it (``com.apple.AppStore``, its product-page extension, ``com.apple.dmd`` for
MDM). A backup keeps the same plist, as data, under ``Applications`` → ``<bundle id>`` →
``iTunesMetadata`` in its Info.plist. Keys as MVT's Applications module reads them (research/mvt.md
§3.3); the judgement on ``sourceApp`` is the ``app-not-from-app-store`` rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, text


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledApp(Record):
    """One installed application and who installed it."""

    kind: ClassVar[str] = "ios/applications/app"
    summary: ClassVar[str] = "app {bundle_id} ({name}) by {artist}, installed by {source_app}"

    purchased: datetime | None = None
    bundle_id: Annotated[str | None, Obs.APP_ID] = None
    name: str | None = None
    artist: str | None = None
    version: str | None = None
    source_app: str | None = None
    apple_id: str | None = None
    has_metadata_id: bool = True


def _purchase(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return timeutil.aware(value)
    if isinstance(value, str):
        found = timeutil.parse_iso(value, zone=UTC)
        return found.value if found else None
    return None


def app_record(device_path: str, locator: str, meta: dict[str, Any], fallback_id: str | None = None) -> InstalledApp:
    """An :class:`InstalledApp` from one iTunesMetadata dictionary."""
    info = meta.get("com.apple.iTunesStore.downloadInfo")
    download: dict[str, Any] = info if isinstance(info, dict) else {}
    account = download.get("accountInfo")
    account_info: dict[str, Any] = account if isinstance(account, dict) else {}
    bundle = meta.get("softwareVersionBundleId")
    return InstalledApp(
        device_path=device_path,
        locator=locator,
        purchased=_purchase(download.get("purchaseDate") or meta.get("purchaseDate")),
        bundle_id=text(bundle) if isinstance(bundle, str) else fallback_id,
        name=text(meta.get("itemName")) if isinstance(meta.get("itemName"), str) else None,
        artist=text(meta.get("artistName")) if isinstance(meta.get("artistName"), str) else None,
        version=text(meta.get("bundleShortVersionString")) if isinstance(meta.get("bundleShortVersionString"), str) else None,
        source_app=text(meta.get("sourceApp")) if isinstance(meta.get("sourceApp"), str) else None,
        apple_id=text(account_info.get("AppleID")) if isinstance(account_info.get("AppleID"), str) else None,
        has_metadata_id=isinstance(bundle, str),
    )


class ApplicationsParser(PlistParser):
    """Installed apps: bundle id, publisher, store account and installing app (iTunesMetadata.plist)."""

    name = "applications"
    platform = "ios"
    sources = (
        Source("/private/var/containers/Bundle/Application/*/iTunesMetadata.plist"),
        Source.host("Info.plist"),
    )
    records = (InstalledApp,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """One record per app: the plist itself on a dump, each entry of ``Applications`` in a backup."""
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        if device_path.startswith("/"):
            yield app_record(device_path, "iTunesMetadata.plist", value)
            return
        apps = value.get("Applications")
        if not isinstance(apps, dict):
            return
        damaged = 0
        for bundle_id, entry in apps.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("iTunesMetadata"), bytes):
                continue
            try:
                meta = plist.load_dict(entry["iTunesMetadata"])
            except ArtefactError:
                damaged += 1
                continue
            yield app_record(device_path, f"Applications.{bundle_id}"[:512], meta, str(bundle_id)[:256])
        if damaged:
            ctx.warn(f"{damaged} apps whose iTunesMetadata is not a readable plist")

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Read the plist (a device path, or the backup's own Info.plist) and yield :meth:`items`."""
        with ctx.open(device_path) as handle:
            data = handle.read(64 << 20)
        yield from self.items(ctx, device_path, plist.load(data))
