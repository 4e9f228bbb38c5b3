from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.dumpsys_platform_compat import DumpsysPlatformCompatParser


def test_downscaled_overrides(tmp_path: Path) -> None:
    body = "ChangeId(168419799; name=DOWNSCALED; disabled; packageOverrides={com.a=false}; rawOverrides={com.gone=false, com.a=false}; overridable)\n"
    records, _ = run_on(DumpsysPlatformCompatParser, AndroidQFBuilder().add_dumpsys("platform_compat", body).write_folder(tmp_path / "a"))
    assert [r.package for r in records] == ["com.a", "com.gone"]
