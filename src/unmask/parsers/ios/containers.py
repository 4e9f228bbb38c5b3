"""App containers: which app or group each container folder belongs to.

On the device, app data lives in folders named by a random UUID
(``/private/var/mobile/Containers/Data/Application/<UUID>/``); the container manager writes, at
the top of each, ``.com.apple.mobile_container_manager.metadata.plist`` (newer builds also
``.com.apple.containermanagerd.metadata.plist``) whose ``MCMMetadataIdentifier`` is the bundle id
(app and extension containers) or group id (app group and system group containers). The same
file sits in app bundle containers (``/private/var/containers/Bundle/Application/<UUID>/``).
Forensic tools (iLEAPP's applicationstate/appGroupList artifacts, Sarah Edwards' "iOS
Application Containers" notes) read it to name the app behind a UUID; unmask reads it for the same
reason: every record from an app folder can then say which app it came from (:func:`app_of`).

In an iOS backup the container folder is already named by the bundle or group id (the backup
domain), so :func:`app_of` answers from the path alone there.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from unmask.acquisition.base import Acquisition
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, integer, text

METADATA_NAMES = (
    ".com.apple.mobile_container_manager.metadata.plist",
    ".com.apple.containermanagerd.metadata.plist",
)
CONTAINER_ROOTS: dict[str, str] = {
    "/private/var/mobile/Containers/Data/Application/": "app data",
    "/private/var/mobile/Containers/Shared/AppGroup/": "app group",
    "/private/var/mobile/Containers/Data/PluginKitPlugin/": "extension data",
    "/private/var/mobile/Containers/Data/InternalDaemon/": "daemon data",
    "/private/var/containers/Bundle/Application/": "app bundle",
    "/private/var/containers/Data/System/": "system data",
    "/private/var/containers/Shared/SystemGroup/": "system group",
}
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppContainer(Record):
    """One container folder and the app or group it belongs to."""

    kind: ClassVar[str] = "ios/containers/container"
    summary: ClassVar[str] = "{container_kind} container {container} belongs to {app_id}"

    container: str
    container_kind: str
    app_id: Annotated[str | None, Obs.APP_ID] = None
    content_class: int | None = None
    user_managed_assets: str | None = None


def split_container(device_path: str) -> tuple[str, str, str] | None:
    """``(container folder, its name, container kind)`` when a device path lies in a container."""
    for root, what in CONTAINER_ROOTS.items():
        if device_path.startswith(root):
            name = device_path[len(root) :].split("/", 1)[0]
            if name:
                return root + name, name, what
    return None


class ContainersParser(PlistParser):
    """App containers: the bundle or group id behind each container folder (container metadata)."""

    name = "containers"
    platform = "ios"
    sources = tuple(Source(root + "*/" + meta) for root in CONTAINER_ROOTS for meta in METADATA_NAMES)
    records = (AppContainer,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """One record per metadata plist."""
        if not isinstance(value, dict):
            raise ArtefactError(f"container metadata top level is {type(value).__name__}, expected a dictionary")
        found = split_container(device_path)
        folder, _, what = found if found else (device_path.rsplit("/", 1)[0], "", "container")
        info = value.get("MCMMetadataInfo")
        assets = info.get("com.apple.MobileInstallation.UserManagedAssetsRelativePath") if isinstance(
            info, dict
        ) else None
        yield AppContainer(
            device_path=device_path,
            locator="MCMMetadataIdentifier",
            container=folder,
            container_kind=what,
            app_id=text(value.get("MCMMetadataIdentifier")),
            content_class=integer(value.get("MCMMetadataContentClass")),
            user_managed_assets=text(assets),
        )


_MAPS: weakref.WeakKeyDictionary[Acquisition, dict[str, str]] = weakref.WeakKeyDictionary()


def container_apps(acq: Acquisition) -> dict[str, str]:
    """Container folder → bundle or group id, read once per acquisition from the metadata plists
    (a few hundred small files); damaged ones are left out (the parser reports them)."""
    found = _MAPS.get(acq)
    if found is None:
        found = {}
        for root in CONTAINER_ROOTS:
            for meta in METADATA_NAMES:
                for path in acq.glob(root + "*/" + meta):
                    try:
                        value = plist.load_dict(acq.read_bytes(path, 1 << 20))
                    except (ArtefactError, OSError):
                        continue
                    ident = value.get("MCMMetadataIdentifier")
                    if isinstance(ident, str) and ident:
                        found.setdefault(path.rsplit("/", 1)[0], ident[:256])
        _MAPS[acq] = found
    return found


def app_of(acq: Acquisition, device_path: str) -> str | None:
    """The bundle or group id of the container a device path lies in, if any: from the container
    metadata on a dump, from the folder name (the backup domain's id) in a backup."""
    found = split_container(device_path)
    if found is None:
        return None
    folder, name, _ = found
    if not _UUID.match(name):
        return name if "." in name else None
    return container_apps(acq).get(folder)
