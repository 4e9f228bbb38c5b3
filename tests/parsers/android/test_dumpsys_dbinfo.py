from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.dumpsys_dbinfo import DumpsysDbinfoParser


def test_recent_operations(tmp_path: Path) -> None:
    body = ("Applications Database Info:\n\n** Database info for pid 8817 [com.spy] **\n\nMost recently executed operations:\n"
            '    0: [2024-05-01 13:26:36.560] executeForCursorWindow took 0ms - succeeded, sql="SELECT 1", path=/data/user/0/com.spy/databases/a.db\n')
    (op,), _ = run_on(DumpsysDbinfoParser, AndroidQFBuilder().add_dumpsys("dbinfo", body).write_folder(tmp_path / "a"))
    assert (op.process, op.action, op.path, op.sql) == ("com.spy", "executeForCursorWindow", "/data/user/0/com.spy/databases/a.db", "SELECT 1")


def test_operations_with_the_caller_pid_before_them(tmp_path: Path) -> None:
    # As a 2023 Samsung phone prints them: "[Pid:(0)]" glued to the operation's name.
    body = ("Applications Database Info:\n\n** Database info for pid 5748 [com.sec.android.inputmethod] **\n\n"
            "      Most recently executed operations:\n"
            "        0: [2023-07-27 12:21:44.458] [Pid:(0)]executeForCursorWindow took 1ms - succeeded, "
            'sql="PRAGMA database_list;", path=/data/user/0/com.sec.android.inputmethod/databases/StickerRecentList\n'
            "        1: [2023-07-27 12:21:44.456] [Pid:(1234)] executeForLong took 0ms - succeeded, "
            'sql="PRAGMA page_size;", path=/data/user/0/com.sec.android.inputmethod/databases/StickerRecentList\n')
    records, _ = run_on(DumpsysDbinfoParser, AndroidQFBuilder().add_dumpsys("dbinfo", body).write_folder(tmp_path / "a"))
    assert [(r.action, r.sql) for r in records] == [("executeForCursorWindow", "PRAGMA database_list;"),
                                                     ("executeForLong", "PRAGMA page_size;")]
    assert all(r.path == "/data/user/0/com.sec.android.inputmethod/databases/StickerRecentList" for r in records)
