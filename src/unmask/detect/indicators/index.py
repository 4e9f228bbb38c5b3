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
- emails, app ids, Android properties, profile ids: case-insensitive; hashes: lower-case hex.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from unmask.model import Indicator, Obs, Observable
from unmask.observables import (
    basename,
    normalize,
    normalize_domain,
    normalize_ip,
    normalize_path,
    url_host_hint,
    url_parts,
)


class Matcher(Protocol):
    """What the matching loop needs from an indicator backend (plaintext index or confidential).

    ``prefetch`` sees every observable before any ``match`` call, so a remote backend can
    evaluate them in batches; a local index does nothing there.
    """

    def prefetch(self, observables: Iterable[Observable]) -> None:
        """Prepare answers for these observables."""

    def match(self, observable: Observable) -> Sequence[Indicator]:
        """Indicators matched by one normalised observable."""


# Darwin keeps 16 characters of a process name (MAXCOMLEN), Linux/Android 15 (TASK_COMM_LEN - 1).
TRUNCATION_LENGTHS = (15, 16)

# Indicator pattern path → the observable type it is compared with.
_TYPE_OF_PATH: dict[str, Obs] = {o.value: o for o in Obs}


_LEAF = None  # trie key holding the indicators that end at a node (never a label or a component)
_Trie = dict[str | None, Any]


def _trie_put(trie: _Trie, parts: Iterable[str], indicator: Indicator) -> None:
    node = trie
    for part in parts:
        node = node.setdefault(part, {})
    bucket = node.setdefault(_LEAF, [])
    if indicator not in bucket:
        bucket.append(indicator)


@dataclass
class IndicatorIndex:
    """Hash-based lookup of indicators by observable type; build once, match millions of times.

    Domains live in a trie of labels read from the right and paths in a trie of components, so a
    lookup walks only as deep as the observed value shares a prefix with some indicator: most
    benign hosts stop after one or two dictionary lookups.
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
    _dispatch: dict[Obs, Callable[[str], Sequence[Indicator]]] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, indicators: Iterable[Indicator]) -> IndicatorIndex:
        """Index indicators; values that cannot be normalised are kept in ``unusable``."""
        index = cls()
        for indicator in indicators:
            index.add(indicator)
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
        self._dispatch = None
        kind = _TYPE_OF_PATH.get(indicator.type)
        value = indicator.value.strip()
        if kind is None or not value:
            self.unusable.append(indicator)
            return
        self.count += 1
        if kind in (Obs.DOMAIN, Obs.IPV4, Obs.IPV6):
            ip = normalize_ip(value)
            if ip is not None:
                self._put(ip[0], ip[1], indicator)
                return
            if kind is not Obs.DOMAIN:
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
            _trie_put(self.domains, reversed(labels), indicator)
            return
        if kind is Obs.URL:
            self._add_url(value, indicator)
            return
        if kind is Obs.PROCESS:
            self._put(Obs.PROCESS, value, indicator)
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
        if kind is Obs.FILE_PATH:
            parts = _components(norm)
            self.path_depth = max(self.path_depth, len(parts))
            _trie_put(self.paths, parts, indicator)
            return
        self._put(kind, norm, indicator)

    def _add_url(self, value: str, indicator: Indicator) -> None:
        self._put(Obs.URL, value, indicator)
        parts = url_parts(value)
        if parts is not None:
            self.url_hosts.add(parts[1])
            if parts[0] != value:
                self._put(Obs.URL, parts[0], indicator)

    def match(self, observable: Observable) -> Sequence[Indicator]:
        """Indicators matched by one normalised observable (see the module docstring).

        The returned sequence belongs to the index: read it, do not modify it.
        """
        dispatch = self._dispatch
        if dispatch is None:
            dispatch = self._dispatch = self._build_dispatch()
        lookup = dispatch.get(observable.type)
        return lookup(observable.value) if lookup is not None else _NONE

    def _build_dispatch(self) -> dict[Obs, Callable[[str], Sequence[Indicator]]]:
        # One bound function per observable type, chosen once: the hot path is a dict lookup and
        # a call, with no chain of type tests.
        dispatch: dict[Obs, Callable[[str], Sequence[Indicator]]] = {}
        for kind, table in self.exact.items():
            get = table.get
            dispatch[kind] = lambda value, get=get: get(value, _NONE)  # type: ignore[misc]
        dispatch[Obs.FILE_PATH] = self._match_path
        dispatch[Obs.DOMAIN] = self._match_domain
        if Obs.URL in self.exact:
            dispatch[Obs.URL] = lambda value: self._match_url(value, self.exact[Obs.URL])
        dispatch[Obs.PROCESS] = self._match_process
        return dispatch

    def _match_path(self, value: str) -> Sequence[Indicator]:
        # The walk is written out (not shared with _match_domain) because it is the hot loop of
        # matching a Manifest's hundreds of thousands of paths.
        found: Sequence[Indicator] = _NONE
        node = self.paths
        # No indicator is deeper than the trie, so the rest of a longer path need not be split.
        for part in value.split("/", self.path_depth):
            node = node.get(part)  # type: ignore[assignment]
            if node is None:
                return found
            leaf = node.get(_LEAF)
            if leaf:
                found = leaf if not found else [*found, *leaf]
        return found

    def _match_domain(self, value: str) -> Sequence[Indicator]:
        found: Sequence[Indicator] = _NONE
        node = self.domains
        labels = value.rsplit(".", self.domain_depth)
        for i in range(len(labels) - 1, -1, -1):
            node = node.get(labels[i])  # type: ignore[assignment]
            if node is None:
                return found
            leaf = node.get(_LEAF)
            if leaf:
                found = leaf if not found else [*found, *leaf]
        return found

    def _match_process(self, value: str) -> Sequence[Indicator]:
        table = self.exact.get(Obs.PROCESS)
        name = basename(value) if "/" in value else value
        found = list(table.get(name, ())) if table else []
        if len(name) in TRUNCATION_LENGTHS:
            found.extend(i for i in self.truncated.get(name, ()) if i not in found)
        return found

    def _match_url(self, value: str, table: dict[str, list[Indicator]]) -> Sequence[Indicator]:
        found = list(table.get(value, ()))
        # Normalising a URL is the expensive part; only a URL on a host that some URL indicator
        # names can match in normalised form.
        hint = url_host_hint(value)
        if hint is not None and hint not in self.url_hosts:
            return found
        parts = url_parts(value)
        if parts is not None and parts[0] != value:
            found.extend(i for i in table.get(parts[0], ()) if i not in found)
        return found


def _components(path: str) -> list[str]:
    # Normalised paths are absolute with no empty components: "/private/var/db" splits into
    # ["", "private", "var", "db"], where "" is the root (a "/" indicator sits there).
    return [""] if path == "/" else path.split("/")


_NONE: Sequence[Indicator] = ()


def _leaves(node: _Trie, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], list[Indicator]]]:
    for key, child in node.items():
        if key is _LEAF:
            yield prefix, child
        else:
            yield from _leaves(child, (*prefix, key))


def naive_match(observable: Observable, indicators: Iterable[Indicator]) -> list[Indicator]:
    """Reference implementation of :meth:`IndicatorIndex.match`: a linear scan, for property tests."""
    out: list[Indicator] = []
    kind, value = observable.type, observable.value
    for ind in indicators:
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
