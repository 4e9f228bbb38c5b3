from unmask.detect.heuristics.android_privileged_crash import AndroidPrivilegedCrash
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.tombstones import Tombstone


def test_system_crash_fires_app_crash_does_not() -> None:
    found = AndroidPrivilegedCrash().check([Tombstone(device_path="t", process_name="system_server", uid=1000),
                                            Tombstone(device_path="t", process_name="com.game", uid=10123)], HeuristicContext())
    assert [f.record.process_name for f in found] == ["system_server"]
