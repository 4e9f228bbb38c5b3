"""The indicator index: one lookup structure per observable type, one generic match function.

Semantics (each has a test, and a property test holds the index against a naive reference):

- domains: a host matches an indicator when it equals it or ends with ``"." + indicator``
  (label boundaries, so ``cdn.a.example`` matches ``a.example`` but ``xa.example`` does not);
- IP addresses: address equality; an IP filed under ``domain-name`` is an IP;
- URLs: the raw value, or the normalised form (scheme/host case, default port, empty path);
- process names: exact, also as the basename of a path; a name cut to a kernel's truncation
  length matches an indicator that starts with it only when it has exactly that length;
- file paths: prefix on path-component boundaries (``/private/var/db/foo`` does not match
  ``/private/var/db/foobar``); file names: basename equality;
- emails, app ids, Android properties, profile ids: case-insensitive; hashes: lower-case hex;
- certificate organisations and common names: case-insensitive, inner spaces folded;
- patterns (``app:id MATCHES '…'``, ``LIKE``; :data:`unmask.detect.indicators.stix.PATTERN_PATHS`):
  a regular expression searched in the normalised value, compiled with RE2 (linear time, so a
  hostile indicator set cannot make matching hang); the exact table is looked up first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from unmask.model import Indicator, Obs, Observable
from unmask.observables import (
    basename,
    is_plain_domain,
    normalize,
    normalize_domain,
    normalize_ip,
    normalize_path,
    url_host_hint,
    url_parts,
)


class Matcher(Protocol):
    """What the matching loop needs from an indicator backend (plaintext index or confidential).

    ``prefetch`` is handed every observable of a batch (lazily) before any ``lookup``, so a remote
    backend can evaluate them in few round trips; a local index never even iterates them.
    ``lookup`` answers one normalised ``(type, value)``; ``match`` is the same for an
    :class:`Observable`.
    """

    def prefetch(self, observables: Iterable[Observable]) -> None:
        """Prepare answers for these observables."""

    def lookup(self, kind: Obs, value: str) -> Sequence[Indicator]:
        """Indicators matched by one normalised observable type and value."""

    def match(self, observable: Observable) -> Sequence[Indicator]:
        """Indicators matched by one normalised observable."""


# Darwin keeps 16 characters of a process name (MAXCOMLEN), Linux/Android 15 (TASK_COMM_LEN - 1).
TRUNCATION_LENGTHS = (15, 16)

# Indicator pattern path → the observable type it is compared with.
_TYPE_OF_PATH: dict[str, Obs] = {o.value: o for o in Obs}


# A trie maps a label (domains, read from the right) or a path component to an entry: the child trie
# and the indicators that end there. One dictionary lookup per step reads both; leaf-only entries
# share one empty child trie, which insertion replaces and never writes to.
_Trie = dict[str, tuple["_Trie", tuple[Indicator, ...]]]
_NO_CHILDREN: _Trie = {}
_NO_INDICATORS: tuple[Indicator, ...] = ()


def _trie_put(trie: _Trie, parts: Sequence[str], indicator: Indicator) -> None:
    node = trie
    for part in parts[:-1]:
        entry = node.get(part)
        if entry is None:
            child: _Trie = {}
            node[part] = (child, _NO_INDICATORS)
            node = child
        elif entry[0] is _NO_CHILDREN:
            child = {}
            node[part] = (child, entry[1])
            node = child
        else:
            node = entry[0]
    last = parts[-1]
    entry = node.get(last)
    if entry is None:
        node[last] = (_NO_CHILDREN, (indicator,))
    elif indicator not in entry[1]:
        node[last] = (entry[0], (*entry[1], indicator))


# Types tested by identity on the hot paths, as module globals: read faster than attributes of Obs.
_FILE_PATH = Obs.FILE_PATH
_FILE_NAME = Obs.FILE_NAME
_DOMAIN = Obs.DOMAIN
_URL = Obs.URL
_PROCESS = Obs.PROCESS
_HOST_KINDS = (Obs.DOMAIN, Obs.IPV4, Obs.IPV6)


@dataclass
class IndicatorIndex:
    """Hash-based lookup of indicators by observable type; build once, match millions of times.

    Domains live in a trie of labels read from the right and paths in a trie of components, so a
    lookup walks only as deep as the observed value shares a prefix with some indicator: most
    benign hosts stop after one or two dictionary lookups. Before its walk, a path must start with
    one of a few folders that hold path indicators (the gate), which most paths of a phone do not.
    """

    exact: dict[Obs, dict[str, list[Indicator]]] = field(default_factory=dict)
    domains: _Trie = field(default_factory=dict)
    paths: _Trie = field(default_factory=dict)
    truncated: dict[str, list[Indicator]] = field(default_factory=dict)
    url_hosts: set[str] = field(default_factory=set)
    path_depth: int = 0
    domain_depth: int = 0
    count: int = 0
    unusable: list[Indicator] = field(default_factory=list)
    patterns: dict[Obs, list[tuple[Any, Indicator]]] = field(default_factory=dict)
    # The file name table, always present: it is looked up once per Manifest row.
    _names: dict[str, list[Indicator]] = field(init=False, repr=False, compare=False)
    # The folders that hold path indicators, and at most _GATE_SIZE prefixes covering them: a path
    # that starts with none of them cannot match, which one C call tells (see _path_gate). None
    # means "no gate", which is always correct; add() falls back to it and build() sets the gate.
    _path_dirs: set[str] = field(init=False, repr=False, compare=False, default_factory=set)
    _path_gate: tuple[str, ...] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        self._names = self.exact.setdefault(Obs.FILE_NAME, {})

    @classmethod
    def build(cls, indicators: Iterable[Indicator]) -> IndicatorIndex:
        """Index indicators; values that cannot be normalised are kept in ``unusable``."""
        index = cls()
        add = index.add
        for indicator in indicators:
            add(indicator)
        index._path_gate = _path_gate(index._path_dirs)
        return index

    def prefetch(self, observables: Iterable[Observable]) -> None:
        """Nothing to prepare: every lookup is local."""

    def entries(self) -> Iterator[tuple[Obs, str, list[Indicator]]]:
        """Every ``(observable type, lookup key, indicators)`` the index holds, tries included.

        Keys are in the form :meth:`match` compares: a normalised domain, a normalised path (``/``
        for the root), or the table key of the other types. Confidential publishing files
        indicators under exactly these keys.
        """
        for kind, table in self.exact.items():
            for key, found in table.items():
                yield kind, key, found
        for labels, found in _leaves(self.domains, ()):
            yield Obs.DOMAIN, ".".join(reversed(labels)), found
        for parts, found in _leaves(self.paths, ()):
            yield Obs.FILE_PATH, "/".join(parts) or "/", found

    def _put(self, kind: Obs, key: str, indicator: Indicator) -> None:
        bucket = self.exact.setdefault(kind, {}).setdefault(key, [])
        if indicator not in bucket:
            bucket.append(indicator)

    def add(self, indicator: Indicator) -> None:
        """Add one indicator under the observable type(s) it can match."""
        if indicator.type.endswith(_MATCHES):
            self._add_pattern(indicator)
            return
        kind = _TYPE_OF_PATH.get(indicator.type)
        value = indicator.value.strip()
        if kind is None or not value:
            self.unusable.append(indicator)
            return
        self.count += 1
        if kind is _DOMAIN and is_plain_domain(value):
            # Already a normal host name (nearly all domain indicators): the general path below
            # would classify and normalise it only to get the same string back.
            labels = value.split(".")
            if len(labels) > self.domain_depth:
                self.domain_depth = len(labels)
            labels.reverse()
            _trie_put(self.domains, labels, indicator)
            return
        if kind in _HOST_KINDS:
            ip = normalize_ip(value)
            if ip is not None:
                self._put(ip[0], ip[1], indicator)
                return
            if kind is not _DOMAIN:
                # Not an address (a CIDR block, garbage): unmask matches addresses exactly, so
                # this indicator is reported as unusable rather than silently never matching.
                self.unusable.append(indicator)
                self.count -= 1
                return
            if "/" in value or "://" in value:
                # A URL filed as a domain: match it as the URL it is, never as its whole host.
                self._add_url(value, indicator)
                return
            domain = normalize_domain(value)
            if domain is None:
                self.unusable.append(indicator)
                return
            labels = domain.split(".")
            self.domain_depth = max(self.domain_depth, len(labels))
            labels.reverse()
            _trie_put(self.domains, labels, indicator)
            return
        if kind is _URL:
            self._add_url(value, indicator)
            return
        if kind is _PROCESS:
            self._put(_PROCESS, value, indicator)
            for length in TRUNCATION_LENGTHS:
                if len(value) > length:
                    bucket = self.truncated.setdefault(value[:length], [])
                    if indicator not in bucket:
                        bucket.append(indicator)
            return
        norm = normalize(kind, value)
        if norm is None:
            self.unusable.append(indicator)
            return
        if kind is _FILE_PATH:
            parts = _components(norm)
            self.path_depth = max(self.path_depth, len(parts))
            _trie_put(self.paths, parts, indicator)
            folder = norm[: norm.rfind("/") + 1]
            if folder not in self._path_dirs:
                self._path_dirs.add(folder)
                self._path_gate = None
            return
        self._put(kind, norm, indicator)

    def _add_pattern(self, indicator: Indicator) -> None:
        kind = _TYPE_OF_PATH.get(indicator.type[: -len(_MATCHES)])
        compiled = compile_pattern(indicator.value) if kind is not None else None
        if kind is None or compiled is None:
            self.unusable.append(indicator)
            return
        self.count += 1
        self.patterns.setdefault(kind, []).append((compiled, indicator))

    def _add_url(self, value: str, indicator: Indicator) -> None:
        self._put(_URL, value, indicator)
        parts = url_parts(value)
        if parts is not None:
            self.url_hosts.add(parts[1])
            if parts[0] != value:
                self._put(_URL, parts[0], indicator)

    def match(self, observable: Observable) -> Sequence[Indicator]:
        """Indicators matched by one normalised observable (see the module docstring).

        The returned sequence belongs to the index: read it, do not modify it.
        """
        return self.lookup(observable.type, observable.value)

    def lookup(self, kind: Obs, value: str) -> Sequence[Indicator]:
        """:meth:`match` for a ``(type, normalised value)`` pair, so a loop over many values need not
        build an :class:`Observable` for each (the matching loop builds one for a value that matches).
        """
        # One method, no dispatch table: the types are tested by identity in the order of their
        # share of a real scan (a Manifest row yields a path and a file name), which is cheaper than
        # hashing the type, and everything is read from the index when called, so a lookup always
        # sees the indicators added since. The matching loop calls this directly.
        if kind is _FILE_PATH:
            gate = self._path_gate
            if gate is not None and not value.startswith(gate):
                return _NONE  # in no folder that holds a path indicator
            found: Sequence[Indicator] = _NONE
            node = self.paths
            # No indicator is deeper than the trie, so the rest of a longer path need not be split.
            for part in value.split("/", self.path_depth):
                entry = node.get(part)
                if entry is None:
                    return found
                node, leaf = entry
                if leaf:
                    found = leaf if not found else [*found, *leaf]
            return found
        if kind is _FILE_NAME:
            return self._names.get(value, _NONE)
        if kind is _DOMAIN:
            found = _NONE
            node = self.domains
            # Labels from the right, only as many as the deepest domain indicator has.
            labels = value.rsplit(".", self.domain_depth)
            for i in range(len(labels) - 1, -1, -1):
                entry = node.get(labels[i])
                if entry is None:
                    return found
                node, leaf = entry
                if leaf:
                    found = leaf if not found else [*found, *leaf]
            return found
        if kind is _URL:
            urls = self.exact.get(_URL)
            return self._match_url(value, urls) if urls is not None else _NONE
        if kind is _PROCESS:
            return self._match_process(value)
        table = self.exact.get(kind)
        found = table.get(value, _NONE) if table is not None else _NONE
        patterns = self.patterns.get(kind)
        if patterns:
            more = [i for regex, i in patterns if regex.search(value) and i not in found]
            if more:
                return [*found, *more]
        return found

    def _match_process(self, value: str) -> Sequence[Indicator]:
        table = self.exact.get(_PROCESS)
        name = basename(value) if "/" in value else value
        found = table.get(name, _NONE) if table else _NONE
        if len(name) in TRUNCATION_LENGTHS:
            more = [i for i in self.truncated.get(name, ()) if i not in found]
            if more:
                return [*found, *more]
        return found

    def _match_url(self, value: str, table: dict[str, list[Indicator]]) -> Sequence[Indicator]:
        found = table.get(value, _NONE)
        # Normalising a URL is the expensive part; only a URL on a host that some URL indicator
        # names can match in normalised form.
        hint = url_host_hint(value)
        if hint is not None and hint not in self.url_hosts:
            return found
        parts = url_parts(value)
        if parts is not None and parts[0] != value:
            more = [i for i in table.get(parts[0], ()) if i not in found]
            if more:
                return [*found, *more]
        return found


# At most this many prefixes in the path gate: str.startswith tries them one after the other, and
# beyond a few dozen that costs about as much as the trie walk it saves.
_GATE_SIZE = 24


def _path_gate(folders: set[str]) -> tuple[str, ...] | None:
    """Prefixes that every path matching a path indicator starts with; ``None`` when none help.

    A path matches an indicator only if it starts with the indicator's folder (``/private/var/db/``
    for ``/private/var/db/x``), or with any ancestor of it. Folders covered by a shorter one are
    dropped, and while too many remain, each is replaced by its parent: the gate gets coarser, never
    wrong. It is useless once it holds the root or a relative one-component path.
    """
    prefixes = set(folders)
    while True:
        if len(prefixes) <= 4 * _GATE_SIZE:
            kept: list[str] = []
            for prefix in sorted(prefixes, key=len):
                if not prefix.startswith(tuple(kept)):
                    kept.append(prefix)
            prefixes = set(kept)
            if len(prefixes) <= _GATE_SIZE:
                break
        prefixes = {_parent_folder(p) for p in prefixes}
    if "" in prefixes or "/" in prefixes:
        return None
    return tuple(sorted(prefixes))


def _parent_folder(folder: str) -> str:
    # "/a/b/" → "/a/", "/a/" → "/", "a/" → "", "/" → "/"
    cut = folder.rfind("/", 0, len(folder) - 1)
    return folder[: cut + 1] if cut >= 0 else ("/" if folder.startswith("/") else "")


def _components(path: str) -> list[str]:
    # Normalised paths are absolute with no empty components: "/private/var/db" splits into
    # ["", "private", "var", "db"], where "" is the root (a "/" indicator sits there).
    return [""] if path == "/" else path.split("/")


_NONE: Sequence[Indicator] = ()
_MATCHES = " MATCHES"


def compile_pattern(pattern: str) -> Any:
    """A regular expression from an indicator set, compiled with RE2 (linear time, no
    backtracking) and case-insensitive, as the values it is matched with are normalised to lower
    case; ``None`` when RE2 refuses it (back-references, look-around) or it is absurdly long."""
    if len(pattern) > 4096:
        return None
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = 8 << 20
    try:
        return re2.compile(pattern, options)
    except re2.error:
        return None


def _leaves(node: _Trie, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], list[Indicator]]]:
    for key, (children, leaf) in node.items():
        at = (*prefix, key)
        if leaf:
            yield at, list(leaf)
        if children:
            yield from _leaves(children, at)


def naive_match(observable: Observable, indicators: Iterable[Indicator]) -> list[Indicator]:
    """Reference implementation of :meth:`IndicatorIndex.match`: a linear scan, for property tests."""
    out: list[Indicator] = []
    kind, value = observable.type, observable.value
    for ind in indicators:
        if ind.type.endswith(_MATCHES):
            pkind = _TYPE_OF_PATH.get(ind.type[: -len(_MATCHES)])
            regex = compile_pattern(ind.value) if pkind is not None else None
            if regex is not None and kind is pkind and regex.search(value) and ind not in out:
                out.append(ind)
            continue
        ikind = _TYPE_OF_PATH.get(ind.type)
        raw = ind.value.strip()
        if ikind is None or not raw:
            continue
        if ikind in (Obs.DOMAIN, Obs.IPV4, Obs.IPV6):
            ip = normalize_ip(raw)
            if ip is not None:
                ok = kind is ip[0] and value == ip[1]
            elif ikind is not Obs.DOMAIN:
                ok = False
            elif "/" in raw or "://" in raw:
                ok = kind is Obs.URL and _url_equal(value, raw)
            else:
                dom = normalize_domain(raw)
                ok = kind is Obs.DOMAIN and dom is not None and (value == dom or value.endswith("." + dom))
        elif ikind is Obs.URL:
            ok = kind is Obs.URL and _url_equal(value, raw)
        elif ikind is Obs.PROCESS:
            name = basename(value) if "/" in value else value
            ok = kind is Obs.PROCESS and (
                name == raw
                or (len(name) in TRUNCATION_LENGTHS and len(raw) > len(name) and raw.startswith(name))
            )
        elif ikind is Obs.FILE_PATH:
            path = normalize_path(raw)
            ok = (
                kind is Obs.FILE_PATH
                and path is not None
                and (value == path or value.startswith(path.rstrip("/") + "/"))
            )
        else:
            ok = kind is ikind and value == normalize(ikind, raw)
        if ok and ind not in out:
            out.append(ind)
    return out


def _url_equal(observed: str, indicator: str) -> bool:
    if observed == indicator:
        return True
    a, b = url_parts(observed), url_parts(indicator)
    return a is not None and b is not None and a[0] == b[0]
