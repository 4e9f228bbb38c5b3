"""Write Android evidence in code: AndroidQF folders, zips and age files, bugreports with the real
dumpstate/dumpsys delimiters, and ``.ab`` backups (plain or encrypted). No opaque blobs.

Delimiters are AOSP's (frameworks/native/cmds/dumpsys ``writeDumpHeader``/``writeDumpFooter``;
frameworks/native/cmds/dumpstate ``PrintHeader``, ``DurationReporter``); AndroidQF's file names and
JSON fields are mvt-project/androidqf's (``adb/packages.go``, ``android-collector``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DASHES = "-" * 79


def dumpsys_block(service: str, body: str, *, priority: str | None = None, when: str = "2024-05-02 10:00:01") -> str:
    """One ``dumpsys`` service block as dumpsys writes it (Android 8+ priority form when given)."""
    head = f"DUMP OF SERVICE {priority} {service}:" if priority else f"DUMP OF SERVICE {service}:"
    return f"{DASHES}\n{head}\n{body.rstrip()}\n--------- 0.012s was the duration of dumpsys {service}, ending at: {when}\n"


def dumpstate_section(title: str, command: str, body: str) -> str:
    """One dumpstate command section (``------ TITLE (command) ------`` … duration line)."""
    return f"------ {title} ({command}) ------\n{body.rstrip()}\n------ 0.512s was the duration of '{title}' ------\n"


def getprop_text(props: dict[str, str]) -> str:
    return "".join(f"[{k}]: [{v}]\n" for k, v in props.items())


DEFAULT_PROPS = {
    "ro.product.model": "Pixel 7",
    "ro.product.manufacturer": "Google",
    "ro.build.version.release": "14",
    "ro.build.version.security_patch": "2024-04-05",
    "ro.build.fingerprint": "google/panther/panther:14/AP1A.240405.002/11480754:user/release-keys",
    "persist.sys.timezone": "Europe/Paris",
}


def package_block(package: str, *, uid: int = 10200, installer: str | None = "com.android.vending",
                  first: str = "2024-01-10 09:00:00", system: bool = False, granted: tuple[str, ...] = (),
                  runtime: tuple[str, ...] = (), disabled: tuple[str, ...] = ()) -> str:
    """One ``Package [..]`` block of ``dumpsys package`` (Android 12–14 field names)."""
    flags = "[ SYSTEM HAS_CODE ]" if system else "[ HAS_CODE ALLOW_CLEAR_USER_DATA ]"
    lines = [
        f"  Package [{package}] (a1b2c3d):",
        f"    userId={uid}",
        f"    pkg=Package{{5be8c47 {package}}}",
        f"    codePath=/data/app/~~x==/{package}-y==",
        "    versionCode=42 minSdk=26 targetSdk=33",
        "    versionName=4.2",
        f"    timeStamp={first}",
        f"    firstInstallTime={first}",
        f"    lastUpdateTime={first}",
    ]
    if installer:
        lines.append(f"    installerPackageName={installer}")
    lines.append(f"    pkgFlags={flags}")
    if granted:
        lines.append("    install permissions:")
        lines += [f"      {p}: granted=true" for p in granted]
    lines.append("    User 0: ceDataInode=1 installed=true hidden=false suspended=false stopped=false notLaunched=false enabled=0 instant=false virtual=false")
    if runtime:
        lines.append("      runtime permissions:")
        lines += [f"        {p}: granted=true, flags=[ USER_SET ]" for p in runtime]
    if disabled:
        lines.append("      disabledComponents:")
        lines += [f"        {c}" for c in disabled]
    return "\n".join(lines) + "\n"


def resolver_tables(main: list[str], boot: list[str]) -> str:
    """Activity and receiver resolver tables (``pkg/cls`` components for MAIN and BOOT_COMPLETED)."""
    out = ["Activity Resolver Table:", "  Non-Data Actions:", "      android.intent.action.MAIN:"]
    out += [f"        8a1b2c {c} filter 4d5e6f" for c in main]
    out += ["", "Receiver Resolver Table:", "  Non-Data Actions:", "      android.intent.action.BOOT_COMPLETED:"]
    out += [f"        9a1b2c {c} filter 5d5e6f" for c in boot]
    return "\n".join(out) + "\n\n"


def dumpsys_package(packages: list[str], main: list[str] = (), boot: list[str] = ()) -> str:  # type: ignore[assignment]
    head = "Database versions:\n  Internal:\n    sdkVersion=34 databaseVersion=3\n\n"
    return head + resolver_tables(list(main), list(boot)) + "Packages:\n" + "".join(packages) + "\nQueries:\n  system apps queryable: false\n"


def accessibility_v14(enabled: list[str], bound: list[str] = ()) -> str:  # type: ignore[assignment]
    return ("ACCESSIBILITY MANAGER (dumpsys accessibility)\n\ncurrentUserId=0\nUser state[\n"
            "     attributes:{id=0, touchExplorationEnabled=false, installedServiceCount=1}\n"
            f"     Bound services:{{{', '.join('{' + b + '}' for b in bound)}}}\n"
            f"     Enabled services:{{{', '.join('{' + e + '}' for e in enabled)}}}\n"
            "     Binding services:{}\n     Crashed services:{}\n]\n")


def accessibility_v13(installed: list[str], enabled: list[str]) -> str:
    inst = "".join(f"    {i} : {c}\n" for i, c in enumerate(installed))
    en = "".join(f"    {i} : {c}\n" for i, c in enumerate(enabled))
    return ("ACCESSIBILITY MANAGER (dumpsys accessibility)\n\nUser state[attributes:{id=0, currentUser=true}\n"
            f"  installed services: {{\n{inst}  }}\n  enabled services: {{\n{en}  }}\n  bound services:{{\n  }}]\n")


def device_policy(admins: list[str]) -> str:
    body = "Current Device Policy Manager state:\n  Enabled Device Admins (User 0, provisioningState: 0):\n"
    for a in admins:
        body += f"    {a}:\n      uid=10300\n      testOnlyAdmin=false\n"
    return body + "\n  mPasswordOwner=-1\n"


def appops(entries: dict[str, list[tuple[str, str]]]) -> str:
    out = ["Current AppOps Service state:", ""]
    for i, (package, ops) in enumerate(entries.items()):
        out += [f"  Uid u0a{100 + i}:", "    state=cch", f"    Package {package}:"]
        for op, mode in ops:
            out += [f"      {op} ({mode}):", "        Access: [fg-s] 2024-04-30 18:37:30.315 (-2d3h)"]
    return "\n".join(out) + "\n"


def adb_text(keys: list[tuple[str, int]]) -> str:
    body = ["ADB MANAGER STATE (dumpsys adb):", "{", "  debugging_manager={", "    connected_to_adb=true"]
    if keys:
        body.append("    user_keys=" + keys[0][0])
    body.append("    keystore=<?xml version='1.0' encoding='utf-8' standalone='yes' ?>")
    body.append('    <keyStore version="1">')
    body += [f'    <adbKey key="{k}" lastConnection="{t}" />' for k, t in keys]
    body += ["    </keyStore>", "  }", "}"]
    return "\n".join(body) + "\n"


def battery_daily(days: list[tuple[str, str, list[tuple[str, int | None]]]]) -> str:
    """``dumpsys batterystats`` daily stats (AOSP ``dumpDailyPackageChanges``): per period, ``Update
    <package> vers=<n>`` lines, or ``Uninstall <package>`` for a version ``None``."""
    out = ["Daily stats:", "  Current start time: 2024-05-02-03-00-00", "  Next min deadline: 2024-05-03-01-00-00"]
    for start, end, changes in days:
        out += [f"  Daily from {start} to {end}:", "    Discharge step durations:", "      #0: +1h02m00s000ms to 80 (screen-off)",
                "    Package changes:"]
        out += [f"      Update {p} vers={v}" if v is not None else f"      Uninstall {p}" for p, v in changes]
    return "\n".join(out) + "\n"


def battery_history(start: str, events: list[tuple[str, str]]) -> str:
    """``dumpsys batterystats --history`` (AOSP ``HistoryPrinter.printNextItem``): a ``RESET:TIME:``
    line in device local time, then one line per ``(offset, event)`` such as ``("+1h02m03s004ms",
    'pkginst=42:"com.example"')``, each ``  <offset padded to 19> (2) <level> <event>``."""
    out = ["Battery History (2% used, 49KB used of 2048KB, 120 strings using 9518):",
           f"{'0':>21} (15) RESET:TIME: {start}",
           f"{'0':>21} (2) 100 status=discharging health=good plug=none temp=290 volt=4302 charge=4500 +running +wake_lock"]
    out += [f"  {offset:>19} (2) 099 {event}" for offset, event in events]
    return "\n".join(out) + "\n\n"


def settings_text(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def package_json(name: str, *, installer: str = "com.android.vending", system: bool = False, apk_sha256: str = "",
                 cert_sha1: str = "", cert_sha256: str = "", subject: str = "C=US, O=Example Inc., CN=Example",
                 uid: int = 10200, serial: int | None = None) -> dict[str, Any]:
    """One packages.json entry (androidqf ``adb/packages.go``; certificate fields of apkverifier).
    ``SerialNumber`` is a JSON number as Go writes a ``big.Int``: mostly past 64 bits (by default
    a 127-bit one drawn from the name)."""
    if serial is None:
        serial = int.from_bytes(hashlib.sha1(name.encode()).digest()[:16], "big") >> 1
    return {
        "name": name, "installer": installer, "uid": uid, "disabled": False, "system": system,
        "third_party": not system,
        "files": [{
            "path": f"/data/app/~~a==/{name}-b==/base.apk", "local_name": "", "md5": hashlib.md5(name.encode()).hexdigest(),
            "sha1": hashlib.sha1(name.encode()).hexdigest(), "sha256": apk_sha256 or hashlib.sha256(name.encode()).hexdigest(),
            "sha512": "", "error": "", "verified_certificate": True,
            "certificate": {"Md5": hashlib.md5(subject.encode()).hexdigest(), "Sha1": cert_sha1 or hashlib.sha1(subject.encode()).hexdigest(),
                            "Sha256": cert_sha256 or hashlib.sha256(subject.encode()).hexdigest(),
                            "ValidFrom": "2020-01-01T00:00:00Z", "ValidTo": "2050-01-01T00:00:00Z",
                            "Issuer": subject, "Subject": subject, "SignatureAlgorithm": "SHA256-RSA", "SerialNumber": serial},
            "certificate_error": "", "trusted_certificate": False,
        }],
    }


@dataclass
class AndroidQFBuilder:
    """An AndroidQF acquisition, written as a folder, a zip (root or one folder) or an age file."""

    uuid: str = "4c1a9d8e-2b7f-4f3e-9a51-0d6f2c8b7e10"
    files: dict[str, bytes] = field(default_factory=dict)
    dumpsys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.set_json("acquisition.json", {
            "uuid": self.uuid, "androidqf_version": "v1.8.2", "storage_path": "/tmp/x",
            "started": "2024-05-02T10:00:00.123456+02:00", "completed": "2024-05-02T10:09:00.5+02:00",
            "collector": None, "tmp_dir": "/data/local/tmp/", "sdcard": "/sdcard/", "cpu": "arm64-v8a",
            "streaming_mode": False,
        })
        self.set_text("getprop.txt", getprop_text(DEFAULT_PROPS))

    def set_text(self, name: str, text: str) -> AndroidQFBuilder:
        self.files[name] = text.encode()
        return self

    def set_json(self, name: str, value: Any) -> AndroidQFBuilder:
        self.files[name] = json.dumps(value, indent=1).encode()
        return self

    def add_dumpsys(self, service: str, body: str, **kw: Any) -> AndroidQFBuilder:
        self.dumpsys.append(dumpsys_block(service, body, **kw))
        return self

    def contents(self) -> dict[str, bytes]:
        out = dict(self.files)
        if self.dumpsys:
            out["dumpsys.txt"] = ("Currently running services:\n  accessibility\n  package\n" + "".join(self.dumpsys)).encode()
        return out

    def write_folder(self, root: Path) -> Path:
        for name, data in self.contents().items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return root

    def write_zip(self, path: Path, *, folder: bool = False) -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.contents().items():
                zf.writestr(f"{self.uuid}/{name}" if folder else name, data)
        return path

    def write_age(self, path: Path, recipient: Any) -> Path:
        import pyrage

        buffer = io.BytesIO()
        self.write_zip(buffer, folder=True)  # type: ignore[arg-type]
        path.write_bytes(pyrage.encrypt(buffer.getvalue(), [recipient]))
        return path


def bugreport_text(*, android: int = 14, props: dict[str, str] | None = None, dumpsys: list[str] = (),  # type: ignore[assignment]
                   ps: str = "", logcat: str = "") -> str:
    """A dumpstate text with the header and sections Android 12–15 write (the CRITICAL and
    NORMAL dumpsys passes, system properties, processes, the system log)."""
    header = ("========================================================\n== dumpstate: 2024-05-02 10:00:00\n"
              "========================================================\n\n"
              f"Build: AP1A.240405.002\nBuild fingerprint: 'google/panther/panther:{android}/AP1A/1:user/release-keys'\n"
              "Bootloader: slider-1.3\nRadio: g5300q\nNetwork: Orange F\nKernel: Linux version 5.10.198\n"
              "Uptime: up 2 days\nBugreport format version: 2.0\n"
              "Dumpstate info: id=1 pid=1234 dry_run=0 parallel_run=1 args=-S bugreport_mode=BUGREPORT_FULL\n\n")
    critical = dumpstate_section("DUMPSYS CRITICAL", "/system/bin/dumpsys", dumpsys_block("cpuinfo", "Load: 1.0", priority="CRITICAL"))
    parts = [header, critical,
             dumpstate_section("SYSTEM LOG", "logcat -v threadtime -v printable -v uid -d *:v", logcat or "--------- beginning of main"),
             dumpstate_section("SYSTEM PROPERTIES", "getprop", getprop_text(props or DEFAULT_PROPS)),
             dumpstate_section("PROCESSES AND THREADS", "ps -A -T -Z -O pri,nice,rtprio,sched,pcy,time",
                               ps or "LABEL USER PID TID PPID VSZ RSS WCHAN ADDR S PRI NI RTPRIO SCH PCY TIME CMD\n"
                                     "u:r:init:s0 root 1 1 0 1 1 0 0 S 19 0 - 0 fg 00:00:01 init\n"),
             "------ DUMPSYS (/system/bin/dumpsys) ------\n", *dumpsys,
             "------ 12.500s was the duration of 'DUMPSYS' ------\n"]
    return "".join(parts)


def write_bugreport(path: Path, text: str, fs: dict[str, bytes] | None = None, *, as_folder: bool = False) -> Path:
    name = "bugreport-panther-AP1A.240405.002-2024-05-02-10-00-00.txt"
    members = {"main_entry.txt": name.encode(), name: text.encode(), "version.txt": b"2.0",
               **{f"FS/{k.lstrip('/')}": v for k, v in (fs or {}).items()}}
    if as_folder:
        for n, data in members.items():
            (path / n).parent.mkdir(parents=True, exist_ok=True)
            (path / n).write_bytes(data)
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return path


def sms_backup_file(messages: list[dict[str, Any]]) -> bytes:
    return zlib.compress(json.dumps(messages).encode())


def _java_chars(key: bytes) -> bytes:
    # Written independently of unmask's: Java widens each byte to a signed char before UTF-8.
    out = bytearray()
    for b in key:
        if b < 0x80:
            out.append(b)
        else:
            c = 0xFF00 | b
            out += bytes([0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F)])
    return bytes(out)


def ab_backup(files: dict[str, bytes], *, password: str | None = None, version: int = 5, compress: bool = True,
              rounds: int = 1000) -> bytes:
    """An ``adb backup`` file holding ``files`` (tar names such as
    ``apps/com.android.providers.telephony/d_f/000000_sms_backup``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1714640000
            tar.addfile(info, io.BytesIO(data))
    body = buffer.getvalue()
    if compress:
        body = zlib.compress(body)
    header = f"ANDROID BACKUP\n{version}\n{1 if compress else 0}\n{'AES-256' if password else 'none'}\n".encode()
    if password is None:
        return header + body
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    user_salt, check_salt, user_iv, mk, mk_iv = (os.urandom(n) for n in (64, 64, 16, 32, 16))
    user_key = PBKDF2HMAC(hashes.SHA1(), 32, user_salt, rounds).derive(password.encode())
    checksum = PBKDF2HMAC(hashes.SHA1(), 32, check_salt, rounds).derive(_java_chars(mk) if version > 1 else mk)
    blob = bytes([16]) + mk_iv + bytes([32]) + mk + bytes([32]) + checksum
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(user_key), modes.CBC(user_iv)).encryptor()
    blob_enc = enc.update(padder.update(blob) + padder.finalize()) + enc.finalize()
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(mk), modes.CBC(mk_iv)).encryptor()
    data = enc.update(padder.update(body) + padder.finalize()) + enc.finalize()
    lines = [user_salt.hex().upper(), check_salt.hex().upper(), str(rounds), user_iv.hex().upper(), blob_enc.hex().upper()]
    return header + ("\n".join(lines) + "\n").encode() + data


def tombstone_text(process: str = "/system/bin/mediaserver", uid: int = 1013, signal: str = "11 (SIGSEGV)") -> str:
    return ("*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\n"
            "Build fingerprint: 'google/panther/panther:14/AP1A/1:user/release-keys'\nRevision: '0'\nABI: 'arm64'\n"
            "Timestamp: 2024-05-01 23:12:40.518290770+0200\nProcess uptime: 12s\n"
            f"Cmdline: {process}\npid: 2541, tid: 2607, name: Binder:2541_3  >>> {process} <<<\nuid: {uid}\n"
            f"signal {signal}, code 1 (SEGV_MAPERR), fault addr 0x0\nCause: null pointer dereference\n"
            "backtrace:\n      #00 pc 000000000004bd80  /apex/com.android.runtime/lib64/bionic/libc.so\n")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def tombstone_proto(argv: list[str], uid: int, signal: tuple[int, str] = (6, "SIGABRT")) -> bytes:
    """A Tombstone message (system/core/debuggerd/proto/tombstone.proto field numbers)."""
    sig = _field(1, signal[0]) + _field(2, signal[1]) + _field(3, 0) + _field(4, "SI_TKILL")
    thread = _field(1, 7) + _field(2, "main")
    entry = _field(1, 7) + _field(2, thread)
    return (_field(1, 1) + _field(2, "google/panther/panther:14/AP1A/1:user/release-keys") + _field(4, "2024-05-01 21:00:00.5+0000")
            + _field(5, 7) + _field(6, 7) + _field(7, uid) + _field(8, "u:r:system_server:s0")
            + b"".join(_field(9, a) for a in argv) + _field(10, sig) + _field(14, "abort!")
            + _field(15, _field(1, "stack corruption")) + _field(16, entry))


def run_on(parser: Any, root: Path) -> tuple[list[Any], Any]:
    """Run one parser class on evidence at ``root`` (any Android kind, recognised by content)."""
    from unmask.acquisition.registry import open_acquisition
    from unmask.parsers.base import run_parser

    acq = open_acquisition(root)
    try:
        return run_parser(parser(), acq)
    finally:
        acq.close()


def aqf_with(tmp: Path, **texts: str) -> Path:
    """An AndroidQF folder with the given files (name with ``.`` written as ``_`` is not needed:
    pass ``files={"packages.json": ...}`` through :class:`AndroidQFBuilder` for JSON)."""
    b = AndroidQFBuilder()
    for name, text in texts.items():
        b.set_text(name.replace("__", "."), text)
    return b.write_folder(tmp / "aqf")
