from unmask.detect.heuristics.android_adb_key import AndroidUnknownAdbKey
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.acquisition_info import AcquisitionInfo
from unmask.parsers.android.dumpsys_adb import AdbKey


def test_foreign_key_fires_acquiring_host_key_does_not() -> None:
    host = AcquisitionInfo(device_path="a", adb_host_key="QAAAHOST me@lab")
    found = AndroidUnknownAdbKey().check([host, AdbKey(device_path="d", key="QAAAHOST me@lab"),
                                          AdbKey(device_path="d", key="QAAAOTHER him@pc", user="him@pc")], HeuristicContext())
    assert [f.record.user for f in found] == ["him@pc"]


def test_without_the_host_key_nothing_is_said() -> None:
    assert AndroidUnknownAdbKey().check([AdbKey(device_path="d", key="QAAAOTHER him@pc")], HeuristicContext()) == []
