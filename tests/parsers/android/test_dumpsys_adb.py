from pathlib import Path

from tests.builders.android import AndroidQFBuilder, adb_text, run_on
from tests.builders.android_sample import abx_key_store
from unmask.parsers.android.dumpsys_adb import DumpsysAdbParser


def test_xml_key_store(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("adb", adb_text([("QAAAAAcgbytJ user@laptop", 1628501829898)]))
    (key,), _ = run_on(DumpsysAdbParser, b.write_folder(tmp_path / "a"))
    assert key.user == "user@laptop" and key.last_connected.year == 2021


def test_android_binary_xml_key_store(tmp_path: Path) -> None:
    body = "ADB MANAGER STATE (dumpsys adb):\n{\n  debugging_manager={\n    keystore="
    b = AndroidQFBuilder()
    b.files["dumpsys.txt"] = (f"{'-' * 79}\nDUMP OF SERVICE adb:\n{body}").encode() + abx_key_store("QAAAAZZZ host@x", 1714640000000) + b"\n  }\n}\n"
    (key,), _ = run_on(DumpsysAdbParser, b.write_folder(tmp_path / "a"))
    assert key.key == "QAAAAZZZ host@x" and key.last_connected.isoformat() == "2024-05-02T08:53:20+00:00"
