"""Correlation: windowed rules across the records of one scan (N events, T seconds, k classes).

Some traces mean little alone and much together: an attachment folder that changes with no file
in it, a preference file of the image decoder touched, and a deprecated backup daemon using the
network, all within minutes (Kaspersky's Triangulation check). A rule here is **data**
(:class:`CorrelationRule`): event classes, each a record class, a predicate and the time field
that places the event; a window in seconds; the minimum number of distinct classes; whether the
classes must come in their order; classes that veto a window; a severity and its explanations.

The engine (:class:`Correlator`) is a detection step like matching and the heuristics: records
stream through it batch by batch (:class:`unmask.detect.pipeline.Detection`, for a scan and a
recheck alike) and it keeps only the events its rules' predicates select, which are few; at the
end it sorts them per rule and slides the window. A fired rule is one finding that lists its
events (:class:`CorrelatedEvents`, with each event's time, class, record kind, description and
acquisition), so the rules apply to every acquisition that yields the records, and to several
acquisitions of one phone read together (``unmask check --with``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from unmask.model import Finding, Record, Severity, Timestamp
from unmask.observables import normalize_path
from unmask.parsers.ios.datausage import LiveUsage, UsageProcess
from unmask.parsers.ios.idstatuscache import IdStatusEntry
from unmask.parsers.ios.manifest import ManifestFile
from unmask.parsers.ios.osanalytics_addaily import NetUsageBaseline

MAX_EVENTS = 200_000
"""Events one rule keeps at most; past it the rule stops collecting and says so in a finding."""
MAX_LISTED = 25
"""Events a finding lists (the count says how many there were)."""


@dataclass(frozen=True)
class EventClass:
    """One kind of event: a record of ``record`` (or a subclass) for which ``predicate`` holds, at
    the time ``time`` reads from it, described by ``label``."""

    name: str
    record: type[Record]
    time: Callable[[Any], Timestamp | None]
    predicate: Callable[[Any], bool] = lambda r: True
    label: Callable[[Any], str] = lambda r: r.describe()


@dataclass(frozen=True)
class CorrelationRule:
    """A windowed rule: at least ``min_classes`` distinct classes of ``classes`` within ``window``
    seconds of the window's first event (which must be of ``classes[0]`` when ``ordered``), and no
    event of ``vetoes`` in that window."""

    id: str
    title: str
    severity: Severity
    classes: tuple[EventClass, ...]
    window: float
    min_classes: int
    explanation: str
    benign: str
    reference: str
    ordered: bool = False
    vetoes: tuple[EventClass, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelatedEvents(Record):
    """The events of one fired correlation rule (carried by its finding, never parsed)."""

    kind: ClassVar[str] = "unmask/correlation/cluster"
    summary: ClassVar[str] = "{rule}: {count} events of {classes} between {first} and {last}"

    first: Timestamp | None = None
    last: Timestamp | None = None
    rule: str
    classes: tuple[str, ...] = ()
    count: int = 0
    events: tuple[str, ...] = ()


@dataclass(slots=True)
class _Event:
    at: float
    when: datetime
    cls: str
    veto: bool
    record: _Origin
    label: str


class _Origin(NamedTuple):
    """What a finding needs of an event's record: not the record, which a rule seeing every listed
    file would otherwise keep alive for each of its events."""

    kind: str
    device_path: str
    locator: str
    acquisition: str


# --- the published rules --------------------------------------------------------------------------

ATTACHMENTS = "/private/var/mobile/Library/SMS/Attachments/"
TRIANGULATION_FILES = (
    "/private/var/root/Library/Preferences/com.apple.ImageIO.plist",
    "/private/var/mobile/Library/Preferences/com.apple.locationd.StatusBarIconManager.plist",
    "/private/var/mobile/Library/Preferences/com.apple.imservice.ids.FaceTime.plist",
)
BACKUP_AGENT = "BackupAgent"
SAME_CHANGE = 300.0


_TRIANGULATION_NAMES = tuple(p.rsplit("/", 1)[1] for p in TRIANGULATION_FILES)


def _attachment_depth(path: str) -> int:
    """Components below ``…/SMS/Attachments/`` (``ab`` → 1, ``ab/12`` → 2, ``ab/12/x/a.gif`` → 4)."""
    if "/Attachments" not in path:  # the predicate sees every listed file: a cheap test first
        return 0
    norm = normalize_path(path) or ""
    if not norm.startswith(ATTACHMENTS):
        return 0
    return len([p for p in norm[len(ATTACHMENTS):].split("/") if p])


def _attachment_folder_changed(r: ManifestFile) -> bool:
    # triangle_check keeps folders one or two levels below Attachments/ whose modification and
    # status change both fall in the window: the trace of an attachment written and deleted.
    if r.file_kind != "dir" or not 1 <= _attachment_depth(r.path) <= 2:
        return False
    if r.modified is None or r.changed is None:
        return False
    return abs((r.changed - r.modified).total_seconds()) <= SAME_CHANGE


def _attachment_file(r: ManifestFile) -> bool:
    return r.file_kind != "dir" and _attachment_depth(r.path) >= 3


def _triangulation_file(r: ManifestFile) -> bool:
    if not r.path.rstrip("/ \x00").endswith(_TRIANGULATION_NAMES):  # cheap, for every listed file
        return False
    return (normalize_path(r.path) or "") in TRIANGULATION_FILES


def _backup_agent(r: Record) -> bool:
    return isinstance(r, UsageProcess | LiveUsage | NetUsageBaseline) and r.process == BACKUP_AGENT


def _imessage_email_lookup(r: IdStatusEntry) -> bool:
    return r.service == "com.apple.madrid" and bool(r.handle) and "@" in (r.handle or "")


def _new_system_process(r: UsageProcess) -> bool:
    # A process name without an app bundle: a daemon, not an app installed from the App Store.
    return bool(r.process) and not r.bundle_id


TRIANGULATION = CorrelationRule(
    id="correlation-triangulation",
    title="Operation Triangulation trace cluster",
    severity=Severity.HIGH,
    classes=(
        EventClass("sms", ManifestFile, lambda r: r.modified, _attachment_folder_changed,
                   lambda r: f"attachment folder {r.path} modified and changed"),
        EventClass("file", ManifestFile, lambda r: r.modified, _triangulation_file,
                   lambda r: f"{r.path} modified"),
        EventClass("file", ManifestFile, lambda r: r.created, _triangulation_file,
                   lambda r: f"{r.path} created"),
        EventClass("net", UsageProcess, lambda r: r.first_seen, _backup_agent,
                   lambda r: f"{r.process} first used the network"),
        EventClass("net", UsageProcess, lambda r: r.last_seen, _backup_agent,
                   lambda r: f"{r.process} last used the network"),
        EventClass("net", LiveUsage, lambda r: r.time, _backup_agent,
                   lambda r: f"{r.process} used the network"),
        EventClass("net", NetUsageBaseline, lambda r: r.first_seen, _backup_agent,
                   lambda r: f"{r.process} in the daily network baseline"),
    ),
    vetoes=(
        EventClass("attachment", ManifestFile, lambda r: r.modified, _attachment_file,
                   lambda r: f"attachment file {r.path}"),
    ),
    window=300.0,
    min_classes=2,
    explanation=(
        "Kaspersky found that the Triangulation exploit left a cluster of traces within minutes: the iMessage "
        "attachment folder changed while the malicious attachment itself was deleted (a folder modified with no "
        "file left in it), the image decoder's and location preferences were touched, and the deprecated "
        "BackupAgent daemon, which no current iOS runs, used the network. At least two of these kinds of "
        "trace within five minutes, and no real attachment file in that window, is their published check."
    ),
    benign=(
        "Attachment folders change when messages are deleted, and preference files change for many reasons; two "
        "of them close together happen on ordinary phones. BackupAgent network use is the strongest of the "
        "three: with it, treat the cluster as serious; without it, weigh it against the other findings."
    ),
    reference=(
        "Kaspersky, 'Operation Triangulation: iOS devices targeted with previously unknown malware' (Securelist, "
        "1 June 2023) and triangle_check (KasperskyLab/triangle_check): ≥ 2 of {file, net, location, sms-dir} in "
        "≤ 300 s, windows with attachment files discarded (research/peers.md §3.3, H7, H8)"
    ),
)

ATTACKER_LOOKUP = CorrelationRule(
    id="correlation-lookup-new-process",
    title="An iMessage account lookup, then a new process on the network",
    severity=Severity.MEDIUM,
    classes=(
        EventClass("lookup", IdStatusEntry, lambda r: r.lookup, _imessage_email_lookup,
                   lambda r: f"iMessage lookup of {r.handle}"),
        EventClass("new-process", UsageProcess, lambda r: r.first_seen, _new_system_process,
                   lambda r: f"{r.process} used the network for the first time"),
    ),
    ordered=True,
    window=300.0,
    min_classes=2,
    explanation=(
        "Amnesty found on Pegasus-infected iPhones that an attacker's iMessage account (an email address) was "
        "looked up by the phone, and within minutes a process never seen before on that phone began using the "
        "network: the exploit was delivered over iMessage and the implant started. An iMessage lookup of an "
        "email address followed within five minutes by the first network use of a new background process (not "
        "an app) is that sequence."
    ),
    benign=(
        "Messaging a new contact and an iOS update or a newly enabled feature bringing a new system daemon can "
        "coincide. Check the looked-up address against the published attacker accounts and the new process's "
        "name against the indicator sets and the device's iOS version."
    ),
    reference=(
        "Amnesty International Security Lab, 'Forensic Methodology Report: How to catch NSO Group's Pegasus' "
        "(2021), ID status cache lookups seconds before the first Pegasus process (research/peers.md H10)"
    ),
)

RULES: tuple[CorrelationRule, ...] = (TRIANGULATION, ATTACKER_LOOKUP)


def rule_ids() -> frozenset[str]:
    """The ids of the built-in correlation rules (a re-check re-derives their findings)."""
    return frozenset(r.id for r in RULES)


# --- the engine -----------------------------------------------------------------------------------


@dataclass
class _RuleState:
    rule: CorrelationRule
    events: list[_Event] = field(default_factory=list)
    full: bool = False


class Correlator:
    """Runs correlation rules over the records of one scan, fed batch by batch."""

    def __init__(self, rules: Sequence[CorrelationRule] = RULES, *, max_events: int = MAX_EVENTS) -> None:
        self.states = [_RuleState(rule) for rule in rules]
        self.max_events = max_events
        # Per record class: each distinct predicate once, with the event classes it decides (two
        # classes often share one, e.g. a file's modification and its creation).
        self._routes: dict[type[Record], tuple[tuple[Any, tuple[tuple[_RuleState, EventClass, bool], ...]], ...]] = {}

    def _route(self, cls: type[Record]) -> tuple[tuple[Any, tuple[tuple[_RuleState, EventClass, bool], ...]], ...]:
        route = self._routes.get(cls)
        if route is None:
            groups: dict[Any, list[tuple[_RuleState, EventClass, bool]]] = {}
            for state in self.states:
                for veto, group in ((False, state.rule.classes), (True, state.rule.vetoes)):
                    for ec in group:
                        if issubclass(cls, ec.record):
                            groups.setdefault(ec.predicate, []).append((state, ec, veto))
            route = self._routes[cls] = tuple((pred, tuple(entries)) for pred, entries in groups.items())
        return route

    def feed(self, records: Iterable[Record]) -> None:
        """Keep the events the rules' predicates select from a batch."""
        routes = self._routes
        for record in records:
            route = routes.get(type(record))
            if route is None:
                route = self._route(type(record))
            for predicate, entries in route:
                if not predicate(record):
                    continue
                for state, ec, veto in entries:
                    if state.full:
                        continue
                    when = ec.time(record)
                    if when is None:
                        continue
                    if len(state.events) >= self.max_events:
                        state.full = True
                        continue
                    origin = _Origin(record.kind, record.device_path, record.locator, record.acquisition)
                    state.events.append(_Event(when.timestamp(), when, ec.name, veto, origin, ec.label(record)))

    def finish(self) -> list[Finding]:
        """Slide each rule's window over its sorted events; one finding per cluster."""
        findings: list[Finding] = []
        for state in self.states:
            events = sorted(state.events, key=lambda e: (e.at, e.veto, e.cls))
            findings.extend(_clusters(state.rule, events))
            if state.full:
                findings.append(Finding(
                    rule="unmask-internal-error", severity=Severity.INFO, source="unmask",
                    message=f"correlation rule {state.rule.id} kept its first {self.max_events} events only",
                ))
        return findings


def _clusters(rule: CorrelationRule, events: list[_Event]) -> Iterable[Finding]:
    i = 0
    first_class = rule.classes[0].name if rule.classes else ""
    while i < len(events):
        start = events[i]
        if start.veto or (rule.ordered and start.cls != first_class):
            i += 1
            continue
        j = i
        while j < len(events) and events[j].at - start.at <= rule.window:
            j += 1
        window = events[i:j]
        kept = [e for e in window if not e.veto]
        classes = sorted({e.cls for e in kept})
        if len(classes) >= rule.min_classes and not any(e.veto for e in window):
            yield _finding(rule, kept)
            i = j
            continue
        i += 1


def _finding(rule: CorrelationRule, events: list[_Event]) -> Finding:
    first, last = events[0], events[-1]
    classes = tuple(sorted({e.cls for e in events}))
    lines = tuple(
        f"{e.when:%Y-%m-%d %H:%M:%S} UTC [{e.cls}] {e.record.kind}: {e.label}"
        + (f" (acquisition {e.record.acquisition})" if e.record.acquisition else "")
        for e in events[:MAX_LISTED]
    )
    cluster = CorrelatedEvents(
        device_path=first.record.device_path,
        locator=first.record.locator,
        acquisition=first.record.acquisition,
        first=first.when,
        last=last.when,
        rule=rule.id,
        classes=classes,
        count=len(events),
        events=lines,
    )
    span = last.at - first.at
    listed = "; ".join(f"{e.when:%H:%M:%S} {e.label}" for e in events[:5])
    more = f"; and {len(events) - 5} more" if len(events) > 5 else ""
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        message=f"{rule.title}: {len(events)} events of {len(classes)} kinds ({', '.join(classes)}) within "
                f"{span:.0f} s: {listed}{more}",
        source=CorrelatedEvents.kind,
        device_path=first.record.device_path,
        locator=first.record.locator,
        timestamp=first.when,
        explanation=rule.explanation,
        benign=rule.benign,
        reference=rule.reference,
        record=cluster,
    )
