"""The one generic matching loop: every declared observable of every record against the index."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from unmask.detect.indicators.index import Matcher
from unmask.model import Finding, Indicator, Obs, Observable, Record, Severity
from unmask.observables import observables_of, record_fields

RULE = "indicator"

# Traces of the spyware itself on the device are stronger than contact with its infrastructure.
_SEVERITY = {
    Obs.PROCESS: Severity.CRITICAL,
    Obs.FILE_PATH: Severity.CRITICAL,
    Obs.MD5: Severity.CRITICAL,
    Obs.SHA1: Severity.CRITICAL,
    Obs.SHA256: Severity.CRITICAL,
    Obs.CERT_MD5: Severity.CRITICAL,
    Obs.CERT_SHA1: Severity.CRITICAL,
    Obs.CERT_SHA256: Severity.CRITICAL,
    Obs.PROFILE_ID: Severity.CRITICAL,
    Obs.APP_ID: Severity.CRITICAL,
}
_LABEL = {
    Obs.DOMAIN: "domain",
    Obs.IPV4: "IP address",
    Obs.IPV6: "IP address",
    Obs.URL: "URL",
    Obs.EMAIL: "email address",
    Obs.PROCESS: "process",
    Obs.FILE_PATH: "file path",
    Obs.FILE_NAME: "file name",
    Obs.APP_ID: "app id",
    Obs.PROFILE_ID: "configuration profile",
    Obs.ANDROID_PROPERTY: "Android property",
    Obs.CERT_MD5: "signing certificate (MD5)",
    Obs.CERT_SHA1: "signing certificate (SHA-1)",
    Obs.CERT_SHA256: "signing certificate (SHA-256)",
    Obs.CERT_ORG: "signing certificate organisation",
    Obs.CERT_CN: "signing certificate common name",
    Obs.SHA256: "file hash (SHA-256)",
}
_EXPLANATION = (
    "This value appears in a published indicator set that investigators compiled from confirmed "
    "infections; finding it on a device is a strong sign of contact with that spyware or its "
    "infrastructure."
)
_BENIGN = {
    Obs.DOMAIN: "A domain can be re-registered or shared after the campaign ended; check the date of the trace.",
    Obs.FILE_NAME: "A file name alone can collide with an innocent file; check the path and the time.",
    Obs.EMAIL: "An email address can appear because someone looked the attacker account up, or was sent a report.",
}


def severity_for(observable: Observable) -> Severity:
    """How severe an indicator match on this observable type is."""
    return _SEVERITY.get(observable.type, Severity.HIGH)


def describe(observable: Observable, indicator: Indicator) -> str:
    """The plain-language message of an indicator match."""
    label = _LABEL.get(observable.type, observable.type.value)
    where = f" (in {observable.field})" if observable.field else ""
    same = observable.value == indicator.value
    target = "" if same else f" {indicator.value}"
    return f"{label} {observable.value}{where} matches the {indicator.collection} indicator{target} ({indicator.type})"


def match_records(
    records: Sequence[Record], index: Matcher, sha256_of: dict[str, str] | None = None
) -> list[Finding]:
    """Findings for every record observable that matches an indicator; one per record and indicator.

    Call it once for all records or once per batch: a record's findings depend on that record alone.
    """
    findings: list[Finding] = []
    # A remote backend evaluates the batch's observables in a few round trips here; the plaintext
    # index returns at once without iterating them.
    index.prefetch(o for record in records for o in observables_of(record))
    _match_values(records, index.lookup, sha256_of or {}, findings)
    return findings


def _match_values(
    records: Sequence[Record],
    lookup: Callable[[Obs, str], Sequence[Indicator]],
    hashes: dict[str, str],
    findings: list[Finding],
) -> None:
    # Values are looked up as they are expanded, and an Observable is built only for a value that
    # matches: a scan looks up about two values per record and matches almost none. The expansion
    # is observables_of()'s, so the values are the ones prefetch saw.
    for record in records:
        seen: set[tuple[str, str, str]] | None = None
        fields = record_fields(type(record))
        for name, _, is_seq, expand in fields:
            value = getattr(record, name)
            if not value:
                continue
            for item in value if is_seq else (value,):
                if not item:
                    continue
                for kind, norm in expand(item if type(item) is str else str(item)):
                    hits = lookup(kind, norm)
                    if hits:
                        if seen is None:
                            seen = set()
                        _report(record, Observable(kind, norm, name), hits, seen, hashes, findings)


def _report(
    record: Record,
    observable: Observable,
    hits: Sequence[Indicator],
    seen: set[tuple[str, str, str]],
    hashes: dict[str, str],
    findings: list[Finding],
) -> None:
    for indicator in hits:
        key = (indicator.type, indicator.value, indicator.collection)
        if key in seen:
            continue
        seen.add(key)
        findings.append(
            Finding(
                rule=RULE,
                severity=severity_for(observable),
                message=describe(observable, indicator),
                source=record.kind,
                device_path=record.device_path,
                locator=record.locator,
                timestamp=record.timestamp,
                observable=observable,
                indicator=indicator,
                explanation=_EXPLANATION,
                benign=_BENIGN.get(observable.type, ""),
                sha256=hashes.get(record.device_path),
                record=record,
            )
        )
