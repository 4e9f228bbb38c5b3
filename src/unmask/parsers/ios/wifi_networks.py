"""Known Wi-Fi networks: every network the device saved, when it was added and joined, its access
points, whether it was a captive (hotspot login) network, and its security.

Where the files are. iOS 14 and later keep the list in
``/private/var/preferences/com.apple.wifi.known-networks.plist`` (mac_apt reads it for iOS 14
and notes that the older file then holds other data,
https://github.com/ydkhatri/mac_apt/blob/master/plugins/ios_wifi.py); up to iOS 13 it is the
``List of known networks`` array of
``/private/var/preferences/SystemConfiguration/com.apple.wifi.plist``. iLEAPP also reads the same
array from ``SystemConfiguration/com.apple.wifi-networks.plist.backup``
(https://github.com/abrignoni/iLEAPP/blob/main/scripts/artifacts/appleWifiPlist.py); it is read
here as well. Backup domain SystemPreferencesDomain. Apple lists Wi-Fi settings among what only
an *encrypted* backup holds (https://support.apple.com/en-ca/HT203790): these files reach unmask
from encrypted backups (once decrypted) and from full-filesystem dumps, not from unencrypted
backups.

iOS 14+ layout (real files of iOS 15.3.1, 16.1.1 and 16.3 behind iLEAPP's tests, and plaso's
``test_data/ios/com.apple.wifi.known-networks.plist``; key list in ``tests/schemas/plists.md`` §10):
a dictionary keyed ``wifi.network.ssid.<SSID>``, each value holding ``SSID`` (bytes), ``AddedAt``,
``JoinedByUserAt``, ``JoinedBySystemAt``, ``UpdatedAt``, ``LastDiscoveredAt``,
``SupportedSecurityTypes`` (text such as ``WPA2 Personal``, ``Open``, ``OWE Transition``),
``AddReason``, ``Hidden``, ``AutoJoinDisabled``, ``CaptiveProfile`` (``CaptiveNetwork``,
``WhitelistedCaptiveNetworkProbeDate``), ``BSSList`` (one dictionary per access point: ``BSSID``,
``Channel``, ``LastAssociatedAt``) and ``__OSSpecific__`` (``BSSID``, ``CHANNEL``,
``networkUsage``, ``prevJoined``, ``WiFiNetworkPasswordModificationDate``,
``networkDisabledReason``/``ClientName``/``Timestamp``). Also read when present, as iLEAPP does
although the samples lack them: ``BundleID`` (the app that added the network),
``CaptiveProfile.UserPortalURL`` and ``CaptiveWebSheetLoginDate``, and the ``Location*`` keys of a
``BSSList`` entry; ``EAPProfile.UserName`` as mac_apt does. plaso reads the same keys
(https://github.com/log2timeline/plaso/blob/main/plaso/parsers/plist_plugins/ios_wifi_known_networks.py).

iOS ≤ 13 layout (no real file found; key names from the parsers that read it: iLEAPP, mac_apt,
https://github.com/richinfante/iphonebackuptools/blob/master/tools/reports/system/wifi.js with
https://www.richinfante.com/2017/3/16/reverse-engineering-the-ios-backup, and
https://github.com/nst/SpyPhone/blob/master/Classes/SPSourceWifiTVC.m): ``SSID_STR`` (text) and ``SSID`` (bytes), ``BSSID``,
``lastJoined`` (joined by the user), ``lastAutoJoined`` (joined automatically), ``lastUpdated``,
``prevJoined``, ``SecurityMode``, ``HIDDEN_NETWORK``, ``enabled``, ``networkUsage``,
``CaptiveProfile``, ``80211D_IE.IE_KEY_80211D_COUNTRY_CODE``,
``EnterpriseProfile.EAPClientConfiguration.UserName`` and ``networkKnownBSSListKey`` (``BSSID``,
``CHANNEL``, ``lastRoamed``).

Values. An SSID is bytes: it is given as text when it is valid UTF-8 and as hex otherwise
(``ssid_is_hex``), as iLEAPP's ``_decode_ssid`` does; the SSID in the dictionary key is used only
when the ``SSID`` value is missing. iOS writes BSSIDs without leading zeros in each octet
(``0:1e:…``, seen in the iOS 16.1.1 file; iphonebackuptools pads them with ``pad_zeros``): they are
given zero-padded and lower-case so the same access point reads the same everywhere; a value that
is not six hex octets is kept as stored. BSSIDs are MAC addresses, for which unmask has no
observable type; they are plain fields. Plist dates are UTC.

One record per network (:class:`KnownWifiNetwork`) and one per access point it remembers
(:class:`WifiAccessPoint`), so that every join and association time is on the timeline: a network
added and joined once around the time of an attack, a captive hotspot, or an app-added network is
there to be seen. No rule judges them here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, PlistParser, Source, flag, integer, number

KNOWN_NETWORKS = "/private/var/preferences/com.apple.wifi.known-networks.plist"
WIFI_PLIST = "/private/var/preferences/SystemConfiguration/com.apple.wifi.plist"
WIFI_NETWORKS_BACKUP = "/private/var/preferences/SystemConfiguration/com.apple.wifi-networks.plist.backup"

KEY_PREFIX = "wifi.network.ssid."
LEGACY_LIST = "List of known networks"

_OCTET = re.compile(r"[0-9A-Fa-f]{1,2}")


def mac_address(value: object) -> str | None:
    """A BSSID as ``aa:bb:cc:dd:ee:ff``: six hex octets (``:`` or ``-`` separated, leading zeros
    optional) padded and lower-cased, six raw bytes formatted; other text as stored."""
    if isinstance(value, bytes):
        return ":".join(f"{b:02x}" for b in value) if len(value) == 6 else None
    if not isinstance(value, str):
        return None
    raw = value.strip()
    parts = re.split(r"[:-]", raw)
    if len(parts) == 6 and all(_OCTET.fullmatch(p) for p in parts):
        return ":".join(p.lower().zfill(2) for p in parts)
    return raw or None


def decode_ssid(raw: object) -> tuple[str | None, bool]:
    """``(ssid, is_hex)``: UTF-8 bytes as text, other bytes as hex, text as it is."""
    if isinstance(raw, bytes):
        if not raw:
            return None, False
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            return raw.hex(), True
    if isinstance(raw, str):
        return raw or None, False
    return None, False


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: object) -> datetime | None:
    return timeutil.aware(value) if isinstance(value, datetime) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownWifiNetwork(Record):
    """One saved Wi-Fi network: its name, access points, security, and when it was added and joined.

    ``joined_by_user`` / ``joined_by_system``: the last manual and automatic joins
    (``JoinedByUserAt``/``JoinedBySystemAt``, ``lastJoined``/``lastAutoJoined`` before iOS 14).
    ``bssid`` is the access point the network entry itself names; ``bssids`` every access point
    remembered for it. ``added_by`` is the bundle id of the app that added the network, when iOS
    recorded one; ``captive_portal_url`` the hotspot's login page.
    """

    kind: ClassVar[str] = "ios/wifi/known_network"
    summary: ClassVar[str] = (
        "Wi-Fi network {ssid} ({security}): added {added}, joined by user {joined_by_user}, "
        "by system {joined_by_system}; captive {captive}; access points {bssids}"
    )

    added: datetime | None = None
    joined_by_user: datetime | None = None
    joined_by_system: datetime | None = None
    updated: datetime | None = None
    last_discovered: datetime | None = None
    previously_joined: datetime | None = None
    password_modified: datetime | None = None
    captive_probed: datetime | None = None
    captive_login: datetime | None = None
    disabled_at: datetime | None = None
    ssid: str | None = None
    ssid_is_hex: bool = False
    bssid: str | None = None
    bssids: tuple[str, ...] = ()
    channel: int | None = None
    security: str | None = None
    hidden: bool | None = None
    captive: bool | None = None
    captive_portal_url: Annotated[str | None, Obs.URL] = None
    add_reason: str | None = None
    added_by: Annotated[str | None, Obs.APP_ID] = None
    enabled: bool | None = None
    auto_join_disabled: bool | None = None
    disabled_reason: str | None = None
    disabled_by: str | None = None
    network_usage: float | None = None
    country_code: str | None = None
    eap_user: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WifiAccessPoint(Record):
    """One access point (BSSID) remembered for a known network, and when the device last associated
    with it (``LastAssociatedAt``; ``lastRoamed`` before iOS 14)."""

    kind: ClassVar[str] = "ios/wifi/access_point"
    summary: ClassVar[str] = "Wi-Fi access point {bssid} of {ssid}, channel {channel}"

    last_associated: datetime | None = None
    location_time: datetime | None = None
    ssid: str | None = None
    ssid_is_hex: bool = False
    bssid: str | None = None
    channel: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_accuracy: float | None = None


class WifiNetworksParser(PlistParser):
    """Known Wi-Fi networks and their access points (com.apple.wifi.known-networks.plist, com.apple.wifi.plist)."""

    name = "wifi_networks"
    platform = "ios"
    sources = (Source(KNOWN_NETWORKS), Source(WIFI_PLIST), Source(WIFI_NETWORKS_BACKUP))
    records = (KnownWifiNetwork, WifiAccessPoint)

    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """Networks of the iOS ≤ 13 array, then those of the iOS 14+ dictionary; a file holding
        neither (com.apple.wifi.plist from iOS 14 on: settings only) yields nothing."""
        if not isinstance(value, dict):
            raise ArtefactError(f"top level is {type(value).__name__}, expected a dictionary")
        odd = 0
        if LEGACY_LIST in value:
            entries = value[LEGACY_LIST]
            if not isinstance(entries, list):
                raise ArtefactError(f"{LEGACY_LIST} is {type(entries).__name__}, expected an array")
            for i, entry in enumerate(entries):
                if isinstance(entry, dict):
                    yield from self._legacy(device_path, f"{LEGACY_LIST}[{i}]", entry)
                else:
                    odd += 1
        for key, entry in value.items():
            if not isinstance(key, str) or key == LEGACY_LIST:
                continue
            if isinstance(entry, dict) and (
                key.startswith(KEY_PREFIX) or "SSID" in entry or "BSSList" in entry
            ):
                yield from self._network(device_path, key, entry)
            elif key.startswith(KEY_PREFIX):
                odd += 1
        if odd:
            ctx.warn(f"{device_path}: {odd} network entries that are not dictionaries skipped")

    def _network(self, device_path: str, key: str, entry: dict[str, Any]) -> Iterator[Record]:
        ssid, is_hex = decode_ssid(entry.get("SSID"))
        if ssid is None and key.startswith(KEY_PREFIX):
            ssid, is_hex = key[len(KEY_PREFIX) :] or None, False
        os_specific = _dict(entry.get("__OSSpecific__"))
        captive = _dict(entry.get("CaptiveProfile"))
        bss = [b for b in _list(entry.get("BSSList")) if isinstance(b, dict)]
        bssid = mac_address(os_specific.get("BSSID"))
        yield KnownWifiNetwork(
            device_path=device_path,
            locator=key,
            added=_time(entry.get("AddedAt")),
            joined_by_user=_time(entry.get("JoinedByUserAt")),
            joined_by_system=_time(entry.get("JoinedBySystemAt")),
            updated=_time(entry.get("UpdatedAt")),
            last_discovered=_time(entry.get("LastDiscoveredAt")),
            previously_joined=_time(os_specific.get("prevJoined")),
            password_modified=_time(os_specific.get("WiFiNetworkPasswordModificationDate")),
            captive_probed=_time(captive.get("WhitelistedCaptiveNetworkProbeDate")),
            captive_login=_time(captive.get("CaptiveWebSheetLoginDate")),
            disabled_at=_time(os_specific.get("networkDisabledTimestamp")),
            ssid=ssid,
            ssid_is_hex=is_hex,
            bssid=bssid,
            bssids=_bssids(bssid, (b.get("BSSID") for b in bss)),
            channel=integer(os_specific.get("CHANNEL")),
            security=_str(entry.get("SupportedSecurityTypes")),
            hidden=flag(entry.get("Hidden")),
            captive=flag(captive.get("CaptiveNetwork")),
            captive_portal_url=_str(captive.get("UserPortalURL")),
            add_reason=_str(entry.get("AddReason")),
            added_by=_str(entry.get("BundleID")),
            auto_join_disabled=flag(entry.get("AutoJoinDisabled")),
            disabled_reason=_str(os_specific.get("networkDisabledReason")),
            disabled_by=_str(os_specific.get("networkDisabledClientName")),
            network_usage=number(os_specific.get("networkUsage")),
            eap_user=_str(_dict(entry.get("EAPProfile")).get("UserName")),
        )
        for i, point in enumerate(bss):
            yield WifiAccessPoint(
                device_path=device_path,
                locator=f"{key}.BSSList[{i}]",
                last_associated=_time(point.get("LastAssociatedAt")),
                location_time=_time(point.get("LocationTimestamp")),
                ssid=ssid,
                ssid_is_hex=is_hex,
                bssid=mac_address(point.get("BSSID")),
                channel=integer(point.get("Channel")),
                latitude=number(point.get("LocationLatitude")),
                longitude=number(point.get("LocationLongitude")),
                location_accuracy=number(point.get("LocationAccuracy")),
            )

    def _legacy(self, device_path: str, locator: str, entry: dict[str, Any]) -> Iterator[Record]:
        ssid, is_hex = decode_ssid(entry.get("SSID"))
        if ssid is None:
            ssid, is_hex = decode_ssid(entry.get("SSID_STR"))
        captive = _dict(entry.get("CaptiveProfile"))
        bss = [b for b in _list(entry.get("networkKnownBSSListKey")) if isinstance(b, dict)]
        bssid = mac_address(entry.get("BSSID"))
        eap = _dict(_dict(entry.get("EnterpriseProfile")).get("EAPClientConfiguration"))
        yield KnownWifiNetwork(
            device_path=device_path,
            locator=locator,
            joined_by_user=_time(entry.get("lastJoined")),
            joined_by_system=_time(entry.get("lastAutoJoined")),
            updated=_time(entry.get("lastUpdated")),
            previously_joined=_time(entry.get("prevJoined")),
            password_modified=_time(entry.get("WiFiNetworkPasswordModificationDate")),
            ssid=ssid,
            ssid_is_hex=is_hex,
            bssid=bssid,
            bssids=_bssids(bssid, (b.get("BSSID") for b in bss)),
            security=_str(entry.get("SecurityMode")),
            hidden=flag(entry.get("HIDDEN_NETWORK")),
            captive=flag(captive.get("CaptiveNetwork")),
            captive_portal_url=_str(captive.get("UserPortalURL")),
            enabled=flag(entry.get("enabled")),
            network_usage=number(entry.get("networkUsage")),
            country_code=_str(_dict(entry.get("80211D_IE")).get("IE_KEY_80211D_COUNTRY_CODE")),
            eap_user=_str(eap.get("UserName")),
        )
        for i, point in enumerate(bss):
            yield WifiAccessPoint(
                device_path=device_path,
                locator=f"{locator}.networkKnownBSSListKey[{i}]",
                last_associated=_time(point.get("lastRoamed")),
                ssid=ssid,
                ssid_is_hex=is_hex,
                bssid=mac_address(point.get("BSSID")),
                channel=integer(point.get("CHANNEL")),
            )


def _bssids(first: str | None, others: Iterator[object]) -> tuple[str, ...]:
    """Distinct BSSIDs, the network's own first, then its access points' in stored order."""
    seen: dict[str, None] = {}
    if first:
        seen[first] = None
    for value in others:
        mac = mac_address(value)
        if mac:
            seen[mac] = None
    return tuple(seen)
