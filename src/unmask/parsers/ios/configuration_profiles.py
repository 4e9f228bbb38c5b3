"""Configuration profiles installed on the device (the stored profile plists).

Spyware operators have used configuration profiles (Predator's known profile UUID is in the public
sets as ``configuration-profile:id``); every profile and payload UUID is declared so matching sees
them, compared case-insensitively as whole UUIDs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, flag, text

FOLDER = "/private/var/containers/Shared/SystemGroup/*/Library/ConfigurationProfiles/"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigurationProfile(Record):
    """One installed configuration profile with the types and UUIDs of its payloads."""

    kind: ClassVar[str] = "ios/configuration_profile"
    summary: ClassVar[str] = (
        "Configuration profile {display_name} ({identifier}) by {organization}: {payload_types}"
    )

    installed: datetime | None = None
    uuid: Annotated[str | None, Obs.PROFILE_ID] = None
    identifier: str | None = None
    display_name: str | None = None
    organization: str | None = None
    description: str | None = None
    removal_disallowed: bool | None = None
    payload_types: tuple[str, ...] = ()
    payload_uuids: Annotated[tuple[str, ...], Obs.PROFILE_ID] = ()
    payload_identifiers: tuple[str, ...] = ()


class ConfigurationProfilesParser(PlistParser):
    """Installed configuration profiles: UUIDs, identifiers, organisation and payload types."""

    name = "configuration_profiles"
    platform = "ios"
    sources = (Source(FOLDER + "profile-*"),)
    records = (ConfigurationProfile,)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """One record per profile plist (the top level is the profile dictionary)."""
        if not isinstance(value, dict):
            raise ArtefactError(f"profile plist top level is {type(value).__name__}, expected a dictionary")
        content = value.get("PayloadContent")  # an array of dictionaries; anything else holds none
        payloads = [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []
        installed = value.get("InstallDate")
        yield ConfigurationProfile(
            device_path=device_path,
            locator="profile",
            installed=timeutil.aware(installed) if isinstance(installed, datetime) else None,
            uuid=text(value.get("PayloadUUID")),
            identifier=text(value.get("PayloadIdentifier")),
            display_name=text(value.get("PayloadDisplayName")),
            organization=text(value.get("PayloadOrganization")),
            description=text(value.get("PayloadDescription")),
            removal_disallowed=flag(value.get("PayloadRemovalDisallowed")),
            payload_types=tuple(t for p in payloads if (t := text(p.get("PayloadType")))),
            payload_uuids=tuple(u for p in payloads if (u := text(p.get("PayloadUUID")))),
            payload_identifiers=tuple(i for p in payloads if (i := text(p.get("PayloadIdentifier")))),
        )
