"""The investigator's side: download and verify an epoch, evaluate blinded keys, build the matcher.

Nothing here sends an artefact: the server receives blinded group elements (uniformly random to
it), padded to a multiple of its minimum charge with random elements, so it learns only a
rounded-up count of lookups and when they happened.

Nothing here trusts the server beyond what the pinned key signed, and what is not signed is
bounded by the client's own caps. Any violation is one line and exit 2 (:class:`IntelError`):

- every answer is read as a stream and abandoned past a cap fixed before reading: the manifest
  answer 1 MiB, the catalogue 4 MiB, an error answer 4 KiB (of which 200 printable characters
  are shown), the set exactly the size its signed manifest declares (at most 1 GiB), an
  evaluation exactly 32 bytes per element sent; and within a deadline that grows with the size
  expected. Compressed answers are refused (``Accept-Encoding: identity``), so a small answer
  cannot inflate;
- the signed manifest's fields are type-checked before use;
- the unsigned batch limits must be integers in the client's range (``max_batch`` 1,024–65,536,
  ``min_charge`` 1–16,384 and at most ``max_batch``), and one evaluation never takes more than
  ``1 + 2 × ceil(lookups / 1024)`` requests, so a server cannot make the client pad without end
  or spend the token's quota on thousands of tiny requests;
- every evaluated element must be a canonical, non-identity ristretto255 point.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from unmask import __version__
from unmask.detect.indicators import oprf
from unmask.detect.indicators.confidential import Campaign, ConfidentialMatcher, PublishedSet, SetFormatError
from unmask.detect.indicators.sets import IndicatorSets
from unmask.intel import manifest as manifest_mod
from unmask.intel.errors import IntelError
from unmask.intel.tokens import split_token
from unmask.model import IndicatorSetInfo

ENV_TOKEN = "UNMASK_INTEL_TOKEN"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# What the client accepts of a server, whatever the server says (bytes, elements).
MANIFEST_CAP = 1 << 20
CATALOGUE_CAP = 4 << 20
SET_CAP = 1 << 30
ERROR_CAP = 4096
MIN_BATCH = 1024
MAX_BATCH = 65536
MAX_MIN_CHARGE = 16384
DEFAULT_MIN_CHARGE = 4096
# An answer must arrive within the request timeout plus one second per this many bytes expected.
_MIN_RATE = 64 * 1024
_HEX = frozenset("0123456789abcdef")


def printable(text: object, limit: int = 200) -> str:
    """Server-supplied text made fit for a one-line message: printable ASCII, no markup brackets."""
    raw = str(text)[: limit * 4]
    cleaned = "".join(c if " " <= c <= "~" else " " for c in raw).replace("[", "(").replace("]", ")")
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def _shown(value: object) -> str:
    return printable(json.dumps(value) if isinstance(value, str) else repr(value), 24)


def read_token(token_file: Path | None) -> str:
    """The bearer token from ``--intel-token-file`` or ``UNMASK_INTEL_TOKEN`` (never the command line)."""
    if token_file is not None:
        try:
            token = token_file.read_text().strip()
        except OSError as exc:
            raise IntelError(f"{token_file}: cannot read the intel token ({exc.strerror})") from None
    else:
        token = os.environ.get(ENV_TOKEN, "").strip()
    if not token:
        raise IntelError(f"no intel token: set {ENV_TOKEN} or pass --intel-token-file FILE")
    if split_token(token) is None:
        raise IntelError("the intel token is malformed (expected mvtcm_<id>_<secret>)")
    return token


def check_url(url: str) -> str:
    """A base URL the token may be sent to: https, or plain http only to this machine."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise IntelError(f"bad intel server URL {url!r} (expected https://host[:port])")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise IntelError(f"refusing to send the intel token over plain http to {host}; use https")
    return url.strip().rstrip("/")


@dataclass
class Epoch:
    """A verified epoch: its manifest, set and catalogue, and the server's batch limits."""

    manifest: dict[str, Any]
    published: PublishedSet
    catalogue: dict[str, Any]
    campaigns: list[Campaign]
    max_batch: int
    min_charge: int
    set_bytes: int
    batch: int = 0  # elements per request: max_batch rounded down to a multiple of min_charge

    def __post_init__(self) -> None:
        if not self.batch:
            self.batch = self.max_batch - self.max_batch % self.min_charge


@dataclass
class Traffic:
    """Bytes and requests exchanged with the intel server."""

    requests: int = 0
    sent: int = 0
    received: int = 0
    elements: int = 0
    padding: int = 0


class IntelClient:
    """Talks to one intel server with one token, trusting only manifests signed by the pinned key."""

    def __init__(self, url: str, pinned_key: str, token: str, *, timeout: float = 120.0) -> None:
        self.url = check_url(url)
        self.pinned = manifest_mod.parse_public_key(pinned_key)
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"unmask/{__version__}",
                "Accept-Encoding": "identity",  # nothing that could inflate past the caps
            },
            timeout=timeout,
        )
        self.traffic = Traffic()
        self.epoch: Epoch | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(self, method: str, path: str, *, cap: int, exact: int | None = None,
                 content: bytes | None = None) -> bytes:
        """One request; its answer read as a stream and abandoned past ``cap`` bytes or its deadline."""
        deadline = time.monotonic() + self.timeout + cap / _MIN_RATE
        try:
            with self._http.stream(method, path, content=content) as response:
                self.traffic.requests += 1
                self.traffic.sent += len(content or b"")
                if response.status_code != 200:
                    self._refused(response, path, deadline)
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise IntelError(f"the intel server answered {path} compressed ({printable(encoding, 20)})")
                declared = response.headers.get("content-length")
                if declared is not None and (not declared.strip().isdigit() or int(declared) > cap):
                    raise IntelError(f"the intel server's answer to {path} is larger than {cap} bytes; refused")
                body = bytearray()
                for chunk in response.iter_raw(65536):
                    body += chunk
                    self.traffic.received += len(chunk)
                    if len(body) > cap:
                        raise IntelError(f"the intel server's answer to {path} is larger than {cap} bytes; refused")
                    if time.monotonic() > deadline:
                        raise IntelError(f"the intel server is too slow answering {path}; gave up")
        except httpx.InvalidURL:
            raise IntelError(f"bad intel server URL {self.url!r}") from None
        except httpx.HTTPError as exc:
            raise IntelError(
                f"cannot reach the intel server {self.url} ({type(exc).__name__}: {printable(exc)})"
            ) from None
        if exact is not None and len(body) != exact:
            raise IntelError(f"the intel server's answer to {path} is {len(body)} bytes, not {exact}; refused")
        return bytes(body)

    def _refused(self, response: httpx.Response, path: str, deadline: float) -> None:
        """Raise the one-line error for a non-200 answer (reading at most a few KiB of it)."""
        status = response.status_code
        if status == 401:
            raise IntelError("the intel server refused the token (401: invalid, expired or revoked)")
        if status == 429:
            wait = response.headers.get("retry-after", "")
            raise IntelError(f"intel quota exceeded (429); retry after {wait if wait.isdigit() else '?'} s")
        if status == 410:
            raise IntelError("the intel epoch was retired during the scan (410); run the check again")
        text = b""
        for chunk in response.iter_raw(1024):
            text += chunk
            if len(text) >= ERROR_CAP or time.monotonic() > deadline:
                break
        message = printable(text[:ERROR_CAP].decode("utf-8", "replace"))
        raise IntelError(f"intel server answered {status} for {printable(path, 80)}: {message}")

    def fetch(self) -> Epoch:
        """Download the current manifest, set and catalogue, and check them against the pinned key."""
        try:
            doc = json.loads(self._request("GET", "/v1/manifest", cap=MANIFEST_CAP))
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict):
            raise IntelError(f"{self.url} does not look like an unmask intel server")
        manifest = manifest_mod.verify(doc.get("envelope"), self.pinned)
        epoch, set_bytes = signed_fields(manifest)
        max_batch, min_charge = batch_limits(doc.get("limits"))
        data = self._request("GET", f"/v1/epochs/{epoch}/set.bin", cap=set_bytes, exact=set_bytes)
        if hashlib.sha256(data).hexdigest() != manifest["set"]["sha256"]:
            raise IntelError("the downloaded intel set does not match its signed manifest")
        catalogue_raw = self._request("GET", f"/v1/epochs/{epoch}/catalogue.json", cap=CATALOGUE_CAP)
        if hashlib.sha256(catalogue_raw).hexdigest() != manifest.get("catalogue_sha256"):
            raise IntelError("the downloaded campaign catalogue does not match its signed manifest")
        try:
            published = PublishedSet(data)
            catalogue = json.loads(catalogue_raw)
            campaigns = [Campaign(str(c["name"]), str(c["source"])) for c in catalogue["campaigns"]]
        except (SetFormatError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise IntelError(f"the intel set is unusable ({printable(exc)})") from None
        self.epoch = Epoch(
            manifest=manifest,
            published=published,
            catalogue=catalogue,
            campaigns=campaigns,
            max_batch=max_batch,
            min_charge=min_charge,
            set_bytes=len(data),
        )
        return self.epoch

    def evaluate(self, blinded: list[bytes]) -> list[bytes]:
        """Evaluate blinded elements in batches, padded with random elements (see module docstring)."""
        if self.epoch is None:
            self.fetch()
        assert self.epoch is not None
        unit, limit = self.epoch.min_charge, self.epoch.batch
        padding = -len(blinded) % unit
        elements = blinded + [oprf.random_element() for _ in range(padding)]
        requests = -(-len(elements) // limit)
        # Implied by the checked limits; kept as the explicit bound on what one call may cost.
        if requests > 1 + 2 * math.ceil(len(blinded) / MIN_BATCH):
            raise IntelError(f"evaluating {len(blinded)} lookups would take {requests} requests; refused")
        self.traffic.elements += len(blinded)
        self.traffic.padding += padding
        path = f"/v1/epochs/{self.epoch.manifest['epoch']}/evaluate"
        out: list[bytes] = []
        for start in range(0, len(elements), limit):
            batch = elements[start : start + limit]
            size = len(batch) * oprf.ELEMENT_BYTES
            answer = self._request("POST", path, cap=size, exact=size, content=b"".join(batch))
            out.extend(answer_elements(answer))
        return out[: len(blinded)]


def answer_elements(answer: bytes) -> list[bytes]:
    """The elements of an evaluation answer, each a canonical, non-identity ristretto255 point."""
    elements = [answer[i : i + oprf.ELEMENT_BYTES] for i in range(0, len(answer), oprf.ELEMENT_BYTES)]
    for position, element in enumerate(elements):
        try:
            oprf.deserialize_element(element)
        except oprf.OprfError as exc:
            raise IntelError(
                f"the intel server answered an invalid group element ({exc}) at position {position}; refused"
            ) from None
    return elements


def signed_fields(manifest: dict[str, Any]) -> tuple[str, int]:
    """``(epoch id, set size)`` of a verified manifest, after checking the types of what is used."""
    epoch = manifest.get("epoch")
    if not isinstance(epoch, str) or not 0 < len(epoch) <= 64 or not all(c.isalnum() or c in "-_" for c in epoch):
        raise IntelError(f"the signed intel manifest has a malformed epoch id {_shown(epoch)}")
    described = manifest.get("set")
    if not isinstance(described, dict):
        raise IntelError("the signed intel manifest does not describe its set")
    digest, size, records = described.get("sha256"), described.get("bytes"), described.get("records")
    for name, value in (("set.sha256", digest), ("catalogue_sha256", manifest.get("catalogue_sha256"))):
        if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX:
            raise IntelError(f"the signed intel manifest's {name} is not a SHA-256 ({_shown(value)})")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= SET_CAP:
        raise IntelError(f"the signed intel manifest's set size {_shown(size)} is not an integer up to {SET_CAP} bytes")
    if not isinstance(records, int) or isinstance(records, bool) or not 0 <= records < 1 << 32:
        raise IntelError(f"the signed intel manifest's record count {_shown(records)} is not a 32-bit integer")
    return epoch, size


def batch_limits(limits: object) -> tuple[int, int]:
    """``(max_batch, min_charge)`` from the server's (unsigned) answer, if within the client's caps."""
    if limits is None:
        return MAX_BATCH, DEFAULT_MIN_CHARGE
    if not isinstance(limits, dict):
        raise IntelError(f"the intel server's limits are malformed ({_shown(limits)})")
    max_batch = limits.get("max_batch", MAX_BATCH)
    min_charge = limits.get("min_charge", DEFAULT_MIN_CHARGE)
    if not isinstance(max_batch, int) or isinstance(max_batch, bool) or not MIN_BATCH <= max_batch <= MAX_BATCH:
        raise IntelError(
            f"the intel server's max_batch {_shown(max_batch)} is not acceptable "
            f"(this client takes an integer from {MIN_BATCH} to {MAX_BATCH}); refused"
        )
    cap = min(MAX_MIN_CHARGE, max_batch)
    if not isinstance(min_charge, int) or isinstance(min_charge, bool) or not 1 <= min_charge <= cap:
        raise IntelError(
            f"the intel server's min_charge {_shown(min_charge)} is not acceptable "
            f"(this client takes an integer from 1 to {cap}); refused"
        )
    return max_batch, min_charge


def sets_info(client: IntelClient, epoch: Epoch) -> IndicatorSets:
    """Provenance for info.json: the remote epoch stands where indicator files usually do.

    The client never learns the indicators, so ``indicators`` is empty and the counts are the
    padded record count the manifest publishes.
    """
    manifest = epoch.manifest
    info = IndicatorSetInfo(
        name=f"intel epoch {manifest['epoch']}",
        path=client.url,
        sha256=str(manifest["set"]["sha256"]),
        indicators=int(manifest["set"]["records"]),
        unique=int(manifest["set"]["records"]),
        collections=tuple(sorted({c.name for c in epoch.campaigns})),
        by_type=(),
        unsupported=0,
        unsupported_examples=(),
    )
    return IndicatorSets([info], [])


def confidential_indicators(url: str, key: str, token: str) -> tuple[IndicatorSets, ConfidentialMatcher, IntelClient]:
    """Everything ``check_backup(..., indicators=...)`` needs for a confidential scan, plus the client."""
    client = IntelClient(url, key, token)
    epoch = client.fetch()
    return sets_info(client, epoch), ConfidentialMatcher(
        epoch.published, epoch.campaigns, client.evaluate, chunk=epoch.batch
    ), client


def from_options(
    url: str | None, key: str | None, token_file: Path | None, iocs: Sequence[Path] = ()
) -> tuple[IndicatorSets, ConfidentialMatcher]:
    """The ``check-backup --intel-*`` options turned into a matching backend (errors exit 2)."""
    if not url:
        raise IntelError("--intel-key and --intel-token-file need --intel-server URL")
    if not key:
        raise IntelError("--intel-server needs --intel-key PUBKEY (the holder's pinned public key)")
    if iocs:
        raise IntelError("--iocs and --intel-server cannot be combined yet: run two checks")
    check_url(url)
    manifest_mod.parse_public_key(key)  # fail on a bad key before reading the token or connecting
    sets, matcher, _ = confidential_indicators(url, key, read_token(token_file))
    return sets, matcher
