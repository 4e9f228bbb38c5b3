"""A case out of the store: its acquisitions and findings as JSON, its indicator matches as STIX 2.1
sightings (one ``sighting`` per indicator, ``sighting_of_ref`` the indicator's STIX id, seen on the
case's device as a ``system`` identity)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unmask import __version__, timeutil
from unmask.store.db import Store

_NAMESPACE = uuid.UUID("6d1b1f5e-8f33-5d0e-9a52-7c3f3b7e2a11")


def _stix_time(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return timeutil.aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def case_document(store: Store, name: str) -> dict[str, Any]:
    """The case as JSON: its acquisitions and every finding (alerts.json objects with origin)."""
    case_id = store.require_case(name)
    return {
        "case": name,
        "exported": timeutil.now().isoformat(),
        "tool": {"name": "unmask", "version": __version__},
        "acquisitions": store.acquisitions_of(case_id),
        "findings": store.findings_of(case_id),
    }


def sightings(document: dict[str, Any]) -> dict[str, Any]:
    """A STIX 2.1 bundle of the case's indicator matches as sightings."""
    now = _stix_time(timeutil.now())
    name = str(document["case"])
    identity = f"identity--{uuid.uuid5(_NAMESPACE, 'case:' + name)}"
    objects: list[dict[str, Any]] = [{
        "type": "identity", "spec_version": "2.1", "id": identity, "created": now, "modified": now,
        "name": f"device of case {name}", "identity_class": "system",
    }]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for finding in document["findings"]:
        indicator = finding["alert"].get("indicator") or {}
        ref = str(indicator.get("stix_id") or "")
        if ref.startswith("indicator--"):
            grouped.setdefault(ref, []).append(finding["alert"])
    for ref, alerts in sorted(grouped.items()):
        times = sorted(t for t in (_parse(a.get("timestamp")) for a in alerts) if t is not None)
        sighting: dict[str, Any] = {
            "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid5(_NAMESPACE, name + ref)}",
            "created": now, "modified": now, "sighting_of_ref": ref, "count": len(alerts),
            "where_sighted_refs": [identity],
            "description": f"{alerts[0]['indicator'].get('collection', '')}: {alerts[0].get('message', '')}"[:1000],
        }
        if times:
            sighting["first_seen"], sighting["last_seen"] = _stix_time(times[0]), _stix_time(times[-1])
        objects.append(sighting)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def export_case(store: Store, name: str, folder: Path) -> list[Path]:
    """Write ``case.json`` and ``sightings.stix2.json`` into ``folder`` (made if needed, mode 0700)."""
    document = case_document(store, name)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for file_name, value in (("case.json", document), ("sightings.stix2.json", sightings(document))):
        path = folder / file_name
        path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
