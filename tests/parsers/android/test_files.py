import json
from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.files import FilesParser


def test_files_json_array_and_ndjson(tmp_path: Path) -> None:
    entry = {"path": "/sdcard/a.jpg", "size": 3, "mode": "-rw-rw----", "modified_time": 1714640000, "sha256": "ab" * 32}
    for name, text in (("array", json.dumps([entry, entry | {"path": "/sdcard/b"}])),
                       ("nd", json.dumps(entry) + "\n" + json.dumps(entry | {"path": "/sdcard/b"}) + "\n")):
        records, _ = run_on(FilesParser, AndroidQFBuilder().set_text("files.json", text).write_folder(tmp_path / name))
        assert [r.path for r in records] == ["/sdcard/a.jpg", "/sdcard/b"]
        assert records[0].modified.isoformat() == "2024-05-02T08:53:20+00:00"


def test_files_json_is_streamed_items_before_damage_are_kept(tmp_path: Path) -> None:
    # A streaming reader yields what precedes the damage; a whole-document parser yields nothing.
    text = json.dumps([{"path": f"/sdcard/{i}"} for i in range(1000)])
    records, cov = run_on(FilesParser, AndroidQFBuilder().set_text("files.json", text[:-30]).write_folder(tmp_path / "a"))
    assert 990 <= len(records) < 1000 and cov.status.value == "partial"


def test_a_number_past_64_bits_is_read_again_exactly_not_lost(tmp_path: Path) -> None:
    # files.json goes through the fast C reader; a number it refuses midway ("integer overflow")
    # sends a seekable file to the exact reader from the start, past the entries already given.
    entries = [{"path": f"/sdcard/{i}", "size": 2**70 if i == 500 else i} for i in range(1000)]
    b = AndroidQFBuilder().set_text("files.json", json.dumps(entries))
    for form, root in (("folder", b.write_folder(tmp_path / "a")), ("zip", b.write_zip(tmp_path / "a.zip"))):
        records, cov = run_on(FilesParser, root)
        assert [r.path for r in records] == [f"/sdcard/{i}" for i in range(1000)], form
        assert cov.status.value == "parsed", form
