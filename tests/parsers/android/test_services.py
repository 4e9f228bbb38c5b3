from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.services import ServicesParser


def test_service_list(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_text("services.txt", "Found 2 services:\n0\tDockObserver: []\n1\taccessibility: [android.view.accessibility.IAccessibilityManager]\n")
    records, _ = run_on(ServicesParser, b.write_folder(tmp_path / "a"))
    assert [(r.name, r.interface) for r in records] == [("DockObserver", ""), ("accessibility", "android.view.accessibility.IAccessibilityManager")]


def test_millions_of_lines_without_a_record_still_stop_at_the_budget(tmp_path: Path) -> None:
    # 80 KB of gzip that unfolds into 20 million lines, none a service: the runner's budget check
    # between records never comes, so the lines themselves are clocked (found by the fuzzer).
    import gzip

    from unmask.acquisition.registry import open_acquisition
    from unmask.budget import Budget
    from unmask.parsers.base import run_parser

    b = AndroidQFBuilder().set_text("getprop.txt", "[ro.product.model]: [Pixel 8]\n")
    b.files["services.txt"] = gzip.compress(b"a\n" * 20_000_000, compresslevel=9)
    acq = open_acquisition(b.write_folder(tmp_path / "a"))
    try:
        records, cov = run_parser(ServicesParser(), acq, Budget(seconds=0.5, memory_mb=512))
    finally:
        acq.close()
    assert records == [] and cov.status.value == "failed"
    assert "over its time budget of 0.5 s" in (cov.reason or "")
