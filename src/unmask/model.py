"""Records, observables, findings, coverage and provenance: the typed facts every stage exchanges.

A record's fields that hold something an indicator can name are *declared* observables through
``Annotated[..., Obs.X]``. :meth:`Record.observables` and :meth:`Record.timestamps` derive from those
declarations, so a new parser is covered by matching, the timeline and every writer the moment it
declares its fields.

This is the lowest layer: it imports nothing from unmask. Normalising and expanding observables for
matching lives in :mod:`unmask.observables`; finding a record class by its kind lives next to the
parser registry (:mod:`unmask.parsers.registry`).
"""

from __future__ import annotations

import dataclasses
import enum
import string
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin


class Severity(enum.StrEnum):
    """How much a finding matters, from informational to critical."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order for comparisons: info=0 … critical=4."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name case-insensitively (``High``, ``HIGH``, ``high``)."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Obs(enum.StrEnum):
    """Observable types, named as the STIX 2 object path an indicator pattern uses for them.

    ``HOST`` (a domain name or an IP address, decided by its form) and ``PHONE_OR_EMAIL`` (a message
    handle) are declaration helpers: :func:`unmask.observables.expand` turns them into concrete
    STIX types before matching.
    """

    DOMAIN = "domain-name:value"
    IPV4 = "ipv4-addr:value"
    IPV6 = "ipv6-addr:value"
    URL = "url:value"
    EMAIL = "email-addr:value"
    PHONE = "phone-number:value"
    PROCESS = "process:name"
    FILE_NAME = "file:name"
    FILE_PATH = "file:path"
    MD5 = "file:hashes.md5"
    SHA1 = "file:hashes.sha1"
    SHA256 = "file:hashes.sha256"
    APP_ID = "app:id"
    CERT_MD5 = "app:cert.md5"
    CERT_SHA1 = "app:cert.sha1"
    CERT_SHA256 = "app:cert.sha256"
    CERT_ORG = "app:cert.organization"
    """The organisation (``O=``) of an app's signing certificate subject."""
    CERT_CN = "app:cert.common_name"
    """The common name (``CN=``) of an app's signing certificate subject."""
    PROFILE_ID = "configuration-profile:id"
    ANDROID_PROPERTY = "android-property:name"
    # Declaration helpers, expanded before matching.
    HOST = "host"
    PHONE_OR_EMAIL = "phone-or-email"

    # Enum hashes its member name in Python code; hashing the string value instead is consistent
    # with StrEnum equality and runs in C, which matters on the matching hot path.
    __hash__ = str.__hash__


@dataclass(frozen=True, slots=True)
class Observable:
    """One value of one observable type, as found in a record (already normalised for matching)."""

    type: Obs
    value: str
    field: str = ""

    def to_json(self) -> dict[str, str]:
        """The ``{type, value}`` object of the alerts.json contract."""
        return {"type": self.type.value, "value": self.value}


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator value from a STIX bundle, with the collection (malware/report) it belongs to."""

    type: str
    value: str
    collection: str
    stix_id: str
    file: str

    def to_json(self) -> dict[str, str]:
        """The ``indicator`` object of the alerts.json contract."""
        return {
            "type": self.type,
            "value": self.value,
            "collection": self.collection,
            "stix_id": self.stix_id,
            "file": self.file,
        }


# --- records -----------------------------------------------------------------------------------

Timestamp = datetime
"""An aware datetime in UTC. Only :mod:`unmask.timeutil` builds them from raw numbers."""


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    name: str
    obs: Obs | None
    is_seq: bool
    is_time: bool
    is_bytes: bool = False


_SPECS: dict[type[Any], tuple[_FieldSpec, ...]] = {}


def _unwrap_optional(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _specs(cls: type[Any]) -> tuple[_FieldSpec, ...]:
    cached = _SPECS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls, include_extras=True)
    specs: list[_FieldSpec] = []
    for f in dataclasses.fields(cls):
        tp = _unwrap_optional(hints[f.name])
        obs: Obs | None = None
        if get_origin(tp) is Annotated:
            base, *meta = get_args(tp)
            obs = next((m for m in meta if isinstance(m, Obs)), None)
            tp = _unwrap_optional(base)
        is_seq = get_origin(tp) is tuple
        is_time = tp is datetime
        specs.append(_FieldSpec(f.name, obs, is_seq, is_time, tp is bytes))
    result = tuple(specs)
    _SPECS[cls] = result
    return result


@dataclass(frozen=True, slots=True)
class _Plan:
    """Per-class precomputed accessors: the hot paths touch only the fields that matter."""

    times: tuple[str, ...]
    observables: tuple[tuple[str, Obs, bool], ...]
    to_json: Callable[[Any], dict[str, Any]]
    field_values: Callable[[Any], dict[str, Any]]
    describe: Callable[[Any], str]


_PLANS: dict[type[Any], _Plan] = {}


def _compile_summary(cls: type[Any]) -> Callable[[Any], str]:
    """The class's ``summary`` template as a function of a record (fields formatted by ``_fmt``)."""
    template: str = cls.summary
    pieces: list[tuple[str, str | None]] = []
    try:
        for literal, name, spec, conversion in string.Formatter().parse(template):
            if spec or conversion:
                raise ValueError("format specs are not used in summaries")
            pieces.append((literal, name))
    except ValueError:
        kind = cls.kind
        return lambda record: kind
    # Generated once per class like to_json below: the timeline describes every record.
    fields = {f.name for f in dataclasses.fields(cls)}
    parts: list[str] = []
    for literal, name in pieces:
        if literal:
            parts.append(repr(literal))
        if name is None:
            continue
        if name == "kind":
            parts.append(repr(cls.kind))
        elif name in fields and name.isidentifier():
            parts.append(f"_fmt(r.{name})")
        else:
            parts.append(f"_fmt(getattr(r, {name!r}, None))")
    namespace: dict[str, Any] = {"_fmt": _fmt}
    exec(f"def describe(r):\n    return ''.join([{', '.join(parts)}])\n", namespace)
    describe: Callable[[Any], str] = namespace["describe"]
    return describe


def _plan(cls: type[Any]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    specs = _specs(cls)
    # Generated like dataclasses' own __init__: one dict display per class instead of a loop per
    # record, since writers serialise hundreds of thousands of records.
    parts = [f"'kind': {cls.kind!r}"]
    for spec in specs:
        name = spec.name
        if name == "acquisition":
            continue
        if spec.is_time:
            expr = f"(None if r.{name} is None else r.{name}.isoformat())"
        elif spec.is_seq or spec.is_bytes:
            expr = f"_jsonable(r.{name})"
        else:
            expr = f"(r.{name} if r.{name} is None or type(r.{name}) in _PLAIN else _jsonable(r.{name}))"
        parts.append(f"{name!r}: {expr}")
    raw = [f"'kind': {cls.kind!r}", *(f"{s.name!r}: r.{s.name}" for s in specs if s.name != "acquisition")]
    namespace: dict[str, Any] = {"_jsonable": _jsonable, "_PLAIN": _PLAIN}
    # The acquisition tag is written only when set, so a scan of one acquisition writes what it
    # always wrote.
    tagged = "    if r.acquisition:\n        d['acquisition'] = r.acquisition\n    return d\n"
    exec(f"def to_json(r):\n    d = {{{', '.join(parts)}}}\n{tagged}", namespace)
    exec(f"def field_values(r):\n    d = {{{', '.join(raw)}}}\n{tagged}", namespace)
    plan = _Plan(
        times=tuple(s.name for s in specs if s.is_time),
        observables=tuple((s.name, s.obs, s.is_seq) for s in specs if s.obs is not None),
        to_json=namespace["to_json"],
        field_values=namespace["field_values"],
        describe=_compile_summary(cls),
    )
    _PLANS[cls] = plan
    return plan


@dataclass(frozen=True, slots=True)
class Content:
    """Declares that a record names a file whose bytes are screened for exploit payloads.

    Each attribute names a field of the record: the device path of the file, the file name and
    MIME type the evidence claims for it, and who delivered it.
    """

    path: str
    name: str | None = None
    mime: str | None = None
    sender: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Base of every parsed fact.

    Subclasses set ``kind`` (a stable id such as ``ios/sms/message``) and ``summary`` (a format string
    over the fields, for the timeline) and declare typed fields. ``device_path`` and ``locator`` (the
    row or key inside the artefact) say where the fact came from.
    """

    kind: ClassVar[str] = "record"
    summary: ClassVar[str] = "{kind}"
    content: ClassVar[Content | None] = None

    device_path: str
    locator: str = ""
    acquisition: str = ""
    """Which acquisition of a scan the record came from when several are read together
    (``unmask check --with``): ``""`` for the main evidence, else the id info.json lists it under
    (``with1``…). Omitted from the JSON forms when empty."""

    def __post_init__(self) -> None:
        for name in _plan(type(self)).times:
            value = getattr(self, name)
            if value is not None and value.tzinfo is not UTC and value.utcoffset() != _ZERO:
                raise ValueError(f"{type(self).__name__}.{name} must be an aware UTC datetime")

    @classmethod
    def field_specs(cls) -> tuple[_FieldSpec, ...]:
        """The declared fields of this record type (name, observable type, sequence, timestamp)."""
        return _specs(cls)

    def raw_observables(self) -> Iterator[Observable]:
        """The declared observable values as stored, before expansion and normalisation."""
        for name, obs, is_seq in _plan(type(self)).observables:
            value = getattr(self, name)
            if not value:
                continue
            if is_seq:
                for item in value:
                    if item:
                        yield Observable(obs, str(item), name)
            else:
                yield Observable(obs, str(value), name)

    def timestamps(self) -> Iterator[tuple[str, datetime]]:
        """``(field name, UTC datetime)`` for every non-empty timestamp field, in declaration order."""
        for name in _plan(type(self)).times:
            value = getattr(self, name)
            if value is not None:
                yield name, value

    @property
    def timestamp(self) -> datetime | None:
        """The record's primary time: its first declared non-empty timestamp."""
        return next((ts for _, ts in self.timestamps()), None)

    def describe(self) -> str:
        """A one-line human description from the class's ``summary`` template."""
        return _plan(type(self)).describe(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record of this class from :meth:`to_json` output (``recheck`` re-matches saved
        records; :func:`unmask.parsers.registry.record_from_json` finds the class by its kind).

        Raises ``ValueError``/``TypeError`` for bad values.
        """
        values: dict[str, Any] = {}
        for spec in _specs(cls):
            if spec.name not in data:
                continue
            value = data[spec.name]
            if value is not None:
                if spec.is_time:
                    value = datetime.fromisoformat(value)
                elif spec.is_seq:
                    value = tuple(value)
                elif spec.is_bytes and isinstance(value, str):
                    value = bytes.fromhex(value)
            values[spec.name] = value
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field; datetimes in ISO 8601 UTC, bytes as hex."""
        return _plan(type(self)).to_json(self)

    def field_values(self) -> dict[str, Any]:
        """``kind`` and every field with its value as stored (datetimes, tuples, bytes): what
        :meth:`to_json` converts, for serialisers that convert those types themselves."""
        return _plan(type(self)).field_values(self)


_PLAIN = frozenset({str, int, float, bool})
_ZERO = UTC.utcoffset(None)


def time_fields(cls: type[Record]) -> tuple[str, ...]:
    """The names of a record class's timestamp fields, in declaration order."""
    return _plan(cls).times


@dataclass(frozen=True, slots=True, kw_only=True)
class WallClockRecord(Record):
    """A record whose times were read as local wall-clock text (logs, command outputs).

    ``time_inferred`` says what the text did not carry and had to be inferred when its times were
    converted to UTC (:class:`unmask.timeutil.WallTime`): ``year``, ``zone`` (the device time zone
    was applied), ``zone-unknown`` (taken as UTC), ``ambiguous`` (a repeated or skipped local time
    at a DST change); empty when the text was exact. The timeline and the report show it.
    """

    time_inferred: str = ""


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple):
        return " ".join(_fmt(v) for v in value)
    return str(value)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``-free ``+00:00`` offset, to the microsecond when present."""
    return value.isoformat()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


# --- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Something worth an investigator's attention, explained and traced to its evidence."""

    rule: str
    severity: Severity
    message: str
    source: str
    device_path: str | None = None
    locator: str = ""
    timestamp: datetime | None = None
    observable: Observable | None = None
    indicator: Indicator | None = None
    explanation: str = ""
    benign: str = ""
    reference: str = ""
    sha256: str | None = None
    record: Record | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """One object of the alerts.json contract (see docs/alerts.md)."""
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
            "timestamp": iso(self.timestamp) if self.timestamp else None,
            "source": self.source,
            "device_path": self.device_path,
            "observable": self.observable.to_json() if self.observable else None,
            "indicator": self.indicator.to_json() if self.indicator else None,
            "locator": self.locator,
            "sha256": self.sha256,
            "explanation": self.explanation,
            "benign": self.benign,
            "reference": self.reference,
            "record": self.record.to_json() if self.record is not None else None,
        }


# --- coverage and provenance --------------------------------------------------------------------


class Status(enum.StrEnum):
    """What happened when a parser looked for its artefacts."""

    PARSED = "parsed"
    PARTIAL = "partial"
    ABSENT = "absent"
    UNSUPPORTED = "unsupported"
    FAILED = "failed"


@dataclass(slots=True)
class ArtefactRun:
    """One artefact (file) a parser read, with its outcome."""

    device_path: str
    status: Status
    records: int = 0
    reason: str | None = None
    sha256: str | None = None
    acquisition: str = ""
    """The acquisition it was read from when several are read together (``""``: the main one)."""

    def to_json(self) -> dict[str, Any]:
        """JSON form for info.json (``acquisition`` only when it is not the main evidence)."""
        out: dict[str, Any] = {
            "device_path": self.device_path,
            "status": self.status.value,
            "records": self.records,
            "reason": self.reason,
            "sha256": self.sha256,
        }
        if self.acquisition:
            out["acquisition"] = self.acquisition
        return out


@dataclass(slots=True)
class Coverage:
    """One parser's coverage: its overall status and each artefact it read."""

    parser: str
    description: str
    artefacts: list[ArtefactRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    absent_reason: str | None = None

    @property
    def records(self) -> int:
        """Records yielded across all artefacts."""
        return sum(a.records for a in self.artefacts)

    @property
    def status(self) -> Status:
        """``partial`` when some of what the parser read was extracted and some failed (an artefact
        parsed beside one that failed, or records before a failure); else ``parsed`` if any artefact
        parsed; else failed/unsupported if any; else absent."""
        statuses = {a.status for a in self.artefacts}
        broken = Status.FAILED in statuses or Status.UNSUPPORTED in statuses
        if broken and (Status.PARSED in statuses or any(a.records for a in self.artefacts)):
            return Status.PARTIAL
        for s in (Status.PARSED, Status.FAILED, Status.UNSUPPORTED):
            if s in statuses:
                return s
        return Status.ABSENT

    @property
    def reason(self) -> str | None:
        """The reasons of failed/unsupported artefacts, or why nothing was found."""
        reasons = [f"{a.acquisition + ':' if a.acquisition else ''}{a.device_path}: {a.reason}"
                   for a in self.artefacts if a.reason]
        if reasons:
            return "; ".join(reasons)
        return self.absent_reason if not self.artefacts else None

    def to_json(self) -> dict[str, Any]:
        """JSON form for info.json."""
        return {
            "parser": self.parser,
            "description": self.description,
            "status": self.status.value,
            "records": self.records,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "artefacts": [a.to_json() for a in self.artefacts],
        }


@dataclass(frozen=True, slots=True)
class IndicatorSetInfo:
    """Provenance of one loaded indicator file."""

    name: str
    path: str
    sha256: str
    indicators: int
    unique: int
    collections: tuple[str, ...]
    by_type: tuple[tuple[str, int], ...]
    unsupported: int
    unsupported_examples: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form for info.json."""
        return {
            "name": self.name,
            "path": self.path,
            "sha256": self.sha256,
            "indicators": self.indicators,
            "unique_values": self.unique,
            "collections": list(self.collections),
            "by_type": dict(self.by_type),
            "unsupported_patterns": self.unsupported,
            "unsupported_examples": list(self.unsupported_examples),
        }
