from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.log_files import LogFile, LogFileLine, LogFilesParser


def test_logs_folder_is_the_device_path_space(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_text("logs/data/anr/anr_2024", "am_anr: https://c2.example/beacon\nnothing\n")
    records, _ = run_on(LogFilesParser, b.write_folder(tmp_path / "a"))
    files = [r for r in records if isinstance(r, LogFile)]
    lines = [r for r in records if isinstance(r, LogFileLine)]
    assert [f.path for f in files] == ["/data/anr/anr_2024"] and files[0].modified is not None
    assert lines[0].links == ("https://c2.example/beacon",)
