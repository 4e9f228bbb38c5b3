"""Heuristic rules: findings from published research that need no indicator.

One rule per file. A rule names the record classes it consumes (``consumes``, tested with
``isinstance``, so a rule written for a base class covers every store that yields it), its
severity, the research it comes from and a benign explanation.

Rules stream: a scan creates one instance per rule, hands it each batch of the records it consumes
as the parsers yield them (:meth:`Heuristic.feed`), and calls :meth:`Heuristic.finish` once at the
end with what is known about the acquisition. A rule keeps only what its logic needs (a rule on
single records keeps nothing: :class:`RecordRule`), so log sources with millions of records do not
pile up in memory.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, ClassVar

from unmask import timeutil
from unmask.budget import DEFAULT, Budget, BudgetExceeded, resident_bytes
from unmask.model import Finding, Observable, Record, Severity


@dataclass
class HeuristicContext:
    """Facts about the acquisition a rule may need at the end (OS version, device)."""

    metadata: dict[str, Any] = field(default_factory=dict)

    def first_time(self, *keys: str) -> datetime | None:
        """The first of these metadata fields that holds an ISO time (``completed``, ``started``…),
        as an aware datetime."""
        for key in keys:
            value = self.metadata.get(key)
            found = timeutil.parse_iso(value) if isinstance(value, str) else None
            if found is not None:
                return found.value
        return None


class Heuristic(ABC):
    """Base of every heuristic rule; one instance per scan."""

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    consumes: ClassVar[tuple[type[Record], ...]] = ()
    reference: ClassVar[str] = ""
    explanation: ClassVar[str] = ""
    benign: ClassVar[str] = ""

    @abstractmethod
    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Take one batch of consumed records (in parse order); return what can be said already."""

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        """The end of the scan: return the findings that needed every batch (none by default)."""
        return ()

    def check(self, records: Sequence[Record], ctx: HeuristicContext) -> list[Finding]:
        """Run the rule over all of ``records`` at once (tests, small inputs): the consumed ones are
        fed as one batch, then the rule finishes."""
        consumed = [r for r in records if isinstance(r, self.consumes)]
        return [*self.feed(consumed), *self.finish(ctx)]

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


class RecordRule(Heuristic):
    """A rule that judges each record on its own and keeps nothing between batches."""

    @abstractmethod
    def check_record(self, record: Any) -> Iterator[Finding]:
        """Findings about one consumed record."""

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """:meth:`check_record` over the batch."""
        return [f for record in records for f in self.check_record(record)]


def _concrete(cls: type[Heuristic]) -> Iterator[type[Heuristic]]:
    for sub in cls.__subclasses__():
        if not inspect.isabstract(sub):
            if not sub.id:
                raise RuntimeError(f"heuristic {sub.__module__}.{sub.__qualname__} has no id")
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
        if not cls.__module__.startswith(package.__name__ + "."):
            continue  # a rule defined elsewhere (a test's throwaway class) is not one of ours
        if cls.id in rules and rules[cls.id] is not cls:
            raise RuntimeError(f"duplicate heuristic id {cls.id}")
        rules[cls.id] = cls
    return tuple(sorted(rules.values(), key=lambda c: c.id))


def failure(rule: str, exc: BaseException) -> Finding:
    """The finding that reports a broken rule: it is never fatal to the scan."""
    return Finding(
        rule="unmask-internal-error",
        severity=Severity.INFO,
        message=f"heuristic {rule} failed: {type(exc).__name__}: {exc}",
        source="unmask",
    )


class Heuristics:
    """Every rule of a scan, fed batch by batch: each batch is routed by record class to the rules
    that consume it. A rule that raises is reported once (:func:`failure`) and fed no more; so is
    a rule that spends more than its budget (the time of all its calls together, and the memory
    the process grew by during one call)."""

    def __init__(self, rules: Sequence[type[Heuristic]] | None = None, budget: Budget = DEFAULT) -> None:
        self.rules: list[Heuristic] = [cls() for cls in (registry() if rules is None else rules)]
        self.budget = budget
        self._spent = [0.0] * len(self.rules)
        self._routes: dict[type[Record], tuple[int, ...]] = {}
        self._broken: set[int] = set()

    def _route(self, cls: type[Record]) -> tuple[int, ...]:
        route = self._routes.get(cls)
        if route is None:
            route = self._routes[cls] = tuple(
                i for i, rule in enumerate(self.rules) if issubclass(cls, rule.consumes)
            )
        return route

    def feed(self, records: Sequence[Record]) -> list[Finding]:
        """Route one batch (records of any classes) to the rules; their early findings."""
        selected: dict[int, list[Record]] = {}
        route_of = self._routes.get
        for record in records:
            cls = type(record)
            route = route_of(cls)
            if route is None:
                route = self._route(cls)
            for i in route:
                selected.setdefault(i, []).append(record)
        findings: list[Finding] = []
        for i in sorted(selected):
            findings.extend(self._call(i, lambda rule, batch=selected[i]: rule.feed(batch)))
        return findings

    def finish(self, ctx: HeuristicContext) -> list[Finding]:
        """End every rule; their remaining findings."""
        findings: list[Finding] = []
        for i in range(len(self.rules)):
            findings.extend(self._call(i, lambda rule: rule.finish(ctx)))
        return findings

    def _call(self, i: int, step: Any) -> list[Finding]:
        if i in self._broken:
            return []
        rule = self.rules[i]
        before, start = resident_bytes(), time.perf_counter()
        try:
            found = list(step(rule))
        except Exception as exc:  # a broken rule is reported, not fatal
            self._broken.add(i)
            return [failure(rule.id, exc)]
        self._spent[i] += time.perf_counter() - start
        problem = None
        if self._spent[i] > self.budget.seconds:
            problem = f"over its time budget of {self.budget.seconds:g} s"
        elif resident_bytes() - before > self.budget.memory_mb * 1024 * 1024:
            problem = f"over its memory budget of {self.budget.memory_mb} MB"
        if problem is not None:
            self._broken.add(i)
            found.append(failure(rule.id, BudgetExceeded(problem)))
        return found


def run_heuristics(records: Iterable[Record], ctx: HeuristicContext) -> list[Finding]:
    """Run every rule over ``records`` in one batch and finish (tests and small inputs)."""
    rules = Heuristics()
    return [*rules.feed(list(records)), *rules.finish(ctx)]
