"""``dumpsys package``: every package with its uid, versions, install times, installer, flags,
granted permissions and disabled components (the ``Packages:`` block)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser

_PACKAGE = re.compile(r"  Package \[([^\]]+)\] \(([0-9a-f]+)\):\Z")
_PERM = re.compile(r"\s+([\w.]+): granted=(true|false)")


@dataclass(frozen=True, slots=True, kw_only=True)
class DumpsysPackage(WallClockRecord):
    """One package as the package manager describes it (AOSP ``PackageManagerService`` dump:
    ``userId=``, ``versionCode=``, ``firstInstallTime=`` and ``lastUpdateTime=`` in device local
    time, ``installerPackageName=``, ``pkgFlags=[ SYSTEM … ]``, ``install permissions:`` and per-user
    ``runtime permissions:`` with ``granted=true|false``, ``disabledComponents:``)."""

    kind: ClassVar[str] = "android/dumpsys/package"
    summary: ClassVar[str] = "package {package} {version_name} installed {first_install} by {installer}"
    package: Annotated[str, Obs.APP_ID]
    uid: int | None = None
    version_code: int | None = None
    version_name: str | None = None
    first_install: Timestamp | None = None
    last_update: Timestamp | None = None
    installer: str | None = None
    system: bool = False
    code_path: Annotated[str | None, Obs.FILE_PATH] = None
    granted: tuple[str, ...] = ()
    """Permissions granted (install-time and runtime, any user)."""
    requested: tuple[str, ...] = ()
    disabled_components: tuple[str, ...] = ()
    hidden: bool | None = None
    enabled_state: int | None = None


@dataclass
class _Draft:
    package: str
    line: Line
    values: dict[str, str] = field(default_factory=dict)
    granted: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    hidden: bool | None = None
    enabled: int | None = None


class DumpsysPackageParser(TextParser):
    """The ``Packages:`` block of ``dumpsys package`` (AndroidQF dumpsys.txt or a bugreport)."""

    name = "dumpsys_package"
    platform = "android"
    sources = (Source.section("dumpsys:package"),)
    records = (DumpsysPackage,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[DumpsysPackage]:
        draft: _Draft | None = None
        in_packages = False
        mode = ""
        for line in lines:
            text = line.text
            if not text.startswith(" "):
                if draft is not None:
                    yield self._record(ctx, device_path, draft)
                    draft = None
                in_packages = text.strip() == "Packages:"
                continue
            if not in_packages:
                continue
            match = _PACKAGE.match(text)
            if match:
                if draft is not None:
                    yield self._record(ctx, device_path, draft)
                draft = _Draft(match.group(1), line)
                mode = ""
                continue
            if draft is None:
                continue
            stripped = text.strip()
            if stripped.endswith(":") and "=" not in stripped:
                mode = stripped[:-1]
                continue
            if stripped.startswith("User ") and "installed=" in stripped:
                fields = dict(p.split("=", 1) for p in stripped.split() if "=" in p)
                draft.hidden = fields.get("hidden") == "true" if "hidden" in fields else draft.hidden
                with contextlib.suppress(ValueError):
                    draft.enabled = int(fields.get("enabled", ""))
                mode = ""
                continue
            perm = _PERM.match(text)
            if perm and mode in ("install permissions", "runtime permissions"):
                if perm.group(2) == "true" and perm.group(1) not in draft.granted:
                    draft.granted.append(perm.group(1))
                continue
            if mode == "requested permissions" and "=" not in stripped:
                draft.requested.append(stripped.split(":", 1)[0])
                continue
            if mode == "disabledComponents" and "=" not in stripped:
                draft.disabled.append(stripped)
                continue
            if "=" in stripped and text.startswith("    ") and not text.startswith("      "):
                for part in stripped.split(" ") if stripped.startswith("versionCode=") else [stripped]:
                    key, _, value = part.partition("=")
                    draft.values.setdefault(key, value)
                mode = ""
        if draft is not None:
            yield self._record(ctx, device_path, draft)

    def _record(self, ctx: ParseContext, device_path: str, d: _Draft) -> DumpsysPackage:
        v = d.values
        inferred = ""

        def when(key: str) -> Timestamp | None:
            nonlocal inferred
            text = v.get(key)
            wall = ctx.wall_time(text, ["%Y-%m-%d %H:%M:%S"]) if text else None
            if wall is None:
                return None
            inferred = inferred or wall.inferred
            return wall.value

        def num(key: str) -> int | None:
            try:
                return int(v.get(key, ""))
            except ValueError:
                return None

        flags = v.get("pkgFlags") or v.get("flags") or ""
        installer = v.get("installerPackageName") or v.get("installInitiatingPackageName")
        first, last = when("firstInstallTime"), when("lastUpdateTime")
        return DumpsysPackage(
            device_path=device_path,
            locator=locator(d.line),
            time_inferred=inferred,
            package=d.package[:512],
            uid=num("userId") if num("userId") is not None else num("appId"),
            version_code=num("versionCode"),
            version_name=v.get("versionName", "")[:256] or None,
            first_install=first,
            last_update=last,
            installer=installer[:512] if installer and installer != "null" else None,
            system=" SYSTEM " in f" {flags.strip('[]')} ",
            code_path=v.get("codePath") or None,
            granted=tuple(d.granted),
            requested=tuple(d.requested),
            disabled_components=tuple(d.disabled[:500]),
            hidden=d.hidden,
            enabled_state=d.enabled,
        )
