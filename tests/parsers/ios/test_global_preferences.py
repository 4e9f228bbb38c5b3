from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Status
from unmask.parsers.ios.global_preferences import GlobalPreferences, GlobalPreferencesParser

HOME = ("HomeDomain", "Library/Preferences/.GlobalPreferences.plist")
MANAGED = ("ManagedPreferencesDomain", "mobile/.GlobalPreferences.plist")


def prefs(backup: BackupBuilder, value: dict[str, object]) -> GlobalPreferences:
    backup.add_plist(*HOME, value)
    records, cov = run(GlobalPreferencesParser, backup.finish())
    assert cov.status is Status.PARSED
    (record,) = records
    assert isinstance(record, GlobalPreferences)
    return record


def test_lockdown_on_with_locale(backup: BackupBuilder) -> None:
    record = prefs(
        backup,
        {
            "LDMGlobalEnabled": True,
            "AppleLocale": "de_CH",
            "AppleLanguages": ["de-CH", "en"],
            "AppleKeyboards": ["de_CH@sw=QWERTZ"],
        },
    )
    assert (record.lockdown_mode, record.locale, record.languages) == (True, "de_CH", ("de-CH", "en"))
    assert record.keyboards == ("de_CH@sw=QWERTZ",)
    assert record.device_path == "/private/var/mobile/Library/Preferences/.GlobalPreferences.plist"


def test_lockdown_explicitly_off(backup: BackupBuilder) -> None:
    assert prefs(backup, {"LDMGlobalEnabled": False}).lockdown_mode is False


def test_lockdown_key_absent_is_unknown(backup: BackupBuilder) -> None:
    # iOS 7 preferences: no Lockdown Mode at all.
    record = prefs(
        backup, {"AppleLocale": "en_US", "AppleLanguages": ["en"], "AppleICUForce24HourTime": True}
    )
    assert (record.lockdown_mode, record.locale) == (None, "en_US")


def test_unexpected_value_warns(backup: BackupBuilder) -> None:
    backup.add_plist(*HOME, {"LDMGlobalEnabled": "yes", "AppleLanguages": "en"})
    records, cov = run(GlobalPreferencesParser, backup.finish())
    (record,) = records
    assert isinstance(record, GlobalPreferences)
    assert (record.lockdown_mode, record.languages) == (None, ())
    assert any("LDMGlobalEnabled" in w for w in cov.warnings)


def test_managed_preferences_copy_is_read(backup: BackupBuilder) -> None:
    backup.add_plist(*MANAGED, {"LDMGlobalEnabled": 1}, binary=False)
    records, _ = run(GlobalPreferencesParser, backup.finish())
    assert [(r.device_path, getattr(r, "lockdown_mode", None)) for r in records] == [
        ("/private/var/Managed Preferences/mobile/.GlobalPreferences.plist", True)
    ]


def test_garbage_plist_is_failed() -> None:
    for data in (b"\x00\x01garbage", junk.plist_bytes(["not", "a", "dict"])):
        records, cov = junk.run_file(GlobalPreferencesParser, *HOME, data)
        junk.assert_handled(cov)
        assert records == [] and cov.status is Status.FAILED


@settings(max_examples=30, deadline=None)
@given(value=junk.plist_dicts(st.sampled_from(["LDMGlobalEnabled", "AppleLocale", "AppleLanguages"])))
def test_hostile_plists_never_break_the_parser(value: dict[str, object]) -> None:
    records, cov = junk.run_file(GlobalPreferencesParser, *HOME, junk.plist_bytes(value))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED and len(records) == 1
