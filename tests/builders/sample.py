"""A realistic sample iOS backup with traces planted from the real public indicator sets.

Used by ``make demo``, the end-to-end tests and the benchmarks (at larger sizes). Everything is
built from the real device DDL in tests/schemas and a seeded random generator, so the same
arguments always give the same backup. :func:`build_sample` returns the planted traces, so a test
can check that a scan finds every planted item and nothing else.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.builders.ios_backup import BackupBuilder
from tests.builders.schema import schema_path

COCOA = datetime(2001, 1, 1, tzinfo=UTC)
START = datetime(2024, 1, 10, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Planted:
    """One trace planted in the sample: the indicator it should match and where it was put."""

    collection: str
    indicator_type: str
    indicator: str
    observed: str
    source: str


@dataclass
class Sample:
    """The built backup folder and what was planted in it."""

    root: Path
    planted: list[Planted] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# Traces from the bundled public sets (values checked by tests against the files themselves).
PEGASUS_DOMAIN = "weather4free.com"
PEGASUS_PROCESS = "roleaccountd"
PREDATOR_DOMAIN = "md-news-direct.com"
TRIANGULATION_EMAIL = "nonbaguette@yahoo.com"
QUADREAM_DOMAIN = "wikipedoptions.com"
EAGLE_IP = "47.112.137.199"
CORUNA_FILE = "fsCachedData0E1A3DC1C51C2D879DE016E56D3EECE8"
DARKSWORD_FILE = "rce_loader.js"

_BENIGN_HOSTS = [
    "www.wikipedia.org",
    "news.ycombinator.com",
    "www.bbc.co.uk",
    "github.com",
    "www.apple.com",
    "maps.google.com",
    "www.nytimes.com",
    "weather.com",
    "www.amnesty.org",
    "duckduckgo.com",
    "en.m.wikipedia.org",
    "www.theguardian.com",
    "mail.proton.me",
    "signal.org",
    "www.reddit.com",
]
# Bundle ids and Apple services for realistic app containers and system caches (``varied_paths``).
_APPS = [
    "com.burbn.instagram",
    "com.facebook.Facebook",
    "com.google.Maps",
    "com.spotify.client",
    "org.telegram.Telegram",
    "ph.telegra.Telegraph",
    "com.toyopagroup.picaboo",
    "com.zhiliaoapp.musically",
    "com.atebits.Tweetie2",
    "com.linkedin.LinkedIn",
    "com.microsoft.Office.Outlook",
    "com.google.chrome.ios",
    "org.mozilla.ios.Firefox",
    "com.netflix.Netflix",
    "com.duolingo.DuolingoMobile",
    "com.ubercab.UberClient",
    "com.booking.BookingApp",
    "com.airbnb.app",
    "com.dropbox.Dropbox",
    "com.apple.Pages",
    "com.apple.Keynote",
    "com.apple.podcasts",
    "com.apple.news",
    "com.apple.weather",
    "com.apple.Maps",
    "com.apple.mobilenotes",
    "org.whispersystems.signal",
    "com.protonmail.protonmail",
    "com.nytimes.NYTimes",
    "com.bbc.news",
    "com.skype.skype",
    "us.zoom.videomeetings",
    "com.getdropbox.Dropbox",
    "com.google.Gmail",
    "com.google.GoogleMobile",
    "com.amazon.Amazon",
    "com.paypal.here",
]
_SERVICES = [
    "mobilesafari",
    "Maps",
    "weather",
    "itunesstored",
    "nsurlsessiond",
    "AppStore",
    "Music",
    "mobileslideshow",
    "assistant",
    "icloud.fmfd",
    "parsecd",
    "geod",
    "mediaanalysisd",
    "photoanalysisd",
    "cloudd",
    "bird",
]
_EXTS = ["json", "plist", "sqlite", "db", "cache", "dat", "jpg", "png", "mp4", "js", "css", "html", "log"]
_WORDS = ["hello", "see", "you", "later", "lunch", "tomorrow", "meeting", "link", "here", "thanks", "please", "call", "back", "ok", "great", "news"]


def _cocoa(dt: datetime) -> float:
    return (dt - COCOA).total_seconds()


def _db(path: Path, schema: str) -> sqlite3.Connection:
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.create_function("delete_attachment_path", 1, lambda *_: None)
    conn.create_function("before_delete_attachment_path", 2, lambda *_: None)
    conn.executescript(schema_path(schema).read_text())
    return conn


def _text(rng: random.Random, n: int = 6) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def build_sample(
    root: Path,
    *,
    messages: int = 40,
    visits: int = 60,
    filler_files: int = 200,
    processes: int = 30,
    whatsapp: int = 20,
    seed: int = 7,
    plant: bool = True,
    varied_paths: bool = False,
) -> Sample:
    """Write a sample backup into ``root`` and return it with its planted traces.

    ``varied_paths`` makes the filler files look like a real phone's (camera roll, SMS
    attachments, app containers, system caches, WebKit origin folders of benign sites) instead of
    ``Library/Caches/dirN/fileM.dat``; the benchmarks use it so both tools see realistic paths.
    """
    rng = random.Random(seed)
    builder = BackupBuilder(root, ios_version="17.4.1", build="21E236", product_type="iPhone14,2")
    scratch = root.parent / f".{root.name}-dbs"
    scratch.mkdir(parents=True, exist_ok=True)
    sample = Sample(root)

    def plant_it(collection: str, itype: str, indicator: str, observed: str, source: str) -> None:
        if plant:
            sample.planted.append(Planted(collection, itype, indicator, observed, source))

    # --- SMS / iMessage (iOS 12 device schema) -----------------------------------------------
    sms = _db(scratch / "sms.db", "ios/sms.db/ios12.sql")
    handles = [f"+4179{rng.randrange(10**6, 10**7)}" for _ in range(20)] + ["friend@example.org"]
    sms.executemany(
        "INSERT INTO handle (ROWID, id, service) VALUES (?, ?, ?)",
        [(i + 1, h, "iMessage" if "@" in h else "SMS") for i, h in enumerate(handles)],
    )
    rows = []
    for i in range(messages):
        when = START + timedelta(minutes=37 * i)
        body = _text(rng)
        if i % 5 == 0:
            body += f" https://{rng.choice(_BENIGN_HOSTS)}/article/{i}"
        rows.append(
            (
                i + 1,
                f"GUID-{i:08d}",
                body,
                rng.randrange(1, len(handles) + 1),
                "iMessage",
                int(_cocoa(when) * 1e9),
                i % 3 == 0,
            )
        )
    if plant:
        when = START + timedelta(days=3, hours=2)
        rows.append(
            (
                messages + 1,
                "GUID-PLANTED-1",
                f"Your parcel is waiting, confirm delivery: {PEGASUS_DOMAIN}/track?id=8812",
                1,
                "SMS",
                int(_cocoa(when) * 1e9),
                0,
            )
        )
        plant_it("Pegasus", "domain-name:value", PEGASUS_DOMAIN, PEGASUS_DOMAIN, "ios/sms/message")
    sms.executemany(
        "INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me) VALUES (?,?,?,?,?,?,?)",
        rows,
    )
    sms.execute(
        "INSERT INTO attachment (ROWID, guid, created_date, filename, mime_type, transfer_name, total_bytes, "
        "original_guid) VALUES (1, 'ATT-1', ?, '~/Library/SMS/Attachments/ab/11/ATT-1/IMG_0001.jpeg', "
        "'image/jpeg', 'IMG_0001.jpeg', 1234, 'ATT-1')",
        (int(_cocoa(START)),),
    )
    sms.execute("INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (1, 1)")
    sms.commit()
    sms.close()
    builder.add_file("HomeDomain", "Library/SMS/sms.db", (scratch / "sms.db").read_bytes())
    builder.add_file(
        "MediaDomain",
        "Library/SMS/Attachments/ab/11/ATT-1/IMG_0001.jpeg",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9",
    )

    # --- Safari History (iOS 11 schema) -------------------------------------------------------
    hist = _db(scratch / "History.db", "ios/History.db/ios11.sql")
    urls: dict[str, int] = {}
    visit_rows = []
    for i in range(visits):
        url = f"https://{rng.choice(_BENIGN_HOSTS)}/page/{rng.randrange(10**5)}"
        item = urls.setdefault(url, len(urls) + 1)
        visit_rows.append((i + 1, item, _cocoa(START + timedelta(minutes=11 * i)), f"Page {i}"))
    if plant:
        url = f"https://cdn.{PREDATOR_DOMAIN}/a/b?x=1"
        item = urls.setdefault(url, len(urls) + 1)
        visit_rows.append((visits + 1, item, _cocoa(START + timedelta(days=2, minutes=5)), None))
        plant_it(
            "Predator",
            "domain-name:value",
            PREDATOR_DOMAIN,
            f"cdn.{PREDATOR_DOMAIN}",
            "ios/safari/history_visit",
        )
    hist.executemany(
        "INSERT INTO history_items (id, url, visit_count, daily_visit_counts, should_recompute_derived_visit_counts,"
        " visit_count_score) VALUES (?, ?, 1, x'', 0, 0)",
        [(i, u) for u, i in urls.items()],
    )
    hist.executemany(
        "INSERT INTO history_visits (id, history_item, visit_time, title) VALUES (?, ?, ?, ?)", visit_rows
    )
    hist.commit()
    hist.close()
    builder.add_file(
        "AppDomain-com.apple.mobilesafari", "Library/Safari/History.db", (scratch / "History.db").read_bytes()
    )

    # --- DataUsage (iOS 15 schema) ------------------------------------------------------------
    du = _db(scratch / "DataUsage.sqlite", "ios/DataUsage.sqlite/ios15.sql")
    names = [
        "com.apple.mobilesafari/com.apple.mobilesafari",
        "WhatsApp/net.whatsapp.WhatsApp",
        "mDNSResponder",
        "apsd",
        "itunesstored",
        "nsurlsessiond",
        "com.apple.WebKit.Networking",
        "Mail/com.apple.mobilemail",
    ]
    procs = []
    for i in range(processes):
        name = names[i % len(names)] if i < len(names) else f"{rng.choice(names).split('/')[0]}{i}"
        procs.append(
            (
                i + 1,
                _cocoa(START),
                _cocoa(START + timedelta(hours=i)),
                name.split("/")[-1],
                name.split("/")[0],
            )
        )
    if plant:
        procs.append(
            (
                processes + 1,
                _cocoa(START + timedelta(days=3, hours=2, minutes=1)),
                _cocoa(START + timedelta(days=3, hours=2, minutes=2)),
                None,
                PEGASUS_PROCESS,
            )
        )
        plant_it("Pegasus", "process:name", PEGASUS_PROCESS, PEGASUS_PROCESS, "ios/datausage/process")
    du.executemany(
        "INSERT INTO ZPROCESS (Z_PK, Z_ENT, Z_OPT, ZFIRSTTIMESTAMP, ZTIMESTAMP, ZBUNDLENAME, ZPROCNAME) "
        "VALUES (?, 1, 1, ?, ?, ?, ?)",
        procs,
    )
    du.executemany(
        "INSERT INTO ZLIVEUSAGE (Z_PK, Z_ENT, Z_OPT, ZHASPROCESS, ZTIMESTAMP, ZWIFIIN, ZWIFIOUT) "
        "VALUES (?, 2, 1, ?, ?, ?, ?)",
        [(p[0], p[0], p[2], float(rng.randrange(10**6)), float(rng.randrange(10**5))) for p in procs],
    )
    du.commit()
    du.close()
    builder.add_file(
        "WirelessDomain", "Library/Databases/DataUsage.sqlite", (scratch / "DataUsage.sqlite").read_bytes()
    )

    # --- WhatsApp (real iOS 15 device schema) -------------------------------------------------
    wa = _db(scratch / "ChatStorage.sqlite", "ios/ChatStorage.sqlite/ios15.sql")
    wa_rows = []
    for i in range(whatsapp):
        body = _text(rng) + (f" https://{rng.choice(_BENIGN_HOSTS)}/w/{i}" if i % 4 == 0 else "")
        wa_rows.append(
            (i + 1, 9, i % 2, _cocoa(START + timedelta(minutes=23 * i)), "41790000000@s.whatsapp.net", body)
        )
    if plant:
        wa_rows.append(
            (
                whatsapp + 1,
                9,
                0,
                _cocoa(START + timedelta(days=4)),
                "41790000001@s.whatsapp.net",
                f"look http://{EAGLE_IP}/d/app.html",
            )
        )
        plant_it("EagleMsgSpy", "ipv4-addr:value", EAGLE_IP, EAGLE_IP, "ios/whatsapp/message")
    wa.executemany(
        "INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, ZISFROMME, ZMESSAGEDATE, ZFROMJID, ZTEXT) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in wa_rows],
    )
    wa.commit()
    wa.close()
    builder.add_file(
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared",
        "ChatStorage.sqlite",
        (scratch / "ChatStorage.sqlite").read_bytes(),
    )

    # --- IDS status cache (a looked-up attacker iMessage account) -------------------------------
    ids = {
        "CacheVersion": 2,
        "com.apple.madrid": {
            f"tel:{h}": {"LookupDate": _cocoa(START + timedelta(hours=i)), "IDStatus": 1}
            for i, h in enumerate(handles[:5])
        },
    }
    if plant:
        ids["com.apple.madrid"][f"mailto:{TRIANGULATION_EMAIL}"] = {
            "LookupDate": _cocoa(START + timedelta(days=3, hours=1, minutes=59)),
            "IDStatus": 1,
        }
        plant_it(
            "OperationTriangulation",
            "email-addr:value",
            TRIANGULATION_EMAIL,
            TRIANGULATION_EMAIL,
            "ios/idstatuscache/lookup",
        )
    builder.add_plist("HomeDomain", "Library/Preferences/com.apple.identityservices.idstatuscache.plist", ids)

    # --- Global preferences: Lockdown Mode off --------------------------------------------------
    builder.add_plist(
        "HomeDomain",
        "Library/Preferences/.GlobalPreferences.plist",
        {"AppleLocale": "en_CH", "AppleLanguages": ["en-CH", "de-CH"], "LDMGlobalEnabled": False},
    )

    # --- filler files, and a Predator file path and a WebKit origin folder ----------------------
    domains = [
        "HomeDomain",
        "AppDomain-com.apple.mobilesafari",
        "MediaDomain",
        "RootDomain",
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared",
        "AppDomain-com.example.notes",
    ]
    if varied_paths:
        _varied_filler(builder, rng, filler_files)
        if plant:
            # Two file traces among the realistic paths, matched by file name (Coruna, DarkSword).
            builder.add_file("HomeDomain", f"Library/Caches/com.apple.nsurlsessiond/{CORUNA_FILE}", b"x")
            plant_it("Coruna", "file:name", CORUNA_FILE, CORUNA_FILE, "ios/manifest/file")
            builder.add_file("AppDomain-com.apple.mobilesafari",
                             f"Library/Caches/WebKit/NetworkCache/Version 16/Blobs/{DARKSWORD_FILE}", b"x")
            plant_it("DarkSword", "file:name", DARKSWORD_FILE, DARKSWORD_FILE, "ios/manifest/file")
    for i in range(0 if varied_paths else filler_files):
        domain = domains[i % len(domains)]
        if i % 3 == 0:
            builder.add_dir(domain, f"Library/Caches/dir{i // 3}")
        else:
            builder.add_file(domain, f"Library/Caches/dir{i // 3}/file{i}.dat", b"x")
    if plant:
        builder.add_file(
            "HomeDomain",
            f"Library/WebKit/WebsiteData/LocalStorage/https_{QUADREAM_DOMAIN}_0.localstorage",
            b"SQLite format 3\x00",
        )
        plant_it("KingSpawn", "domain-name:value", QUADREAM_DOMAIN, QUADREAM_DOMAIN, "ios/manifest/file")

    builder.finish()
    for p in scratch.iterdir():
        p.unlink()
    scratch.rmdir()
    sample.counts = {
        "messages": len(rows),
        "visits": len(visit_rows),
        "processes": len(procs),
        "whatsapp": len(wa_rows),
        "manifest_rows": len(builder._rows),
    }
    return sample


def _varied_filler(builder: BackupBuilder, rng: random.Random, count: int) -> None:
    """Add ``count`` Manifest rows shaped like a real phone's (every path carries ``i``, so unique).

    The mix roughly follows real backups: most rows are photos, attachments and app-container
    caches; about one in twenty is a WebKit origin folder or file named after a benign site, which
    is what makes the Manifest worth matching against domain indicators.
    """
    for i in range(count):
        r = rng.random()
        app = rng.choice(_APPS)
        ext = rng.choice(_EXTS)
        token = f"{rng.getrandbits(64):016X}"
        if r < 0.25:
            domain, path = "CameraRollDomain", f"Media/DCIM/{100 + i // 1000}APPLE/IMG_{i:06d}.HEIC"
        elif r < 0.30:
            domain, path = (
                "CameraRollDomain",
                f"Media/PhotoData/Thumbnails/V2/DCIM/{100 + i // 1000}APPLE/IMG_{i:06d}",
            )
        elif r < 0.42:
            domain = "MediaDomain"
            path = f"Library/SMS/Attachments/{token[:2].lower()}/{i % 16:02d}/{token}-{i}/IMG_{i:06d}.jpeg"
        elif r < 0.47:
            host = rng.choice(_BENIGN_HOSTS)
            store = rng.choice(("LocalStorage", "IndexedDB/v1", "CacheStorage", "ServiceWorkers"))
            domain = rng.choice(("HomeDomain", f"AppDomain-{app}", "AppDomain-com.apple.mobilesafari"))
            path = f"Library/WebKit/WebsiteData/{store}/https_{host}_0/{i}.{ext}"
        elif r < 0.72:
            sub = rng.choice(
                ("Documents", "Library/Caches", "Library/Application Support", "tmp", "Library/Cookies")
            )
            domain, path = f"AppDomain-{app}", f"{sub}/{app.split('.')[-1]}/{token[:8]}/{i}.{ext}"
        elif r < 0.82:
            domain, path = f"AppDomainGroup-group.{app}", f"Library/Caches/{token[:6]}/{i}.{ext}"
        elif r < 0.95:
            service = rng.choice(_SERVICES)
            domain, path = "HomeDomain", f"Library/Caches/com.apple.{service}/fsCachedData/{token}-{i}"
        else:
            service = rng.choice(_SERVICES)
            domain = rng.choice(
                ("HomeDomain", "RootDomain", "SysSharedContainerDomain-systemgroup.com.apple.media")
            )
            path = f"Library/Preferences/com.apple.{service}.{i}.plist"
        if i % 8 == 0:
            builder.add_dir(domain, path.rsplit("/", 1)[0] + f"/d{i}")
        else:
            builder.add_file(domain, path, b"x")
