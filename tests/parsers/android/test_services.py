from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.services import ServicesParser


def test_service_list(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_text("services.txt", "Found 2 services:\n0\tDockObserver: []\n1\taccessibility: [android.view.accessibility.IAccessibilityManager]\n")
    records, _ = run_on(ServicesParser, b.write_folder(tmp_path / "a"))
    assert [(r.name, r.interface) for r in records] == [("DockObserver", ""), ("accessibility", "android.view.accessibility.IAccessibilityManager")]
