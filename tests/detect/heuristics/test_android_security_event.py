from unmask.detect.heuristics.android_security_event import AndroidSecurityEvent
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.intrusion_logs import SecurityEvent


def test_installed_ca_fires_process_start_does_not() -> None:
    found = AndroidSecurityEvent().check([SecurityEvent(device_path="i", tag="cert_authority_installed", success=True, subject="CN=x"),
                                          SecurityEvent(device_path="i", tag="app_process_start")], HeuristicContext())
    assert len(found) == 1 and "CN=x" in found[0].message
