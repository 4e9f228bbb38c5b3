"""The intel service's audit log: append-only JSON Lines, each line chained to the one before.

Every line carries ``prev`` (the previous line's hash) and ``hash`` = SHA-256 of the line's
canonical JSON without ``hash``. Changing, inserting or deleting a line breaks the chain from
there on, which :func:`verify` reports. (Cutting lines off the *end* leaves a valid, shorter
chain; pinning the head hash elsewhere, e.g. in signed checkpoints, closes that gap.)

The fields are fixed by :meth:`AuditLog.append`'s signature: there is no place for a request
body. Blinded elements are uniformly random and useless to keep, and not having them means they
can never leak or be subpoenaed.

Lines stay small whatever a client sends: every client-supplied text (a claimed token id, the
user agent, an epoch id from the URL) goes through :func:`bounded` (printable ASCII, cut to a few
dozen characters). And refusals do not each get a line: :class:`Refusals` writes the first
refusal of a kind (client network, reason, token) in a window in full, counts the rest, and
writes one ``"kind": "refused"`` line with the count when the window ends. Every refusal is
accounted for by exactly one line: its own, or a summary's ``count``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.intel.errors import IntelError

AUDIT_FILE = "audit.log"
GENESIS = "0" * 64
# Lengths of client-supplied fields in a line (a real token id is 12 characters).
TOKEN_ID_CHARS = 16
CLIENT_CHARS = 80
FIELD_CHARS = 64


def bounded(text: str | None, limit: int) -> str | None:
    """Client-supplied text made safe for one log line: at most ``limit`` characters of it, with
    every character outside printable ASCII escaped (``\\x01``, ``\\u202e``), and the original
    length noted when it was cut. A 60 MB claimed token id becomes about ``limit`` + 20 characters.
    """
    if text is None:
        return None
    escaped = text[:limit].encode("unicode_escape").decode("ascii")
    if len(escaped) > limit or len(text) > limit:
        return f"{escaped[:limit]}...({len(text)} chars)"
    return escaped


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class AuditLog:
    """Appends chained records; thread-safe (evaluations run in worker threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._head = GENESIS
        self._seq = 0
        if path.exists():
            result = verify(path)
            if not result.ok:
                # Appending to a broken chain would bury the damage; refuse and let a human look.
                raise IntelError(f"{path}: audit chain broken at line {result.line}: {result.error}")
            self._head, self._seq = result.head, result.count

    def append(
        self,
        *,
        ts: datetime,
        token_id: str | None,
        org: str | None,
        method: str,
        endpoint: str,
        epoch: str | None,
        charged: int,
        elements: int,
        bytes_in: int,
        bytes_out: int,
        status: int,
        duration_ms: float,
        client: str,
        peer: str | None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Write one request's line and return it. Client-supplied text is :func:`bounded` here."""
        record: dict[str, Any] = {
            "ts": ts.isoformat(),
            "token_id": bounded(token_id, TOKEN_ID_CHARS),
            "org": org,
            "method": bounded(method, 16),
            "endpoint": endpoint,
            "epoch": bounded(epoch, FIELD_CHARS),
            "charged": charged,
            "elements": elements,
            "bytes_in": bytes_in,
            "bytes_out": bytes_out,
            "status": status,
            "duration_ms": round(duration_ms, 1),
            "client": bounded(client, CLIENT_CHARS),
            "peer": peer,
        }
        if reason is not None:
            record["reason"] = reason
        return self._write(record)

    def append_refusals(
        self,
        *,
        ts: datetime,
        reason: str,
        status: int,
        peer: str | None,
        token_id: str | None,
        org: str | None,
        count: int,
        since: datetime,
        until: datetime,
        claimed: list[str],
    ) -> dict[str, Any]:
        """Write one summary line for ``count`` refusals of one kind between ``since`` and ``until``."""
        return self._write({
            "kind": "refused",
            "ts": ts.isoformat(),
            "reason": reason,
            "status": status,
            "peer": peer,
            "token_id": bounded(token_id, TOKEN_ID_CHARS),
            "org": org,
            "count": count,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "claimed_ids": [bounded(c, TOKEN_ID_CHARS) for c in claimed],
        })

    def _write(self, fields: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record: dict[str, Any] = {"seq": self._seq + 1, **fields, "prev": self._head}
            record["hash"] = _digest(record)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._head, self._seq = record["hash"], record["seq"]
            return record


@dataclass
class _Tally:
    """Refusals of one kind in the current window."""

    status: int
    org: str | None
    since: datetime
    until: datetime
    deadline: float
    count: int = 0  # refusals not written in a line of their own
    claimed: list[str] = field(default_factory=list)


RefusalKey = tuple[str | None, str, str | None]
"""``(client network, reason, token id)``: what one summary line counts."""


class Refusals:
    """Refused requests and connections, aggregated into at most two lines per kind and window.

    :meth:`note` says whether a refusal is the first of its kind (client network, reason, and the
    token for an authenticated refusal) in the current window: the caller then writes it in full.
    The others are counted, and :meth:`flush` writes one summary line per kind whose window has
    ended. A reason is tracked for at most ``networks_per_reason`` networks (and ``max_kinds``
    kinds in all) per window; beyond that, refusals are counted under the network ``"*"``. So an
    attacker spread over many networks (an IPv6 /48 holds 65,536 /64s) adds at most about
    ``2 × networks_per_reason + 1`` lines per reason and window, not one per network.
    """

    def __init__(
        self,
        audit: AuditLog,
        *,
        window: float = 60.0,
        networks_per_reason: int = 16,
        max_kinds: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.audit = audit
        self.window = window
        self.networks_per_reason = networks_per_reason
        self.max_kinds = max_kinds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._tallies: dict[RefusalKey, _Tally] = {}
        self._per_reason: dict[str, int] = defaultdict(int)

    def note(
        self,
        *,
        ts: datetime,
        reason: str,
        status: int,
        peer: str | None,
        token_id: str | None = None,
        org: str | None = None,
        claimed: str | None = None,
        own_line: bool = True,
    ) -> bool:
        """Count one refusal; ``True`` when the caller should write it as a line of its own."""
        now = self.monotonic()
        with self._lock:
            key: RefusalKey = (peer, reason, token_id)
            tally = self._tallies.get(key)
            first = tally is None
            if tally is None:
                if len(self._tallies) >= self.max_kinds or self._per_reason[reason] >= self.networks_per_reason:
                    key, first, own_line = ("*", reason, None), False, False
                    tally = self._tallies.get(key)
                else:
                    self._per_reason[reason] += 1
                if tally is None:
                    tally = self._tallies[key] = _Tally(status, org, ts, ts, now + self.window)
            if first and own_line:
                return True
            tally.count += 1
            tally.until = ts
            sample = bounded(claimed, TOKEN_ID_CHARS)
            if sample is not None and len(tally.claimed) < 3 and sample not in tally.claimed:
                tally.claimed.append(sample)
            return False

    def next_due(self) -> float | None:
        """Seconds until the earliest window ends, ``None`` when nothing is being counted."""
        with self._lock:
            if not self._tallies:
                return None
            return max(0.0, min(t.deadline for t in self._tallies.values()) - self.monotonic())

    def flush(self, ts: datetime, *, everything: bool = False) -> int:
        """Write the summary lines of the windows that have ended (all of them with ``everything``)."""
        now = self.monotonic()
        written = 0
        with self._lock:
            for key, tally in list(self._tallies.items()):
                if not everything and tally.deadline > now:
                    continue
                del self._tallies[key]
                peer, reason, token_id = key
                if peer != "*":
                    self._per_reason[reason] -= 1
                if tally.count:
                    self.audit.append_refusals(
                        ts=ts, reason=reason, status=tally.status, peer=peer, token_id=token_id,
                        org=tally.org, count=tally.count, since=tally.since, until=tally.until,
                        claimed=tally.claimed,
                    )
                    written += 1
        return written


@dataclass
class Verification:
    """The outcome of checking a chain: how many lines were good, and the first problem."""

    ok: bool
    count: int
    head: str
    line: int | None = None
    error: str | None = None


def verify(path: Path) -> Verification:
    """Check every line's hash and link; stop at the first broken one."""
    head, count = GENESIS, 0
    if not path.exists():
        return Verification(True, 0, head)
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                record = json.loads(line)
            except ValueError:
                return Verification(False, count, head, number, "not JSON")
            if not isinstance(record, dict):
                return Verification(False, count, head, number, "not a record")
            if record.get("prev") != head:
                return Verification(False, count, head, number, "does not link to the previous line")
            if record.get("seq") != count + 1:
                return Verification(False, count, head, number, "sequence number out of order")
            if record.get("hash") != _digest(record):
                return Verification(False, count, head, number, "content does not match its hash")
            head, count = record["hash"], count + 1
    return Verification(True, count, head)


def charged_today(path: Path, now: datetime | None = None) -> dict[str, int]:
    """Evaluations charged per token on the current UTC day, read back from the log.

    Daily quotas survive a server restart because the log, not memory, is their record.
    """
    day = (now or timeutil.now()).date().isoformat()
    totals: dict[str, int] = defaultdict(int)
    if not path.exists():
        return dict(totals)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if str(record.get("ts", "")).startswith(day) and record.get("token_id") and record.get("charged"):
                totals[record["token_id"]] += int(record["charged"])
    return dict(totals)
