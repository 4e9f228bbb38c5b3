"""WebKit ResourceLoadStatistics: domains any WebKit view in any app has loaded (``observations.db``).

Intelligent Tracking Prevention keeps, per app container, the registrable domain of every site a
WebKit view loaded (top frame or subresource), when it was last seen and whether the user
interacted with it. That includes in-app browsers and SafariViewService sheets, which leave no
Safari history, so an exploit domain opened from a messaging app can surface here.

``lastSeen`` and ``mostRecentUserInteractionTime`` are WebKit ``WallTime`` values stored as seconds
since the Unix epoch (``secondsSinceEpoch()``), not Cocoa time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, flag, integer, text

_STORE = "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db"
_SVS = "/SystemData/com.apple.SafariViewService/"
# Container folders whose next component names the container: a UUID on a full-filesystem dump,
# the bundle or group id in a backup (where the UUID is unknown).
_CONTAINER_ROOTS = (
    "/Containers/Data/Application/",
    "/Containers/Shared/AppGroup/",
    "/Containers/Data/PluginKitPlugin/",
    "/containers/Data/System/",
    "/containers/Shared/SystemGroup/",
)
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedDomain(Record):
    """One ``ObservedDomains`` row: a registrable domain a WebKit view in one container loaded."""

    kind: ClassVar[str] = "ios/webkit_rls/observed_domain"
    summary: ClassVar[str] = "WebKit in {container} loaded {domain} (user interaction {had_user_interaction})"

    last_seen: datetime | None = None
    most_recent_user_interaction: datetime | None = None
    domain: Annotated[str | None, Obs.HOST] = None
    domain_id: int | None = None
    had_user_interaction: bool | None = None
    is_prevalent: bool | None = None
    is_very_prevalent: bool | None = None
    container: str | None = None
    app_id: Annotated[str | None, Obs.APP_ID] = None
    safari_view_service: bool = False


def container_of(device_path: str) -> tuple[str | None, str | None, bool]:
    """``(container id, bundle id or None, via SafariViewService)`` from a store's device path.

    The container id is the folder under a container root (a UUID, or a bundle id in a backup);
    it is also returned as a bundle id when it is not UUID-shaped.
    """
    via_svs = _SVS in device_path
    for root in _CONTAINER_ROOTS:
        at = device_path.find(root)
        if at >= 0:
            container = device_path[at + len(root) :].split("/", 1)[0] or None
            app_id = container if container and not _UUID.match(container) and "." in container else None
            return container, app_id, via_svs
    return None, None, via_svs


class WebKitResourceLoadStatisticsParser(SqliteParser):
    """Registrable domains loaded by WebKit views in every app container (ResourceLoadStatistics)."""

    name = "webkit_rls"
    platform = "ios"
    # "**/" spans any folders, so this also covers app containers and SafariViewService's
    # SystemData folder.
    sources = (Source("/private/var/**/" + _STORE),)
    records = (ObservedDomain,)
    required: ClassVar[dict[str, set[str]]] = {"ObservedDomains": {"registrableDomain"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One query over ObservedDomains; the container comes from the device path."""
        container, app_id, via_svs = container_of(db.device_path)
        t = "ObservedDomains"
        sql = (
            f"SELECT {t}.rowid AS row_id, {db.col(t, 'domainID')}, {db.col(t, 'registrableDomain')}, "
            f"{db.col(t, 'lastSeen')}, {db.col(t, 'hadUserInteraction')}, "
            f"{db.col(t, 'mostRecentUserInteractionTime')}, {db.col(t, 'isPrevalent')}, "
            f"{db.col(t, 'isVeryPrevalent')} FROM {t} ORDER BY {t}.rowid"
        )
        for row in db.query(sql):
            domain_id = integer(row["domainID"])
            yield ObservedDomain(
                device_path=db.device_path,
                locator=f"ObservedDomains.domainID={domain_id if domain_id is not None else row['row_id']}",
                last_seen=timeutil.unix(row["lastSeen"]),
                most_recent_user_interaction=timeutil.unix(row["mostRecentUserInteractionTime"]),
                domain=text(row["registrableDomain"]),
                domain_id=domain_id,
                had_user_interaction=flag(row["hadUserInteraction"]),
                is_prevalent=flag(row["isPrevalent"]),
                is_very_prevalent=flag(row["isVeryPrevalent"]),
                container=container,
                app_id=app_id,
                safari_view_service=via_svs,
            )
