from __future__ import annotations

from datetime import UTC, datetime

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext, registry
from unmask.detect.heuristics.sms_threat_notification import SmsThreatNotification, is_threat_notification
from unmask.model import Severity
from unmask.parsers.ios.sms import SmsMessage, SmsParser
from unmask.timeutil import to_cocoa

PATH = "/private/var/mobile/Library/SMS/sms.db"
OLD = (
    "ALERT: State-sponsored attackers may be targeting your iPhone. Apple believes you are being targeted "
    "by state-sponsored attackers"
)
NEW = "ALERT: Apple detected a targeted mercenary spyware attack against your iPhone."


def message(text: str | None, rowid: int = 1) -> SmsMessage:
    return SmsMessage(
        device_path=PATH,
        locator=f"message.ROWID={rowid}",
        rowid=rowid,
        text=text,
        direction="received",
        handle="threat-notifications@apple.example",
    )


def test_published_wordings_match() -> None:
    assert is_threat_notification(OLD) and is_threat_notification(NEW)


def test_variants_of_case_space_dashes_and_quotes_match() -> None:
    assert is_threat_notification("alert:  state\u2011sponsored   attackers may be targeting your iPhone")
    assert is_threat_notification(
        "\u201cALERT : Apple detected a targeted mercenary\nspyware attack against your iPad"
    )
    assert is_threat_notification("  ALERT:State-sponsored attackers may be targeting your iPhone")


def test_other_texts_do_not_match() -> None:
    assert not is_threat_notification(None)
    assert not is_threat_notification("")
    assert not is_threat_notification("Your package is held, pay at https://x.example")
    assert not is_threat_notification("ALERT: your bank account is locked")
    # Only the opening counts: quoting the alert inside a message is a different thing.
    assert not is_threat_notification(f"Did you see this? {OLD}")


def test_rule_yields_high_finding_only_for_the_alert() -> None:
    rule = SmsThreatNotification()
    findings = list(rule.check([message(NEW, 1), message("hello", 2), message(None, 3)], HeuristicContext()))
    assert [(f.rule, f.severity, f.locator, f.device_path) for f in findings] == [
        ("sms-threat-notification", Severity.HIGH, "message.ROWID=1", PATH)
    ]
    assert findings[0].reference and findings[0].benign and findings[0].explanation
    assert SmsThreatNotification in registry()


def test_end_to_end_from_sms_db(backup: BackupBuilder) -> None:
    when = datetime(2021, 11, 23, 20, 0, tzinfo=UTC)
    backup.add_sqlite(
        "HomeDomain",
        "Library/SMS/sms.db",
        "ios/sms.db/ios14.sql",
        rows={
            "message": [{"ROWID": 4, "guid": "g4", "text": OLD, "date": int(to_cocoa(when)) * 10**9}],
        },
    )
    records, _ = run(SmsParser, backup.finish())
    (finding,) = SmsThreatNotification().check(records, HeuristicContext())
    assert finding.timestamp == when and finding.locator == "message.ROWID=4"
