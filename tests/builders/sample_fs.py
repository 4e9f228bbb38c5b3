"""A realistic iOS full-filesystem dump with traces planted from the real public indicator sets.

Used by the end-to-end tests (small) and by ``bench/bench_fs.py`` (about 200,000 files). The tree
follows a real device's layout (system volume, app bundle and data containers named by UUID with
their metadata, camera roll, system caches, WebKit website data of benign sites, the databases and
plists of every artefact unmask and MVT read, with benign rows) and is made by a seeded generator,
so the same arguments always give the same dump. Each planted trace sits in an artefact MVT's
``check-fs`` reads too, except those marked ``unmask_only`` (artefacts MVT does not read, or
matching MVT cannot do: absolute paths, which its Filesystem module compares relative to the dump).
:func:`build_sample_dump` returns the planted traces, so a test can check that a scan finds every
planted item and nothing else.
"""

from __future__ import annotations

import json
import plistlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.builders.binarycookies import binarycookies, cookie, page
from tests.builders.ios_fs import DumpBuilder
from tests.builders.sample import Planted
from tests.builders.segb import field as segb_field
from tests.builders.segb import segb_v2

START = datetime(2024, 1, 10, 8, 0, tzinfo=UTC)
COCOA = datetime(2001, 1, 1, tzinfo=UTC)
US_EPOCH = 11_644_473_600


def _cocoa(dt: datetime) -> float:
    return (dt - COCOA).total_seconds()


# Traces: (collection, indicator type, indicator, where) — each value is in the bundled sets
# (tests/test_check_fs_cli.py checks them against the files).
TRACES = {
    "file_name": ("DarkSword", "file:name", "rce_loader.js"),
    "coruna_file": ("Coruna", "file:name", "fsCachedData0E1A3DC1C51C2D879DE016E56D3EECE8"),
    "process_on_disk": ("Pegasus", "process:name", "roleaccountd"),
    "abs_path": ("Predator", "file:path", "/private/var/tmp/hooker"),
    "localstorage": ("KingSpawn", "domain-name:value", "wikipedoptions.com"),
    "indexeddb": ("KingSpawn", "domain-name:value", "adeptary.com"),
    "svs": ("Candiru", "domain-name:value", "ambiguouscommerce.com"),
    "cache_db": ("Pegasus", "domain-name:value", "weather4free.com"),
    "netusage": ("Pegasus", "process:name", "bh"),
    "datausage": ("Pegasus", "process:name", "aggregatenotd"),
    "analytics_process": ("Pegasus", "process:name", "confinstalld"),
    "analytics_url": ("Predator", "domain-name:value", "md-news-direct.com"),
    "safari_favicon": ("Predator", "domain-name:value", "actumali.org"),
    "chrome_favicon": ("Wintego Helios", "domain-name:value", "africatech.eu"),
    "firefox": ("OperationTriangulation", "domain-name:value", "adsfreetracking.com"),
    "shortcut": ("Coruna", "domain-name:value", "26a.online"),
    "locationd": ("Pegasus", "process:name", "ckkeyrollfd"),
    "session_log": ("DarkSword", "domain-name:value", "cdncounter.net"),
    "rls": ("Candiru", "domain-name:value", "antperspective.com"),
    "sms": ("Pegasus", "domain-name:value", "1minto-start.com"),
    "idstatus": ("OperationTriangulation", "email-addr:value", "nonbaguette@yahoo.com"),
    "tcc": ("Pegasus", "process:name", "seraccountd"),
    "addaily": ("Pegasus", "process:name", "libtouchregd"),
    "knowledgec": ("Pegasus", "domain-name:value", "14-tracking.com"),
    "cookie": ("Pegasus", "domain-name:value", "24-7clinic.com"),
    "profile_event": ("Predator", "configuration-profile:id", "76DAB334-7E17-475D-A5D6-0794EB5818A5"),
}
UNMASK_ONLY = {"abs_path", "knowledgec", "cookie", "profile_event"}

# Daemons with network usage; each has its binary on the system volume of the dump.
DAEMONS = {
    "mDNSResponder": "/usr/sbin/mDNSResponder",
    "apsd": "/System/Library/PrivateFrameworks/ApplePushService.framework/apsd",
    "nsurlsessiond": "/usr/libexec/nsurlsessiond",
    "locationd": "/usr/libexec/locationd",
    "identityservicesd": "/System/Library/PrivateFrameworks/IDS.framework/identityservicesd.app/identityservicesd",
    "CommCenter": "/System/Library/Frameworks/CoreTelephony.framework/Support/CommCenter",
    "itunesstored": "/System/Library/PrivateFrameworks/iTunesStore.framework/Support/itunesstored",
    "cloudd": "/System/Library/PrivateFrameworks/CloudKitDaemon.framework/Support/cloudd",
    "geod": "/usr/libexec/geod",
    "parsecd": "/System/Library/PrivateFrameworks/CoreParsec.framework/parsecd",
    "mobileassetd": "/usr/libexec/mobileassetd",
    "softwareupdateservicesd": "/System/Library/PrivateFrameworks/SoftwareUpdateServices.framework/Support/softwareupdateservicesd",
}
# More system daemons that use the network, each with its binary in /usr/libexec: a real iPhone's
# usage databases list a few hundred processes, most of them daemons without a bundle id.
MORE_DAEMONS = (
    "accountsd", "aggregated", "akd", "assistantd", "backboardd", "bird", "bluetoothd", "calaccessd",
    "callservicesd", "configd", "coreduetd", "dataaccessd", "deleted", "duetexpertd", "fitnessd", "healthd",
    "imagent", "kbd", "lockdownd", "mediaserverd", "nesessionmanager", "passd", "photoanalysisd", "powerd",
    "rapportd", "remindd", "routined", "searchd", "securityd", "sharingd", "storebookkeeperd", "suggestd",
    "symptomsd", "syncdefaultsd", "timed", "trustd", "useractivityd", "wifid", "wirelessproxd", "navd",
    "mediaanalysisd", "familycircled", "adprivacyd", "appstored", "AppleIDAuthAgent", "amsaccountsd",
    "chronod", "contextstored", "biomesyncd", "dmd", "mobileactivationd", "nanoregistryd", "networkserviceproxy",
    "pipelined", "screentimeagentd", "siriactionsd", "triald", "translationd", "weatherd", "wcd",
)
APPS = [
    ("org.telegram.Telegram", "Telegram"), ("net.whatsapp.WhatsApp", "WhatsApp"), ("com.google.chrome.ios", "Chrome"),
    ("org.mozilla.ios.Firefox", "Firefox"), ("com.spotify.client", "Spotify"), ("com.burbn.instagram", "Instagram"),
    ("org.whispersystems.signal", "Signal"), ("com.google.Maps", "GoogleMaps"), ("com.duolingo.DuolingoMobile", "Duolingo"),
    ("com.netflix.Netflix", "Netflix"), ("com.protonmail.protonmail", "ProtonMail"), ("com.bbc.news", "BBCNews"),
]
BENIGN_HOSTS = ["www.wikipedia.org", "news.ycombinator.com", "www.bbc.co.uk", "github.com", "www.apple.com",
                "duckduckgo.com", "www.amnesty.org", "signal.org", "www.reddit.com", "www.theguardian.com"]
_EXTS = ["json", "plist", "sqlite", "dat", "jpg", "png", "js", "css", "html", "log", "cache"]
_FRAMEWORKS = ["UIKitCore", "Foundation", "CoreData", "WebKit", "MapKit", "Photos", "AVFoundation", "CoreML",
               "Contacts", "HealthKit", "StoreKit", "SafariServices", "Vision", "Metal", "CloudKit"]


@dataclass
class DumpSample:
    """The built dump (a folder, and archives when asked) and what was planted in it."""

    folder: Path
    archives: dict[str, Path] = field(default_factory=dict)
    planted: list[Planted] = field(default_factory=list)
    unmask_only: list[Planted] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def build_sample_dump(
    root: Path, *, files: int = 400, seed: int = 7, plant: bool = True, forms: tuple[str, ...] = ()
) -> DumpSample:
    """Write a sample dump into ``root/dump`` (and ``root/dump.<form>`` for each archive form)."""
    rng = random.Random(seed)
    b = DumpBuilder(root, ios_version="17.4.1", build="21E236", product_type="iPhone14,2")
    sample = DumpSample(root / "dump")
    planted: dict[str, str] = {}  # trace key → the artefact kind it is found in

    def plant_it(key: str, source: str) -> bool:
        if plant:
            planted[key] = source
        return plant

    containers = {ident: b.container("data", ident) for ident, _ in APPS}
    containers["com.apple.mobilesafari"] = b.container("data", "com.apple.mobilesafari")
    bundles = {ident: b.container("bundle", ident) for ident, _ in APPS}
    groups = {"net.whatsapp.WhatsApp": b.container("group", "group.net.whatsapp.WhatsApp.shared"),
              "org.mozilla.ios.Firefox": b.container("group", "group.org.mozilla.ios.Firefox")}

    # --- the system volume: daemons, frameworks, Apple apps --------------------------------------
    for path in DAEMONS.values():
        b.add_file(path, b"\xcf\xfa\xed\xfe" + bytes(60), mode=0o755)
    for ident, name in APPS:
        app = f"{bundles[ident]}/{name}.app"
        b.add_file(f"{app}/{name}", b"\xcf\xfa\xed\xfe" + bytes(60), mode=0o755)
        b.add_plist(f"{app}/Info.plist", {"CFBundleIdentifier": ident, "CFBundleExecutable": name})
        b.add_plist(f"{bundles[ident]}/iTunesMetadata.plist", {
            "softwareVersionBundleId": ident, "itemName": name, "artistName": f"{name} Inc.",
            "sourceApp": "com.apple.AppStore", "bundleShortVersionString": "1.0",
            "com.apple.iTunesStore.downloadInfo": {"purchaseDate": "2023-06-01T10:00:00Z"},
        })

    if plant:  # an app another installer than the App Store put on the phone (app-not-from-app-store)
        side = b.container("bundle", "com.example.sideload")
        b.add_file(f"{side}/Sideload.app/Sideload", b"\xcf\xfa\xed\xfe", mode=0o755)
        b.add_plist(f"{side}/iTunesMetadata.plist", {"softwareVersionBundleId": "com.example.sideload",
                                                      "itemName": "Free VPN", "sourceApp": "com.example.installer"})

    # --- network usage: benign daemons and apps; planted processes without binaries -------------
    # As many processes as the backup benchmark gives a backup of this size (one per thousand
    # files), each with a few live-usage rows; every daemon has its binary on the system volume.
    for name in MORE_DAEMONS:
        b.add_file(f"/usr/libexec/{name}", b"\xcf\xfa\xed\xfe" + bytes(60), mode=0o755)
    pool = [(n, None) for n in (*DAEMONS, *MORE_DAEMONS)] + [(name, ident) for ident, name in APPS]
    names = [pool[i % len(pool)] for i in range(max(len(pool), files // 1000))]
    procs = [{"Z_PK": i + 1, "Z_ENT": 1, "Z_OPT": 1, "ZPROCNAME": n, "ZBUNDLENAME": bid,
              "ZFIRSTTIMESTAMP": _cocoa(START), "ZTIMESTAMP": _cocoa(START + timedelta(hours=i))}
             for i, (n, bid) in enumerate(names)]
    net_procs = [dict(p) for p in procs]
    if plant_it("netusage", "ios/netusage/process"):
        net_procs.append({"Z_PK": len(net_procs) + 1, "Z_ENT": 1, "Z_OPT": 1, "ZPROCNAME": TRACES["netusage"][2],
                          "ZFIRSTTIMESTAMP": _cocoa(START + timedelta(days=3)), "ZTIMESTAMP": _cocoa(START + timedelta(days=3))})
    b.add_sqlite("/private/var/networkd/db/netusage.sqlite", "ios/netusage.sqlite/ios14.sql", {
        "ZPROCESS": net_procs,
        "ZLIVEUSAGE": _live(net_procs),
    })
    du_procs = [dict(p) for p in procs]
    if plant_it("datausage", "ios/datausage/process"):
        du_procs.append({"Z_PK": len(du_procs) + 1, "Z_ENT": 1, "Z_OPT": 1, "ZPROCNAME": TRACES["datausage"][2],
                         "ZFIRSTTIMESTAMP": _cocoa(START + timedelta(days=4)), "ZTIMESTAMP": _cocoa(START + timedelta(days=4))})
    b.add_sqlite("/private/var/wireless/Library/Databases/DataUsage.sqlite", "ios/DataUsage.sqlite/ios15.sql", {
        "ZPROCESS": du_procs,
        "ZLIVEUSAGE": _live(du_procs),
    })

    # --- files of the implants and their traces on disk -----------------------------------------
    safari = containers["com.apple.mobilesafari"]
    if plant_it("file_name", "ios/filesystem/entry"):
        b.add_file(f"{safari}/Library/Caches/WebKit/NetworkCache/Version 16/Blobs/{TRACES['file_name'][2]}", b"x")
    if plant_it("coruna_file", "ios/filesystem/entry"):
        b.add_file(f"/private/var/root/Library/Caches/com.apple.nsurlsessiond/{TRACES['coruna_file'][2]}", b"x")
    if plant_it("process_on_disk", "ios/filesystem/entry"):
        b.add_file(f"/private/var/db/{TRACES['process_on_disk'][2]}", b"\xcf\xfa\xed\xfe", mode=0o755)
    if plant_it("abs_path", "ios/filesystem/entry"):
        b.add_file(TRACES["abs_path"][2], b"x")
    b.add_file("/private/var/tmp/hookerX", b"a longer name that merely starts like an indicator")

    # --- WebKit website data: origin folders and files in app containers ------------------------
    tg = containers["org.telegram.Telegram"]
    if plant_it("localstorage", "ios/filesystem/entry"):
        b.add_file(f"{tg}/Library/WebKit/WebsiteData/LocalStorage/https_{TRACES['localstorage'][2]}_0.localstorage", b"x")
    if plant_it("indexeddb", "ios/filesystem/entry"):
        b.add_file(f"{tg}/Library/WebKit/WebsiteData/IndexedDB/https_{TRACES['indexeddb'][2]}_0/IndexedDB.sqlite3", b"x")
    wa = containers["net.whatsapp.WhatsApp"]
    svs = f"{wa}/SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData"
    if plant_it("svs", "ios/filesystem/entry"):
        b.add_dir(f"{svs}/https_{TRACES['svs'][2]}_0")
    b.add_dir(f"{svs}/https_www.wikipedia.org_0")

    # --- databases and plists of the artefacts ---------------------------------------------------
    cache_rows = [{"entry_ID": i + 1, "version": 0, "hash_value": i, "storage_policy": 0,
                   "request_key": f"https://{rng.choice(BENIGN_HOSTS)}/api/{i}", "time_stamp": "2024-01-11 10:00:00"}
                  for i in range(8)]
    if plant_it("cache_db", "ios/cache_files/response"):
        cache_rows.append({"entry_ID": 99, "version": 0, "hash_value": 99, "storage_policy": 0,
                           "request_key": f"https://{TRACES['cache_db'][2]}/track?id=1", "time_stamp": "2024-01-13 10:00:00"})
    b.add_sqlite(f"{tg}/Library/Caches/org.telegram.Telegram/Cache.db", "ios/Cache.db/ios17.sql",
                 {"cfurl_cache_response": cache_rows})
    b.add_sqlite("/private/var/mobile/Library/Caches/com.apple.nsurlsessiond/Cache.db", "ios/Cache.db/ios17.sql",
                 {"cfurl_cache_response": cache_rows[:3]})

    events: list[dict[str, Any]] = [{"EventType": "ckksFetch", "build": "21D61", "process": "cloudd"},
                                    {"EventType": "trust", "build": "21E236", "host": "api.apple-cloudkit.com"}]
    if plant_it("analytics_process", "ios/analytics/event"):
        events.append({"EventType": "sosFail", "build": "21E236", "process": TRACES["analytics_process"][2]})
    if plant_it("analytics_url", "ios/analytics/event"):
        events.append({"EventType": "net", "build": "21E236", "url": f"https://{TRACES['analytics_url'][2]}/c"})
    b.add_sqlite("/private/var/Keychains/Analytics/ckks_analytics.db", "ios/Analytics/sfanalytics.sql", {
        "hard_failures": [{"timestamp": _cocoa(START + timedelta(days=i)), "data": plistlib.dumps(e, fmt=plistlib.FMT_BINARY)}
                          for i, e in enumerate(events)],
    })
    for i, version in enumerate(("iPhone OS 17.3.1 (21D61)", "iPhone OS 17.4.1 (21E236)")):
        header = {"timestamp": f"2024-0{1 + i}-05 10:00:00.00 +0100", "os_version": version}
        b.add_file(f"/private/var/db/analyticsd/Analytics-Journal-2024-0{1 + i}-05.ips", (json.dumps(header) + "\n").encode())

    fav_pages = [{"url": f"https://{h}/", "uuid": f"U{i}"} for i, h in enumerate(BENIGN_HOSTS[:4])]
    fav_icons = [{"uuid": f"U{i}", "url": f"https://{h}/favicon.ico", "timestamp": int(_cocoa(START))} for i, h in enumerate(BENIGN_HOSTS[:4])]
    if plant_it("safari_favicon", "ios/safari_favicons/favicon"):
        fav_pages.append({"url": f"https://{TRACES['safari_favicon'][2]}/p", "uuid": "UX"})
        fav_icons.append({"uuid": "UX", "url": f"https://{TRACES['safari_favicon'][2]}/favicon.ico", "timestamp": int(_cocoa(START))})
    b.add_sqlite("/private/var/mobile/Library/Image Cache/Favicons/Favicons.db", "ios/Favicons.db/safarishared-v4.sql",
                 {"page_url": fav_pages, "icon_info": fav_icons})

    chrome_maps = [{"id": 1, "page_url": "https://www.bbc.co.uk/news", "icon_id": 1}]
    chrome_icons = [{"id": 1, "url": "https://www.bbc.co.uk/favicon.ico", "icon_type": 1}]
    if plant_it("chrome_favicon", "ios/chrome_favicons/favicon"):
        chrome_maps.append({"id": 2, "page_url": f"https://{TRACES['chrome_favicon'][2]}/x", "icon_id": 2})
        chrome_icons.append({"id": 2, "url": f"https://{TRACES['chrome_favicon'][2]}/favicon.ico", "icon_type": 1})
    stamp = int((START.timestamp() + US_EPOCH) * 1_000_000)
    bitmaps = [{"id": i["id"], "icon_id": i["id"], "last_updated": stamp, "image_data": b"\x89PNG", "width": 16,
                "height": 16} for i in chrome_icons]
    b.add_sqlite(f"{containers['com.google.chrome.ios']}/Library/Application Support/Google/Chrome/Default/Favicons",
                 "chrome/Favicons/v8-source.sql",
                 {"favicons": chrome_icons, "icon_mapping": chrome_maps, "favicon_bitmaps": bitmaps})

    ff_history = [{"id": 1, "guid": "g1", "url": "https://duckduckgo.com/", "title": "DDG", "is_deleted": 0, "should_upload": 0}]
    if plant_it("firefox", "ios/firefox_history/visit"):
        ff_history.append({"id": 2, "guid": "g2", "url": f"https://{TRACES['firefox'][2]}/ad", "title": "x",
                           "is_deleted": 0, "should_upload": 0})
    ff_visits = [{"id": h["id"], "siteID": h["id"], "date": (START.timestamp() + h["id"]) * 1e6, "type": 1, "is_local": 1}
                 for h in ff_history]
    b.add_sqlite("/private/var/mobile/profile.profile/browser.db", "firefox-ios/browser.db/schema-v39-source.sql",
                 {"history": ff_history, "visits": ff_visits})

    actions = [{"WFWorkflowActionIdentifier": "is.workflow.actions.url",
                "WFWorkflowActionParameters": {"WFURLActionURL": "https://www.apple.com/"}}]
    if plant_it("shortcut", "ios/shortcuts/shortcut"):
        actions.append({"WFWorkflowActionIdentifier": "is.workflow.actions.downloadurl",
                        "WFWorkflowActionParameters": {"WFURL": f"https://{TRACES['shortcut'][2]}/p.ipa"}})
    b.add_sqlite("/private/var/mobile/Library/Shortcuts/Shortcuts.sqlite", "ios/Shortcuts.sqlite/mvt-columns.sql", {
        "ZSHORTCUT": [{"Z_PK": 1, "ZNAME": "Morning", "ZCREATIONDATE": _cocoa(START), "ZACTIONCOUNT": len(actions)}],
        "ZSHORTCUTACTIONS": [{"Z_PK": 1, "ZSHORTCUT": 1, "ZDATA": plistlib.dumps(actions, fmt=plistlib.FMT_BINARY)}],
    })

    clients: dict[str, Any] = {
        "com.apple.locationd.bundle-/System/Library/LocationBundles/Routine.bundle": {
            "BundlePath": "/System/Library/LocationBundles/Routine.bundle", "Authorization": 2},
        "com.google.Maps": {"BundleId": "com.google.Maps", "Authorization": 4},
    }
    if plant_it("locationd", "ios/locationd/client"):
        clients[f"/usr/libexec/{TRACES['locationd'][2]}"] = {"Executable": f"/usr/libexec/{TRACES['locationd'][2]}"}
    b.add_plist("/private/var/root/Library/Caches/locationd/clients.plist", clients)

    stats = [{"PrevalentResourceOrigin": "www.bbc.co.uk", "hadUserInteraction": True}]
    if plant_it("session_log", "ios/webkit_session_log/origin"):
        stats.append({"PrevalentResourceOrigin": TRACES["session_log"][2], "hadUserInteraction": False})
    b.add_plist(f"{safari}/Library/WebKit/WebsiteData/ResourceLoadStatistics/full_browsing_session_resourceLog.plist",
                {"browsingStatistics": stats})

    rls = [{"domainID": 1, "registrableDomain": "github.com", "lastSeen": START.timestamp(), "hadUserInteraction": 1,
            "mostRecentUserInteractionTime": START.timestamp(), "grandfathered": 0, "isPrevalent": 0, "isVeryPrevalent": 0,
            "dataRecordsRemoved": 0, "timesAccessedAsFirstPartyDueToUserInteraction": 0,
            "timesAccessedAsFirstPartyDueToStorageAccessAPI": 0, "isScheduledForAllButCookieDataRemoval": 0}]
    if plant_it("rls", "ios/webkit_rls/observed_domain"):
        rls.append({**rls[0], "domainID": 2, "registrableDomain": TRACES["rls"][2], "hadUserInteraction": 0})
    b.add_sqlite(f"{containers['com.google.chrome.ios']}/Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db",
                 "ios/observations.db/ios16.sql", {"ObservedDomains": rls})

    sms_rows = [{"ROWID": i + 1, "guid": f"G{i}", "text": f"see https://{rng.choice(BENIGN_HOSTS)}/{i}", "handle_id": 1,
                 "service": "iMessage", "date": int(_cocoa(START + timedelta(hours=i)) * 1e9), "is_from_me": i % 2}
                for i in range(6)]
    if plant_it("sms", "ios/sms/message"):
        sms_rows.append({"ROWID": 99, "guid": "GX", "text": f"Your parcel: https://{TRACES['sms'][2]}/t?i=8",
                         "handle_id": 1, "service": "SMS", "date": int(_cocoa(START + timedelta(days=3)) * 1e9), "is_from_me": 0})
    b.add_sqlite("/private/var/mobile/Library/SMS/sms.db", "ios/sms.db/ios12.sql",
                 {"handle": [{"ROWID": 1, "id": "+41790000001", "service": "SMS"}], "message": sms_rows})

    lookups: dict[str, Any] = {"tel:+41790000001": {"LookupDate": _cocoa(START), "IDStatus": 1}}
    if plant_it("idstatus", "ios/idstatuscache/lookup"):
        lookups[f"mailto:{TRACES['idstatus'][2]}"] = {"LookupDate": _cocoa(START + timedelta(days=3)), "IDStatus": 1}
    b.add_plist("/private/var/mobile/Library/Preferences/com.apple.identityservices.idstatuscache.plist",
                {"CacheVersion": 2, "com.apple.madrid": lookups})

    tcc = [{"service": "kTCCServiceCamera", "client": "net.whatsapp.WhatsApp", "client_type": 0, "auth_value": 2,
            "auth_reason": 2, "auth_version": 1, "flags": 0, "last_modified": int(START.timestamp())}]
    if plant_it("tcc", "ios/tcc/access"):
        tcc.append({**tcc[0], "service": "kTCCServiceMicrophone", "client": TRACES["tcc"][2], "client_type": 1})
    b.add_sqlite("/private/var/mobile/Library/TCC/TCC.db", "ios/TCC.db/ios14.sql", {"access": tcc})

    first_seen = START.replace(tzinfo=None)
    baseline: dict[str, Any] = {"com.apple.mobilesafari": [first_seen, 10, 1, 0, 0]}
    if plant_it("addaily", "ios/osanalytics/netusage_baseline"):
        baseline[TRACES["addaily"][2]] = [first_seen, 5, 5, 0, 0]
    b.add_plist("/private/var/mobile/Library/Preferences/com.apple.osanalytics.addaily.plist",
                {"netUsageBaseline": baseline})

    b.add_plist("/private/var/mobile/Library/Preferences/.GlobalPreferences.plist",
                {"AppleLocale": "en_CH", "LDMGlobalEnabled": False})

    ko = [{"Z_PK": 1, "ZSTREAMNAME": "/app/inFocus", "ZVALUESTRING": "org.telegram.Telegram",
           "ZSTARTDATE": _cocoa(START), "ZENDDATE": _cocoa(START + timedelta(minutes=5))}]
    meta: list[dict[str, Any]] = []
    if plant_it("knowledgec", "ios/knowledgec/event"):
        ko.append({"Z_PK": 2, "ZSTREAMNAME": "/app/webUsage", "ZVALUESTRING": "com.apple.mobilesafari",
                   "ZSTARTDATE": _cocoa(START + timedelta(days=3)), "ZSTRUCTUREDMETADATA": 1})
        meta.append({"Z_PK": 1, "Z_DKDIGITALHEALTHMETADATAKEY__WEBDOMAIN": TRACES["knowledgec"][2],
                     "Z_DKDIGITALHEALTHMETADATAKEY__WEBPAGEURL": f"https://{TRACES['knowledgec'][2]}/x"})
    b.add_sqlite("/private/var/mobile/Library/CoreDuet/Knowledge/knowledgeC.db", "macos/knowledgeC.db/macos10.14.sql",
                 {"ZOBJECT": ko, "ZSTRUCTUREDMETADATA": meta})

    cookies = [cookie("www.apple.com", "geo", created=START, expires=START + timedelta(days=30))]
    if plant_it("cookie", "ios/safari_cookies/cookie"):
        cookies.append(cookie(f".{TRACES['cookie'][2]}", "sid", created=START + timedelta(days=3), expires=START + timedelta(days=33)))
    b.add_file(f"{safari}/Library/Cookies/Cookies.binarycookies", binarycookies([page(cookies)]))

    events_p: list[dict[str, Any]] = [{"com.example.vpn": {"timestamp": START.replace(tzinfo=None), "operation": "install",
                                                          "process": "MCInstallationUIHost"}}]
    if plant_it("profile_event", "ios/profile_events/event"):
        events_p.append({TRACES["profile_event"][2]: {"timestamp": (START + timedelta(days=3)).replace(tzinfo=None),
                                                      "operation": "install", "process": "profiled"}})
    b.add_plist("/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.configurationprofiles/Library/"
                "ConfigurationProfiles/MCProfileEvents.plist", {"ProfileEvents": events_p})

    # Benign Biome app-usage records (SEGB v2): apps in focus and a web visit.
    focus = [(1, START + timedelta(hours=h), segb_field(3, ident) + segb_field(6, 30.0))
             for h, (ident, _) in enumerate(APPS[:3])]
    web = [(1, START, segb_field(1, "com.apple.mobilesafari") + segb_field(2, "https://www.wikipedia.org/"))]
    biome = "/private/var/mobile/Library/Biome/streams/restricted"
    b.add_file(f"{biome}/App.InFocus/local/738400000000000", segb_v2(focus, START))
    b.add_file(f"{biome}/App.WebUsage/local/738400000000000", segb_v2(web, START))

    # Benign rows of artefacts MVT reads without indicators.
    b.add_sqlite("/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb", "ios/AddressBook.sqlitedb/ios16.sql", {
        "ABPerson": [{"ROWID": 1, "First": "Ana", "Last": "Ruiz"}],
        "ABMultiValue": [{"UID": 1, "record_id": 1, "property": 3, "value": "+41790000001", "guid": "g1"}]})
    b.add_sqlite(f"{groups['net.whatsapp.WhatsApp']}/ContactsV2.sqlite", "ios/ContactsV2.sqlite/ios16.sql",
                 {"ZWAADDRESSBOOKCONTACT": [{"Z_PK": 1, "ZFULLNAME": "Ana Ruiz", "ZPHONENUMBER": "+41790000001"}]})
    b.add_sqlite("/private/var/mobile/Library/CoreDuet/People/interactionC.db", "ios/interactionC.db/mvt-fixture.sql", {
        "ZCONTACTS": [{"Z_PK": 1, "ZDISPLAYNAME": "Ana", "ZIDENTIFIER": "+41790000001"}],
        "ZINTERACTIONS": [{"Z_PK": 1, "ZSENDER": 1, "ZBUNDLEID": "com.apple.MobileSMS", "ZDIRECTION": 0,
                           "ZSTARTDATE": _cocoa(START), "ZENDDATE": _cocoa(START), "ZCREATIONDATE": _cocoa(START)}]})

    # --- filler: the bulk of a phone's files --------------------------------------------------------
    before = len(b._nodes)
    _filler(b, rng, max(0, files - before), containers, bundles)
    if plant:
        sample.planted = [Planted(*TRACES[k][:3], TRACES[k][2], src) for k, src in planted.items() if k not in UNMASK_ONLY]
        sample.unmask_only = [Planted(*TRACES[k][:3], TRACES[k][2], src) for k, src in planted.items() if k in UNMASK_ONLY]
    sample.folder = b.finish("folder")
    for form in forms:
        sample.archives[form] = b.finish(form)
    sample.counts = {"entries": len(b._nodes), "files": sum(n.kind == "file" for n in b._nodes.values())}
    return sample


def _live(procs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Three live-usage rows per process row, each pointing at it."""
    rows = []
    for p in procs:
        for k in range(3):
            rows.append({"Z_PK": 3 * (p["Z_PK"] - 1) + k + 1, "Z_ENT": 2, "Z_OPT": 1, "ZHASPROCESS": p["Z_PK"],
                         "ZTIMESTAMP": p["ZTIMESTAMP"] + 3600 * k, "ZWIFIIN": 1000.0 * k, "ZWIFIOUT": 100.0 * k})
    return rows


def _filler(b: DumpBuilder, rng: random.Random, count: int, containers: dict[str, str], bundles: dict[str, str]) -> None:
    """``count`` files shaped like a real phone's: system volume, camera roll, app containers, system
    caches, WebKit data of benign sites. Every path carries ``i``, so all are distinct."""
    idents = list(containers)
    for i in range(count):
        r = rng.random()
        token = f"{rng.getrandbits(64):016X}"
        ext = rng.choice(_EXTS)
        if r < 0.18:
            fw = rng.choice(_FRAMEWORKS)
            path = f"/System/Library/PrivateFrameworks/{fw}{i % 40}.framework/Resources/{token[:6]}-{i}.{ext}"
        elif r < 0.25:
            path = f"/usr/share/{rng.choice(('zoneinfo', 'locale', 'icu', 'misc'))}/{token[:4]}/{i}.{ext}"
        elif r < 0.33:
            ident = rng.choice(list(bundles))
            path = f"{bundles[ident]}/{ident.rsplit('.', 1)[-1]}.app/Frameworks/{token[:5]}/{i}.{ext}"
        elif r < 0.53:
            path = f"/private/var/mobile/Media/DCIM/{100 + i // 1000}APPLE/IMG_{i:06d}.HEIC"
        elif r < 0.75:
            ident = rng.choice(idents)
            sub = rng.choice(("Documents", "Library/Caches", "Library/Application Support", "tmp", "Library/Preferences"))
            path = f"{containers[ident]}/{sub}/{token[:8]}/{i}.{ext}"
        elif r < 0.88:
            service = rng.choice(("nsurlsessiond", "Maps", "weather", "itunesstored", "parsecd", "geod", "cloudd"))
            path = f"/private/var/mobile/Library/Caches/com.apple.{service}/fsCachedData/{token}-{i}"
        elif r < 0.93:
            host = rng.choice(BENIGN_HOSTS)
            ident = rng.choice(idents)
            store = rng.choice(("IndexedDB", "LocalStorage"))
            path = f"{containers[ident]}/Library/WebKit/WebsiteData/{store}/https_{host}_0/{i}.{ext}"
        else:
            path = f"/private/var/db/{rng.choice(('diagnostics', 'uuidtext', 'analyticsd', 'lockdown'))}/{token[:2]}/{i}.{ext}"
        b.add_file(path, b"x", when=datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=i))
