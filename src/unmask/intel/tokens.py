"""Bearer tokens of the intel service: issued once, stored only as SHA-256 hashes.

A token reads ``mvtcm_<id>_<secret>``: the id is public (it names the token in the audit log and in
``token revoke``), the 256-bit secret is shown once at creation and never stored. Because the
secret is random and long, a plain SHA-256 is enough; a slow password hash would only slow the
server down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.intel.errors import IntelError

PREFIX = "mvtcm"
TOKENS_FILE = "tokens.json"
DEFAULT_EVALS_PER_DAY = 1_000_000
DEFAULT_REQUESTS_PER_MINUTE = 60


@dataclass
class TokenRecord:
    """What the server keeps about a token: never the secret, only its hash."""

    id: str
    org: str
    sha256: str
    created: str
    expires: str | None
    revoked: str | None
    evals_per_day: int
    requests_per_minute: int

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        if self.revoked:
            return False
        return self.expires is None or now < datetime.fromisoformat(self.expires)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed token, else ``None``."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class TokenStore:
    """The token table of one intel folder (``tokens.json``), re-read when the file changes.

    Re-reading on change is what makes ``unmask intel token revoke`` take effect on a running
    server without a restart.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / TOKENS_FILE
        self._mtime: int | None = None
        self._tokens: dict[str, TokenRecord] = {}

    def _load(self) -> dict[str, TokenRecord]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._tokens, self._mtime = {}, None
            return self._tokens
        if stamp != self._mtime:
            try:
                doc: dict[str, Any] = json.loads(self.path.read_text())
                self._tokens = {k: TokenRecord(**v) for k, v in doc.get("tokens", {}).items()}
            except (OSError, ValueError, TypeError) as exc:
                raise IntelError(f"{self.path}: unreadable token table ({exc})") from None
            self._mtime = stamp
        return self._tokens

    def _save(self, tokens: dict[str, TokenRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"tokens": {k: asdict(v) for k, v in tokens.items()}}, indent=1))
        tmp.chmod(0o600)
        tmp.replace(self.path)
        self._mtime = None

    def all(self) -> list[TokenRecord]:
        """Every token, revoked ones included."""
        return list(self._load().values())

    def create(
        self,
        org: str,
        *,
        evals_per_day: int = DEFAULT_EVALS_PER_DAY,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        expires_days: float | None = None,
        now: datetime | None = None,
    ) -> tuple[TokenRecord, str]:
        """Issue a token; returns the record and the token text, which is shown only this once."""
        if not org.strip():
            raise IntelError("a token needs an organisation name (--org)")
        now = now or timeutil.now()
        tokens = dict(self._load())
        token_id = secrets.token_hex(6)
        while token_id in tokens:
            token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = TokenRecord(
            id=token_id,
            org=org.strip(),
            sha256=_hash(secret),
            created=now.isoformat(),
            expires=(now + timedelta(days=expires_days)).isoformat() if expires_days else None,
            revoked=None,
            evals_per_day=evals_per_day,
            requests_per_minute=requests_per_minute,
        )
        tokens[token_id] = record
        self._save(tokens)
        return record, f"{PREFIX}_{token_id}_{secret}"

    def revoke(self, token_id: str, now: datetime | None = None) -> TokenRecord:
        """Mark a token revoked (kept in the table so the audit log's ids stay explained)."""
        tokens = dict(self._load())
        parsed = split_token(token_id)
        key = parsed[0] if parsed else token_id.strip()
        record = tokens.get(key)
        if record is None:
            raise IntelError(f"no token with id {key!r}")
        record.revoked = record.revoked or (now or timeutil.now()).isoformat()
        self._save(tokens)
        return record

    def known(self, token_id: str) -> bool:
        """Whether a token id was ever issued here (for the audit's refusal reason only)."""
        return token_id in self._load()

    def lookup(self, token: str) -> tuple[str | None, TokenRecord | None]:
        """``(claimed id, record)`` for a presented token; the record only when the secret is right."""
        parsed = split_token(token)
        if parsed is None:
            return None, None
        token_id, secret = parsed
        record = self._load().get(token_id)
        if record is None or not hmac.compare_digest(record.sha256, _hash(secret)):
            return token_id, None
        return token_id, record
