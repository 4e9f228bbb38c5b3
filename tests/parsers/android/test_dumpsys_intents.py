from pathlib import Path

from tests.builders.android import AndroidQFBuilder, dumpsys_package, run_on
from unmask.parsers.android.dumpsys_intents import DumpsysIntentsParser


def test_resolver_tables(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("package", dumpsys_package([], main=["com.a/.Main"], boot=["com.spy/.Boot"]))
    records, _ = run_on(DumpsysIntentsParser, b.write_folder(tmp_path / "a"))
    assert [(r.table, r.action, r.package) for r in records] == [
        ("activity", "android.intent.action.MAIN", "com.a"), ("receiver", "android.intent.action.BOOT_COMPLETED", "com.spy")]
