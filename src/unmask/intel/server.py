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
element is refused whole (400) and still charged.

Every request that passes authentication gets one audit line, whatever happens to it next: a
client that disconnects before its body is complete, or whose body is cut by the body deadline,
gets a line with status 499. Refusals (a bad token, the per-minute limit, and the connection caps
and deadlines of :mod:`.guard`) are aggregated by :class:`~unmask.intel.audit.Refusals`: the first
of a kind in a window in full, the rest as one counted line. No line ever holds a request body.

Abuse limits (see :class:`ServerConfig` and docs/confidential-matching.md): the connection caps
and head/body/send deadlines of :mod:`.guard`, uvicorn's keep-alive timeout and head-size cap,
rate-limited uvicorn warnings, and published files streamed from disk in 64 KiB chunks rather
than read whole into memory for every download.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import os
import resource
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from unmask import timeutil
from unmask.detect.indicators import oprf
from unmask.intel.audit import AUDIT_FILE, AuditLog, Refusals, charged_today
from unmask.intel.errors import IntelError
from unmask.intel.guard import ConnectionGuard, ConnectionLimits, RateLimitedLog, guarded_protocol
from unmask.intel.publish import key_info
from unmask.intel.store import epoch_dir, read_state
from unmask.intel.tokens import TokenRecord, TokenStore

DEFAULT_MIN_CHARGE = 4096
DEFAULT_MAX_BATCH = 65536
_PUBLIC_FILES = {"manifest.json": "application/json", "set.bin": "application/octet-stream",
                 "catalogue.json": "application/json"}
_CHUNK = 64 * 1024
# Status of an authenticated request whose client went away before it was answered (nginx's code).
CLIENT_CLOSED = 499
_UVICORN_LOG = RateLimitedLog()
_ASYNCIO_LOG = RateLimitedLog()
_RESERVED_FILES = 64  # the audit log, published files being streamed, listeners, the interpreter's own


@dataclass
class ServerConfig:
    """Service policy; per-token quotas live in the token table.

    The abuse limits (all per server process):

    - ``header_timeout``, ``body_timeout``, ``send_timeout``: seconds for a request head to arrive,
      for its body to arrive, and for a client that stopped reading to resume (:mod:`.guard`);
    - ``keep_alive_timeout``: seconds an idle kept-alive connection stays open (uvicorn's own);
    - ``max_connections`` overall and ``max_connections_per_network`` per /``ipv4_prefix`` or
      /``ipv6_prefix`` client network; connections beyond them get 503 before a byte is read;
    - ``evict_after``: how old a connection that has not completed a request head must be to be
      evicted for a new one when a cap is reached (0: the oldest such connection always goes);
    - ``backlog``: the listen backlog, which is also how many connections asyncio accepts in one
      go before the guard sees them, so the open-files budget is ``max_connections + 3 × backlog``;
    - ``max_header_bytes``: the largest request head (uvicorn's ``h11_max_incomplete_event_size``);
    - ``refusal_window``: seconds over which refusals of one kind share one audit line.
    """

    folder: Path
    min_charge: int = DEFAULT_MIN_CHARGE
    max_batch: int = DEFAULT_MAX_BATCH
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    clock: Callable[[], datetime] = timeutil.now
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    send_timeout: float = 60.0
    keep_alive_timeout: int = 5
    max_connections: int = 1000
    max_connections_per_network: int = 32
    ipv4_prefix: int = 24
    ipv6_prefix: int = 64
    evict_after: float = 0.0
    backlog: int = 512
    max_header_bytes: int = 16 * 1024
    refusal_window: float = 60.0

    def limits(self) -> ConnectionLimits:
        """The connection caps and deadlines :mod:`.guard` enforces."""
        return ConnectionLimits(
            header_timeout=self.header_timeout,
            body_timeout=self.body_timeout,
            send_timeout=self.send_timeout,
            max_connections=self.max_connections,
            max_connections_per_network=self.max_connections_per_network,
            ipv4_prefix=self.ipv4_prefix,
            ipv6_prefix=self.ipv6_prefix,
            evict_after=self.evict_after,
        )


@dataclass
class _Outcome:
    response: Response
    epoch: str | None = None
    charged: int = 0
    elements: int = 0
    bytes_in: int = 0
    bytes_out: int | None = None  # when the response has no ``body`` (a streamed file)
    reason: str | None = None


def _peer(request: Request) -> str | None:
    """The client address cut to its network (/24, /48): enough to spot a token used from many places."""
    return _network(request.client.host if request.client else None)


def _network(host: str | None) -> str | None:
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
        self.refusals = Refusals(self.audit, window=config.refusal_window)
        self._flush_timer: asyncio.TimerHandle | None = None
        self.guard = ConnectionGuard(config.limits(), self._connection_refused)

    # --- refusals -------------------------------------------------------------------------------

    def _refused(self, **fields: Any) -> bool:
        """Count a refusal (see :class:`~unmask.intel.audit.Refusals`); ``True``: write it in full."""
        first = self.refusals.note(ts=self.config.clock(), **fields)
        self._arm_flush()
        return first

    def _connection_refused(self, reason: str, host: str | None) -> None:
        status = 503 if reason.startswith("too many") else 408  # timeouts and evictions: 408
        self._refused(reason=reason, status=status, peer=_network(host), own_line=False)

    def _arm_flush(self) -> None:
        """Write the summary lines when the earliest window ends (on the server's event loop)."""
        if self._flush_timer is not None:
            return
        delay = self.refusals.next_due()
        if delay is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the server's loop: the next refusal or close() flushes
            return
        self._flush_timer = loop.call_later(delay + 0.01, self._flush_due)

    def _flush_due(self) -> None:
        self._flush_timer = None
        self.refusals.flush(self.config.clock())
        self._arm_flush()

    def flush_refusals(self) -> int:
        """Write every pending summary line now (at shutdown, and for tests)."""
        return self.refusals.flush(self.config.clock(), everything=True)

    def close(self) -> None:
        """Called when the server stops: no refusal goes uncounted."""
        self.flush_refusals()

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

    def _authenticate(self, header: str, now: datetime) -> tuple[str | None, TokenRecord | None, str]:
        """``(claimed token id, usable record or None, reason for a refusal)``."""
        if not header:
            return None, None, "no token"
        if header[:7].lower() != "bearer ":
            return None, None, "not a bearer token"
        token_id, record = self.tokens.lookup(header[7:])
        if token_id is None:
            return None, None, "malformed token"
        if record is None:
            return token_id, None, "wrong token secret" if self.tokens.known(token_id) else "unknown token"
        if record.revoked:
            return token_id, None, "revoked token"
        if not record.usable(now):
            return token_id, None, "expired token"
        return token_id, record, ""

    async def _guarded(
        self,
        request: Request,
        endpoint: str,
        handler: Callable[[Request, TokenRecord, datetime], Awaitable[_Outcome]],
    ) -> Response:
        started = time.perf_counter()
        now = self.config.clock()
        peer = _peer(request)
        token_id, record, reason = self._authenticate(request.headers.get("authorization", ""), now)
        outcome: _Outcome
        if record is None:
            outcome = _Outcome(
                JSONResponse({"error": "invalid, expired or revoked token"}, status_code=401,
                             headers={"WWW-Authenticate": 'Bearer realm="unmask-intel"'}), reason=reason
            )
            if self._refused(reason=reason, status=401, peer=peer, claimed=token_id):
                self._audit(request, endpoint, now, started, token_id, None, peer, outcome)
            return outcome.response
        wait = self._rate_ok(record, now)
        if wait is not None:
            outcome = _Outcome(
                JSONResponse({"error": "too many requests per minute"}, status_code=429,
                             headers={"Retry-After": str(wait)}), reason="requests per minute"
            )
            if self._refused(reason="requests per minute", status=429, peer=peer, token_id=record.id, org=record.org):
                self._audit(request, endpoint, now, started, token_id, record, peer, outcome)
            return outcome.response
        # From here on every request gets its own line, however it ends.
        try:
            outcome = await handler(request, record, now)
        except ClientDisconnect:
            outcome = _Outcome(Response(status_code=CLIENT_CLOSED), reason="client disconnected")
        except BaseException as exc:
            failed = _Outcome(Response(status_code=500 if isinstance(exc, Exception) else CLIENT_CLOSED),
                              reason=f"{type(exc).__name__}"[:64])
            self._audit(request, endpoint, now, started, token_id, record, peer, failed)
            raise
        self._audit(request, endpoint, now, started, token_id, record, peer, outcome)
        return outcome.response

    def _audit(
        self,
        request: Request,
        endpoint: str,
        now: datetime,
        started: float,
        token_id: str | None,
        record: TokenRecord | None,
        peer: str | None,
        outcome: _Outcome,
    ) -> None:
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
            bytes_out=outcome.bytes_out if outcome.bytes_out is not None else len(response.body),
            status=response.status_code,
            duration_ms=(time.perf_counter() - started) * 1000,
            client=request.headers.get("user-agent", ""),
            peer=peer,
            reason=outcome.reason,
        )

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
        path = epoch_dir(self.folder, epoch) / name
        size = (await run_in_threadpool(path.stat)).st_size
        # Streamed in chunks: a slow reader holds 64 KiB of the file in memory, not all of it.
        return _Outcome(
            StreamingResponse(_chunks(path), media_type=_PUBLIC_FILES[name], headers={"Content-Length": str(size)}),
            epoch=epoch, bytes_out=size,
        )

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
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return _Outcome(JSONResponse({"error": f"at most {self.config.max_batch} elements per request"},
                                                 status_code=413), epoch=epoch, bytes_in=len(body))
        except ClientDisconnect:
            # Gone mid-body (or cut by the body deadline): nothing evaluated, nothing charged, logged.
            return _Outcome(Response(status_code=CLIENT_CLOSED), epoch=epoch, bytes_in=len(body),
                            reason="client disconnected")
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


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def uvicorn_config(service: IntelService, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration the service runs under: its guarded h11 protocol and limits.

    ``options`` are passed to :class:`uvicorn.Config` (host, port, TLS files). uvicorn's
    ``limit_concurrency`` is deliberately not used: the guard's caps act before a request is read
    and per client network (see :mod:`.guard`).
    """
    config = service.config
    settings: dict[str, Any] = {
        "log_level": "warning",
        "lifespan": "off",
        "server_header": False,
        **options,
        "http": guarded_protocol(service.guard),
        # No WebSocket upgrades: the service has none, and an upgraded connection would leave the
        # guard's protocol (and its accounting) behind.
        "ws": "none",
        "timeout_keep_alive": config.keep_alive_timeout,
        "h11_max_incomplete_event_size": config.max_header_bytes,
        "backlog": config.backlog,
    }
    built = uvicorn.Config(service.app(), **settings)
    # One line per malformed request or failing handler (uvicorn), or per refused accept when out
    # of file descriptors (asyncio, with a traceback), would let any client grow the log.
    for name, log_filter in (("uvicorn.error", _UVICORN_LOG), ("asyncio", _ASYNCIO_LOG)):
        logger = logging.getLogger(name)
        if log_filter not in logger.filters:
            logger.addFilter(log_filter)
    return built


def _file_limit(wanted: int) -> int:
    """Raise the soft open-files limit toward ``wanted`` if allowed; the connections it leaves room for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else int(soft)


def fit_file_limit(config: ServerConfig) -> None:
    """Make the connection cap fit the open-files limit (raising the soft limit where allowed).

    Every connection is a file descriptor, and asyncio accepts up to ``backlog`` connections in
    one go before the guard can refuse any; the connections it then refuses or evicts release
    their descriptors only on a later turn of the event loop, while the next batch may already
    be accepted. So the budget is ``max_connections + 3 × backlog`` plus a reserve (measured:
    with ``+ backlog`` alone a flood still ran the server out of descriptors). Running out would
    not just refuse connections: asyncio stops accepting for a second at a time, for everybody.
    """
    wanted = config.max_connections + 3 * config.backlog + _RESERVED_FILES
    available = _file_limit(wanted)
    if available >= wanted:
        return
    backlog = min(config.backlog, max(16, available // 8))
    connections = max(1, available - 3 * backlog - _RESERVED_FILES)
    logging.getLogger("unmask.intel").warning(
        "open-files limit %d: serving at most %d connections (not %d) with a backlog of %d",
        available, connections, config.max_connections, backlog,
    )
    config.max_connections, config.backlog = connections, backlog


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
    if tls_cert is None and host not in ("127.0.0.1", "::1", "localhost"):
        # Bearer tokens in clear text on a network; behind a TLS reverse proxy, bind to loopback.
        raise IntelError(f"refusing to serve plain http on {host}: pass --tls-cert/--tls-key or bind 127.0.0.1")
    if (tls_cert is None) != (tls_key is None):
        raise IntelError("--tls-cert and --tls-key go together")
    config = ServerConfig(folder, **policy)
    if config.min_charge > config.max_batch:
        # Clients refuse such a server: a request could never be as big as its own charge.
        raise IntelError(f"--min-charge {config.min_charge} is more than --max-batch {config.max_batch}")
    fit_file_limit(config)
    service = IntelService(config)
    server = uvicorn.Server(
        uvicorn_config(
            service,
            host=host,
            port=port,
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
        )
    )
    try:
        server.run()
    finally:
        service.close()
