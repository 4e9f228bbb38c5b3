"""Configuration profile events: profile id, operation, process, time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, plist_bytes, plist_dicts, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.profile_events import ProfileEvent, ProfileEventsParser

DOMAIN = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles"
REL = "Library/ConfigurationProfiles/MCProfileEvents.plist"
WHEN = datetime(2022, 3, 3, 3, 3, tzinfo=UTC)


def test_events_in_the_system_group(backup: BackupBuilder) -> None:
    value = {"ProfileEvents": [
        {"com.example.mdm.profile": {"timestamp": WHEN.replace(tzinfo=None), "operation": "install", "process": "profiled"}},
        {"76DAB334-7E17-475D-A5D6-0794EB5818A5": {"operation": "remove", "process": "MCInstallationUIHost"}},
        "junk",
    ]}
    backup.add_plist(DOMAIN, REL, value)
    records, cov = run(ProfileEventsParser, backup.finish())
    assert cov.status is Status.PARSED
    assert [(r.profile_id, r.operation, r.process, r.time) for r in records if isinstance(r, ProfileEvent)] == [
        ("com.example.mdm.profile", "install", "profiled", WHEN),
        ("76DAB334-7E17-475D-A5D6-0794EB5818A5", "remove", "MCInstallationUIHost", None),
    ]
    obs = {(o.type, o.value) for o in observables_of(records[1])}
    assert (Obs.PROFILE_ID, "76dab334-7e17-475d-a5d6-0794eb5818a5") in obs


def test_no_events_key_means_no_records(backup: BackupBuilder) -> None:
    backup.add_plist(DOMAIN, REL, {"Other": 1})
    records, cov = run(ProfileEventsParser, backup.finish())
    assert records == [] and cov.status is Status.PARSED


@settings(max_examples=20, deadline=None)
@given(value=plist_dicts())
def test_garbage_never_crashes(value: dict[str, Any]) -> None:
    records, cov = run_file(ProfileEventsParser, DOMAIN, REL, plist_bytes(value))
    assert_tolerated(records, cov)
