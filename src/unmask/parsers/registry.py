"""The parser registry: every parser by platform and name, and every record class by kind.

Defining a concrete parser class registers it (``Parser.__init_subclass__`` calls :func:`register`),
so a parser cannot exist without being found, and a mistake in its declaration (no name, a name
that is not a safe file name, a platform nobody knows, a name already taken) raises
:class:`RegistryError` when its module is imported, not silently at scan time.

Parser names are namespaced by platform (``ios/sms``, ``android/sms``): one scan runs the parsers
of one platform plus the platform-independent ones (``any``), so a parser's short name is unique
within a scan and is the name of its output file (``sms.json``). A platform-independent parser
therefore may not share its name with any platform's parser.

Deserialising saved records lives here too: a record's ``kind`` names its class, which only the
registry knows.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unmask.model import Record

if TYPE_CHECKING:
    from unmask.parsers.base import Parser

PLATFORMS = ("ios", "android", "any")
"""``any``: a parser that applies to every acquisition (one reading the file system as a whole)."""

BUILTIN_PACKAGES = ("unmask.parsers.ios", "unmask.parsers.android", "unmask.parsers.common")
ENTRY_POINT_GROUP = "unmask.parsers"

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")

_PARSERS: dict[str, type[Parser]] = {}
_ORIGINS: dict[str, dict[str, Any]] = {}
_loaded = False


class RegistryError(TypeError):
    """A parser class is declared wrongly (a programming error, raised at import)."""


def qualified(cls: type[Parser]) -> str:
    """``platform/name``: the registry key of a parser class."""
    return f"{cls.platform}/{cls.name}"


def register(cls: type[Parser]) -> None:
    """Add a concrete parser class; raise :class:`RegistryError` for a declaration that cannot work."""
    where = f"{cls.__module__}.{cls.__qualname__}"
    if not cls.name:
        raise RegistryError(f"parser {where} has no name (set name, or declare the class abstract=True)")
    if not _NAME.match(cls.name):
        raise RegistryError(
            f"parser {where}: name {cls.name!r} must be lower-case letters, digits and '_' (it names the "
            f"output file)"
        )
    if cls.platform not in PLATFORMS:
        raise RegistryError(f"parser {where}: platform {cls.platform!r} is not one of {', '.join(PLATFORMS)}")
    key = qualified(cls)
    clash = _PARSERS.get(key)
    if clash is None:
        clash = next(
            (p for p in _PARSERS.values() if p.name == cls.name and "any" in (p.platform, cls.platform)), None
        )
    if clash is not None and clash is not cls:
        raise RegistryError(
            f"parser {where} is named {key}, like {clash.__module__}.{clash.__qualname__} "
            f"({qualified(clash)}): parser names must be unique"
        )
    _PARSERS[key] = cls


def _import_all(package_name: str) -> None:
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError as exc:
        if exc.name != package_name:
            raise
        return
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        importlib.import_module(info.name)


def _load() -> None:
    """Import the built-in parser packages and the plugins of the entry point group, once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_PACKAGES:
        _import_all(name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        before = set(_PARSERS)
        ep.load()
        origin = _origin(ep)
        for key in set(_PARSERS) - before:
            _ORIGINS[key] = origin


def _origin(ep: Any) -> dict[str, Any]:
    """Where a plugin came from: its distribution and version, and the hash of the module file."""
    dist = getattr(ep, "dist", None)
    module = importlib.import_module(ep.module)
    file = getattr(module, "__file__", None)
    digest = None
    if file:
        try:
            digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()
        except OSError:
            digest = None
    return {
        "entry_point": f"{ep.name} = {ep.value}",
        "distribution": getattr(dist, "name", None),
        "version": getattr(dist, "version", None),
        "file": file,
        "sha256": digest,
    }


def registry() -> tuple[type[Parser], ...]:
    """Every registered parser (built-in and plugins), sorted by platform and name."""
    _load()
    return tuple(_PARSERS[k] for k in sorted(_PARSERS))


def parsers_for(platform: str) -> list[type[Parser]]:
    """The parsers that apply to an acquisition of ``platform``, sorted by name (output order)."""
    return sorted((p for p in registry() if p.platform in (platform, "any")), key=lambda p: p.name)


def plugin_origins() -> list[dict[str, Any]]:
    """Provenance of every parser loaded from an entry point, for info.json."""
    _load()
    return [{"parser": key, **origin} for key, origin in sorted(_ORIGINS.items())]


def record_types() -> dict[str, type[Record]]:
    """Every record class by kind, from every registered parser."""
    kinds: dict[str, type[Record]] = {}
    for parser in registry():
        for cls in parser.records:
            kinds.setdefault(cls.kind, cls)
    return kinds


def record_from_json(data: dict[str, Any]) -> Record:
    """Rebuild a saved record (:meth:`Record.to_json` output) as the class its ``kind`` names.

    Raises ``KeyError`` for an unknown kind and ``ValueError``/``TypeError`` for bad values.
    """
    return record_types()[data["kind"]].from_json(data)


def parser_of_kind() -> dict[str, str]:
    """Record kind → name of the parser that yields it, for every registered parser."""
    return {rc.kind: p.name for p in registry() for rc in p.records}


@contextmanager
def isolated() -> Iterator[None]:
    """Let a test define throwaway parser classes: the registry is restored afterwards."""
    _load()
    saved, origins = dict(_PARSERS), dict(_ORIGINS)
    try:
        yield
    finally:
        _PARSERS.clear()
        _PARSERS.update(saved)
        _ORIGINS.clear()
        _ORIGINS.update(origins)
