"""The exception hierarchy. The CLI maps each family to an exit code; nothing else prints tracebacks."""

from __future__ import annotations


class UnmaskError(Exception):
    """Base class of every error unmask raises on purpose."""


class UsageError(UnmaskError):
    """The user asked for something unmask cannot do (bad option, missing file). Exit code 2."""


class AcquisitionError(UnmaskError):
    """The evidence cannot be opened as the kind of acquisition asked for. Exit code 2."""


class EncryptedBackupError(AcquisitionError):
    """Encrypted evidence cannot be opened: no password or key was given, or its keybag is unusable."""


class WrongPasswordError(EncryptedBackupError):
    """The password (or the key file) given does not open the encrypted evidence."""


class IndicatorError(UnmaskError):
    """An indicator file cannot be read at all (not JSON, not a STIX bundle)."""


class ArtefactError(UnmaskError):
    """One artefact cannot be parsed. Recorded as `failed` coverage; the scan goes on."""


class SchemaUnsupported(ArtefactError):
    """An artefact's schema lacks what the parser needs. Recorded as `unsupported` coverage."""
