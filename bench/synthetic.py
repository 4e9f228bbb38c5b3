"""Synthetic indicator sets (10^3 … 10^6) as real STIX 2.1 bundles, and observables to match against them.

The public sets hold about 12k indicators; the index must stay fast when a lab merges its own
sets or a commercial feed, so the matching benchmark uses seeded synthetic bundles of up to a
million indicators. The type mix follows the public sets (mostly domains, then IPs, processes,
emails, file paths/names, hashes, app ids), and the values look real: multi-label domains on
common TLDs, daemon-like process names, iOS-style paths.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

from bench.generate import DATA_DIR

SYNTHETIC_VERSION = 1

# (STIX pattern path, share of the set): roughly the public sets' mix.
TYPE_MIX: list[tuple[str, float]] = [
    ("domain-name:value", 0.72),
    ("ipv4-addr:value", 0.08),
    ("process:name", 0.06),
    ("email-addr:value", 0.04),
    ("file:path", 0.04),
    ("file:name", 0.02),
    ("file:hashes.sha256", 0.03),
    ("app:id", 0.01),
]
COLLECTIONS = 10  # reports the indicators are spread over (a finding names its collection)

_SYLLABLES = (
    "ar",
    "be",
    "cor",
    "da",
    "el",
    "fi",
    "go",
    "ha",
    "in",
    "jo",
    "ka",
    "lu",
    "mo",
    "ne",
    "or",
    "pa",
    "qui",
    "ro",
    "sa",
    "te",
    "ul",
    "ve",
    "wa",
    "xo",
    "yu",
    "za",
    "net",
    "cloud",
    "news",
    "info",
    "sec",
    "up",
    "date",
    "cdn",
    "api",
    "track",
    "mail",
    "web",
    "app",
    "store",
    "link",
    "safe",
    "fast",
)
_TLDS = (
    "com",
    "net",
    "org",
    "info",
    "io",
    "co",
    "me",
    "biz",
    "xyz",
    "online",
    "site",
    "top",
    "co.uk",
    "com.br",
)
_SUBS = ("", "", "", "www.", "cdn.", "api.", "m.", "static.", "img.", "track.")
_DIRS = (
    "/private/var/db/",
    "/private/var/tmp/",
    "/private/var/mobile/Library/",
    "/usr/libexec/",
    "/private/var/containers/Bundle/Application/",
    "/Library/LaunchDaemons/",
)


def _word(rng: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(lo, hi)))


def synthetic_value(rng: random.Random, kind: str, i: int) -> str:
    """One realistic-looking value of STIX path ``kind``; ``i`` keeps values unique across a set."""
    if kind == "domain-name:value":
        sep = rng.choice(("", "-"))
        return f"{rng.choice(_SUBS)}{_word(rng)}{sep}{_word(rng, 1, 2)}{i:x}.{rng.choice(_TLDS)}"
    if kind == "ipv4-addr:value":
        return f"{rng.randint(11, 223)}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    if kind == "process:name":
        return f"{_word(rng, 1, 3)}d{i:x}"
    if kind == "email-addr:value":
        return f"{_word(rng)}.{i:x}@{_word(rng, 1, 2)}mail.{rng.choice(_TLDS)}"
    if kind == "file:path":
        return f"{rng.choice(_DIRS)}{_word(rng)}{i:x}"
    if kind == "file:name":
        return f"{_word(rng)}{i:x}.{rng.choice(('dylib', 'plist', 'db', 'bin', 'js'))}"
    if kind == "file:hashes.sha256":
        return f"{rng.getrandbits(256):064x}"
    if kind == "app:id":
        return f"com.{_word(rng, 1, 2)}.{_word(rng)}{i:x}"
    raise ValueError(kind)


def synthetic_values(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """``count`` (STIX path, value) pairs in the :data:`TYPE_MIX` proportions, seeded."""
    rng = random.Random(seed)
    kinds = [k for k, _ in TYPE_MIX]
    weights = [w for _, w in TYPE_MIX]
    return [
        (kind, synthetic_value(rng, kind, i)) for i, kind in enumerate(rng.choices(kinds, weights, k=count))
    ]


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def synthetic_bundle(count: int, seed: int = 1, *, log=print) -> Path:
    """Path of a cached STIX 2.1 bundle of ``count`` indicators (written on first use).

    Indicators are assigned to :data:`COLLECTIONS` ``report`` objects through ``object_refs``,
    the cheapest way STIX offers to name a collection for a million indicators.
    """
    path = DATA_DIR / "stix" / f"synthetic-{count}-s{seed}-v{SYNTHETIC_VERSION}.stix2"
    if path.is_file():
        return path
    log(f"writing a synthetic STIX bundle of {count:,} indicators to {path} …")
    uid = uuid.UUID(int=random.Random(seed).getrandbits(128))
    stamp = "2026-01-01T00:00:00.000Z"
    objects: list[dict[str, object]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": f"identity--{uid}",
            "name": "unmask benchmarks",
            "created": stamp,
            "modified": stamp,
        }
    ]
    refs: list[list[str]] = [[] for _ in range(COLLECTIONS)]
    for i, (kind, value) in enumerate(synthetic_values(count, seed)):
        ident = f"indicator--{uuid.UUID(int=(uid.int + i + 1) % 2**128)}"
        refs[i % COLLECTIONS].append(ident)
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": ident,
                "created": stamp,
                "modified": stamp,
                "pattern": f"[{kind} = '{_quote(value)}']",
                "pattern_type": "stix",
                "valid_from": stamp,
            }
        )
    for k, ids in enumerate(refs):
        objects.append(
            {
                "type": "report",
                "spec_version": "2.1",
                "id": f"report--{uuid.UUID(int=(uid.int + count + k + 1) % 2**128)}",
                "name": f"Synthetic-{k}",
                "published": stamp,
                "created": stamp,
                "modified": stamp,
                "object_refs": ids,
            }
        )
    bundle = {"type": "bundle", "id": f"bundle--{uid}", "objects": objects}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(bundle, separators=(",", ":")))
    tmp.replace(path)
    return path
