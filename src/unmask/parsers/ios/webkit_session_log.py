"""WebKit's session resource log (``full_browsing_session_resourceLog.plist``): origins, redirects, subresources.

Intelligent Tracking Prevention writes, per WebKit data store, a log of the browsing session:
``browsingStatistics`` is a list of entries, one per prevalent-resource origin, with the origins
that redirected to it or that it redirected to at top level (``topFrameUniqueRedirectsFrom`` /
``…To``), the frames and subresources loaded under it, whether the user interacted with it and
when it was last seen. A one-click exploit chain shows up as an origin redirected through
attacker domains, in any app using a WebKit view (including SafariViewService sheets). Keys and
paths as MVT's WebkitSessionResourceLog module reads them (research/mvt.md §3.3); the redirect
lists hold dictionaries with ``origin`` or ``domain``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, flag
from unmask.parsers.ios.containers import app_of

_LOG = "full_browsing_session_resourceLog.plist"
_APPS = "/private/var/mobile/Containers/Data/Application/*/"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResource(Record):
    """One origin of a WebKit browsing session, with where it was redirected from and to."""

    kind: ClassVar[str] = "ios/webkit_session_log/origin"
    summary: ClassVar[str] = "WebKit session origin {origin}: from {redirected_from} to {redirected_to} ({app})"

    last_seen: datetime | None = None
    most_recent_interaction: datetime | None = None
    origin: Annotated[str | None, Obs.HOST] = None
    redirected_from: Annotated[tuple[str, ...], Obs.HOST] = ()
    redirected_to: Annotated[tuple[str, ...], Obs.HOST] = ()
    subframe_origins: Annotated[tuple[str, ...], Obs.HOST] = ()
    subresource_origins: Annotated[tuple[str, ...], Obs.HOST] = ()
    had_user_interaction: bool | None = None
    app: str | None = None


def _origins(value: Any) -> tuple[str, ...]:
    out: list[str] = []
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict):
            for key in ("origin", "domain"):
                found = item.get(key)
                if isinstance(found, str) and found and found not in out:
                    out.append(found[:1024])
        elif isinstance(item, str) and item not in out:
            out.append(item[:1024])
        if len(out) >= 256:
            break
    return tuple(out)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return timeutil.aware(value)
    return timeutil.cocoa(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class WebKitSessionLogParser(PlistParser):
    """Origins and redirects of WebKit browsing sessions (full_browsing_session_resourceLog.plist)."""

    name = "webkit_session_log"
    platform = "ios"
    sources = (
        Source(_APPS + "SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData/" + _LOG),
        Source(_APPS + "Library/WebKit/WebsiteData/ResourceLoadStatistics/" + _LOG),
        Source("/private/var/mobile/Library/WebKit/WebsiteData/ResourceLoadStatistics/" + _LOG),
        Source("/private/var/mobile/Library/WebClips/*/Storage/" + _LOG),
    )
    records = (SessionResource,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """One record per ``browsingStatistics`` entry."""
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        entries = value.get("browsingStatistics")
        if entries is None:
            return
        if not isinstance(entries, list):
            raise ArtefactError("browsingStatistics is not a list")
        app = app_of(ctx.acq, device_path)
        for i, item in enumerate(entries):
            if not isinstance(item, dict):
                continue
            origin = item.get("PrevalentResourceOrigin")
            yield SessionResource(
                device_path=device_path,
                locator=f"browsingStatistics[{i}]",
                last_seen=_time(item.get("lastSeen")),
                most_recent_interaction=_time(item.get("mostRecentUserInteraction")),
                origin=origin[:1024] if isinstance(origin, str) and origin else None,
                redirected_from=_origins(item.get("topFrameUniqueRedirectsFrom")),
                redirected_to=_origins(item.get("topFrameUniqueRedirectsTo")),
                subframe_origins=_origins(item.get("subframeUnderTopFrameOrigins")),
                subresource_origins=_origins(item.get("subresourceUnderTopFrameOrigins")),
                had_user_interaction=flag(item.get("hadUserInteraction")),
                app=app,
            )
