"""A time-bounded mutation fuzzer over the targets of :mod:`tests.fuzz.targets`.

    python -m tests.fuzz.fuzz --seconds 120 [--target NAME ...] [--seed S]

Round-robin over the targets (a name ending in ``.`` or ``*`` selects every target it starts),
each in slices of at most a second, until the time is spent: an input is a seed or an earlier
input mutated (:func:`tests.fuzz.mutate.mutate`), drawn from a ``random.Random`` per target
seeded with ``S`` and the target's name, so a seed always runs the same inputs in the same order
(how many depends on the machine). An input that makes a target do something new (a new outcome:
a new refusal, a new coverage status) joins that target's corpus.

Every crash (an exception the contract does not allow, a broken promise, the per-input time
limit) is shrunk, printed on one line and appended to ``tests/fuzz/regressions.json`` (target,
base64 input, exception, signature, date, seed), which ``tests/fuzz/test_regressions.py``
replays; the run then exits 1. A crash whose signature matches an entry marked ``"status":
"open"`` (reported, not fixed yet) is printed but neither saved again nor failing.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import resource
import signal
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fuzz.mutate import mutate
from tests.fuzz.targets import TIME_LIMIT, Failure, Target, execute, targets

REGRESSIONS = Path(__file__).resolve().parent / "regressions.json"
CORPUS_GROWTH = 64
"""Inputs with new outcomes kept per target, besides its seeds."""
SHRINK_SECONDS = 10.0


@dataclass
class Progress:
    """One target's run: its corpus and what it cost."""

    target: Target
    rng: random.Random
    corpus: list[bytes]
    outcomes: set[str] = field(default_factory=set)
    execs: int = 0
    seconds: float = 0.0
    crashes: int = 0


def load_regressions(path: Path) -> list[dict[str, Any]]:
    """The saved regression entries (a JSON list), or none."""
    if not path.is_file():
        return []
    entries = json.loads(path.read_text())
    if not isinstance(entries, list):
        raise SystemExit(f"{path}: not a JSON list of regression entries")
    return entries


def save_regressions(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write the entries, one object per entry, reviewable as text."""
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")


def shrink(target: Target, data: bytes, failure: Failure, *, seconds: float = SHRINK_SECONDS,
           time_limit: float = TIME_LIMIT) -> bytes:
    """A smaller input that fails the same way (same signature), found within ``seconds``.

    First removes chunks, from half the input down to single bytes, keeping every removal after
    which the input still fails the same way; then, for what removal cannot touch (a database's
    pages, whose offsets matter), zeroes chunks the same way, so that what is left to read is what
    matters (and compresses well in the regression file). An input over the time limit is kept
    as it is."""
    if failure.kind == "time limit":
        return data
    deadline = time.monotonic() + seconds
    middle = time.monotonic() + seconds / 2

    def same(candidate: bytes) -> bool:
        result = execute(target, candidate, time_limit=time_limit)
        return result.failure is not None and result.failure.signature == failure.signature

    best = data
    chunk = max(1, len(best) // 2)
    while chunk >= 1 and time.monotonic() < middle:
        at = 0
        while at < len(best) and time.monotonic() < middle:
            candidate = best[:at] + best[at + chunk :]
            if same(candidate):
                best = candidate
            else:
                at += chunk
        chunk //= 2
    chunk = max(1, len(best) // 2)
    while chunk >= 16 and time.monotonic() < deadline:
        for at in range(0, len(best), chunk):
            if time.monotonic() >= deadline:
                break
            part = best[at : at + chunk]
            if part.count(0) == len(part):
                continue
            candidate = best[:at] + bytes(len(part)) + best[at + chunk :]
            if same(candidate):
                best = candidate
        chunk //= 2
    return best


RAW_LIMIT = 4096
"""Inputs up to this size are kept as base64 of the bytes; bigger ones zlib-compressed first."""


def input_of(entry: dict[str, Any]) -> bytes:
    """The input bytes of a regression entry."""
    if "input_zlib" in entry:
        return zlib.decompress(base64.b64decode(entry["input_zlib"]))
    return base64.b64decode(entry["input"])


def select(names: list[str] | None) -> list[Target]:
    """The targets named (exactly, or by a prefix ending in ``.`` or ``*``); all when none."""
    every = targets()
    if not names:
        return list(every.values())
    chosen: list[Target] = []
    for name in names:
        if name in every:
            matches = [every[name]]
        elif name.endswith(("*", ".")):
            matches = [t for n, t in every.items() if n.startswith(name.rstrip("*"))]
        else:
            matches = []
        if not matches:
            raise SystemExit(f"no fuzz target {name!r}; targets: {', '.join(every)}")
        chosen.extend(t for t in matches if t not in chosen)
    return chosen


def _entry(failure: Failure, data: bytes, seed: int) -> dict[str, Any]:
    if len(data) <= RAW_LIMIT:
        stored = {"input": base64.b64encode(data).decode("ascii")}
    else:
        stored = {"input_zlib": base64.b64encode(zlib.compress(data, 9)).decode("ascii")}
    return {
        "target": failure.target,
        **stored,
        "size": len(data),
        "exception": failure.summary,
        "signature": failure.signature,
        "found": datetime.now(UTC).date().isoformat(),
        "seed": seed,
    }


def fuzz(
    chosen: list[Target],
    *,
    seconds: float,
    seed: int,
    regressions: Path,
    time_limit: float = TIME_LIMIT,
    out: Any = sys.stdout,
) -> int:
    """Run the fuzzer; return the number of new crashes (each saved to ``regressions``)."""
    entries = load_regressions(regressions)
    open_signatures = {e.get("signature") for e in entries if e.get("status") == "open"}
    seen: set[str] = set()
    new: list[dict[str, Any]] = []
    progress = []
    for target in chosen:
        seeds = target.seeds()
        progress.append(Progress(target, random.Random(f"{seed}:{target.name}"), list(seeds)))
    slice_seconds = min(1.0, max(0.05, seconds / max(1, len(progress))))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for p in progress:
            slice_end = min(time.monotonic() + slice_seconds, end)
            started = time.monotonic()
            while time.monotonic() < slice_end:
                data = mutate(p.rng, p.rng.choice(p.corpus), p.target.kind, p.corpus)
                result = execute(p.target, data, time_limit=time_limit)
                p.execs += 1
                failure = result.failure
                if failure is None:
                    if result.outcome not in p.outcomes:
                        p.outcomes.add(result.outcome)
                        if len(p.corpus) < len(p.target.seeds()) + CORPUS_GROWTH:
                            p.corpus.append(data)
                    continue
                if failure.signature in seen:
                    continue
                seen.add(failure.signature)
                p.crashes += 1
                if failure.signature in open_signatures:
                    print(f"known (open) {failure.target}: {failure.summary}", file=out, flush=True)
                    continue
                shrinking = time.monotonic()
                small = shrink(p.target, data, failure, time_limit=time_limit)
                started += time.monotonic() - shrinking  # the target's rate counts its own runs only
                entry = _entry(failure, small, seed)
                new.append(entry)
                save_regressions(regressions, [*entries, *new])
                print(f"CRASH {failure.target}: {failure.summary} [{len(small)} bytes, saved to "
                      f"{regressions.name}]", file=out, flush=True)
            p.seconds += time.monotonic() - started
            if time.monotonic() >= end:
                break
    total_execs = sum(p.execs for p in progress)
    total_seconds = sum(p.seconds for p in progress)
    print(f"\n{'target':34} {'execs':>8} {'seconds':>8} {'execs/s':>8} {'corpus':>7} {'crashes':>7}", file=out)
    for p in progress:
        rate = p.execs / p.seconds if p.seconds else 0.0
        print(f"{p.target.name:34} {p.execs:8} {p.seconds:8.1f} {rate:8.1f} {len(p.corpus):7} {p.crashes:7}",
              file=out)
    rate = total_execs / total_seconds if total_seconds else 0.0
    print(f"{'total':34} {total_execs:8} {total_seconds:8.1f} {rate:8.1f}", file=out)
    if new:
        print(f"\n{len(new)} new crash(es), saved to {regressions}:", file=out)
        for entry in new:
            print(f"  {entry['target']}: {entry['exception']}", file=out)
    return len(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="total fuzzing time (default 120)")
    parser.add_argument("--target", action="append", help="a target, or a prefix ending in '.' or '*' "
                        "(repeatable; default every target)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations (default 0)")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds per input")
    parser.add_argument("--memory-mb", type=int, default=4096,
                        help="address space of this process; past it an input fails with MemoryError")
    parser.add_argument("--file-mb", type=int, default=1024,
                        help="largest file this process may write; past it a write fails with EFBIG")
    parser.add_argument("--regressions", type=Path, default=REGRESSIONS, help="where crashes are kept")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    args = parser.parse_args(argv)
    if args.list:
        for target in targets().values():
            print(f"{target.name:34} {target.kind}")
        return 0
    limit = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    # Disk: a file written past the limit fails with EFBIG (an OSError) instead of filling the disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    file_limit = args.file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    chosen = select(args.target)
    print(f"fuzzing {len(chosen)} target(s) for {args.seconds:g} s, seed {args.seed}", flush=True)
    new = fuzz(chosen, seconds=args.seconds, seed=args.seed, regressions=args.regressions,
               time_limit=args.time_limit)
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
