from __future__ import annotations

from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.ios_outdated import OutdatedIOS, version_tuple
from unmask.parsers.ios.backup_info import BackupInfoParser


def test_outdated_version_is_flagged_and_current_is_not(make_backup) -> None:  # type: ignore[no-untyped-def]
    old, _ = run(BackupInfoParser, make_backup(ios_version="16.6").finish())
    new, _ = run(BackupInfoParser, make_backup(ios_version="99.0").finish())
    rule = OutdatedIOS()
    assert [f.rule for f in rule.check(old, HeuristicContext())] == ["ios-outdated"]
    assert list(rule.check(new, HeuristicContext())) == []


def test_version_tuple() -> None:
    assert version_tuple("17.4.1") == (17, 4, 1)
    assert version_tuple("18") == (18,)
    assert version_tuple("abc") == ()
