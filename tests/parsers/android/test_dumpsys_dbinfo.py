from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.dumpsys_dbinfo import DumpsysDbinfoParser


def test_recent_operations(tmp_path: Path) -> None:
    body = ("Applications Database Info:\n\n** Database info for pid 8817 [com.spy] **\n\nMost recently executed operations:\n"
            '    0: [2024-05-01 13:26:36.560] executeForCursorWindow took 0ms - succeeded, sql="SELECT 1", path=/data/user/0/com.spy/databases/a.db\n')
    (op,), _ = run_on(DumpsysDbinfoParser, AndroidQFBuilder().add_dumpsys("dbinfo", body).write_folder(tmp_path / "a"))
    assert (op.process, op.action, op.path, op.sql) == ("com.spy", "executeForCursorWindow", "/data/user/0/com.spy/databases/a.db", "SELECT 1")
