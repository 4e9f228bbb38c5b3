import base64

from unmask.detect.heuristics.android_adb_key import AndroidUnknownAdbKey
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.android.acquisition_info import AcquisitionInfo
from unmask.parsers.android.dumpsys_adb import AdbKey
from unmask.timeutil import unix

HOST = base64.b64encode(b"\x40\x00\x00\x00host-rsa-public-key").decode()
OTHER = base64.b64encode(b"\x40\x00\x00\x00other-rsa-public-key").decode()
TAKEN = {"started": "2024-05-02T10:00:00+02:00"}


def test_foreign_key_fires_acquiring_host_key_does_not() -> None:
    host = AcquisitionInfo(device_path="a", adb_host_key=f"{HOST} me@lab")
    found = AndroidUnknownAdbKey().check([host, AdbKey(device_path="d", key=f"{HOST} me@lab", last_connected=unix(1714636000)),
                                          AdbKey(device_path="d", key=f"{OTHER} him@pc", user="him@pc"),
                                          AdbKey(device_path="d", key=f"{OTHER} him@pc", user="him@pc")],  # listed twice
                                         HeuristicContext(metadata=TAKEN))
    assert [(f.record.user, f.severity) for f in found] == [("him@pc", Severity.LOW)]


def test_invalid_keys_old_host_keys_and_keys_of_an_unknown_acquirer() -> None:
    host = AcquisitionInfo(device_path="a", adb_host_key=f"{HOST} me@lab")
    found = AndroidUnknownAdbKey().check([host, AdbKey(device_path="d", key="not base64!", user="x"),
                                          AdbKey(device_path="d", key=f"{HOST} me@lab", user="me@lab",
                                                 last_connected=unix(1714000000))], HeuristicContext(metadata=TAKEN))
    assert [(f.severity, f.message.split(" is ")[-1] if "valid" in f.message else "old") for f in found] == [
        (Severity.LOW, "not a valid public key"), (Severity.INFO, "old")]
    assert "7 day(s) before the acquisition" in found[1].message
    # Without the acquisition's host key, every key is only noted.
    found = AndroidUnknownAdbKey().check([AdbKey(device_path="d", key=f"{OTHER} him@pc")], HeuristicContext())
    assert [f.severity for f in found] == [Severity.INFO]
