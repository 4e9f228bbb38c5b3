"""``unmask intel serve``: the intel holder's HTTP service (Starlette on uvicorn).

Endpoints (all but ``/v1/health`` need ``Authorization: Bearer mvtcm_<id>_<secret>``):

- ``GET  /v1/manifest``: the current epoch's signed manifest, plus the batch limits;
- ``GET  /v1/epochs/<e>/manifest.json | set.bin | catalogue.json``: one epoch's published files;
- ``POST /v1/epochs/<e>/evaluate``: body N×32 bytes of blinded elements, answer N×32 bytes.

Before any scalar multiplication a request must pass, in order: a valid unrevoked token (401),
the token's requests-per-minute window (429), an epoch that is current or in its grace period
(404 unknown, 410 retired), the batch size limit (413), a well-formed body (400), and the
token's daily evaluation quota, charging at least ``min_charge`` elements per request so tiny
probes cost as much as a small scan (429 with ``Retry-After``). A batch holding any invalid
element is refused whole (400) and still charged. Every request, refused or not, gets one audit
line; no line ever holds a request body.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from unmask import timeutil
from unmask.detect.indicators import oprf
from unmask.intel.audit import AUDIT_FILE, AuditLog, charged_today
from unmask.intel.errors import IntelError
from unmask.intel.publish import key_info
from unmask.intel.store import epoch_dir, read_state
from unmask.intel.tokens import TokenRecord, TokenStore

DEFAULT_MIN_CHARGE = 4096
DEFAULT_MAX_BATCH = 65536
_PUBLIC_FILES = {"manifest.json": "application/json", "set.bin": "application/octet-stream",
                 "catalogue.json": "application/json"}


@dataclass
class ServerConfig:
    """Service policy; per-token quotas live in the token table."""

    folder: Path
    min_charge: int = DEFAULT_MIN_CHARGE
    max_batch: int = DEFAULT_MAX_BATCH
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    clock: Callable[[], datetime] = timeutil.now


@dataclass
class _Outcome:
    response: Response
    epoch: str | None = None
    charged: int = 0
    elements: int = 0
    bytes_in: int = 0


def _peer(request: Request) -> str | None:
    """The client address cut to its network (/24, /48): enough to spot a token used from many places."""
    host = request.client.host if request.client else None
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


class IntelService:
    """The service state: tokens, quotas, audit log, epoch keys."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.folder = config.folder
        if not (self.folder / "epochs.json").exists():
            raise IntelError(f"{self.folder}: no published epoch (run `unmask intel publish` first)")
        self.tokens = TokenStore(self.folder)
        self.audit = AuditLog(self.folder / AUDIT_FILE)
        day = config.clock().date().isoformat()
        self._daily: dict[tuple[str, str], int] = {
            (token, day): n for token, n in charged_today(self.folder / AUDIT_FILE, config.clock()).items()
        }
        self._minute: dict[str, deque[float]] = {}
        self._quota_lock = threading.Lock()
        self._secrets: dict[str, bytes] = {}
        self._semaphore: asyncio.Semaphore | None = None

    # --- policy ---------------------------------------------------------------------------------

    def _rate_ok(self, token: TokenRecord, now: datetime) -> int | None:
        """``None`` when the request fits the per-minute window, else seconds to wait."""
        stamp = now.timestamp()
        with self._quota_lock:
            window = self._minute.setdefault(token.id, deque())
            while window and window[0] <= stamp - 60:
                window.popleft()
            if len(window) >= token.requests_per_minute:
                return max(1, math.ceil(window[0] + 60 - stamp))
            window.append(stamp)
            return None

    def _charge(self, token: TokenRecord, amount: int, now: datetime) -> tuple[bool, int]:
        """Reserve evaluations from today's quota: ``(accepted, remaining)``."""
        key = (token.id, now.date().isoformat())
        with self._quota_lock:
            used = self._daily.get(key, 0)
            if used + amount > token.evals_per_day:
                return False, token.evals_per_day - used
            self._daily[key] = used + amount
            return True, token.evals_per_day - used - amount

    def remaining(self, token: TokenRecord, now: datetime) -> int:
        """Evaluations left today for a token."""
        with self._quota_lock:
            return token.evals_per_day - self._daily.get((token.id, now.date().isoformat()), 0)

    def _secret(self, epoch: str) -> bytes:
        cached = self._secrets.get(epoch)
        if cached is None:
            seed = (epoch_dir(self.folder, epoch) / "seed").read_bytes()
            cached, _ = oprf.derive_key_pair(seed, key_info(epoch))
            self._secrets[epoch] = cached
        return cached

    def _epoch_status(self, epoch: str, now: datetime) -> Response | None:
        state = read_state(self.folder)
        if epoch not in state.epochs:
            return JSONResponse({"error": "unknown epoch"}, status_code=404)
        if not state.evaluable(epoch, now):
            self._secrets.pop(epoch, None)
            return JSONResponse({"error": "epoch retired; download the current manifest"}, status_code=410)
        return None

    # --- request plumbing -----------------------------------------------------------------------

    async def _guarded(
        self,
        request: Request,
        endpoint: str,
        handler: Callable[[Request, TokenRecord, datetime], Awaitable[_Outcome]],
    ) -> Response:
        started = time.perf_counter()
        now = self.config.clock()
        header = request.headers.get("authorization", "")
        token_id: str | None = None
        record: TokenRecord | None = None
        if header.lower().startswith("bearer "):
            token_id, record = self.tokens.lookup(header[7:])
        outcome: _Outcome
        if record is None or not record.usable(now):
            outcome = _Outcome(
                JSONResponse({"error": "invalid, expired or revoked token"}, status_code=401,
                             headers={"WWW-Authenticate": 'Bearer realm="unmask-intel"'})
            )
        else:
            wait = self._rate_ok(record, now)
            if wait is not None:
                outcome = _Outcome(
                    JSONResponse({"error": "too many requests per minute"}, status_code=429,
                                 headers={"Retry-After": str(wait)})
                )
            else:
                outcome = await handler(request, record, now)
        response = outcome.response
        self.audit.append(
            ts=now,
            token_id=token_id,
            org=record.org if record else None,
            method=request.method,
            endpoint=endpoint,
            epoch=outcome.epoch or request.path_params.get("epoch"),
            charged=outcome.charged,
            elements=outcome.elements,
            bytes_in=outcome.bytes_in,
            bytes_out=len(response.body),
            status=response.status_code,
            duration_ms=(time.perf_counter() - started) * 1000,
            client=request.headers.get("user-agent", ""),
            peer=_peer(request),
        )
        return response

    async def _manifest(self, request: Request, token: TokenRecord, now: datetime) -> _Outcome:
        state = read_state(self.folder)
        if state.current is None:
            return _Outcome(JSONResponse({"error": "nothing published"}, status_code=503))
        envelope = (epoch_dir(self.folder, state.current) / "manifest.json").read_text()
        # The envelope is embedded verbatim: re-serialising it is harmless (the signature covers
        # the canonical form) but pointless.
        extra = json.dumps(
            {"max_batch": self.config.max_batch, "min_charge": self.config.min_charge}, separators=(",", ":")
        )
        body = f'{{"envelope":{envelope},"limits":{extra},"quota_remaining":{self.remaining(token, now)}}}'

        return _Outcome(Response(body, media_type="application/json"), epoch=state.current)

    async def _file(self, request: Request, token: TokenRecord, now: datetime) -> _Outcome:
        epoch, name = request.path_params["epoch"], request.path_params["name"]
        if name not in _PUBLIC_FILES:  # the seed and anything else in the folder are never served
            return _Outcome(JSONResponse({"error": "not found"}, status_code=404))
        try:
            refused = self._epoch_status(epoch, now)
        except IntelError:
            refused = JSONResponse({"error": "bad epoch"}, status_code=404)
        if refused is not None:
            return _Outcome(refused, epoch=epoch)
        data = await run_in_threadpool((epoch_dir(self.folder, epoch) / name).read_bytes)
        return _Outcome(Response(data, media_type=_PUBLIC_FILES[name]), epoch=epoch)

    async def _evaluate(self, request: Request, token: TokenRecord, now: datetime) -> _Outcome:
        epoch = request.path_params["epoch"]
        try:
            refused = self._epoch_status(epoch, now)
        except IntelError:
            refused = JSONResponse({"error": "bad epoch"}, status_code=404)
        if refused is not None:
            return _Outcome(refused, epoch=epoch)
        limit = self.config.max_batch * oprf.ELEMENT_BYTES
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _Outcome(JSONResponse({"error": f"at most {self.config.max_batch} elements per request"},
                                         status_code=413), epoch=epoch)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _Outcome(JSONResponse({"error": f"at most {self.config.max_batch} elements per request"},
                                             status_code=413), epoch=epoch, bytes_in=len(body))
        if not body or len(body) % oprf.ELEMENT_BYTES:
            return _Outcome(JSONResponse({"error": "body must be a non-empty multiple of 32 bytes"},
                                         status_code=400), epoch=epoch, bytes_in=len(body))
        count = len(body) // oprf.ELEMENT_BYTES
        charge = max(count, self.config.min_charge)
        accepted, remaining = self._charge(token, charge, now)
        if not accepted:
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
            return _Outcome(
                JSONResponse({"error": "daily evaluation quota exhausted", "remaining": remaining},
                             status_code=429,
                             headers={"Retry-After": str(max(1, int((midnight - now).total_seconds()))),
                                      "X-Quota-Remaining": str(max(0, remaining))}),
                epoch=epoch, elements=count, bytes_in=len(body),
            )
        elements = [bytes(body[i : i + 32]) for i in range(0, len(body), 32)]
        secret = self._secret(epoch)
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(max(1, self.config.concurrency))
        async with self._semaphore:
            try:
                evaluated = await run_in_threadpool(oprf.blind_evaluate_batch, secret, elements)
            except oprf.OprfError:
                return _Outcome(JSONResponse({"error": "invalid group element in batch"}, status_code=400),
                                epoch=epoch, charged=charge, elements=count, bytes_in=len(body))
        return _Outcome(
            Response(b"".join(evaluated), media_type="application/octet-stream",
                     headers={"X-Quota-Remaining": str(remaining)}),
            epoch=epoch, charged=charge, elements=count, bytes_in=len(body),
        )

    def app(self) -> Starlette:
        """The ASGI application."""

        def route(endpoint: str, handler: Callable[[Request, TokenRecord, datetime], Awaitable[_Outcome]]
                  ) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint_fn(request: Request) -> Response:
                return await self._guarded(request, endpoint, handler)

            return endpoint_fn

        async def health(_: Request) -> Response:
            return JSONResponse({"ok": True})

        return Starlette(
            routes=[
                Route("/v1/health", health),
                Route("/v1/manifest", route("manifest", self._manifest)),
                Route("/v1/epochs/{epoch}/evaluate", route("evaluate", self._evaluate), methods=["POST"]),
                Route("/v1/epochs/{epoch}/{name}", route("file", self._file)),
            ]
        )


def serve(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    **policy: Any,
) -> None:
    """Run the service on uvicorn until interrupted."""
    import uvicorn

    if tls_cert is None and host not in ("127.0.0.1", "::1", "localhost"):
        # Bearer tokens in clear text on a network; behind a TLS reverse proxy, bind to loopback.
        raise IntelError(f"refusing to serve plain http on {host}: pass --tls-cert/--tls-key or bind 127.0.0.1")
    if (tls_cert is None) != (tls_key is None):
        raise IntelError("--tls-cert and --tls-key go together")
    service = IntelService(ServerConfig(folder, **policy))
    uvicorn.run(
        service.app(),
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
    )
