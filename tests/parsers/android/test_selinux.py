from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.selinux import SelinuxParser


def test_getenforce(tmp_path: Path) -> None:
    records, _ = run_on(SelinuxParser, AndroidQFBuilder().set_text("selinux.txt", "Permissive\n").write_folder(tmp_path / "a"))
    assert [r.mode for r in records] == ["Permissive"]
