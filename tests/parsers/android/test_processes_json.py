from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.processes_json import ProcessesJsonParser


def test_processes_json_is_read_mvt_only_reads_ps_txt(tmp_path: Path) -> None:
    # MVT's AQFProcesses globs */ps.txt; AndroidQF writes processes.json (its collector).
    b = AndroidQFBuilder().set_json("processes.json", [
        {"pid": 1, "uid": 0, "ppid": 0, "filename": "init", "command_line": ["/system/bin/init"], "path": "/system/bin/init"},
        {"pid": 900, "uid": 10230, "ppid": 1, "filename": "com.spy:remote", "command_line": ["com.spy:remote"]},
    ])
    records, _ = run_on(ProcessesJsonParser, b.write_folder(tmp_path / "a"))
    assert [(r.pid, r.name, r.app) for r in records] == [(1, "init", None), (900, "com.spy:remote", "com.spy")]
