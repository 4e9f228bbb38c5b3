"""Global preferences: whether Lockdown Mode is on, and the device's locale and languages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from unmask.errors import ArtefactError
from unmask.model import Record
from unmask.parsers.base import ParseContext, PlistParser, Source, flag, text


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalPreferences(Record):
    """The device-wide preferences that matter to an investigator."""

    kind: ClassVar[str] = "ios/preferences/global"
    summary: ClassVar[str] = "Lockdown Mode {lockdown_mode}; locale {locale}; languages {languages}"

    lockdown_mode: bool | None = None
    locale: str | None = None
    languages: tuple[str, ...] = ()
    keyboards: tuple[str, ...] = ()


class GlobalPreferencesParser(PlistParser):
    """Lockdown Mode state (LDMGlobalEnabled), locale and languages from .GlobalPreferences.plist."""

    name = "global_preferences"
    platform = "ios"
    sources = (
        Source("/private/var/mobile/Library/Preferences/.GlobalPreferences.plist"),
        Source("/private/var/Managed Preferences/mobile/.GlobalPreferences.plist"),
    )
    records = (GlobalPreferences,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[GlobalPreferences]:
        """One record per preferences file; ``lockdown_mode`` is None when the key is absent."""
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        raw = value.get("LDMGlobalEnabled")
        lockdown = flag(raw)
        if raw is not None and lockdown is None:
            ctx.warn(f"{device_path}: LDMGlobalEnabled has an unexpected value {raw!r}")
        yield GlobalPreferences(
            device_path=device_path,
            locator="LDMGlobalEnabled",
            lockdown_mode=lockdown,
            locale=text(value.get("AppleLocale")) if isinstance(value.get("AppleLocale"), str) else None,
            languages=_strings(value.get("AppleLanguages")),
            keyboards=_strings(value.get("AppleKeyboards")),
        )
