"""Correlation rules as data, over streamed records: each published rule fires on its timeline and
stays silent on the near misses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from unmask.detect.correlate import (
    ATTACKER_LOOKUP,
    TRIANGULATION,
    CorrelatedEvents,
    CorrelationRule,
    Correlator,
    EventClass,
)
from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.pipeline import Detection
from unmask.model import Record, Severity
from unmask.parsers.ios.datausage import UsageProcess
from unmask.parsers.ios.idstatuscache import IdStatusEntry
from unmask.parsers.ios.manifest import ManifestFile
from unmask.parsers.ios.sms import SmsMessage

T = datetime(2023, 6, 1, 9, 0, tzinfo=UTC)
ATT = "/private/var/mobile/Library/SMS/Attachments/"


def entry(path: str, kind: str = "dir", modified: datetime | None = None, changed: datetime | None = None,
          created: datetime | None = None) -> ManifestFile:
    return ManifestFile(device_path="Manifest.db", locator=path, path=path, domain="MediaDomain", relative_path=path,
                        file_kind=kind, file_id="0" * 40, modified=modified, changed=changed, created=created)


def usage(process: str, first: datetime, bundle: str | None = None, acquisition: str = "") -> UsageProcess:
    return UsageProcess(device_path="/private/var/wireless/Library/Databases/DataUsage.sqlite", locator=process,
                        pk=7, process=process, bundle_id=bundle, first_seen=first, acquisition=acquisition)


def lookup(handle: str, at: datetime, service: str = "com.apple.madrid") -> IdStatusEntry:
    return IdStatusEntry(device_path="/private/var/mobile/Library/Preferences/com.apple.identityservices.idstatuscache.plist",
                         lookup=at, service=service, handle=handle, raw_key=handle)


def run(rules: tuple[CorrelationRule, ...], records: list[Record], batch: int = 2) -> list:
    engine = Correlator(rules)
    for i in range(0, len(records), batch):
        engine.feed(records[i:i + batch])
    return engine.finish()


def triangulation_timeline() -> list[Record]:
    return [
        entry(ATT + "ab", modified=T, changed=T + timedelta(seconds=10)),
        entry("/private/var/root/Library/Preferences/com.apple.ImageIO.plist", "file", modified=T + timedelta(seconds=60)),
        usage("BackupAgent", T + timedelta(seconds=120)),
        entry("/private/var/mobile/Library/Preferences/com.apple.Maps.plist", "file", modified=T + timedelta(seconds=30)),
        SmsMessage(device_path="/private/var/mobile/Library/SMS/sms.db", sent=T),
    ]


def test_triangulation_fires_on_its_cluster() -> None:
    (finding,) = run((TRIANGULATION,), triangulation_timeline())
    assert finding.rule == "correlation-triangulation" and finding.severity is Severity.HIGH
    assert finding.timestamp == T
    cluster = finding.record
    assert isinstance(cluster, CorrelatedEvents)
    assert (cluster.classes, cluster.count) == (("file", "net", "sms"), 3)
    assert cluster.events[0].startswith("2023-06-01 09:00:00 UTC [sms] ios/manifest/file: attachment folder")
    assert "BackupAgent first used the network" in finding.message


def test_triangulation_is_silent_on_near_misses() -> None:
    # A real attachment file in every window: an ordinary message arrived (triangle_check discards
    # such windows; one that starts after the file, without it, would still count).
    vetoed = [*triangulation_timeline(), entry(ATT + "ab/12/IMG_0001.HEIC", "file", modified=T + timedelta(seconds=130))]
    assert run((TRIANGULATION,), vetoed) == []
    spread = [
        entry(ATT + "ab", modified=T, changed=T + timedelta(seconds=10)),
        entry("/private/var/root/Library/Preferences/com.apple.ImageIO.plist", "file", modified=T + timedelta(minutes=9)),
    ]
    assert run((TRIANGULATION,), spread) == []  # more than five minutes apart
    one_class = [entry(ATT + "ab", modified=T, changed=T), entry(ATT + "cd/ef", modified=T, changed=T)]
    assert run((TRIANGULATION,), one_class) == []  # two folder changes are one kind of event
    unchanged = [entry(ATT + "ab", modified=T, changed=T + timedelta(days=3)),
                 entry("/private/var/root/Library/Preferences/com.apple.ImageIO.plist", "file", modified=T)]
    assert run((TRIANGULATION,), unchanged) == []  # the folder's status did not change with it


def test_lookup_then_new_process_fires() -> None:
    records = [lookup("mailto:bergers.o79@gmail.com", T), usage("roleaccountd", T + timedelta(seconds=90),
                                                              acquisition="with1")]
    (finding,) = run((ATTACKER_LOOKUP,), records)
    assert finding.severity is Severity.MEDIUM and finding.timestamp == T
    assert isinstance(finding.record, CorrelatedEvents)
    assert finding.record.events[1].endswith("roleaccountd used the network for the first time (acquisition with1)")


def test_lookup_then_new_process_is_silent_on_near_misses() -> None:
    assert run((ATTACKER_LOOKUP,), [usage("roleaccountd", T), lookup("mailto:a@b.c", T + timedelta(seconds=60))]) == []
    assert run((ATTACKER_LOOKUP,), [lookup("mailto:a@b.c", T), usage("Signal", T + timedelta(seconds=60),
                                                                    "org.whispersystems.signal")]) == []
    assert run((ATTACKER_LOOKUP,), [lookup("tel:+41790000000", T), usage("x", T + timedelta(seconds=60))]) == []
    assert run((ATTACKER_LOOKUP,), [lookup("mailto:a@b.c", T), usage("x", T + timedelta(minutes=20))]) == []


def test_rules_are_data() -> None:
    def named(name: str) -> EventClass:
        return EventClass(name, UsageProcess, lambda r: r.first_seen, lambda r, n=name: r.process == n)

    rule = CorrelationRule(id="test-three", title="three daemons", severity=Severity.LOW,
                           classes=(named("a"), named("b"), named("c")), window=60, min_classes=3,
                           explanation="x", benign="y", reference="z")
    three = [usage(n, T + timedelta(seconds=i * 20)) for i, n in enumerate("abc")]
    assert [f.rule for f in run((rule,), three)] == ["test-three"]
    assert run((rule,), three[:2]) == []
    capped = Correlator((rule,), max_events=2)
    capped.feed(three)
    assert [f.rule for f in capped.finish()] == ["unmask-internal-error"]


def test_detection_runs_correlation_in_a_scan_and_a_recheck_alike() -> None:
    detection = Detection(IndicatorIndex.build([]))
    records = triangulation_timeline()
    for record in records:
        detection.feed([record])
    findings = detection.finish(HeuristicContext())
    assert [f.rule for f in findings if f.rule.startswith("correlation-")] == ["correlation-triangulation"]
