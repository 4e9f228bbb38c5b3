"""Connection-level defences of the intel service: caps and timeouts that uvicorn does not have.

What the installed uvicorn (0.55, h11 protocol) offers, and what the service uses of it:

- ``timeout_keep_alive``: closes a kept-alive connection that sends nothing after a response;
- ``h11_max_incomplete_event_size``: the most bytes of an unfinished request head it buffers (a
  larger head is answered 400 and closed), so a head cannot grow memory;
- ``backlog``; ``server_header=False``.

What it lacks, and this module adds by subclassing its h11 protocol (the one class that owns the
connection's state):

- **no deadline for a request head.** Once the first byte of a request has arrived nothing times
  out, so a client that sends half a header line every few seconds (slow-loris) holds its
  connection open for ever, on a new connection and on a kept-alive one alike. Here each head
  must be complete within ``header_timeout`` seconds of the connection being ready for it;
- **no deadline for a request body**: ``body_timeout`` bounds the time from the end of the head
  to the end of the body (the evaluate endpoint's largest body is 2 MB);
- **no deadline for a client that stops reading**: when the write buffer stays above the
  transport's high-water mark for ``send_timeout`` seconds, the connection is dropped;
- **no connection cap per client network**, and its ``limit_concurrency`` only answers 503 once a
  request head has been parsed, while counting every open connection, the slow-loris ones
  included: a few hundred stalled connections would make it refuse every legitimate client. Here
  a connection beyond ``max_connections`` overall, or beyond ``max_connections_per_network`` from
  one /24 (IPv4) or /64 (IPv6) network, is answered 503 and closed before a byte is read;
- **nothing to prefer a working client over a stalled one** when a cap is reached. Here, before
  refusing a new connection, the guard evicts the oldest connection of the same network (or, for
  the overall cap, of any network) that has not yet completed a single request head (and is at
  least ``evict_after`` seconds old, 0 by default). A legitimate client sends its head as soon as
  it connects, so it stops being a candidate within milliseconds; attackers that reconnect as
  fast as they can only evict each other. A connection that has completed a request is never
  evicted. (With an age threshold of even one second, 500 attackers reconnecting from the
  client's own /24 kept every slot younger than the threshold and no legitimate request got in.)

Every refusal and timeout is reported to a callback (the service counts them into aggregated
audit lines) and never logged one line each.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 21\r\n"
    b"retry-after: 5\r\nconnection: close\r\n\r\ntoo many connections\n"
)
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass(frozen=True)
class ConnectionLimits:
    """The caps and timeouts one server applies (seconds, connections, prefix lengths)."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    send_timeout: float = 60.0
    max_connections: int = 1000
    max_connections_per_network: int = 32
    ipv4_prefix: int = 24
    ipv6_prefix: int = 64
    evict_after: float = 0.0


def network_of(host: str | None, ipv4_prefix: int, ipv6_prefix: int) -> str | None:
    """The network a client address belongs to at the given prefix lengths (``None`` if not an IP)."""
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = ipv4_prefix if address.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


Event = Callable[[str, str | None], None]
"""``(reason, client host)``: a connection refused or cut, for the service's aggregated audit."""


class ConnectionGuard:
    """Open connections per network and overall, shared by every connection of one server.

    All methods run on the event loop's thread (protocol callbacks), so no lock is needed.
    """

    def __init__(self, limits: ConnectionLimits, on_event: Event | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.on_event: Event = on_event or (lambda reason, host: None)
        self.clock = clock
        self.open = 0
        self.per_network: dict[str | None, int] = defaultdict(int)
        # Connections that have not completed a request head yet, oldest first (dicts keep order).
        self._fresh: dict[GuardedH11Protocol, float] = {}
        self._fresh_in: dict[str | None, dict[GuardedH11Protocol, float]] = defaultdict(dict)
        self.refused = 0
        self.timed_out = 0
        self.evicted = 0

    def admit(self, connection: GuardedH11Protocol, host: str | None) -> tuple[bool, str | None]:
        """Count a new connection in, evicting a stalled one if a cap is reached: ``(admitted, network)``."""
        limits = self.limits
        network = network_of(host, limits.ipv4_prefix, limits.ipv6_prefix)
        reason = None
        if self.per_network[network] >= limits.max_connections_per_network and not self._evict(
            self._fresh_in.get(network)
        ):
            reason = "too many connections from one network"
        elif self.open >= limits.max_connections and not self._evict(self._fresh):
            reason = "too many connections"
        if reason is not None:
            self.refused += 1
            self.on_event(reason, host)
            return False, network
        self.open += 1
        self.per_network[network] += 1
        now = self.clock()
        self._fresh[connection] = now
        self._fresh_in[network][connection] = now
        return True, network

    def _evict(self, fresh: dict[GuardedH11Protocol, float] | None) -> bool:
        """Drop the oldest connection of ``fresh`` if it has stalled long enough; whether one was."""
        if not fresh:
            return False
        victim, since = next(iter(fresh.items()))
        if self.clock() - since < self.limits.evict_after:
            return False
        self.evicted += 1
        self.on_event("stalled connection evicted", victim.host)
        victim.evict()
        return True

    def started(self, connection: GuardedH11Protocol, network: str | None) -> None:
        """A connection completed its first request head: it is no longer a candidate for eviction."""
        self._fresh.pop(connection, None)
        fresh = self._fresh_in.get(network)
        if fresh is not None:
            fresh.pop(connection, None)
            if not fresh:
                del self._fresh_in[network]

    def release(self, connection: GuardedH11Protocol, network: str | None) -> None:
        """Count a closed (or evicted) connection out."""
        self.started(connection, network)
        self.open -= 1
        left = self.per_network[network] - 1
        if left > 0:
            self.per_network[network] = left
        else:
            del self.per_network[network]

    def timeout(self, reason: str, host: str | None) -> None:
        """Report a connection cut by a deadline."""
        self.timed_out += 1
        self.on_event(reason, host)


def _drop(transport: asyncio.BaseTransport, farewell: bytes | None = None) -> None:
    """Close now: a short answer if it fits the socket at once, and never wait for a client to read."""
    assert isinstance(transport, asyncio.WriteTransport)
    if transport.is_closing():
        return
    if farewell and not transport.get_write_buffer_size():
        transport.write(farewell)
    if transport.get_write_buffer_size():
        transport.abort()  # close() would wait for a client that does not read
    else:
        transport.close()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with connection caps and head, body and send deadlines.

    A subclass (rather than a proxy protocol in front of it) because the deadlines depend on the
    h11 connection's state: a head is awaited while the client's side is ``IDLE``, a body while it
    is ``SEND_BODY``. :func:`guarded_protocol` binds a :class:`ConnectionGuard` to a subclass of
    this for one server.
    """

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._admitted = False  # uvicorn's connection_made ran: its connection_lost must run too
        self._counted = False  # counted in by the guard (until closed or evicted)
        self._fresh = True  # no request head completed yet
        self._network: str | None = None
        self.host: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.host = str(peer[0]) if isinstance(peer, tuple | list) and peer else None
        admitted, self._network = self.guard.admit(self, self.host)
        if not admitted:
            _drop(transport, _REFUSED)
            return
        self._admitted = self._counted = True
        super().connection_made(transport)  # type: ignore[arg-type]
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self._uncount()
        if not self._admitted:
            return  # refused before uvicorn saw it: nothing of uvicorn's to clean up
        self._admitted = False
        super().connection_lost(exc)

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self.guard.release(self, self._network)

    def evict(self) -> None:
        """Give this stalled connection's place to a new one: uncounted now, closed at once."""
        self._uncount()
        self._cancel()
        if self.transport is not None:
            _drop(self.transport, _TIMED_OUT)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        self._track()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None and self._admitted:
            self._send_timer = self.loop.call_later(self.guard.limits.send_timeout, self._expired, "send stalled")

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    # --- deadlines ------------------------------------------------------------------------------

    def _track(self) -> None:
        """Arm or cancel the head and body deadlines from the client side's h11 state."""
        if not self._admitted or self.transport.is_closing():
            self._cancel()
            return
        state = self.conn.their_state
        if self._fresh and state is not h11.IDLE:
            self._fresh = False
            if self._counted:
                self.guard.started(self, self._network)
        if state is h11.IDLE:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self.guard.limits.header_timeout, self._expired, "header timeout"
                )
        elif self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if state is h11.SEND_BODY:
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(self.guard.limits.body_timeout, self._expired, "body timeout")
        elif self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel(self) -> None:
        for timer in (self._head_timer, self._body_timer, self._send_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._send_timer = None

    def _expired(self, reason: str) -> None:
        if not self._admitted or self.transport.is_closing():
            return
        self.guard.timeout(reason, self.host)
        # Only a connection waiting for a head has no answer in progress: it may get a 408.
        _drop(self.transport, _TIMED_OUT if reason == "header timeout" else None)
        self._cancel()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` whose connections share ``guard``."""
    return type("GuardedH11", (GuardedH11Protocol,), {"guard": guard})


class RateLimitedLog(logging.Filter):
    """At most ``burst`` records of one message template per ``window`` seconds; the rest counted.

    uvicorn logs a warning for every malformed request ("Invalid HTTP request received.") and a
    traceback for every failing request; a client can send thousands a second. The next record
    let through after a quiet spell says how many were suppressed.
    """

    def __init__(self, burst: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.window, self.clock = burst, window, clock
        self._seen: dict[str, list[float | int]] = {}  # template → [window start, passed, suppressed]

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)[:200]
        now = self.clock()
        slot = self._seen.get(key)
        if slot is None or now - slot[0] >= self.window:
            suppressed = int(slot[2]) if slot else 0
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if suppressed:
                record.msg = f"{record.msg} [{suppressed} similar message(s) suppressed]"
            return True
        if slot[1] < self.burst:
            slot[1] += 1
            return True
        slot[2] += 1
        return False
