from pathlib import Path

from tests.builders.android import bugreport_text, run_on, tombstone_proto, tombstone_text, write_bugreport
from unmask.parsers.android.tombstones import TombstonesParser


def test_text_and_protobuf_tombstones_in_a_bugreport(tmp_path: Path) -> None:
    fs = {"/data/tombstones/tombstone_00": tombstone_text("/system/bin/mediaserver", 1013).encode(),
          "/data/tombstones/tombstone_01.pb": tombstone_proto(["/system/bin/surfaceflinger"], 1000)}
    records, _cov = run_on(TombstonesParser, write_bugreport(tmp_path / "b.zip", bugreport_text(), fs))
    text, proto = sorted(records, key=lambda r: r.form, reverse=True)
    assert (text.process_name, text.uid, text.signal_name, text.cause) == ("mediaserver", 1013, "SIGSEGV", "null pointer dereference")
    assert text.time.isoformat() == "2024-05-01T21:12:40.518290+00:00"
    assert (proto.process_name, proto.uid, proto.signal_name, proto.thread_name, proto.cause) == (
        "surfaceflinger", 1000, "SIGABRT", "main", "stack corruption")


def test_a_damaged_protobuf_tombstone_fails_with_a_reason(tmp_path: Path) -> None:
    fs = {"/data/tombstones/tombstone_02.pb": tombstone_proto(["/x"], 0)[:-3]}
    records, cov = run_on(TombstonesParser, write_bugreport(tmp_path / "b.zip", bugreport_text(), fs))
    assert records == [] and cov.status.value == "failed"
