from unmask.detect.heuristics.android_tmp_executable import AndroidTmpExecutable
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.files import AndroidFile


def test_payload_fires_collector_and_sdcard_do_not() -> None:
    found = AndroidTmpExecutable().check([AndroidFile(device_path="f", path="/data/local/tmp/pred.so", mode="-rwxr-xr-x"),
                                          AndroidFile(device_path="f", path="/data/local/tmp/collector"),
                                          AndroidFile(device_path="f", path="/sdcard/x")], HeuristicContext())
    assert [f.record.path for f in found] == ["/data/local/tmp/pred.so"] and "executable" in found[0].message
