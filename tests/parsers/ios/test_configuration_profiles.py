from __future__ import annotations

import plistlib
from datetime import datetime

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.indicators.index import IndicatorIndex
from unmask.model import Indicator, Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.configuration_profiles import ConfigurationProfile, ConfigurationProfilesParser

DOMAIN = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles"
PREDATOR_PROFILE = "76DAB334-7E17-475D-A5D6-0794EB5818A5"  # in the public Predator sets


def _profile(uuid: str) -> dict[str, object]:
    return {
        "PayloadUUID": uuid,
        "PayloadIdentifier": "com.example.profile",
        "PayloadDisplayName": "Notifications",
        "PayloadOrganization": "Example",
        "PayloadRemovalDisallowed": False,
        "InstallDate": datetime(2023, 9, 1, 10, 0),
        "PayloadContent": [
            {
                "PayloadType": "com.apple.notificationsettings",
                "PayloadUUID": "AAAA-1",
                "PayloadIdentifier": "p1",
            },
            "not a dict",
        ],
    }


def test_profiles_are_parsed_and_their_uuids_match_case_insensitively(backup: BackupBuilder) -> None:
    backup.add_plist(
        DOMAIN, "Library/ConfigurationProfiles/profile-1.stub", _profile(PREDATOR_PROFILE.lower())
    )
    backup.add_plist(
        DOMAIN, "Library/ConfigurationProfiles/profile-2.stub", _profile("11111111-2222"), binary=False
    )
    records, cov = run(ConfigurationProfilesParser, backup.finish())
    assert cov.status is Status.PARSED and len(records) == 2
    first = next(
        r for r in records if isinstance(r, ConfigurationProfile) and r.uuid == PREDATOR_PROFILE.lower()
    )
    assert first.payload_types == ("com.apple.notificationsettings",)
    assert first.installed is not None and first.installed.tzinfo is not None
    assert first.device_path.endswith("/Library/ConfigurationProfiles/profile-1.stub")
    index = IndicatorIndex.build(
        [
            Indicator(
                "configuration-profile:id", PREDATOR_PROFILE, "Predator", "indicator--x", "predator.stix2"
            )
        ]
    )
    hits = [i for o in observables_of(first) if o.type is Obs.PROFILE_ID for i in index.match(o)]
    assert [i.collection for i in hits] == ["Predator"]


def test_garbage_profile_is_failed_coverage(backup: BackupBuilder) -> None:
    backup.add_file(DOMAIN, "Library/ConfigurationProfiles/profile-x.stub", b"bplist00garbage")
    backup.add_plist(DOMAIN, "Library/ConfigurationProfiles/profile-y.stub", ["a", "list"])
    records, cov = run(ConfigurationProfilesParser, backup.finish())
    assert records == [] and cov.status is Status.FAILED
    assert all(a.reason and not a.reason.startswith("unexpected") for a in cov.artefacts)


def test_payload_content_that_is_not_an_array_holds_no_payloads(backup: BackupBuilder) -> None:
    # A UID there raised TypeError ("unexpected", found by the fuzzer); a string or a dictionary
    # was iterated as if it listed payloads.
    for i, content in enumerate((plistlib.UID(3), "com.apple.x", {"PayloadType": "x"}, 7)):
        backup.add_plist(DOMAIN, f"Library/ConfigurationProfiles/profile-{i}.stub",
                         {"PayloadUUID": f"U-{i}", "PayloadContent": content})
    records, cov = run(ConfigurationProfilesParser, backup.finish())
    assert cov.status is Status.PARSED and len(records) == 4
    assert all(isinstance(r, ConfigurationProfile) and r.payload_types == () for r in records)
