"""Options for opening evidence: what some kinds need besides a path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class OpenOptions:
    """What opening some kinds of evidence needs besides a path.

    Secrets are never command-line values: ``password`` is called only when the evidence turns out
    to need one (an encrypted backup), so a prompt appears only then.
    """

    password: Callable[[], str] | None = None
    key_file: Path | None = None
    """A key saved by ``unmask backup-key`` (the backup's passcode key): no key derivation."""
    age_identity: Path | None = None
    temp_mb: int = 8192
    """Temporary disk the acquisition may use for files it hands out as real files (members of an
    archive, decrypted files), all together."""
    on_status: Callable[[str], None] | None = None
    """Told, in a few words, of a slow step before it starts (deriving a backup key takes seconds),
    so that a caller can show a spinner; the library itself prints nothing."""
    hash_all: bool = False
    """Hash every file the evidence holds, not only the artefacts parsers read (``--hash-all``):
    a full-filesystem dump's files then carry their hashes for matching."""
