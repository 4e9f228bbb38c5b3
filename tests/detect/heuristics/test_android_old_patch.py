from unmask.detect.heuristics.android_old_patch import AndroidOldPatch
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.getprop import AndroidProperty

CTX = HeuristicContext(metadata={"completed": "2024-05-02T10:09:00+02:00"})


def test_a_year_old_patch_fires_a_recent_one_does_not() -> None:
    old = AndroidProperty(device_path="g", name="ro.build.version.security_patch", value="2023-04-05")
    new = AndroidProperty(device_path="g", name="ro.build.version.security_patch", value="2024-04-05")
    assert len(AndroidOldPatch().check([old], CTX)) == 1
    assert AndroidOldPatch().check([new], CTX) == []
