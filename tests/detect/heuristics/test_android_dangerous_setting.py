from unmask.detect.heuristics.android_dangerous_setting import AndroidDangerousSetting
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.settings import AndroidSetting


def test_play_protect_off_fires_on_does_not() -> None:
    found = AndroidDangerousSetting().check([AndroidSetting(device_path="s", namespace="global", name="package_verifier_enable", value="0"),
                                             AndroidSetting(device_path="s", namespace="global", name="upload_apk_enable", value="1")], HeuristicContext())
    assert [f.record.name for f in found] == ["package_verifier_enable"]
