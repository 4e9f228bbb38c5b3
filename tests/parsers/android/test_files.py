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
