"""Lookup keys: what a record's observables expand to, and what an indicator is filed under.

One expansion, owned elsewhere: a record's observables are expanded and normalised by
:func:`unmask.observables.record_pairs`, each normalised value becomes the keys the plaintext
index would look up (:func:`unmask.detect.indicators.confidential.lookup_keys`: label suffixes of
domains, component prefixes of paths, a URL raw and normalised, a process name and its kernel
truncation…), and each key becomes bytes with
:func:`~unmask.detect.indicators.confidential.canonical_key`. Indicators are filed under the keys
of :func:`~unmask.detect.indicators.confidential.published_entries`, which reads the plaintext
index's own tables. The store keeps each key only as a keyed hash (:meth:`Keys.key`), so a
re-hunt is an indexed join of two sets of integers.
"""

from __future__ import annotations

from collections.abc import Iterable

from unmask.detect.indicators.confidential import canonical_key, lookup_keys, published_entries
from unmask.model import Indicator, Observable, Record
from unmask.observables import record_pairs
from unmask.store.secret import Keys


def record_keys(keys: Keys, record: Record) -> set[int]:
    """The stored lookup keys of one record (each at most once)."""
    out: set[int] = set()
    cache: set[tuple[str, str]] = set()
    for _, kind, norm in record_pairs(record):
        for key in lookup_keys(Observable(kind, norm)):
            if key not in cache:
                cache.add(key)
                out.add(keys.key(canonical_key(*key)))
    return out


def indicator_fingerprint(keys: Keys, indicator: Indicator) -> int:
    """What identifies an indicator across sets and runs (as the matching loop de-duplicates them)."""
    return keys.fingerprint("indicator", indicator.type, indicator.value, indicator.collection)


def indicator_keys(keys: Keys, indicators: Iterable[Indicator]) -> dict[int, list[Indicator]]:
    """Stored lookup key → the indicators filed under it (the keys a re-hunt looks up)."""
    out: dict[int, list[Indicator]] = {}
    for (key_type, value), found in published_entries(indicators).by_key.items():
        bucket = out.setdefault(keys.key(canonical_key(key_type, value)), [])
        bucket.extend(i for i in found if i not in bucket)
    return out
