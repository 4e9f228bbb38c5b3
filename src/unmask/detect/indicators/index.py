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

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from unmask.model import Indicator, Obs, Observable
from unmask.observables import basename, normalize, normalize_domain, normalize_ip, normalize_path, url_parts


class Matcher(Protocol):
    """What the matching loop needs from an indicator backend (plaintext index or confidential).

    ``prefetch`` sees every observable before any ``match`` call, so a remote backend can
    evaluate them in batches; a local index does nothing there.
    """

    def prefetch(self, observables: Iterable[Observable]) -> None:
        """Prepare answers for these observables."""

    def match(self, observable: Observable) -> list[Indicator]:
        """Indicators matched by one normalised observable."""


# Darwin keeps 16 characters of a process name (MAXCOMLEN), Linux/Android 15 (TASK_COMM_LEN - 1).
TRUNCATION_LENGTHS = (15, 16)

# Indicator pattern path → the observable type it is compared with.
_TYPE_OF_PATH: dict[str, Obs] = {o.value: o for o in Obs}


@dataclass
class IndicatorIndex:
    """Hash-based lookup of indicators by observable type; build once, match millions of times."""

    exact: dict[Obs, dict[str, list[Indicator]]] = field(default_factory=dict)
    truncated: dict[str, list[Indicator]] = field(default_factory=dict)
    count: int = 0
    unusable: list[Indicator] = field(default_factory=list)

    @classmethod
    def build(cls, indicators: Iterable[Indicator]) -> IndicatorIndex:
        """Index indicators; values that cannot be normalised are kept in ``unusable``."""
        index = cls()
        for indicator in indicators:
            index.add(indicator)
        return index

    def prefetch(self, observables: Iterable[Observable]) -> None:
        """Nothing to prepare: every lookup is local."""

    def _put(self, kind: Obs, key: str, indicator: Indicator) -> None:
        bucket = self.exact.setdefault(kind, {}).setdefault(key, [])
        if indicator not in bucket:
            bucket.append(indicator)

    def add(self, indicator: Indicator) -> None:
        """Add one indicator under the observable type(s) it can match."""
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
            if "/" in value or "://" in value:
                # A URL filed as a domain: match it as the URL it is, never as its whole host.
                self._add_url(value, indicator)
                return
            domain = normalize_domain(value)
            if domain is None:
                self.unusable.append(indicator)
                return
            self._put(Obs.DOMAIN, domain, indicator)
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
        self._put(kind, norm, indicator)

    def _add_url(self, value: str, indicator: Indicator) -> None:
        self._put(Obs.URL, value, indicator)
        parts = url_parts(value)
        if parts is not None and parts[0] != value:
            self._put(Obs.URL, parts[0], indicator)

    def match(self, observable: Observable) -> list[Indicator]:
        """Indicators matched by one normalised observable (see the module docstring)."""
        kind, value = observable.type, observable.value
        table = self.exact.get(kind)
        if kind is Obs.DOMAIN:
            if table is None:
                return []
            found: list[Indicator] = []
            host = value
            while True:
                hit = table.get(host)
                if hit:
                    found.extend(hit)
                dot = host.find(".")
                if dot < 0:
                    return found
                host = host[dot + 1 :]
        if kind is Obs.FILE_PATH:
            if table is None:
                return []
            found = []
            hit = table.get("/")
            if hit:
                found.extend(hit)
            end = value.find("/", 1)
            while end > 0:
                hit = table.get(value[:end])
                if hit:
                    found.extend(hit)
                end = value.find("/", end + 1)
            hit = table.get(value)
            if hit:
                found.extend(hit)
            return found
        if kind is Obs.URL:
            if table is None:
                return []
            found = list(table.get(value, ()))
            parts = url_parts(value)
            if parts is not None and parts[0] != value:
                found.extend(i for i in table.get(parts[0], ()) if i not in found)
            return found
        if kind is Obs.PROCESS:
            name = basename(value) if "/" in value else value
            found = list(table.get(name, ())) if table else []
            if len(name) in TRUNCATION_LENGTHS:
                found.extend(i for i in self.truncated.get(name, ()) if i not in found)
            return found
        if table is None:
            return []
        return list(table.get(value, ()))


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
