"""STIX 2 indicator bundles: the one owner of pattern parsing.

Patterns are parsed by ``stix2-patterns`` (the OASIS reference grammar). The public sets consist
almost entirely of the plain ``[object:property = 'value']`` form, for which a strict regular
expression gives the same result about a thousand times faster; a property test holds the fast
path equal to the full parser. Anything the regex does not fully accept goes to the full parser.
A pattern unmask cannot use (AND, FOLLOWEDBY, qualifiers, operators other than ``=``, unknown
object paths) is counted and reported, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unmask.errors import IndicatorError
from unmask.model import Indicator, IndicatorSetInfo

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the standard library reads every bundle too
    _orjson = None  # type: ignore[assignment]

SUPPORTED_PATHS = frozenset(
    {
        "domain-name:value",
        "ipv4-addr:value",
        "ipv6-addr:value",
        "url:value",
        "email-addr:value",
        "process:name",
        "file:name",
        "file:path",
        "file:hashes.md5",
        "file:hashes.sha1",
        "file:hashes.sha256",
        "app:id",
        "app:cert.md5",
        "app:cert.sha1",
        "app:cert.sha256",
        "app:cert.organization",
        "app:cert.common_name",
        "configuration-profile:id",
        "android-property:name",
    }
)

_ALGORITHMS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}

PATTERN_PATHS = frozenset({"app:id", "app:cert.organization", "app:cert.common_name"})
"""Object paths a pattern may compare with ``MATCHES`` (a regular expression) or ``LIKE`` (SQL
wildcards): stalkerware renames its package per build (``com.android.internet.<build date>``,
Echap PR #29) and Echap publishes regular expressions on certificate common names
(``certificate_cname_re``). Such an indicator's type is the path followed by ``" MATCHES"`` and its
value a regular expression; the index matches it in linear time (RE2)."""
MATCHES = " MATCHES"


def like_to_regex(pattern: str) -> str:
    """A STIX ``LIKE`` pattern (``%`` any run, ``_`` one character) as an anchored regex."""
    out = []
    for char in pattern:
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return "^" + "".join(out) + "$"

# [type:path = 'value'] with optional spaces; path steps are plain words or quoted keys. The value
# is written as "unrolled" runs ([^'\\]* between escapes) rather than one alternation per
# character: the same language, matched several times faster on long values.
_SIMPLE = re.compile(
    r"\A\[\s*([a-z0-9][a-z0-9-]*)\s*:\s*"
    r"((?:[A-Za-z_][A-Za-z0-9_-]*|'[^'\\]+')(?:\.(?:[A-Za-z_][A-Za-z0-9_-]*|'[^'\\]+'))*)"
    r"\s*=\s*'([^'\\]*(?:\\['\\][^'\\]*)*)'\s*\]\Z"
)
_STEPS = re.compile(r"'[^']*'|[^.]+")
_ESCAPE = re.compile(r"\\(['\\])")


class UnsupportedPattern(ValueError):
    """A valid or invalid pattern that unmask cannot turn into indicator values."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``object:path = 'value'`` term of a pattern, path normalised, value unescaped."""

    path: str
    value: str


def _unescape(value: str) -> str:
    return _ESCAPE.sub(r"\1", value) if "\\" in value else value


def normalize_path(object_type: str, steps: Iterable[str]) -> str:
    """``file`` + ``["hashes", "'SHA-256'"]`` → ``file:hashes.sha256``; other paths as written."""
    parts = [s.strip("'") for s in steps]
    if object_type in ("file", "app") and len(parts) == 2 and parts[0] in ("hashes", "cert"):
        algo = parts[1].lower().replace("-", "").replace("_", "")
        # A certificate's other fields (organization, common_name) keep their names.
        if parts[0] == "hashes" or algo in _ALGORITHMS:
            parts[1] = _ALGORITHMS.get(algo, algo)
    return f"{object_type}:{'.'.join(parts)}"


def fast_parse(pattern: str) -> list[Comparison] | None:
    """The single-comparison form, or ``None`` when the pattern needs the full parser."""
    found = _fast_one(pattern)
    return None if found is None else [Comparison(*found)]


# (object type, path as written) → normalised path: a set names a handful of paths thousands of times.
_PATHS: dict[tuple[str, str], str] = {}


def _fast_one(pattern: str) -> tuple[str, str] | None:
    # fast_parse without the Comparison, for the loader's loop; the property test of fast_parse
    # against the reference grammar covers this function.
    match = _SIMPLE.match(pattern.strip())
    if match is None:
        return None
    object_type, path, value = match.groups()
    key = (object_type, path)
    norm = _PATHS.get(key)
    if norm is None:
        norm = normalize_path(object_type, _split_steps(path))
        if len(_PATHS) < 4096:
            _PATHS[key] = norm
    return norm, (_unescape(value) if "\\" in value else value)


def _split_steps(path: str) -> list[str]:
    return _STEPS.findall(path)


def full_parse(pattern: str) -> list[Comparison]:
    """Parse with the reference grammar; accept only disjunctions of ``=`` comparisons."""
    from stix2patterns.v21.grammars.STIXPatternListener import STIXPatternListener
    from stix2patterns.v21.pattern import Pattern

    try:
        parsed = Pattern(pattern)
    except Exception as exc:  # the grammar raises ParseException and, on odd input, others
        raise UnsupportedPattern(f"invalid STIX pattern ({str(exc).splitlines()[0][:120]})") from None

    problems: list[str] = []

    class _Shape(STIXPatternListener):  # type: ignore[misc]
        def enterComparisonExpressionAnd(self, ctx: Any) -> None:
            if ctx.getChildCount() > 1:
                problems.append("AND between comparisons")

        def enterObservationExpressionAnd(self, ctx: Any) -> None:
            if ctx.getChildCount() > 1:
                problems.append("AND between observations")

        def enterObservationExpressions(self, ctx: Any) -> None:
            if ctx.getChildCount() > 1:
                problems.append("FOLLOWEDBY")

        def enterPropTestEqual(self, ctx: Any) -> None:
            if any(ctx.getChild(i).getText() in ("!=", "NOT") for i in range(ctx.getChildCount())):
                problems.append("negated comparison")

    parsed.walk(_Shape())
    data = parsed.inspect()
    if data.qualifiers:
        problems.append("qualifiers")
    if problems:
        raise UnsupportedPattern(", ".join(sorted(set(problems))))
    out: list[Comparison] = []
    for object_type, comparisons in data.comparisons.items():
        for steps, op, literal in comparisons:
            if not (isinstance(literal, str) and literal.startswith("'") and literal.endswith("'")):
                raise UnsupportedPattern(f"non-string value {literal}")
            path = normalize_path(object_type, [str(s) for s in steps])
            value = _unescape(literal[1:-1])
            if op in ("MATCHES", "LIKE"):
                if path not in PATTERN_PATHS:
                    raise UnsupportedPattern(f"operator {op} on {path}")
                out.append(Comparison(path + MATCHES, value if op == "MATCHES" else like_to_regex(value)))
                continue
            if op != "=":
                raise UnsupportedPattern(f"operator {op}")
            out.append(Comparison(path, value))
    return out


def parse_pattern(pattern: str) -> list[Comparison]:
    """The comparisons of a pattern unmask can match; raise :class:`UnsupportedPattern` otherwise."""
    comparisons = fast_parse(pattern)
    if comparisons is None:
        comparisons = full_parse(pattern)
    unknown = [c.path for c in comparisons if c.path.removesuffix(MATCHES) not in SUPPORTED_PATHS]
    if unknown:
        raise UnsupportedPattern(f"object path {', '.join(sorted(set(unknown)))} not supported")
    return comparisons


@dataclass
class LoadedSet:
    """One indicator file: its provenance and the indicators it holds."""

    info: IndicatorSetInfo
    indicators: list[Indicator]


_RELATED_TYPES = ("malware", "intrusion-set", "threat-actor", "campaign", "tool", "report")


def load_file(path: Path, name: str | None = None) -> LoadedSet:
    """Load one STIX 2.x bundle; raise :class:`IndicatorError` if it is not one at all."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IndicatorError(f"{path}: cannot read ({exc.strerror})") from None
    return load_bytes(data, name or path.name, str(path))


def _parse_json(data: bytes) -> Any:
    # orjson, when installed, reads a bundle several times faster. It is stricter than the standard
    # library (NaN, integers beyond 64 bits, lone surrogates), so whatever it refuses is read by the
    # standard library, which decides what a valid document is.
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(data)


def load_bytes(data: bytes, name: str, origin: str, *, digest: str | None = None) -> LoadedSet:
    """Load a bundle from bytes (see :func:`load_file`); ``digest`` is its SHA-256 when known."""
    if digest is None:
        digest = hashlib.sha256(data).hexdigest()
    try:
        document = _parse_json(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndicatorError(f"{origin}: not JSON ({exc})") from None
    except RecursionError:
        raise IndicatorError(f"{origin}: JSON nested too deeply to be an indicator bundle") from None
    objects = document.get("objects") if isinstance(document, dict) else document
    if not isinstance(objects, list):
        raise IndicatorError(f"{origin}: not a STIX 2 bundle (no 'objects' list)")

    # One pass sorts the objects by type; the rules below then read them in the order that gives
    # reports precedence over relationships, as they always have.
    by_id: dict[Any, dict[str, Any]] = {}
    reports: list[dict[str, Any]] = []
    relationships: list[dict[str, Any]] = []
    named: list[dict[str, Any]] = []
    indicator_objects: list[dict[str, Any]] = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        ident = obj.get("id")
        if isinstance(ident, str):
            by_id[ident] = obj
        kind = obj.get("type")
        if kind == "indicator":
            indicator_objects.append(obj)
        elif kind == "relationship":
            relationships.append(obj)
        elif kind == "report":
            reports.append(obj)
        if kind in ("malware", "intrusion-set") and obj.get("name"):
            named.append(obj)

    collection_of: dict[str, str] = {}
    for obj in reports:
        for ref in obj.get("object_refs") or ():
            if isinstance(ref, str) and ref.startswith("indicator--"):
                collection_of.setdefault(ref, str(obj.get("name") or "report"))
    for obj in relationships:
        source, target = obj.get("source_ref"), obj.get("target_ref")
        if isinstance(source, str) and source.startswith("indicator--") and isinstance(target, str):
            related = by_id.get(target)
            if related is not None and related.get("type") in _RELATED_TYPES and related.get("name"):
                collection_of.setdefault(source, str(related["name"]))
    default = str(named[0]["name"]) if len(named) == 1 else Path(name).stem

    indicators: list[Indicator] = []
    seen: set[tuple[str, str, str]] = set()
    patterns = 0
    unsupported = 0
    examples: list[str] = []
    by_type: dict[str, int] = {}
    for obj in indicator_objects:
        if obj.get("revoked") is True:
            continue
        pattern = obj.get("pattern")
        if obj.get("pattern_type", "stix") != "stix" or not isinstance(pattern, str):
            unsupported += 1
            if len(examples) < 5:
                examples.append(f"pattern_type {obj.get('pattern_type')!r} not supported")
            continue
        simple = _fast_one(pattern)
        if simple is not None and simple[0] in SUPPORTED_PATHS:
            comparisons: list[tuple[str, str]] = [simple]
        else:
            try:
                comparisons = [(c.path, c.value) for c in parse_pattern(pattern)]
            except UnsupportedPattern as exc:
                unsupported += 1
                if len(examples) < 5:
                    examples.append(f"{pattern[:100]}: {exc}")
                continue
        patterns += 1
        stix_id = str(obj.get("id", ""))
        collection = collection_of.get(stix_id, default)
        for path, value in comparisons:
            by_type[path] = by_type.get(path, 0) + 1
            # The public sets repeat values (Echap lists a domain once per app); one is enough.
            key = (path, value, collection)
            if key in seen or not value.strip():
                continue
            seen.add(key)
            indicators.append(Indicator(path, value, collection, stix_id, name))
    info = IndicatorSetInfo(
        name=name,
        path=origin,
        sha256=digest,
        indicators=patterns,
        unique=len(indicators),
        collections=tuple(sorted({i.collection for i in indicators})),
        by_type=tuple(sorted(by_type.items())),
        unsupported=unsupported,
        unsupported_examples=tuple(examples),
    )
    return LoadedSet(info, indicators)
