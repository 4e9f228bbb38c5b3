from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.environment import EnvironmentParser


def test_env(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_text("env.txt", "PATH=/product/bin:/system/bin\nTMPDIR=/data/local/tmp\nnot a variable\n")
    records, _ = run_on(EnvironmentParser, b.write_folder(tmp_path / "a"))
    assert [(r.name, r.value) for r in records] == [("PATH", "/product/bin:/system/bin"), ("TMPDIR", "/data/local/tmp")]
