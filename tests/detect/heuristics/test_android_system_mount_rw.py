from unmask.detect.heuristics.android_system_mount_rw import AndroidSystemMountRw
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.android.mounts import Mount


def test_rw_system_fires_ro_and_data_do_not() -> None:
    found = AndroidSystemMountRw().check([Mount(device_path="m", mount_point="/system", options=("rw",)),
                                          Mount(device_path="m", mount_point="/vendor", options=("ro",)),
                                          Mount(device_path="m", mount_point="/data", options=("rw",))], HeuristicContext())
    assert [f.record.mount_point for f in found] == ["/system"]


def test_a_remounted_system_partition_is_medium_noatime_is_nothing() -> None:
    found = AndroidSystemMountRw().check([Mount(device_path="m", mount_point="/product", options=("ro", "remount")),
                                          Mount(device_path="m", mount_point="/vendor", options=("ro", "noatime"))],
                                         HeuristicContext())
    assert [(f.record.mount_point, f.severity) for f in found] == [("/product", Severity.MEDIUM)]
