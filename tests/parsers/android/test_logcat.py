from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.logcat import LogcatParser


def test_only_lines_with_links_or_addresses_in_device_time_zone(tmp_path: Path) -> None:
    b = (AndroidQFBuilder().set_text("logcat.txt", "05-02 10:00:00.123  1234  1250 I Spy: upload to https://evil.example/x\n"
                                     "05-02 10:00:01.000  1234  1250 I Boring: nothing here\n")
         .set_text("logcat_old.txt", "05-01 09:00:00.000  1000  1234  1250 W Net: connect 203.0.113.9:443\n"))
    records, _ = run_on(LogcatParser, b.write_folder(tmp_path / "a"))
    got = {r.source: r for r in records}
    assert got["logcat"].links == ("https://evil.example/x",)
    assert got["logcat"].time.isoformat() == "2024-05-02T08:00:00.123000+00:00"  # Europe/Paris, year from the acquisition
    assert "zone" in got["logcat"].time_inferred and "year" in got["logcat"].time_inferred
    assert got["logcat:previous"].addresses == ("203.0.113.9",)
