"""QuaDream's calendar-invitation trace: an event titled "Meeting" whose notes are "Notes"."""

from __future__ import annotations

from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.calendar import CalendarEvent


class CalendarQuaDream(RecordRule):
    """Flag calendar events matching the published QuaDream (KingSpawn/ENDOFDAYS) pattern."""

    id = "calendar-quadream"
    title = "Calendar event matching the QuaDream exploit pattern"
    severity = Severity.HIGH
    consumes = (CalendarEvent,)
    reference = (
        "Citizen Lab, 'Sweet QuaDreams' (2023-04-11); Microsoft Threat Intelligence, DEV-0196 / KingSpawn "
        "(2023-04-11); MVT Calendar heuristic (research/mvt.md §3.3, research/peers.md H18)"
    )
    explanation = (
        "QuaDream's ENDOFDAYS exploit was delivered as invisible iCloud calendar invitations, past-dated, "
        "that left events titled exactly 'Meeting' with notes exactly 'Notes' on infected iPhones."
    )
    benign = (
        "A user may create a plain event called 'Meeting' with the note 'Notes'; look at the organizer, "
        "the creation time versus the start time, and whether the event was visible to the user."
    )

    def check_record(self, record: CalendarEvent) -> Iterator[Finding]:
        """A finding for an event whose title is "Meeting" and notes are "Notes"."""
        title, notes = record.title, record.notes
        if not (isinstance(title, str) and isinstance(notes, str)):
            return
        if title.strip() == "Meeting" and notes.strip() == "Notes":
            organizer = record.organizer_email or "an unknown organizer"
            yield self.finding(record, f"Event 'Meeting' with notes 'Notes' from {organizer}")
