"""The intel server under abuse: slow clients, connection floods, refusal floods, aborted requests.

Each test starts the real service (guarded uvicorn, as ``unmask intel serve`` runs it) on 127.0.0.1
with short deadlines, and asserts both the outcome and that it came within a bounded time.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from unmask.cli import main
from unmask.detect.indicators import oprf
from unmask.intel.audit import AUDIT_FILE, bounded, verify
from unmask.intel.guard import RateLimitedLog, network_of
from unmask.intel.publish import PublishReport
from unmask.intel.store import epoch_dir
from unmask.intel.tokens import TokenStore

pytestmark = pytest.mark.timeout(120)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _connect(url: str, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", _port(url)))
    return sock


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> tuple[bool, bytes, float]:
    """Trickle ``trickle`` one byte per 0.2 s until the server closes; ``(closed, answer, elapsed)``."""
    started = time.monotonic()
    answer = b""
    sock.settimeout(0.2)
    position = 0
    while time.monotonic() - started < seconds:
        try:
            if position < len(trickle):
                sock.send(trickle[position : position + 1])
                position += 1
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, answer, time.monotonic() - started
        if not data:
            return True, answer, time.monotonic() - started
        answer += data
    return False, answer, time.monotonic() - started


def _lines(folder: Path) -> list[dict[str, object]]:
    path = folder / AUDIT_FILE
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def token(intel_dir: tuple[Path, PublishReport]) -> str:
    return TokenStore(intel_dir[0]).create("Lab A")[1]


def test_network_of() -> None:
    assert network_of("192.0.2.77", 24, 64) == "192.0.2.0/24"
    assert network_of("2001:db8:1:2:3:4:5:6", 24, 64) == "2001:db8:1:2::/64"
    assert network_of("::ffff:192.0.2.77", 24, 64) == "192.0.2.0/24"  # v4-mapped counts as IPv4
    assert network_of("fe80::1%eth0", 24, 48) == "fe80::/48"
    assert network_of(None, 24, 64) is None and network_of("unix-socket", 24, 64) is None


def test_bounded_text() -> None:
    assert bounded("abc123def456", 16) == "abc123def456"
    huge = bounded("x" * 60_000_000, 16)
    assert huge == "x" * 16 + "...(60000000 chars)"
    assert bounded("a\nb\x1b[31m\u202e", 40) == "a\\nb\\x1b[31m\\u202e"
    assert bounded(None, 5) is None


def test_slow_loris_head_is_closed_within_header_timeout(intel_dir, start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder, header_timeout=1.0, keep_alive_timeout=30)
    head = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    # A new connection that trickles its head one byte per 0.2 s, never finishing it.
    with _connect(live.url) as sock:
        closed, answer, elapsed = _closed_within(sock, 6.0, head)
    assert closed and 0.8 < elapsed < 3.0, elapsed
    assert answer.startswith(b"HTTP/1.1 408")
    # A kept-alive connection: one good request, then a trickled head. The keep-alive timer stops
    # at the first byte (uvicorn's own behaviour); the head deadline still closes it.
    with _connect(live.url) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        closed, answer, elapsed = _closed_within(sock, 6.0, head)
    assert closed and elapsed < 3.0, elapsed
    # An idle connection that never sends a byte is closed by the same deadline.
    with _connect(live.url) as sock:
        closed, _, elapsed = _closed_within(sock, 6.0)
    assert closed and elapsed < 3.0
    assert live.service.guard.timed_out == 3 and live.service.guard.open == _wait_open(live, 0)
    live.service.flush_refusals()
    summary = [x for x in _lines(folder) if x.get("kind") == "refused"]
    assert summary == [summary[0]] and summary[0]["reason"] == "header timeout" and summary[0]["count"] == 3
    assert summary[0]["peer"] == "127.0.0.0/24"


def _wait_open(live, expected: int) -> int:  # type: ignore[no-untyped-def]
    _wait_for(lambda: live.service.guard.open == expected)
    return int(live.service.guard.open)


def _evaluate_head(report: PublishReport, token: str, length: int) -> bytes:
    return (
        f"POST /v1/epochs/{report.epoch}/evaluate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"User-Agent: slow\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_slow_body_is_cut_and_audited(intel_dir, start_server, token: str) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    live = start_server(folder, body_timeout=1.0)
    body = oprf.random_element() * 100
    with _connect(live.url) as sock:
        sock.sendall(_evaluate_head(report, token, len(body)))
        closed, answer, elapsed = _closed_within(sock, 6.0, body)
    assert closed and 0.8 < elapsed < 3.0, elapsed
    assert not answer  # no answer is possible mid-body: the connection is dropped
    assert _wait_for(lambda: any(x.get("status") == 499 for x in _lines(folder)))
    cut = next(x for x in _lines(folder) if x.get("status") == 499)
    assert cut["endpoint"] == "evaluate" and cut["org"] == "Lab A" and cut["charged"] == 0
    assert 0 < int(cut["bytes_in"]) < len(body) and cut["reason"] == "client disconnected"  # type: ignore[call-overload]
    live.service.flush_refusals()
    assert [x["reason"] for x in _lines(folder) if x.get("kind") == "refused"] == ["body timeout"]


def test_aborted_authenticated_request_gets_an_audit_line(intel_dir, start_server, token: str) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    live = start_server(folder)
    body = oprf.random_element() * 100
    with _connect(live.url) as sock:
        sock.sendall(_evaluate_head(report, token, len(body)) + body[:1000])
        time.sleep(0.3)
    assert _wait_for(lambda: len(_lines(folder)) == 1)
    (line,) = _lines(folder)
    assert line["status"] == 499 and line["bytes_in"] == 1000 and line["charged"] == 0
    assert line["token_id"] == token.split("_")[1] and line["client"] == "slow"
    assert verify(folder / AUDIT_FILE).ok
    # The server is still there for everybody else.
    assert httpx.get(live.url + "/v1/health").status_code == 200


def test_connection_caps_per_network_and_overall(intel_dir, start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder, max_connections_per_network=4, max_connections=6, header_timeout=30, evict_after=60)
    held = [_connect(live.url) for _ in range(4)]
    try:
        assert _wait_open(live, 4) == 4
        with _connect(live.url) as extra:  # a fifth from 127.0.0.0/24
            closed, answer, elapsed = _closed_within(extra, 3.0)
        assert closed and elapsed < 1.0 and answer.startswith(b"HTTP/1.1 503")
        # Another network still gets in, with a real answer.
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.1.1"))
        with other:
            assert other.get(live.url + "/v1/health").status_code == 200
        # The overall cap: two more from other networks fill it (4 + 2 = 6), the next is refused.
        more = [_connect(live.url, "127.0.2.1"), _connect(live.url, "127.0.3.1")]
        held += more
        assert _wait_open(live, 6) == 6
        with _connect(live.url, "127.0.4.1") as extra:
            closed, answer, _ = _closed_within(extra, 3.0)
        assert closed and answer.startswith(b"HTTP/1.1 503")
        # A closed connection frees its place.
        held.pop(0).close()
        assert _wait_open(live, 5) == 5
        with _connect(live.url) as again:
            again.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            again.settimeout(5)
            assert again.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()
    live.service.flush_refusals()
    reasons = {(x["reason"], x["peer"], x["count"]) for x in _lines(folder) if x.get("kind") == "refused"}
    assert reasons == {
        ("too many connections from one network", "127.0.0.0/24", 1),
        ("too many connections", "127.0.4.0/24", 1),
    }


def test_a_new_connection_evicts_the_oldest_stalled_one(intel_dir, start_server) -> None:  # type: ignore[no-untyped-def]
    """At the cap, a connection that never completed a head gives way to a new one; a connection
    that has completed a request never does."""
    folder, _ = intel_dir
    live = start_server(folder, max_connections_per_network=4, header_timeout=30, evict_after=0.3)
    stalled = [_connect(live.url) for _ in range(4)]
    try:
        assert _wait_open(live, 4) == 4
        time.sleep(0.4)
        with _connect(live.url) as newcomer:
            newcomer.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            newcomer.settimeout(5)
            assert newcomer.recv(65536).startswith(b"HTTP/1.1 200")
        closed, answer, elapsed = _closed_within(stalled[0], 3.0)  # the oldest went
        assert closed and answer.startswith(b"HTTP/1.1 408") and elapsed < 1.0
        assert live.service.guard.evicted == 1
    finally:
        for sock in stalled:
            sock.close()
    assert _wait_open(live, 0) == 0
    # Four kept-alive connections that each completed a request are not stalled: the fifth is refused.
    working = [_connect(live.url) for _ in range(4)]
    try:
        for sock in working:
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(0.4)
        with _connect(live.url) as extra:
            closed, answer, _ = _closed_within(extra, 3.0)
        assert closed and answer.startswith(b"HTTP/1.1 503")
        assert live.service.guard.evicted == 1
    finally:
        for sock in working:
            sock.close()
    live.service.flush_refusals()
    reasons = {(x["reason"], x["count"]) for x in _lines(folder) if x.get("kind") == "refused"}
    assert reasons == {("stalled connection evicted", 1), ("too many connections from one network", 1)}


def test_refusal_summaries_are_capped_per_reason(tmp_path: Path) -> None:
    """Refusals from many networks (an IPv6 /48 holds 65,536 /64s) do not add a line per network."""
    from unmask import timeutil
    from unmask.intel.audit import AuditLog, Refusals

    refusals = Refusals(AuditLog(tmp_path / AUDIT_FILE), networks_per_reason=16)
    now = timeutil.now()
    for i in range(5000):
        refusals.note(ts=now, reason="header timeout", status=408, peer=f"2001:db8:{i:x}::/48", own_line=False)
        first = refusals.note(ts=now, reason="unknown token", status=401, peer=f"10.{i // 256}.{i % 256}.0/24")
        assert first == (i < 16)  # the caller writes those in full
    assert refusals.flush(now, everything=True) == 17 + 1
    lines = _lines(tmp_path)
    by_peer = {(x["reason"], x["peer"]): x["count"] for x in lines}
    assert by_peer[("header timeout", "*")] == 5000 - 16
    assert by_peer[("unknown token", "*")] == 5000 - 16
    assert sum(x["count"] for x in lines) == 2 * 5000 - 16  # the 16 first refusals went to their own lines
    assert verify(tmp_path / AUDIT_FILE).ok


def _flood(url: str, requests: list[bytes], connections: int = 4) -> int:
    """Send raw requests pipelined over a few connections; the number of answers read back."""
    answers = 0
    lock = threading.Lock()

    def worker(part: list[bytes]) -> None:
        nonlocal answers
        received = b""
        with _connect(url) as sock:
            sock.settimeout(30)
            sender = threading.Thread(target=sock.sendall, args=(b"".join(part),))
            sender.start()
            while received.count(b"HTTP/1.1 ") < len(part):
                data = sock.recv(1 << 20)
                if not data:
                    break
                received += data
            sender.join()
        with lock:
            answers += received.count(b"HTTP/1.1 401")

    parts = [requests[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_refusal_flood_keeps_the_audit_log_small(intel_dir, start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder)
    huge = "x" * 14_000  # the head stays under uvicorn's 16 KiB limit
    agent = "\u202e" * 300  # right-to-left overrides: escaped, not written raw
    started = time.monotonic()
    requests = [
        f"GET /v1/manifest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer mvtcm_{huge}{i}_s\r\n"
        f"User-Agent: {agent}\r\n\r\n".encode()
        for i in range(5000)
    ]
    assert _flood(live.url, requests) == 5000
    elapsed = time.monotonic() - started
    live.service.flush_refusals()
    lines = _lines(folder)
    size = (folder / AUDIT_FILE).stat().st_size
    assert size < 4096, size  # was 60 MB per 2 s of this
    first, summary = lines
    assert first["status"] == 401 and first["reason"] == "unknown token"
    assert len(str(first["token_id"])) < 40 and str(first["token_id"]).endswith("(14001 chars)")
    assert len(str(first["client"])) < 120
    assert summary["kind"] == "refused" and summary["count"] == 4999 and summary["peer"] == "127.0.0.0/24"
    assert all(len(c) < 40 for c in summary["claimed_ids"]) and len(summary["claimed_ids"]) == 3  # type: ignore[arg-type]
    assert verify(folder / AUDIT_FILE).ok
    assert CliRunner().invoke(main, ["intel", "audit-verify", str(folder)]).exit_code == 0
    assert elapsed < 60


def test_rate_limited_requests_are_aggregated_per_token(intel_dir, start_server, token: str) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder)
    TokenStore(folder)  # the fixture's token, limited below
    store = TokenStore(folder)
    limited_record, limited = store.create("Lab B", requests_per_minute=2)
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {limited}"}) as http:
        statuses = [http.get("/v1/manifest").status_code for _ in range(50)]
    assert statuses[:2] == [200, 200] and set(statuses[2:]) == {429}
    live.service.flush_refusals()
    lines = _lines(folder)
    assert [(x.get("kind"), x["status"]) for x in lines] == [(None, 200), (None, 200), (None, 429), ("refused", 429)]
    assert lines[3]["count"] == 47 and lines[3]["token_id"] == limited_record.id and lines[3]["org"] == "Lab B"


def test_refusal_summary_is_written_when_its_window_ends(intel_dir, start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder, refusal_window=0.5)
    for _ in range(3):
        assert httpx.get(live.url + "/v1/manifest").status_code == 401
    assert _wait_for(lambda: any(x.get("kind") == "refused" for x in _lines(folder)), 5.0)
    assert [(x.get("kind"), x.get("reason"), x.get("count")) for x in _lines(folder)] == [
        (None, "no token", None), ("refused", "no token", 2)
    ]
    # A new window starts with a full line again.
    assert httpx.get(live.url + "/v1/manifest").status_code == 401
    assert _wait_for(lambda: len(_lines(folder)) == 3)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_malformed_request_warnings_are_rate_limited(intel_dir, start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder)
    keep = _Keep()  # added after the server's logging configuration, which resets the handlers
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(keep)
    try:
        for _ in range(100):
            with _connect(live.url) as sock:
                sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                sock.settimeout(5)
                assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    finally:
        logger.removeHandler(keep)
    invalid = [r for r in keep.records if "Invalid HTTP request" in r.getMessage()]
    assert len(invalid) <= 5  # 100 malformed requests, at most the burst logged (the filter is per process)


def test_rate_limited_log_filter_counts_what_it_suppresses() -> None:
    now = [0.0]
    log_filter = RateLimitedLog(burst=2, window=10, clock=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, msg, None, None)

    assert [log_filter.filter(record("bad")) for _ in range(5)] == [True, True, False, False, False]
    assert log_filter.filter(record("other"))
    now[0] = 11
    later = record("bad")
    assert log_filter.filter(later) and "3 similar message(s) suppressed" in later.getMessage()


def test_a_client_that_stops_reading_is_dropped(intel_dir, start_server, token: str) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    # A big file to download (the server streams whatever is published; its hash is not its business).
    (epoch_dir(folder, report.epoch) / "set.bin").write_bytes(b"\0" * (40 << 20))
    live = start_server(folder, send_timeout=1.0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", _port(live.url)))
    with sock:
        sock.sendall(
            f"GET /v1/epochs/{report.epoch}/set.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        started = time.monotonic()
        assert _wait_for(lambda: live.service.guard.timed_out == 1, 10.0)
        elapsed = time.monotonic() - started
    assert elapsed < 6.0
    live.service.flush_refusals()
    assert [x["reason"] for x in _lines(folder) if x.get("kind") == "refused"] == ["send stalled"]


def test_serve_cli_passes_the_abuse_limits(intel_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    seen: dict[str, object] = {}
    monkeypatch.setattr("unmask.intel.server.serve", lambda folder, **kw: seen.update(kw))
    args = ["intel", "serve", str(folder), "--header-timeout", "2.5", "--body-timeout", "30", "--send-timeout", "9",
            "--max-connections", "500", "--max-connections-per-network", "8", "--ipv4-prefix", "16",
            "--ipv6-prefix", "48"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert {k: seen[k] for k in ("header_timeout", "body_timeout", "send_timeout", "max_connections",
                                 "max_connections_per_network", "ipv4_prefix", "ipv6_prefix", "min_charge",
                                 "max_batch")} == {
        "header_timeout": 2.5, "body_timeout": 30.0, "send_timeout": 9.0, "max_connections": 500,
        "max_connections_per_network": 8, "ipv4_prefix": 16, "ipv6_prefix": 48, "min_charge": 4096,
        "max_batch": 65536,
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-batch", "512"], "1024<=x<=65536"),
        (["--min-charge", "65536"], "1<=x<=16384"),
        (["--min-charge", "8192", "--max-batch", "4096"], "--min-charge 8192 is more than --max-batch 4096"),
        (["--header-timeout", "0"], "0.1<=x<=3600"),
    ],
)
def test_serve_cli_refuses_limits_clients_would_refuse(intel_dir, extra: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    result = CliRunner().invoke(main, ["intel", "serve", str(folder), *extra])
    assert result.exit_code == 2 and message in result.output, result.output


def test_connection_cap_fits_the_open_files_limit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """asyncio accepts up to a backlog of connections before the guard sees them: both must fit."""
    from unmask.intel import server
    from unmask.intel.server import ServerConfig, fit_file_limit

    monkeypatch.setattr(server, "_file_limit", lambda wanted: 256)
    config = ServerConfig(tmp_path)
    fit_file_limit(config)
    assert (config.max_connections, config.backlog) == (96, 32)
    assert config.max_connections + 3 * config.backlog + 64 <= 256
    monkeypatch.setattr(server, "_file_limit", lambda wanted: wanted)
    roomy = ServerConfig(tmp_path)
    fit_file_limit(roomy)
    assert (roomy.max_connections, roomy.backlog) == (1000, 512)
