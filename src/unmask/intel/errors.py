"""Errors of confidential matching; all are usage-level (exit 2, one line)."""

from __future__ import annotations

from unmask.errors import UsageError


class IntelError(UsageError):
    """Bad server URL, bad key, signature failure, missing or refused token, unusable intel folder."""
