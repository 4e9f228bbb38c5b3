from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.settings import SettingsParser


def test_settings_of_each_namespace_and_component_lists(tmp_path: Path) -> None:
    b = (AndroidQFBuilder().set_text("settings_global.txt", "package_verifier_enable=0\n")
         .set_text("settings_secure.txt", "enabled_notification_listeners=com.a/com.a.L:com.b/.N\n"))
    records, _ = run_on(SettingsParser, b.write_folder(tmp_path / "a"))
    got = {(r.namespace, r.name): r for r in records}
    assert got[("global", "package_verifier_enable")].value == "0"
    assert got[("secure", "enabled_notification_listeners")].apps == ("com.a", "com.b")
