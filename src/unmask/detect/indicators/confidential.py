"""Confidential matching (protocol ``mvtcm/v1``): the same matching, as OPRF set membership.

The plaintext :class:`~unmask.detect.indicators.index.IndicatorIndex` answers a match by looking
up a handful of keys: every label suffix of a domain, every component prefix of a path, a process
name and its truncation form, a URL raw and normalised, one key for everything else. Confidential
matching keeps exactly that structure and only changes where the lookup happens:

- the intel holder files each indicator under the keys the plaintext index would file it under
  (:func:`published_entries` builds that index and reads its tables, so the two cannot drift),
  and publishes, per key, a truncated OPRF output (the *tag*) and the indicators filed there,
  encrypted under another part of the same OPRF output;
- the client lists the keys the plaintext ``match`` would look up (:func:`lookup_keys`), obtains
  their OPRF outputs from the holder without revealing them (blinded evaluation), and looks the
  tags up in the downloaded set. Only a client that holds a key's input can compute its output,
  so only it can decrypt that key's indicators.

Both sides turn a key into OPRF input bytes with one function, :func:`canonical_key`.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import random
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from unmask.detect.indicators import oprf
from unmask.detect.indicators.index import TRUNCATION_LENGTHS, IndicatorIndex
from unmask.detect.indicators.stix import SUPPORTED_PATHS
from unmask.model import Indicator, Obs, Observable
from unmask.observables import basename, url_parts

PROTOCOL = "mvtcm/v1"
# The key type of the 15/16-character prefixes of long process names (the plaintext index's
# ``truncated`` table): distinct from ``process:name`` so a full name never matches a prefix entry.
TRUNCATED = "process:name#truncated"
TAG_BYTES = 12
_META_KEY = slice(32, 64)  # disjoint from the tag, so the published tag says nothing about the key
_NONCE = bytes(12)  # each metadata key encrypts exactly one record, so a fixed nonce is safe
_MAX_VALUE = 60_000
_META_BLOCK = 16
_SET_MAGIC = b"MVTCMSET"
_SET_VERSION = 1
_HEADER = struct.Struct("<8sBBHI")  # magic, version, tag bytes, reserved, record count
_QUERY_TYPES = frozenset(SUPPORTED_PATHS) | {TRUNCATED}

Key = tuple[str, str]
"""``(key type, normalised value)``: one lookup of the plaintext index."""

Evaluator = Callable[[list[bytes]], list[bytes]]
"""Sends blinded elements to the intel holder and returns its evaluations, in the same order."""


class SetFormatError(ValueError):
    """A published set that does not have the mvtcm/v1 layout."""


def canonical_key(key_type: str, value: str) -> bytes:
    """The OPRF input for one lookup key; the publisher and the client both call this.

    ``"mvtcm/v1" 0x00 type 0x00 UTF-8(value)``: the prefix separates this application's inputs from
    any other use of the same key, the type keeps a domain apart from a file name with the same
    text. Values over 60 kB (RFC 9497 caps inputs at 64 kB) are replaced by their SHA-256.
    """
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) > _MAX_VALUE:
        raw = b"sha256:" + hashlib.sha256(raw).hexdigest().encode()
    return PROTOCOL.encode() + b"\x00" + key_type.encode() + b"\x00" + raw


def lookup_keys(observable: Observable) -> list[Key]:
    """Every key :meth:`IndicatorIndex.match` would look up for this (normalised) observable."""
    kind, value = observable.type, observable.value
    keys: list[Key]
    if kind.value not in _QUERY_TYPES:
        return []  # no indicator can be filed under this type (phone numbers, helpers)
    if kind is Obs.DOMAIN:
        keys = [(str(kind.value), value)]
        dot = value.find(".")
        while dot >= 0:
            value = value[dot + 1 :]
            keys.append((kind.value, value))
            dot = value.find(".")
        return keys
    if kind is Obs.FILE_PATH:
        keys = [(kind.value, "/")]
        end = value.find("/", 1)
        while end > 0:
            keys.append((kind.value, value[:end]))
            end = value.find("/", end + 1)
        keys.append((kind.value, value))
        return list(dict.fromkeys(keys))
    if kind is Obs.URL:
        keys = [(str(kind.value), value)]
        parts = url_parts(value)
        if parts is not None and parts[0] != value:
            keys.append((kind.value, parts[0]))
        return keys
    if kind is Obs.PROCESS:
        name = basename(value) if "/" in value else value
        keys = [(kind.value, name)]
        if len(name) in TRUNCATION_LENGTHS:
            keys.append((TRUNCATED, name))
        return keys
    return [(kind.value, value)]


@dataclass
class Entries:
    """What a publisher puts in a set: indicators filed by lookup key, and what it could not file."""

    by_key: dict[Key, list[Indicator]]
    unusable: list[Indicator] = field(default_factory=list)


def published_entries(indicators: Iterable[Indicator]) -> Entries:
    """File indicators under the keys of the plaintext index (same normalisation, same tables)."""
    index = IndicatorIndex.build(indicators)
    by_key: dict[Key, list[Indicator]] = {}
    for kind, key, found in index.entries():
        by_key[(kind.value, key)] = list(found)
    for key, found in index.truncated.items():
        by_key[(TRUNCATED, key)] = list(found)
    unusable = list(index.unusable)
    for dropped in [k for k in by_key if k[0] not in _QUERY_TYPES]:
        unusable.extend(by_key.pop(dropped))  # no client would ever ask for these
    return Entries(by_key, unusable)


# --- record encryption ----------------------------------------------------------------------------


def tag_of(output: bytes) -> bytes:
    """The published part of an OPRF output."""
    return output[:TAG_BYTES]


# Indicator types as one byte. Append only: a code, once published, keeps its meaning. A type not
# listed travels as text.
TYPE_CODES: tuple[str, ...] = (
    "domain-name:value", "ipv4-addr:value", "ipv6-addr:value", "url:value", "email-addr:value",
    "process:name", "file:name", "file:path", "file:hashes.md5", "file:hashes.sha1", "file:hashes.sha256",
    "app:id", "app:cert.md5", "app:cert.sha1", "app:cert.sha256", "configuration-profile:id",
    "android-property:name",
)
_TYPE_CODE = {t: i for i, t in enumerate(TYPE_CODES)}
_SAME_VALUE, _UUID_ID, _TEXT_TYPE = 1, 2, 4
_STIX_PREFIX = "indicator--"


@dataclass(frozen=True)
class Campaign:
    """A catalogue entry: the collection name and the source file an indicator came from."""

    name: str
    source: str


def _text(data: str, width: int) -> bytes:
    raw = data.encode("utf-8", "surrogatepass")
    if len(raw) >= 1 << (8 * width):
        raise ValueError("metadata field too long")
    return len(raw).to_bytes(width, "little") + raw


def encode_metadata(key_value: str, indicators: Sequence[Indicator], campaigns: Mapping[Campaign, int]) -> bytes:
    """The compact plaintext of one record: per indicator a campaign index, a type code, flags,
    the value only when it differs from the looked-up value, and the STIX id (16 bytes for a UUID).
    """
    out = bytearray([len(indicators)])
    for ind in indicators:
        flags = 0
        if ind.value == key_value:
            flags |= _SAME_VALUE
        uuid_bytes = _uuid(ind.stix_id)
        if uuid_bytes is not None:
            flags |= _UUID_ID
        if ind.type not in _TYPE_CODE:
            flags |= _TEXT_TYPE
        out += struct.pack("<HB", campaigns[Campaign(ind.collection, ind.file)], flags)
        out += _text(ind.type, 1) if flags & _TEXT_TYPE else bytes([_TYPE_CODE[ind.type]])
        if not flags & _SAME_VALUE:
            out += _text(ind.value, 4)
        out += uuid_bytes if uuid_bytes is not None else _text(ind.stix_id, 2)
    return bytes(out)


def _uuid(stix_id: str) -> bytes | None:
    if not stix_id.startswith(_STIX_PREFIX):
        return None
    text = stix_id[len(_STIX_PREFIX) :]
    if len(text) != 36 or text != text.lower():
        return None
    try:
        raw = bytes.fromhex(text.replace("-", ""))
    except ValueError:
        return None
    return raw if len(raw) == 16 and _format_uuid(raw) == stix_id else None


def _format_uuid(raw: bytes) -> str:
    h = raw.hex()
    return f"{_STIX_PREFIX}{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def decode_metadata(key_value: str, body: bytes, campaigns: Sequence[Campaign]) -> list[Indicator]:
    """Inverse of :func:`encode_metadata`."""
    view = memoryview(body)
    pos = 1
    out: list[Indicator] = []

    def text(width: int) -> str:
        nonlocal pos
        size = int.from_bytes(view[pos : pos + width], "little")
        pos += width
        value = bytes(view[pos : pos + size]).decode("utf-8", "surrogatepass")
        pos += size
        return value

    for _ in range(body[0]):
        campaign_index, flags = struct.unpack_from("<HB", body, pos)
        pos += 3
        if flags & _TEXT_TYPE:
            kind = text(1)
        else:
            kind = TYPE_CODES[body[pos]]
            pos += 1
        value = key_value if flags & _SAME_VALUE else text(4)
        if flags & _UUID_ID:
            stix_id = _format_uuid(bytes(view[pos : pos + 16]))
            pos += 16
        else:
            stix_id = text(2)
        campaign = campaigns[campaign_index]
        out.append(Indicator(kind, value, campaign.name, stix_id, campaign.source))
    return out


def seal_metadata(output: bytes, plaintext: bytes) -> bytes:
    """Encrypt one record's metadata under the key's OPRF output, padded to hide its exact length."""
    body = plaintext + bytes(-len(plaintext) % _META_BLOCK)
    return ChaCha20Poly1305(output[_META_KEY]).encrypt(_NONCE, body, tag_of(output))


def open_metadata(output: bytes, sealed: bytes) -> bytes | None:
    """Decrypt one record; ``None`` when the record is not this output's (a tag collision)."""
    try:
        return ChaCha20Poly1305(output[_META_KEY]).decrypt(_NONCE, sealed, tag_of(output))
    except InvalidTag:
        return None


def padded_size(count: int, minimum: int = 1024) -> int:
    """The published record count: the next power of two, so the set hides its exact size."""
    size = minimum
    while size < count:
        size *= 2
    return size


def build_set(records: Mapping[bytes, bytes], *, minimum: int = 1024) -> bytes:
    """The binary set: header, sorted tags, offsets, sealed metadata; padded with random records.

    Dummy records get random tags and random "ciphertexts" with lengths drawn from the real ones,
    so neither the count nor the length profile of real records shows.
    """
    rng = random.SystemRandom()
    lengths = [len(v) for v in records.values()] or [2 * _META_BLOCK]
    rows = dict(records)
    target = padded_size(len(rows), minimum)
    while len(rows) < target:
        tag = os.urandom(TAG_BYTES)
        if tag not in rows:
            rows[tag] = os.urandom(rng.choice(lengths))
    tags = sorted(rows)
    offsets = [0]
    for tag in tags:
        offsets.append(offsets[-1] + len(rows[tag]))
    header = _HEADER.pack(_SET_MAGIC, _SET_VERSION, TAG_BYTES, 0, len(tags))
    return b"".join(
        [header, b"".join(tags), struct.pack(f"<{len(offsets)}I", *offsets), *(rows[t] for t in tags)]
    )


class PublishedSet:
    """A downloaded set, searched in place (a sorted byte array and bisect, no per-record objects)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < _HEADER.size:
            raise SetFormatError("set too short")
        magic, version, tag_bytes, _, count = _HEADER.unpack_from(data)
        if magic != _SET_MAGIC or version != _SET_VERSION or tag_bytes != TAG_BYTES:
            raise SetFormatError("not an mvtcm/v1 set")
        self._tags_at = _HEADER.size
        self._offsets_at = self._tags_at + count * TAG_BYTES
        self._meta_at = self._offsets_at + (count + 1) * 4
        if len(data) < self._meta_at:
            raise SetFormatError("set truncated")
        self._data = data
        self.count = count
        end = struct.unpack_from("<I", data, self._offsets_at + count * 4)[0]
        if self._meta_at + end != len(data):
            raise SetFormatError("set length does not match its offsets")

    def _tag(self, i: int) -> bytes:
        start = self._tags_at + i * TAG_BYTES
        return self._data[start : start + TAG_BYTES]

    def sealed(self, tag: bytes) -> bytes | None:
        """The sealed metadata published under a tag, if any."""
        i = bisect.bisect_left(range(self.count), tag, key=self._tag)
        if i >= self.count or self._tag(i) != tag:
            return None
        start, end = struct.unpack_from("<II", self._data, self._offsets_at + i * 4)
        return self._data[self._meta_at + start : self._meta_at + end]

    def open(self, output: bytes, key_value: str, campaigns: Sequence[Campaign]) -> list[Indicator]:
        """The indicators published for this OPRF output (none when it is not in the set)."""
        sealed = self.sealed(tag_of(output))
        if sealed is None:
            return []
        body = open_metadata(output, sealed)
        return decode_metadata(key_value, body, campaigns) if body else []


# --- the matcher --------------------------------------------------------------------------------


@dataclass
class MatchStats:
    """What one confidential scan cost: distinct keys, elements sent, keys found in the set."""

    keys: int = 0
    requests: int = 0
    hits: int = 0


class ConfidentialMatcher:
    """A :class:`~unmask.detect.indicators.index.Matcher` that asks an intel holder obliviously.

    ``prefetch`` expands every observable into lookup keys, blinds them all, has them evaluated
    in batches by ``evaluate`` (the holder sees only uniformly random group elements) and keeps
    the decrypted indicators of the keys found in the set. ``match`` then answers locally, so
    whether anything matched never leaves the machine.
    """

    def __init__(
        self, published: PublishedSet, campaigns: Sequence[Campaign], evaluate: Evaluator, *, chunk: int = 65536
    ) -> None:
        self.chunk = max(1, chunk)
        self._set = published
        self._campaigns = list(campaigns)
        self._evaluate = evaluate
        self._found: dict[Key, list[Indicator]] = {}
        self.stats = MatchStats()

    def prefetch(self, observables: Iterable[Observable]) -> None:
        """Look up, in as few round trips as the holder's batch limit allows, every key needed."""
        wanted: dict[Key, None] = {}
        for observable in observables:
            for key in lookup_keys(observable):
                if key not in self._found:
                    wanted[key] = None
        self._query(list(wanted))

    def _query(self, keys: list[Key]) -> None:
        """Blind, evaluate and finalize in chunks, pipelined: while the holder evaluates one chunk
        the client blinds the next and finalizes the previous, so wall time is about the larger of
        the two sides' CPU time rather than their sum.
        """
        if not keys:
            return
        chunks = [keys[i : i + self.chunk] for i in range(0, len(keys), self.chunk)]
        with ThreadPoolExecutor(max_workers=1) as remote:
            pending: list[tuple[list[Key], list[bytes], list[bytes], Future[list[bytes]]]] = []
            for chunk in chunks:
                inputs = [canonical_key(t, v) for t, v in chunk]
                blinds, blinded = oprf.blind_batch(inputs)
                pending.append((chunk, inputs, blinds, remote.submit(self._evaluate, blinded)))
                if len(pending) > 1:
                    self._finish(*pending.pop(0))
            while pending:
                self._finish(*pending.pop(0))

    def _finish(self, keys: list[Key], inputs: list[bytes], blinds: list[bytes], answer: Future[list[bytes]]) -> None:
        evaluated = answer.result()
        if len(evaluated) != len(inputs):
            raise oprf.OprfError("the intel server answered a different number of elements")
        outputs = oprf.finalize_batch(inputs, blinds, evaluated)
        self.stats.keys += len(keys)
        self.stats.requests += 1
        for key, output in zip(keys, outputs, strict=True):
            found = self._set.open(output, key[1], self._campaigns)
            if found:
                self.stats.hits += 1
            self._found[key] = found

    def lookup(self, kind: Obs, value: str) -> list[Indicator]:
        """:meth:`match` for a normalised ``(type, value)``."""
        return self.match(Observable(kind, value))

    def match(self, observable: Observable) -> list[Indicator]:
        """Indicators matched by one observable, from the prefetched answers.

        An observable that was not prefetched is looked up on the spot (one more round trip,
        charged at the holder's minimum): correct, but slow if it happens often.
        """
        keys = lookup_keys(observable)
        missing = [k for k in keys if k not in self._found]
        if missing:
            self._query(missing)
        out: list[Indicator] = []
        for key in keys:
            for indicator in self._found[key]:
                if indicator not in out:
                    out.append(indicator)
        return out
