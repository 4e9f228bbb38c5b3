from pathlib import Path

from tests.builders.android import AndroidQFBuilder, appops, run_on
from unmask.parsers.android.dumpsys_appops import DumpsysAppopsParser


def test_ops_per_package_with_last_access(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("appops", appops({"com.x": [("REQUEST_INSTALL_PACKAGES", "allow"), ("CAMERA", "deny")]}))
    records, _ = run_on(DumpsysAppopsParser, b.write_folder(tmp_path / "a"))
    assert [(r.package, r.op, r.mode) for r in records] == [("com.x", "REQUEST_INSTALL_PACKAGES", "allow"), ("com.x", "CAMERA", "deny")]
    assert records[0].last_access.isoformat() == "2024-04-30T16:37:30+00:00"
