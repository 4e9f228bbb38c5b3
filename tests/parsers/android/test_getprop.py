from pathlib import Path

from tests.builders.android import AndroidQFBuilder, bugreport_text, run_on, write_bugreport
from unmask.parsers.android.getprop import GetpropParser


def test_properties_from_androidqf_and_from_a_bugreport_are_the_same(tmp_path: Path) -> None:
    a, _ = run_on(GetpropParser, AndroidQFBuilder().write_folder(tmp_path / "a"))
    b, _ = run_on(GetpropParser, write_bugreport(tmp_path / "b.zip", bugreport_text()))
    assert {(r.name, r.value) for r in a} == {(r.name, r.value) for r in b}
    assert ("persist.sys.timezone", "Europe/Paris") in {(r.name, r.value) for r in a}
