"""Compare the detections of unmask and MVT on the same backup, and check the planted traces.

The two tools word and split their alerts differently, so they are compared by what was
detected, not by message text:

- an indicator detection is the pair (collection, indicator value), lower-cased; MVT files IPs
  under ``domains``, unmask under ``ipv4-addr``, so the type is not part of the key;
- a detection without an indicator (a heuristic) is mapped from MVT's module to the unmask rules
  that implement the same published heuristic (:data:`HEURISTIC_RULES`); an MVT module missing
  from that table counts as a detection unmask does not make.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

# MVT module slug → unmask heuristic rule ids that cover the same published heuristic.
HEURISTIC_RULES: dict[str, set[str]] = {
    "global_preferences": {"lockdown-mode"},
    "datausage": {"process-pk-gap", "process-orphan-usage"},
    "net_base": {"process-pk-gap", "process-orphan-usage"},
    "netusage": {"process-pk-gap", "process-orphan-usage"},
    "sms": {"sms-threat-notification"},
    "sms_attachments": {"sms-attachment-var-tmp"},
    "safari_history": {"safari-http-redirect"},
    "calendar": {"calendar-quadream"},
    "backup_info": {"ios-outdated"},
}


def _key(collection: object, value: object) -> tuple[str, str]:
    return (str(collection or "").strip().lower(), str(value or "").strip().lower())


@dataclass
class Detections:
    """What one tool detected on one backup."""

    indicators: set[tuple[str, str]] = field(default_factory=set)  # (collection, value)
    heuristics: set[str] = field(default_factory=set)  # unmask rule ids, or MVT module slugs
    alerts: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


def unmask_detections(out: Path) -> Detections:
    """Detections in an unmask ``alerts.json``."""
    det = Detections()
    path = out / "alerts.json"
    if not path.is_file():
        return det
    for a in json.loads(path.read_text()):
        det.alerts += 1
        det.by_level[a["severity"]] = det.by_level.get(a["severity"], 0) + 1
        ind = a.get("indicator")
        if ind:
            det.indicators.add(_key(ind.get("collection"), ind.get("value")))
        else:
            det.heuristics.add(str(a.get("rule")))
    return det


def mvt_detections(alerts: list[dict[str, object]]) -> Detections:
    """Detections in MVT's alerts (see :func:`bench.peer.read_alerts`)."""
    det = Detections()
    for a in alerts:
        det.alerts += 1
        level = str(a.get("level", "?")).lower()
        det.by_level[level] = det.by_level.get(level, 0) + 1
        ind = a.get("matched_indicator")
        if isinstance(ind, dict) and ind.get("value"):
            det.indicators.add(_key(ind.get("name"), ind.get("value")))
        else:
            det.heuristics.add(str(a.get("module")))
    return det


@dataclass
class Comparison:
    """Does unmask find every detection MVT makes, and what does only unmask find."""

    missed_indicators: list[tuple[str, str]]
    missed_heuristics: list[str]
    only_unmask_indicators: list[tuple[str, str]]
    common_indicators: int

    @property
    def unmask_finds_all(self) -> bool:
        """True when no MVT detection is missing from unmask's."""
        return not self.missed_indicators and not self.missed_heuristics


def compare(unmask: Detections, mvt: Detections) -> Comparison:
    """Compare two tools' detections on the same input."""
    missed_h = sorted(m for m in mvt.heuristics if not (HEURISTIC_RULES.get(m, set()) & unmask.heuristics))
    return Comparison(
        missed_indicators=sorted(mvt.indicators - unmask.indicators),
        missed_heuristics=missed_h,
        only_unmask_indicators=sorted(unmask.indicators - mvt.indicators),
        common_indicators=len(mvt.indicators & unmask.indicators),
    )


def missed_planted(unmask: Detections, planted: list[dict[str, str]]) -> list[dict[str, str]]:
    """Planted traces that unmask did not report (the smoke run fails on any)."""
    return [p for p in planted if _key(p["collection"], p["indicator"]) not in unmask.indicators]
