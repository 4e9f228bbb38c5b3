from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.mounts import MountsParser


def test_both_line_forms_and_duplicates_once(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_json("mounts.json", ["/dev/block/dm-0 on /system type ext4 (ro,seclabel)",
                                                    "/dev/block/dm-0 /system ext4 ro,seclabel 0 0",
                                                    "/dev/block/dm-1 /vendor ext4 rw,seclabel 0 0"])
    records, _ = run_on(MountsParser, b.write_folder(tmp_path / "a"))
    assert [(r.mount_point, r.options[0]) for r in records] == [("/system", "ro"), ("/vendor", "rw")]
