from pathlib import Path

from tests.builders.android import AndroidQFBuilder, device_policy, run_on
from unmask.parsers.android.dumpsys_device_policy import DumpsysDevicePolicyParser


def test_enabled_admins(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("device_policy", device_policy(["com.spy/com.spy.Admin"]))
    (admin,), _ = run_on(DumpsysDevicePolicyParser, b.write_folder(tmp_path / "a"))
    assert (admin.package, admin.user) == ("com.spy", 0)
