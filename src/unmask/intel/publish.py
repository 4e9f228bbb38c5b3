"""``unmask intel publish``: build a new epoch from STIX indicator files.

An epoch is a fresh OPRF key (from a random seed that never leaves the holder's folder), the
padded, sorted set of ``tag || sealed metadata`` records, a campaign catalogue and a manifest
signed with the folder's Ed25519 key. Publishing into a folder that already has an epoch is key
rotation: see :mod:`unmask.intel.store`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.detect.indicators import confidential, oprf
from unmask.detect.indicators.sets import load_sets, resolve
from unmask.intel import manifest as manifest_mod
from unmask.intel.errors import IntelError
from unmask.intel.store import (
    EpochState,
    epoch_dir,
    load_signing_key_file,
    public_key_hex,
    read_state,
    signing_key,
    write_atomic,
    write_private,
    write_state,
)
from unmask.model import Indicator

DEFAULT_GRACE_DAYS = 7.0
# Below this many keys a process pool costs more than it saves.
_PARALLEL_FROM = 20_000
_CHUNK = 5_000


def key_info(epoch: str) -> bytes:
    """DeriveKeyPair's public info string: binds the key to the protocol and the epoch."""
    return f"{confidential.PROTOCOL}|epoch={epoch}".encode()


Item = tuple[confidential.Key, list[Indicator]]


def _records_chunk(
    secret: bytes, items: list[Item], number: dict[confidential.Campaign, int]
) -> list[tuple[bytes, bytes]]:
    """``(tag, sealed metadata)`` for each key: OPRF evaluation and encryption, the costly part."""
    out = []
    for (kind, value), found in items:
        output = oprf.evaluate(secret, confidential.canonical_key(kind, value))
        plaintext = confidential.encode_metadata(value, found, number)
        out.append((confidential.tag_of(output), confidential.seal_metadata(output, plaintext)))
    return out


def seal_all(
    secret: bytes, items: list[Item], number: dict[confidential.Campaign, int], workers: int | None = None
) -> dict[bytes, bytes]:
    """All records, on several processes for big sets (each OPRF evaluation costs ~150 µs)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(items) < _PARALLEL_FROM:
        return dict(_records_chunk(secret, items, number))
    chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    records: dict[bytes, bytes] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_records_chunk, [secret] * len(chunks), chunks, [number] * len(chunks)):
            records.update(part)
    return records


def campaigns_of(indicators: Sequence[Indicator]) -> list[confidential.Campaign]:
    """The (collection, source file) pairs, in catalogue order; records refer to them by index."""
    return sorted({confidential.Campaign(i.collection, i.file) for i in indicators}, key=lambda c: (c.name, c.source))


def catalogue(campaigns: Sequence[confidential.Campaign]) -> dict[str, Any]:
    """The campaigns an epoch covers, without counts or values (those would describe the set)."""
    return {
        "format": confidential.PROTOCOL,
        "campaigns": [{"name": c.name, "source": c.source} for c in campaigns],
    }


@dataclass
class PublishReport:
    """What ``publish`` did."""

    epoch: str
    folder: Path
    public_key: str
    indicators: int
    keys: int
    records: int
    unusable: int
    set_bytes: int
    seconds: float
    previous: str | None
    retired: list[str]


def new_epoch_id(now: datetime) -> str:
    """Sortable and unique: UTC time plus random bits (two publications in one second differ)."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def build_epoch(
    indicators: Sequence[Indicator],
    folder: Path,
    *,
    sources: Sequence[dict[str, str]] = (),
    grace_days: float = DEFAULT_GRACE_DAYS,
    signing_key_file: Path | None = None,
    now: datetime | None = None,
    workers: int | None = None,
) -> PublishReport:
    """Publish indicators as a new epoch in ``folder`` and make it current (rotating the key)."""
    started = time.perf_counter()
    now = now or timeutil.now()
    folder.mkdir(parents=True, exist_ok=True)
    key = load_signing_key_file(signing_key_file) if signing_key_file else signing_key(folder)
    entries = confidential.published_entries(indicators)
    if not entries.by_key:
        raise IntelError("no usable indicators to publish")
    epoch = new_epoch_id(now)
    seed = secrets.token_bytes(32)
    secret, _ = oprf.derive_key_pair(seed, key_info(epoch))
    campaigns = campaigns_of([i for found in entries.by_key.values() for i in found])
    number = {c: n for n, c in enumerate(campaigns)}
    records = seal_all(secret, list(entries.by_key.items()), number, workers)
    set_bytes = confidential.build_set(records)
    cat = json.dumps(catalogue(campaigns), indent=1, sort_keys=True).encode()
    manifest = {
        "format": manifest_mod.FORMAT,
        "suite": oprf.SUITE,
        "mode": oprf.MODE_OPRF,
        "epoch": epoch,
        "published": now.isoformat(),
        "key_info": key_info(epoch).decode(),
        "set": {
            "sha256": hashlib.sha256(set_bytes).hexdigest(),
            "bytes": len(set_bytes),
            "records": confidential.padded_size(len(records)),
            "tag_bytes": confidential.TAG_BYTES,
        },
        "catalogue_sha256": hashlib.sha256(cat).hexdigest(),
        "sources": list(sources),
    }
    envelope = manifest_mod.sign(manifest, key)
    target = epoch_dir(folder, epoch)
    target.mkdir(parents=True)
    write_private(target / "seed", seed)
    write_atomic(target / "set.bin", set_bytes)
    write_atomic(target / "catalogue.json", cat)
    write_atomic(target / "manifest.json", json.dumps(envelope, indent=1).encode())

    # Rotation: the new epoch becomes current, the old current gets a grace period, older ones retire.
    state = read_state(folder)
    previous = state.current
    retired: list[str] = []
    for old_id, old in state.epochs.items():
        if old.retired:
            continue
        if old_id == previous:
            old.grace_until = (now + timedelta(days=grace_days)).isoformat()
        else:
            retire(folder, old, now)
            retired.append(old_id)
    state.epochs[epoch] = EpochState(epoch, now.isoformat())
    state.current = epoch
    write_state(folder, state)
    return PublishReport(
        epoch=epoch,
        folder=folder,
        public_key=public_key_hex(key.public_key()),
        indicators=len(indicators),
        keys=len(entries.by_key),
        records=confidential.padded_size(len(records)),
        unusable=len(entries.unusable),
        set_bytes=len(set_bytes),
        seconds=time.perf_counter() - started,
        previous=previous,
        retired=retired,
    )


def retire(folder: Path, state: EpochState, now: datetime) -> None:
    """Destroy an epoch's seed: its outputs can never be computed again, harvested ones expire."""
    seed = epoch_dir(folder, state.id) / "seed"
    if seed.exists():
        # Overwrite before unlinking; on journaling/copy-on-write file systems this is best effort.
        size = seed.stat().st_size
        with seed.open("r+b") as fh:
            fh.write(secrets.token_bytes(size))
            fh.flush()
            os.fsync(fh.fileno())
        seed.unlink()
    state.retired = now.isoformat()
    state.grace_until = None


def publish(
    iocs: Sequence[str | Path],
    out: Path,
    *,
    grace_days: float = DEFAULT_GRACE_DAYS,
    signing_key_file: Path | None = None,
    now: datetime | None = None,
    workers: int | None = None,
) -> PublishReport:
    """Load STIX files (explicit paths only: publishing must never pick sets up by accident) and publish."""
    files = resolve(iocs, use_env=False, use_default=False)
    if not files:
        raise IntelError("name the indicator files or folders to publish with --iocs")
    sets = load_sets(files)
    sources = [{"name": s.name, "sha256": s.sha256} for s in sets.sets]
    return build_epoch(
        sets.indicators,
        out,
        sources=sources,
        grace_days=grace_days,
        signing_key_file=signing_key_file,
        now=now,
        workers=workers,
    )

