"""Budgets: how much wall time, memory and temporary disk one parser (or one heuristic) may spend.

Evidence can be shaped by the people it incriminates: a 4 KiB database whose table is a view over
an endless recursive query, a plist that unfolds into 2^40 values. Every run must end, so every
owner of a format enforces a budget where it has the control: SQLite through a progress handler
that aborts a query (:mod:`unmask.formats.sqlite`), plists by refusing values that unfold
(:mod:`unmask.formats.plist`) and files too big to decode within the memory budget
(:meth:`unmask.parsers.base.ParseContext.read_plist`), text by capping lines and bytes (:mod:`unmask.formats.text`), and
the parser runner between records. A parser past its budget ends with ``failed`` coverage and the
reason; the scan goes on with the next one.

Memory is measured as the growth of the process's resident set while the parser runs (Linux
``/proc/self/statm``; elsewhere ``ru_maxrss``, a high-water mark), so it is a budget for what one
artefact makes unmask allocate, not for the process as a whole.

This module imports nothing from unmask but :mod:`unmask.errors`.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass

from unmask.errors import ArtefactError

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class BudgetExceeded(ArtefactError):
    """An artefact needed more time, memory or temporary disk than its budget allows."""


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits for one parser over all of its artefacts (and for one heuristic over a scan)."""

    seconds: float = 600.0
    memory_mb: int = 2048
    temp_mb: int = 8192

    def start(self) -> Allowance:
        """Start spending this budget now."""
        return Allowance(self)


DEFAULT = Budget()


def resident_bytes() -> int:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class Allowance:
    """A budget being spent: :meth:`check` raises :class:`BudgetExceeded` once it is used up.

    Cheap enough to call often: the clock is read every call, the resident memory every
    :attr:`MEMORY_EVERY` calls (the parser runner calls it every 64 records).
    """

    MEMORY_EVERY = 32

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        self.baseline = resident_bytes()
        self.memory_limit = budget.memory_mb * 1024 * 1024
        self.temp_limit = budget.temp_mb * 1024 * 1024
        self._calls = 0

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` when the time or the memory is used up."""
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"over its time budget of {self.budget.seconds:g} s")
        self._calls += 1
        if self._calls % self.MEMORY_EVERY == 0:
            self.check_memory()

    def check_memory(self) -> None:
        """Raise :class:`BudgetExceeded` when memory grew past the budget since the start."""
        grown = resident_bytes() - self.baseline
        if grown > self.memory_limit:
            raise BudgetExceeded(
                f"over its memory budget of {self.budget.memory_mb} MB (grew by {grown // (1024 * 1024)} MB)"
            )

    def check_temp(self, size: int, what: str) -> None:
        """Raise :class:`BudgetExceeded` when ``size`` bytes of temporary disk exceed the budget."""
        if size > self.temp_limit:
            raise BudgetExceeded(
                f"{what} would need {size // (1024 * 1024)} MB of temporary disk, over its budget of "
                f"{self.budget.temp_mb} MB"
            )
