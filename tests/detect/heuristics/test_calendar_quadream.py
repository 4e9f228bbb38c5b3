from __future__ import annotations

from datetime import UTC, datetime

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.calendar_quadream import CalendarQuaDream
from unmask.model import Severity
from unmask.parsers.ios.calendar import CalendarEvent, CalendarParser
from unmask.timeutil import to_cocoa

DB = "/private/var/mobile/Library/Calendar/Calendar.sqlitedb"


def event(title: str | None, notes: str | None, rowid: int = 1) -> CalendarEvent:
    return CalendarEvent(
        device_path=DB, locator=f"CalendarItem.ROWID={rowid}", rowid=rowid, title=title, notes=notes
    )


def test_pattern_matches_exactly() -> None:
    rule = CalendarQuaDream()
    records = [
        event("Meeting", "Notes", 1),
        event(" Meeting ", "Notes\n", 2),  # surrounding blanks are not a different pattern
        event("Meeting", None, 3),
        event("Meeting", "Notes for Monday", 4),
        event("meeting", "notes", 5),
        event("Team Meeting", "Notes", 6),
        event(None, "Notes", 7),
    ]
    findings = list(rule.check(records, HeuristicContext()))
    assert [(f.locator, f.severity, f.rule) for f in findings] == [
        ("CalendarItem.ROWID=1", Severity.HIGH, "calendar-quadream"),
        ("CalendarItem.ROWID=2", Severity.HIGH, "calendar-quadream"),
    ]


def test_end_to_end_with_organizer(backup: BackupBuilder) -> None:
    start = datetime(2021, 1, 1, 8, 0, tzinfo=UTC)
    backup.add_sqlite(
        "HomeDomain",
        "Library/Calendar/Calendar.sqlitedb",
        "ios/Calendar.sqlitedb/ios16.sql",
        rows={
            "CalendarItem": [
                {
                    "ROWID": 9,
                    "summary": "Meeting",
                    "description": "Notes",
                    "start_date": to_cocoa(start),
                    "organizer_id": 1,
                }
            ],
            "Participant": [{"ROWID": 1, "owner_id": 9, "email": "qd@example.org"}],
        },
    )
    records, _ = run(CalendarParser, backup.finish())
    (finding,) = CalendarQuaDream().check(records, HeuristicContext())
    assert finding.timestamp == start and "qd@example.org" in finding.message
