"""``unmask scan-files``: content dispatch, JSON output, exit codes."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from click.testing import CliRunner

from tests.payloads import vectors as v
from unmask.cli import main

A32 = 0x80000000


def test_scan_files_finds_payloads_in_folders_and_zips(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.png").write_bytes(v.png_1x1())
    (folder / "image.gif").write_bytes(v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32)))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as z:
        z.writestr("inner/photo.png", v.png_1x1())
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan-files", str(folder), str(tmp_path / "bundle.zip"), "-o", str(out),
                                       "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "MB/s" in result.output
    reports = json.loads((out / "scan-files.json").read_text())
    by_name = {Path(r["path"]).name: r for r in reports}
    gif = by_name["image.gif"]
    assert gif["detected_type"] and gif["claimed_type"] and len(gif["sha256"]) == 64
    assert {"FE-JBIG2-SUM", "DISGUISE"} <= {f["rule"] for f in gif["findings"]}
    assert by_name["ok.png"]["findings"] == []


def test_clean_files_exit_zero_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(v.png_1x1())
    result = CliRunner().invoke(main, ["scan-files", str(tmp_path / "a.png"), "--jsonl", "-j", "0"])
    assert result.exit_code == 0, result.output
    first = next(line for line in result.output.splitlines() if line.startswith("{"))
    assert json.loads(first)["findings"] == []


def test_missing_path_is_exit_two(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan-files", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_every_argument_kind_has_a_clear_result(tmp_path: Path) -> None:
    folder = tmp_path / "real"
    folder.mkdir()
    (folder / "ok.png").write_bytes(v.png_1x1())
    os.mkfifo(folder / "pipe")
    (tmp_path / "link").symlink_to(folder)
    (folder / "loop").symlink_to(folder)
    os.mkfifo(tmp_path / "fifo")
    runner = CliRunner()

    # a link to a folder named on the command line is followed; what is inside that is not a file
    # is listed as skipped, never opened (a FIFO would block)
    result = runner.invoke(main, ["scan-files", str(tmp_path / "link"), "-j", "0"])
    assert result.exit_code == 0, result.output
    assert "1 file(s)" in result.output and "2 skipped" in result.output
    assert "a FIFO" in result.output and "loop" in result.output

    # a FIFO alone: nothing to screen, one line, exit 2
    result = runner.invoke(main, ["scan-files", str(tmp_path / "fifo")])
    assert result.exit_code == 2 and "no files to screen" in result.output and "FIFO" in result.output
    assert "Traceback" not in result.output

    # --output inside what is screened would screen its own results next time
    result = runner.invoke(main, ["scan-files", str(folder), "-o", str(folder / "out")])
    assert result.exit_code == 2 and "inside the folder to screen" in result.output.replace("\n", "")
    assert not (folder / "out").exists()
