"""``unmask check``: one front door that recognises evidence by content and refuses the rest."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.sample import build_sample
from tests.payloads import vectors as v
from unmask.acquisition.registry import kinds, recognise
from unmask.cli import main


@pytest.fixture(scope="module")
def backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("check") / "backup").root


def _one_line_refusal(result: object) -> str:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    text = result.output.strip()  # type: ignore[attr-defined]
    assert "Traceback" not in text
    assert len(text.replace("\n", " ").split("unmask:")) == 2
    return text.replace("\n", " ")


def test_check_recognises_a_backup_and_runs_the_same_pipeline_as_check_backup(backup: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    a = runner.invoke(main, ["check", str(backup), "-o", str(tmp_path / "a")])
    b = runner.invoke(main, ["check-backup", str(backup), "-o", str(tmp_path / "b")])
    assert a.exit_code == b.exit_code == 1, a.output
    assert "ios-backup" in a.output  # says which kind it found
    alerts = [json.loads((tmp_path / x / "alerts.json").read_text()) for x in "ab"]
    assert alerts[0] == alerts[1]
    info = json.loads((tmp_path / "a" / "info.json").read_text())
    assert info["command"] == "check" and info["evidence"]["kind"] == "ios-backup"


def test_check_finds_the_one_backup_inside_a_folder(backup: Path) -> None:
    found = recognise(backup.parent)
    assert [(cls.kind, root) for cls, root in found] == [("ios-backup", backup)]


@pytest.mark.parametrize("what", ["random folder", "empty file", "zip of photos", "missing"])
def test_check_refuses_what_it_does_not_read_in_one_line(tmp_path: Path, what: str) -> None:
    if what == "random folder":
        target = tmp_path / "stuff"
        (target / "sub").mkdir(parents=True)
        (target / "notes.txt").write_text("hello")
    elif what == "empty file":
        target = tmp_path / "empty"
        target.write_bytes(b"")
    elif what == "zip of photos":
        target = tmp_path / "photos.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for i in range(3):
                zf.writestr(f"DCIM/IMG_{i:04d}.PNG", v.png_1x1())
    else:
        target = tmp_path / "nothing-here"
    text = _one_line_refusal(CliRunner().invoke(main, ["check", str(target)]))
    if what == "missing":
        assert "does not exist" in text
    else:
        assert "not evidence unmask recognises" in text
        for cls in kinds().values():
            assert cls.label.split("(")[0].strip() in text  # it lists what it can read


def test_kind_forces_a_reading_and_an_unknown_kind_is_a_usage_error(backup: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(backup), "--kind", "no-such-kind"])
    assert result.exit_code == 2 and "no-such-kind" in result.output
    result = CliRunner().invoke(main, ["check", str(backup), "--kind", "ios-backup", "-q"])
    assert result.exit_code == 1


def test_kinds_lists_every_registered_kind() -> None:
    result = CliRunner().invoke(main, ["kinds"])
    assert result.exit_code == 0
    for kind in kinds():
        assert kind in result.output
