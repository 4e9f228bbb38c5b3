from pathlib import Path

from tests.builders.android import AndroidQFBuilder, dumpsys_package, package_block, run_on
from unmask.parsers.android.dumpsys_package import DumpsysPackageParser


def test_packages_block_from_dumpsys_txt_without_a_bugreport(tmp_path: Path) -> None:
    # MVT runs no dumpsys module on an AndroidQF acquisition that has dumpsys.txt but no bugreport.zip.
    b = AndroidQFBuilder().add_dumpsys("package", dumpsys_package([
        package_block("com.spy", installer=None, runtime=("android.permission.READ_SMS",), disabled=("com.spy.Main",)),
        package_block("com.android.settings", system=True)]))
    records, _ = run_on(DumpsysPackageParser, b.write_folder(tmp_path / "a"))
    spy, settings = records
    assert spy.package == "com.spy" and spy.installer is None and spy.granted == ("android.permission.READ_SMS",)
    assert spy.disabled_components == ("com.spy.Main",) and spy.uid == 10200 and spy.version_code == 42
    assert spy.first_install.isoformat() == "2024-01-10T08:00:00+00:00"
    assert settings.system is True
