"""Known Wi-Fi networks. Fixtures follow the key layouts of real files (tests/schemas/plists.md §10:
iOS 15.3.1, 16.1.1 and 16.3 known-networks plists; the iOS ≤ 13 list as its parsers read it) with
made-up values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Record, Status
from unmask.observables import observables_of
from unmask.parsers.ios.wifi_networks import (
    KnownWifiNetwork,
    WifiAccessPoint,
    WifiNetworksParser,
    decode_ssid,
    mac_address,
)

DOMAIN = "SystemPreferencesDomain"
KNOWN = (DOMAIN, "com.apple.wifi.known-networks.plist")
WIFI = (DOMAIN, "SystemConfiguration/com.apple.wifi.plist")
WIFI_BACKUP = (DOMAIN, "SystemConfiguration/com.apple.wifi-networks.plist.backup")
LEGACY = "List of known networks"
KNOWN_PATH = "/private/var/preferences/com.apple.wifi.known-networks.plist"
WIFI_PATH = "/private/var/preferences/SystemConfiguration/com.apple.wifi.plist"

# plistlib writes naive datetimes as UTC.
ADDED = datetime(2023, 4, 15, 13, 53, 47)
USER = datetime(2023, 4, 15, 13, 54, 2)
SYSTEM = datetime(2023, 5, 14, 1, 15, 45)
UPDATED = datetime(2023, 5, 14, 1, 16, 0)
ASSOC = datetime(2023, 5, 14, 1, 15, 40)
PREV = datetime(2023, 5, 1, 8, 0, 0)


def utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC)


def ios15_network(ssid: bytes) -> dict[str, Any]:
    """The iOS 15.3.1 layout (the file in plaso's test_data and iLEAPP's josh_ios15_ffs case)."""
    return {
        "Moving": False,
        "Hidden": False,
        "CaptiveProfile": {"CaptiveNetwork": False},
        "JoinedByUserAt": USER,
        "SSID": ssid,
        "AddedAt": ADDED,
        "__OSSpecific__": {
            "networkUsage": 12.5,
            "knownBSSUpdatedDate": UPDATED,
            "BSSID": "02:a7:41:e7:7c:9d",
            "CHANNEL_FLAGS": 1040,
            "BEACON_PROBE_INFO_PER_BSSID_LIST": [
                {
                    "BSSID": "02:a7:41:e7:7c:9d",
                    "OTA_SYSTEM_INFO_SENT": False,
                    "OTA_SYSTEM_INFO_BEACON_ONLY_SENT": True,
                }
            ],
            "NetworkOfInterestHomeState": 1,
            "CHANNEL": 161,
            "prevJoined": PREV,
            "WiFiNetworkPasswordModificationDate": ADDED,
            "AP_MODE": 2,
            "DiagnosticsBssEnv": 4,
        },
        "JoinedBySystemAt": SYSTEM,
        "SupportedSecurityTypes": "WPA2 Personal",
        "BSSList": [
            {"ChannelFlags": 10, "BSSID": "02:a7:41:e7:7c:9d", "Channel": 1, "LastAssociatedAt": ASSOC},
            {"ChannelFlags": 1040, "BSSID": "02:a7:41:e7:7c:9e", "Channel": 161, "LastAssociatedAt": SYSTEM},
        ],
        "UpdatedAt": UPDATED,
    }


def ios16_captive_network() -> dict[str, Any]:
    """The iOS 16.1.1 layout: unpadded BSSID octets, LastDiscoveredAt, AddReason, whitelisted
    captive probe; plus the keys iLEAPP reads that the samples lack (BundleID, UserPortalURL,
    CaptiveWebSheetLoginDate, Location*)."""
    return {
        "CarPlayNetwork": False,
        "JoinedByUserAt": USER,
        "SupportedSecurityTypes": "Open",
        "LastDiscoveredAt": SYSTEM,
        "SSID": b"Free Airport WiFi",
        "AddedAt": USER,
        "Standalone6G": False,
        "__OSSpecific__": {
            "networkUsage": 0.25,
            "BSSID": "0:1e:a:b:c:d",
            "CHANNEL_FLAGS": 10,
            "CHANNEL": 6,
            "AP_MODE": 2,
            "DiagnosticsBssEnv": 1,
        },
        "Hidden": False,
        "CaptiveProfile": {
            "IsWhitelistedCaptiveNetwork": False,
            "CaptiveNetwork": True,
            "WhitelistedCaptiveNetworkProbeDate": USER,
            "UserPortalURL": "http://portal.evil.example/login",
            "CaptiveWebSheetLoginDate": SYSTEM,
        },
        "UpdatedAt": UPDATED,
        "Moving": False,
        "BSSList": [
            {
                "ChannelFlags": 10,
                "LastAssociatedAt": USER,
                "BSSID": "0:1e:a:b:c:d",
                "Channel": 6,
                "LocationLatitude": 47.45,
                "LocationLongitude": 8.56,
                "LocationAccuracy": 65.0,
                "LocationTimestamp": USER,
            },
        ],
        "AddReason": "Cloud Sync",
        "BundleID": "com.example.hotspothelper",
        "LowDataMode": False,
    }


def ios16_3_disabled_network() -> dict[str, Any]:
    """The iOS 16.3 layout: AutoJoinDisabled, networkDisabled* and the extra BSSList keys."""
    return {
        "CarPlayNetwork": False,
        "JoinedByUserAt": USER,
        "SupportedSecurityTypes": "WPA2 Personal",
        "LastDiscoveredAt": SYSTEM,
        "SSID": b"Home",
        "AddedAt": ADDED,
        "Standalone6G": False,
        "__OSSpecific__": {
            "networkUsage": 3.0,
            "DiagnosticsBssEnv": 4,
            "BSSID": "a4:2b:b0:00:00:01",
            "AP_MODE": 2,
            "CHANNEL": 36,
            "prevJoined": PREV,
            "CHANNEL_FLAGS": 1040,
            "networkDisabledClientName": "wifid",
            "networkDisabledReason": "user",
            "WiFiNetworkPasswordModificationDate": ADDED,
            "BEACON_PROBE_INFO_PER_BSSID_LIST": [
                {"BSSID": "a4:2b:b0:00:00:01", "OTA_SYSTEM_INFO_SENT": False}
            ],
            "networkDisabledTimestamp": UPDATED,
        },
        "CaptiveProfile": {"CaptiveNetwork": False},
        "UpdatedAt": UPDATED,
        "AutoJoinDisabled": True,
        "Moving": False,
        "Hidden": True,
        "BSSList": [
            {
                "IPv4NetworkSignature": "IPv4.Router=192.168.1.1;IPv4.RouterHardwareAddress=a4:2b:b0:00:00:01",
                "BSSID": "a4:2b:b0:00:00:01",
                "ChannelFlags": 1040,
                "Channel": 36,
                "LastAssociatedAt": ASSOC,
                "DHCPServerID": b"\xc0\xa8\x01\x01",
            }
        ],
        "JoinedBySystemAt": SYSTEM,
    }


def legacy_network() -> dict[str, Any]:
    """One entry of the iOS ≤ 13 ``List of known networks`` (keys from iLEAPP, mac_apt,
    iphonebackuptools)."""
    return {
        "SSID_STR": "CoffeeShop",
        "SSID": b"CoffeeShop",
        "BSSID": "0:11:22:33:44:55",
        "lastJoined": USER,
        "lastAutoJoined": SYSTEM,
        "lastUpdated": UPDATED,
        "prevJoined": PREV,
        "SecurityMode": "Open",
        "HIDDEN_NETWORK": False,
        "enabled": True,
        "networkUsage": 1.5,
        "CaptiveProfile": {"CaptiveNetwork": True, "UserPortalURL": "https://login.coffee.example/"},
        "80211D_IE": {"IE_KEY_80211D_COUNTRY_CODE": "CH"},
        "WPS_PROB_RESP_IE": {"IE_KEY_WPS_DEV_NAME": "router", "IE_KEY_WPS_MANUFACTURER": "Acme"},
        "EnterpriseProfile": {"EAPClientConfiguration": {"UserName": "jdoe"}},
        "networkKnownBSSListKey": [
            {"BSSID": "0:11:22:33:44:55", "CHANNEL": 6, "CHANNEL_FLAGS": 10, "lastRoamed": ASSOC},
            {"BSSID": "0:11:22:33:44:56", "CHANNEL": 44, "CHANNEL_FLAGS": 1040, "lastRoamed": SYSTEM},
        ],
    }


def parse(backup: BackupBuilder, where: tuple[str, str], value: object, binary: bool = True) -> list[Record]:
    backup.add_plist(*where, value, binary=binary)
    records, cov = run(WifiNetworksParser, backup.finish())
    assert cov.status is Status.PARSED, cov.reason
    return records


def networks(records: list[Record]) -> dict[str | None, KnownWifiNetwork]:
    return {r.ssid: r for r in records if isinstance(r, KnownWifiNetwork)}


def points(records: list[Record]) -> list[WifiAccessPoint]:
    return [r for r in records if isinstance(r, WifiAccessPoint)]


def test_ios15_known_network_with_its_access_points(backup: BackupBuilder) -> None:
    records = parse(backup, KNOWN, {"wifi.network.ssid.Garden_Cafe": ios15_network(b"Garden_Cafe")})
    net = networks(records)["Garden_Cafe"]
    assert (net.device_path, net.locator) == (KNOWN_PATH, "wifi.network.ssid.Garden_Cafe")
    assert (net.added, net.joined_by_user, net.joined_by_system, net.updated) == (
        utc(ADDED),
        utc(USER),
        utc(SYSTEM),
        utc(UPDATED),
    )
    assert (net.previously_joined, net.password_modified, net.last_discovered) == (
        utc(PREV),
        utc(ADDED),
        None,
    )
    assert (net.bssid, net.bssids) == ("02:a7:41:e7:7c:9d", ("02:a7:41:e7:7c:9d", "02:a7:41:e7:7c:9e"))
    assert (net.channel, net.security, net.hidden, net.captive, net.network_usage) == (
        161,
        "WPA2 Personal",
        False,
        False,
        12.5,
    )
    assert (net.ssid_is_hex, net.added_by, net.captive_portal_url, net.enabled) == (False, None, None, None)
    assert net.timestamp == utc(ADDED)
    aps = points(records)
    assert [(a.bssid, a.channel, a.last_associated, a.ssid) for a in aps] == [
        ("02:a7:41:e7:7c:9d", 1, utc(ASSOC), "Garden_Cafe"),
        ("02:a7:41:e7:7c:9e", 161, utc(SYSTEM), "Garden_Cafe"),
    ]
    assert aps[1].locator == "wifi.network.ssid.Garden_Cafe.BSSList[1]"
    assert list(observables_of(net)) == []  # SSIDs and BSSIDs are plain fields


def test_ios16_captive_app_added_network_xml(backup: BackupBuilder) -> None:
    records = parse(
        backup, KNOWN, {"wifi.network.ssid.Free Airport WiFi": ios16_captive_network()}, binary=False
    )
    net = networks(records)["Free Airport WiFi"]
    assert (net.captive, net.captive_probed, net.captive_login) == (True, utc(USER), utc(SYSTEM))
    assert net.captive_portal_url == "http://portal.evil.example/login"
    assert (net.add_reason, net.added_by, net.security) == ("Cloud Sync", "com.example.hotspothelper", "Open")
    assert (net.joined_by_system, net.last_discovered) == (None, utc(SYSTEM))
    # iOS writes octets without their leading zero; they are padded.
    assert (net.bssid, net.bssids, net.channel) == ("00:1e:0a:0b:0c:0d", ("00:1e:0a:0b:0c:0d",), 6)
    found = {(o.type, o.value) for o in observables_of(net)}
    assert (Obs.DOMAIN, "portal.evil.example") in found
    assert (Obs.APP_ID, "com.example.hotspothelper") in found
    (ap,) = points(records)
    assert (ap.latitude, ap.longitude, ap.location_accuracy, ap.location_time) == (
        47.45,
        8.56,
        65.0,
        utc(USER),
    )


def test_ios16_3_disabled_hidden_network(backup: BackupBuilder) -> None:
    records = parse(backup, KNOWN, {"wifi.network.ssid.Home": ios16_3_disabled_network()})
    net = networks(records)["Home"]
    assert (net.hidden, net.auto_join_disabled) == (True, True)
    assert (net.disabled_reason, net.disabled_by, net.disabled_at) == ("user", "wifid", utc(UPDATED))
    assert [(a.bssid, a.channel) for a in points(records)] == [("a4:2b:b0:00:00:01", 36)]


def test_many_networks_and_ssid_from_key_when_bytes_missing(backup: BackupBuilder) -> None:
    first = ios15_network(b"One")
    second = ios15_network(b"")
    del second["BSSList"]
    records = parse(backup, KNOWN, {"wifi.network.ssid.One": first, "wifi.network.ssid.Two": second})
    assert sorted(n for n in networks(records)) == ["One", "Two"]
    assert len(points(records)) == 2


def test_non_utf8_ssid_is_given_as_hex(backup: BackupBuilder) -> None:
    records = parse(backup, KNOWN, {"wifi.network.ssid.\ufffd": ios15_network(b"caf\xe9\x00")})
    (net,) = [r for r in records if isinstance(r, KnownWifiNetwork)]
    assert (net.ssid, net.ssid_is_hex) == ("636166e900", True)
    assert all(a.ssid == "636166e900" and a.ssid_is_hex for a in points(records))


def test_ios13_list_of_known_networks(backup: BackupBuilder) -> None:
    records = parse(backup, WIFI, {"Version": 14, LEGACY: [legacy_network()]})
    net = networks(records)["CoffeeShop"]
    assert (net.device_path, net.locator) == (WIFI_PATH, "List of known networks[0]")
    assert (net.joined_by_user, net.joined_by_system, net.updated, net.previously_joined, net.added) == (
        utc(USER),
        utc(SYSTEM),
        utc(UPDATED),
        utc(PREV),
        None,
    )
    assert (net.bssid, net.bssids) == ("00:11:22:33:44:55", ("00:11:22:33:44:55", "00:11:22:33:44:56"))
    assert (net.security, net.hidden, net.enabled, net.captive, net.country_code, net.eap_user) == (
        "Open",
        False,
        True,
        True,
        "CH",
        "jdoe",
    )
    assert net.captive_portal_url == "https://login.coffee.example/"
    assert [(a.bssid, a.channel, a.last_associated, a.locator) for a in points(records)] == [
        ("00:11:22:33:44:55", 6, utc(ASSOC), "List of known networks[0].networkKnownBSSListKey[0]"),
        ("00:11:22:33:44:56", 44, utc(SYSTEM), "List of known networks[0].networkKnownBSSListKey[1]"),
    ]


def test_ios13_ssid_str_when_ssid_bytes_are_absent(backup: BackupBuilder) -> None:
    entry = legacy_network()
    del entry["SSID"]
    entry["SSID_STR"] = "Café"
    records = parse(backup, WIFI, {LEGACY: [entry]}, binary=False)
    assert "Café" in networks(records)


def test_ios14_wifi_plist_holds_settings_only(backup: BackupBuilder) -> None:
    settings_only = {
        "Version": 2500,
        "deviceSoftwareVer": "20D47",
        "JoinMode": "Automatic",
        "isWiFiPNLMigrationComplete": True,
        "hwMacAddressMacRandomisation": b"\x00\x11\x22\x33\x44\x55",
        "deviceUpdatedDate": UPDATED,
    }
    assert parse(backup, WIFI, settings_only) == []


def test_empty_networks_backup_and_all_three_files(backup: BackupBuilder) -> None:
    backup.add_plist(*WIFI_BACKUP, {LEGACY: []})
    backup.add_plist(*WIFI, {LEGACY: [legacy_network()]})
    backup.add_plist(*KNOWN, {"wifi.network.ssid.Home": ios16_3_disabled_network()})
    records, cov = run(WifiNetworksParser, backup.finish())
    assert cov.status is Status.PARSED and len(cov.artefacts) == 3
    assert {r.device_path for r in records} == {KNOWN_PATH, WIFI_PATH}


def test_odd_values_are_tolerated(backup: BackupBuilder) -> None:
    value = {
        "wifi.network.ssid.odd": {
            "SSID": 7,
            "AddedAt": "yesterday",
            "JoinedByUserAt": 700000000.0,
            "CaptiveProfile": ["not", "a", "dict"],
            "__OSSpecific__": {"BSSID": "not-a-mac", "CHANNEL": "x", "networkUsage": "lots"},
            "BSSList": ["junk", {"BSSID": b"\x01\x02\x03\x04\x05\x06", "Channel": 2**63 - 1}, {"BSSID": 12}],
            "SupportedSecurityTypes": ["WPA2"],
            "Hidden": "no",
        },
        "wifi.network.ssid.scalar": 5,
        "Unrelated": {"x": 1},
    }
    backup.add_plist(*KNOWN, value)
    records, cov = run(WifiNetworksParser, backup.finish())
    assert cov.status is Status.PARSED
    assert any("1 network entries" in w for w in cov.warnings)
    net = networks(records)["odd"]  # SSID is not bytes: the key names it
    assert (net.added, net.joined_by_user, net.captive, net.security, net.hidden, net.channel) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )
    assert (net.bssid, net.bssids, net.network_usage) == (
        "not-a-mac",
        ("not-a-mac", "01:02:03:04:05:06"),
        None,
    )
    assert [(a.bssid, a.channel) for a in points(records)] == [("01:02:03:04:05:06", 2**63 - 1), (None, None)]
    junk.assert_tolerated(records, cov)


def test_garbage_files_are_failed() -> None:
    for data in (
        b"\x00\x01garbage",
        b"",
        junk.plist_bytes(["not", "a", "dict"]),
        junk.plist_bytes({LEGACY: "not an array"}),
    ):
        records, cov = junk.run_file(WifiNetworksParser, *KNOWN, data)
        junk.assert_handled(cov)
        assert records == [] and cov.status is Status.FAILED


def test_mac_address_and_ssid_helpers() -> None:
    assert mac_address("0:1E:a:b:c:D") == "00:1e:0a:0b:0c:0d"
    assert mac_address("00-11-22-33-44-55") == "00:11:22:33:44:55"
    assert mac_address(b"\xaa\xbb\xcc\xdd\xee\xff") == "aa:bb:cc:dd:ee:ff"
    assert mac_address("1:2:3:4:5") == "1:2:3:4:5"  # not six octets: as stored
    assert mac_address("100:2:3:4:5:6") == "100:2:3:4:5:6"
    assert [mac_address(v) for v in (b"\x01", "", "  ", None, 5)] == [None, None, None, None, None]
    assert decode_ssid(b"Caf\xc3\xa9") == ("Café", False)
    assert decode_ssid(b"\xff") == ("ff", True)
    assert decode_ssid("text") == ("text", False)
    assert [decode_ssid(v) for v in (b"", "", None, 3)] == [(None, False)] * 4


NETWORK_KEYS = st.sampled_from([*ios16_captive_network(), *ios16_3_disabled_network()])
OS_KEYS = st.sampled_from([*ios15_network(b"x")["__OSSpecific__"], "networkDisabledTimestamp"])
BSS_KEYS = st.sampled_from(["BSSID", "Channel", "ChannelFlags", "LastAssociatedAt", "LocationLatitude"])
LEGACY_KEYS = st.sampled_from(list(legacy_network()))
LEGACY_BSS_KEYS = st.sampled_from(["BSSID", "CHANNEL", "CHANNEL_FLAGS", "lastRoamed"])


@st.composite
def hostile_networks(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _ in range(draw(st.integers(1, 3))):
        entry = draw(junk.plist_dicts(NETWORK_KEYS))
        if draw(st.booleans()):
            entry["BSSList"] = draw(st.lists(junk.plist_dicts(BSS_KEYS), max_size=3))
        if draw(st.booleans()):
            entry["__OSSpecific__"] = draw(junk.plist_dicts(OS_KEYS))
        if draw(st.booleans()):
            entry["SSID"] = draw(st.binary(max_size=34))
        out["wifi.network.ssid." + draw(st.one_of(st.text(max_size=12), junk.HOSTILE_TEXT))] = entry
    return out


@st.composite
def hostile_legacy(draw: st.DrawFn) -> dict[str, Any]:
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        entry = draw(junk.plist_dicts(LEGACY_KEYS))
        if draw(st.booleans()):
            entry["networkKnownBSSListKey"] = draw(st.lists(junk.plist_dicts(LEGACY_BSS_KEYS), max_size=3))
        entries.append(entry)
    return {LEGACY: entries}


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(hostile_networks(), hostile_legacy()), binary=st.booleans())
def test_hostile_plists_never_break_the_parser(value: dict[str, Any], binary: bool) -> None:
    try:
        data = junk.plist_bytes(value, binary=binary)
    except ValueError:  # XML cannot hold control characters; the binary form can
        data = junk.plist_bytes(value)
    records, cov = junk.run_file(WifiNetworksParser, *KNOWN, data)
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    junk.assert_tolerated(records, cov)


@settings(max_examples=30, deadline=None)
@given(value=junk.plist_dicts(st.sampled_from([LEGACY, "wifi.network.ssid.x", "SSID"])))
def test_arbitrary_top_level_dictionaries_are_handled(value: dict[str, Any]) -> None:
    records, cov = junk.run_file(WifiNetworksParser, *WIFI, junk.plist_bytes(value))
    junk.assert_handled(cov)
    junk.assert_tolerated(records, cov)
