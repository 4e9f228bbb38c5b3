"""The intel service's audit log: append-only JSON Lines, each line chained to the one before.

Every line carries ``prev`` (the previous line's hash) and ``hash`` = SHA-256 of the line's
canonical JSON without ``hash``. Changing, inserting or deleting a line breaks the chain from
there on, which :func:`verify` reports. (Cutting lines off the *end* leaves a valid, shorter
chain; pinning the head hash elsewhere, e.g. in signed checkpoints, closes that gap.)

The fields are fixed by :meth:`AuditLog.append`'s signature: there is no place for a request
body. Blinded elements are uniformly random and useless to keep, and not having them means they
can never leak or be subpoenaed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.intel.errors import IntelError

AUDIT_FILE = "audit.log"
GENESIS = "0" * 64


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
    ) -> dict[str, Any]:
        """Write one request's line and return it."""
        with self._lock:
            record: dict[str, Any] = {
                "seq": self._seq + 1,
                "ts": ts.isoformat(),
                "token_id": token_id,
                "org": org,
                "method": method,
                "endpoint": endpoint,
                "epoch": epoch,
                "charged": charged,
                "elements": elements,
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "status": status,
                "duration_ms": round(duration_ms, 1),
                "client": client[:80],
                "peer": peer,
                "prev": self._head,
            }
            record["hash"] = _digest(record)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._head, self._seq = record["hash"], record["seq"]
            return record


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
