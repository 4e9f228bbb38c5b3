"""Heuristic rules: findings from published research that need no indicator.

One rule per file. A rule names the record kinds it consumes, its severity, the research it comes
from and a benign explanation; :meth:`Heuristic.check` receives every record of those kinds.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from unmask.model import Finding, Observable, Record, Severity


@dataclass
class HeuristicContext:
    """Facts about the acquisition a rule may need (OS version, device), and record lookup."""

    metadata: dict[str, Any] = field(default_factory=dict)


class Heuristic(ABC):
    """Base of every heuristic rule."""

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    kinds: ClassVar[tuple[str, ...]] = ()
    reference: ClassVar[str] = ""
    explanation: ClassVar[str] = ""
    benign: ClassVar[str] = ""

    @abstractmethod
    def check(self, records: Sequence[Record], ctx: HeuristicContext) -> Iterator[Finding]:
        """Yield findings for the records of the consumed kinds (all of them, in parse order)."""

    def finding(
        self,
        record: Record,
        message: str,
        *,
        severity: Severity | None = None,
        observable: Observable | None = None,
    ) -> Finding:
        """A finding of this rule about one record, carrying its provenance and explanations."""
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            message=message,
            source=record.kind,
            device_path=record.device_path,
            locator=record.locator,
            timestamp=record.timestamp,
            observable=observable,
            explanation=self.explanation,
            benign=self.benign,
            reference=self.reference,
            record=record,
        )


def _concrete(cls: type[Heuristic]) -> Iterator[type[Heuristic]]:
    for sub in cls.__subclasses__():
        if sub.id and not inspect.isabstract(sub):
            yield sub
        yield from _concrete(sub)


@cache
def registry() -> tuple[type[Heuristic], ...]:
    """Every heuristic rule in this package, sorted by id."""
    package = importlib.import_module(__package__ or "unmask.detect.heuristics")
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
    rules: dict[str, type[Heuristic]] = {}
    for cls in _concrete(Heuristic):  # type: ignore[type-abstract]
        if cls.id in rules:
            raise RuntimeError(f"duplicate heuristic id {cls.id}")
        rules[cls.id] = cls
    return tuple(sorted(rules.values(), key=lambda c: c.id))


def run_heuristics(records_by_kind: dict[str, list[Record]], ctx: HeuristicContext) -> list[Finding]:
    """Run every rule over the records of its kinds; a failing rule never stops the others."""
    findings: list[Finding] = []
    for cls in registry():
        rule = cls()
        selected: list[Record] = []
        for kind in rule.kinds:
            selected.extend(records_by_kind.get(kind, ()))
        if not selected and rule.kinds:
            continue
        try:
            findings.extend(rule.check(selected, ctx))
        except Exception as exc:  # a broken rule is reported, not fatal
            findings.append(
                Finding(
                    rule="unmask-internal-error",
                    severity=Severity.INFO,
                    message=f"heuristic {rule.id} failed: {type(exc).__name__}: {exc}",
                    source="unmask",
                )
            )
    return findings
