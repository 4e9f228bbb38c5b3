import struct
from pathlib import Path

from tests.builders.android import AndroidQFBuilder, adb_text, run_on
from unmask.parsers.android.dumpsys_adb import DumpsysAdbParser


def test_xml_key_store(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("adb", adb_text([("QAAAAAcgbytJ user@laptop", 1628501829898)]))
    (key,), _ = run_on(DumpsysAdbParser, b.write_folder(tmp_path / "a"))
    assert key.user == "user@laptop" and key.last_connected.year == 2021


def _abx(key: str, last: int) -> bytes:
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


def test_android_binary_xml_key_store(tmp_path: Path) -> None:
    body = "ADB MANAGER STATE (dumpsys adb):\n{\n  debugging_manager={\n    keystore="
    b = AndroidQFBuilder()
    b.files["dumpsys.txt"] = (f"{'-' * 79}\nDUMP OF SERVICE adb:\n{body}").encode() + _abx("QAAAAZZZ host@x", 1714640000000) + b"\n  }\n}\n"
    (key,), _ = run_on(DumpsysAdbParser, b.write_folder(tmp_path / "a"))
    assert key.key == "QAAAAZZZ host@x" and key.last_connected.isoformat() == "2024-05-02T08:53:20+00:00"
