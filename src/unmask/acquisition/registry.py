"""The acquisition registry: every kind of evidence unmask reads, and recognising one by content.

An acquisition class registers itself when it is defined with a ``kind``
(``Acquisition.__init_subclass__``). :func:`recognise` asks every kind whether a path is its kind
(:meth:`Acquisition.detect`, which looks at content, never at names alone) and
:func:`open_acquisition` opens the one that answered, or the one forced with ``kind``. Nothing
here lists kinds by hand: a new acquisition module is found by importing the package.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING

from unmask.acquisition.options import OpenOptions
from unmask.errors import AcquisitionError

if TYPE_CHECKING:
    from unmask.acquisition.base import Acquisition

_KINDS: dict[str, type[Acquisition]] = {}
_loaded = False


def register(cls: type[Acquisition]) -> None:
    """Add an acquisition class under its kind; two classes of one kind are a programming error."""
    other = _KINDS.get(cls.kind)
    if other is not None and other is not cls:
        raise TypeError(f"two acquisition classes of kind {cls.kind}: {other.__qualname__} and {cls.__qualname__}")
    _KINDS[cls.kind] = cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("unmask.acquisition")
    for info in pkgutil.walk_packages(package.__path__, "unmask.acquisition."):
        importlib.import_module(info.name)


def kinds() -> dict[str, type[Acquisition]]:
    """Every registered acquisition class by kind."""
    _load()
    return dict(sorted(_KINDS.items()))


def readable() -> str:
    """What unmask can read, in one line (for the error about a path it does not recognise)."""
    return "; ".join(cls.label or kind for kind, cls in kinds().items())


def recognise(path: Path) -> list[tuple[type[Acquisition], Path]]:
    """Every kind that recognises ``path`` by its content, with the root it would open."""
    found: list[tuple[type[Acquisition], Path]] = []
    for cls in kinds().values():
        try:
            root = cls.detect(path)
        except (OSError, ValueError):
            root = None
        if root is not None:
            found.append((cls, root))
    return found


def open_acquisition(path: Path, *, kind: str | None = None, options: OpenOptions | None = None) -> Acquisition:
    """Open the evidence at ``path``: as ``kind`` when given, else as the one kind that recognises
    it. Raises :class:`AcquisitionError` (one line) for a path that is missing, that nothing
    recognises, or that several kinds claim."""
    options = options or OpenOptions()
    if not path.exists() and not path.is_symlink():
        raise AcquisitionError(f"{path} does not exist")
    if kind is not None:
        cls = kinds().get(kind)
        if cls is None:
            raise AcquisitionError(f"unknown kind {kind!r} (kinds: {', '.join(kinds())})")
        try:
            root = cls.detect(path)
        except (OSError, ValueError):
            root = None
        return cls.open_path(root or path, options)
    found = recognise(path)
    if not found:
        raise AcquisitionError(f"{path} is not evidence unmask recognises; it reads: {readable()}")
    if len(found) > 1:
        names = ", ".join(cls.kind for cls, _ in found)
        raise AcquisitionError(f"{path} could be any of: {names}; choose one with --kind")
    cls, root = found[0]
    return cls.open_path(root, options)
