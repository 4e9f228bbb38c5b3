"""The investigator's side: download and verify an epoch, evaluate blinded keys, build the matcher.

Nothing here sends an artefact: the server receives blinded group elements (uniformly random to
it), padded to a multiple of its minimum charge with random elements, so it learns only a
rounded-up count of lookups and when they happened.
"""

from __future__ import annotations

import hashlib
import json
import os
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
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"unmask/{__version__}"},
            timeout=timeout,
        )
        self.traffic = Traffic()
        self.epoch: Epoch | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(self, method: str, path: str, content: bytes | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, path, content=content)
        except httpx.InvalidURL:
            raise IntelError(f"bad intel server URL {self.url!r}") from None
        except httpx.HTTPError as exc:
            raise IntelError(f"cannot reach the intel server {self.url} ({type(exc).__name__}: {exc})") from None
        self.traffic.requests += 1
        self.traffic.sent += len(content or b"")
        self.traffic.received += len(response.content)
        if response.status_code == 401:
            raise IntelError("the intel server refused the token (401: invalid, expired or revoked)")
        if response.status_code == 429:
            wait = response.headers.get("retry-after", "?")
            raise IntelError(f"intel quota exceeded (429); retry after {wait} s")
        if response.status_code == 410:
            raise IntelError("the intel epoch was retired during the scan (410); run the check again")
        if response.status_code != 200:
            raise IntelError(f"intel server answered {response.status_code} for {path}: {response.text[:200]}")
        return response

    def fetch(self) -> Epoch:
        """Download the current manifest, set and catalogue, and check them against the pinned key."""
        try:
            doc = self._request("GET", "/v1/manifest").json()
        except ValueError:
            raise IntelError(f"{self.url} does not look like an unmask intel server") from None
        manifest = manifest_mod.verify(doc.get("envelope") if isinstance(doc, dict) else None, self.pinned)
        epoch = str(manifest["epoch"])
        limits = doc.get("limits") or {}
        data = self._request("GET", f"/v1/epochs/{epoch}/set.bin").content
        if hashlib.sha256(data).hexdigest() != manifest["set"]["sha256"]:
            raise IntelError("the downloaded intel set does not match its signed manifest")
        catalogue_raw = self._request("GET", f"/v1/epochs/{epoch}/catalogue.json").content
        if hashlib.sha256(catalogue_raw).hexdigest() != manifest.get("catalogue_sha256"):
            raise IntelError("the downloaded campaign catalogue does not match its signed manifest")
        try:
            published = PublishedSet(data)
            catalogue = json.loads(catalogue_raw)
            campaigns = [Campaign(str(c["name"]), str(c["source"])) for c in catalogue["campaigns"]]
        except (SetFormatError, ValueError, KeyError, TypeError) as exc:
            raise IntelError(f"the intel set is unusable ({exc})") from None
        self.epoch = Epoch(
            manifest=manifest,
            published=published,
            catalogue=catalogue,
            campaigns=campaigns,
            max_batch=max(1, int(limits.get("max_batch", 65536))),
            min_charge=max(1, int(limits.get("min_charge", 4096))),
            set_bytes=len(data),
        )
        return self.epoch

    def evaluate(self, blinded: list[bytes]) -> list[bytes]:
        """Evaluate blinded elements in batches, padded with random elements (see module docstring)."""
        if self.epoch is None:
            self.fetch()
        assert self.epoch is not None
        unit, limit = self.epoch.min_charge, self.epoch.max_batch
        padding = -len(blinded) % unit
        elements = blinded + [oprf.random_element() for _ in range(padding)]
        self.traffic.elements += len(blinded)
        self.traffic.padding += padding
        path = f"/v1/epochs/{self.epoch.manifest['epoch']}/evaluate"
        out: list[bytes] = []
        for start in range(0, len(elements), limit):
            batch = elements[start : start + limit]
            answer = self._request("POST", path, b"".join(batch)).content
            if len(answer) != len(batch) * oprf.ELEMENT_BYTES:
                raise IntelError("the intel server answered a batch of the wrong size")
            out.extend(answer[i : i + 32] for i in range(0, len(answer), 32))
        return out[: len(blinded)]


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
        epoch.published, epoch.campaigns, client.evaluate, chunk=epoch.max_batch
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
