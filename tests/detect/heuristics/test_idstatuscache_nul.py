from __future__ import annotations

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.idstatuscache_nul import IdStatusCacheNul
from unmask.model import Severity
from unmask.parsers.ios.idstatuscache import IdStatusCacheParser

REL = "Library/Preferences/com.apple.identityservices.idstatuscache.plist"


def test_nul_bytes_in_handle_are_high_and_normal_handles_are_not(backup: BackupBuilder) -> None:
    backup.add_plist(
        "HomeDomain",
        REL,
        {
            "com.apple.madrid": {
                "mailto:normal@example.com": {"LookupDate": 650000000.0, "IDStatus": 1},
                "mailto:odd\x00\x00@example.com": {"LookupDate": 650000001.0, "IDStatus": 1},
                "mailto:single\x00@example.com": {"LookupDate": 650000002.0, "IDStatus": 1},
            }
        },
    )
    records, _ = run(IdStatusCacheParser, backup.finish())
    assert len(records) == 3
    findings = list(IdStatusCacheNul().check(records, HeuristicContext()))
    assert len(findings) == 1
    (finding,) = findings
    assert finding.severity is Severity.HIGH and finding.rule == "idstatuscache-nul"
    assert "odd\\x00\\x00@example.com" in finding.message and "com.apple.madrid" in finding.message
