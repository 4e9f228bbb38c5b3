from pathlib import Path

from tests.builders.android import AndroidQFBuilder, accessibility_v13, accessibility_v14, run_on
from unmask.parsers.android.dumpsys_accessibility import DumpsysAccessibilityParser


def test_android_14_one_line_form(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("accessibility", accessibility_v14(["com.spy/com.spy.A", "com.b/.B"]))
    records, _ = run_on(DumpsysAccessibilityParser, b.write_folder(tmp_path / "a"))
    assert [(r.package, r.state) for r in records] == [("com.spy", "enabled"), ("com.b", "enabled")]


def test_block_form_up_to_android_13(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("accessibility", accessibility_v13(["com.a/.A", "com.spy/.S"], ["com.spy/.S"]))
    records, _ = run_on(DumpsysAccessibilityParser, b.write_folder(tmp_path / "a"))
    assert {(r.package, r.state) for r in records} == {("com.a", "installed"), ("com.spy", "installed"), ("com.spy", "enabled")}
