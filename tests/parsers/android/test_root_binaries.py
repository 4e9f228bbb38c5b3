from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.root_binaries import RootBinariesParser


def test_which_outputs_with_several_hits(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_json("root_binaries.json", ["/system/bin/su\n/system/xbin/su", "/data/local/tmp/magisk"])
    records, _ = run_on(RootBinariesParser, b.write_folder(tmp_path / "a"))
    assert [r.path for r in records] == ["/system/bin/su", "/system/xbin/su", "/data/local/tmp/magisk"]
