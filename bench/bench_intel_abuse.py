"""The intel server under 500 slow-loris connections: does a legitimate client still get through?

    .venv/bin/python -m bench.bench_intel_abuse                    # every scenario, 500 connections
    .venv/bin/python -m bench.bench_intel_abuse --scenario spread --connections 500 --seconds 30
    .venv/bin/python -m bench.bench_intel_abuse --server-nofile 256 --scenario spread --scenario unguarded

Each scenario starts ``unmask intel serve`` as its own process on 127.0.0.1 (so its file
descriptors and memory are read from /proc and are not mixed with the attackers'), then opens
``--connections`` slow-loris connections: each sends a request line and then one header byte per
``--trickle`` seconds, never finishing its head, and reconnects a second after the server drops
it (a sustained attack, not one wave). Meanwhile a legitimate client asks for the manifest every
second and for a 4,096-element evaluation every five, each on a new connection.

Scenarios (source addresses are all on loopback: Linux routes the whole of 127.0.0.0/8 there):

- ``one-network``: attackers from 127.0.0.1, the client from 127.0.1.1 (another /24);
- ``spread``: attackers from 500 different /24s (127.1.0.1, 127.1.1.1, …), the client 127.0.0.1;
- ``same-network``: attackers and client from 127.0.0.1 (the attacker is behind the client's NAT);
- ``unguarded``: ``spread`` with the deadlines and caps set out of reach, for comparison.

``--server-nofile N`` starts the server with an open-files limit of N (soft and hard), to see
what happens when the attackers alone could use up its file descriptors. ``--baseline`` passes
the server none of the abuse options, to run the same attack against an older unmask (put its
``src`` first on ``PYTHONPATH``), e.g.::

    git archive 4bc397a src | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/src .venv/bin/python -m bench.bench_intel_abuse --baseline --scenario same-network

Reported per scenario: the client's successes and latencies, the server's peak open file
descriptors and resident memory, audit-log growth, and what happened to the attackers'
connections (refused at once, dropped after holding on, how many were open at most).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from unmask.detect.indicators import oprf
from unmask.detect.indicators.sets import bundled_files
from unmask.intel.publish import publish
from unmask.intel.tokens import TokenStore

SCENARIOS = ("one-network", "spread", "same-network", "unguarded")
# A few bundled sets (those of tests/intel/conftest.py, not imported so an older unmask can run this).
_SETS = ("2021-07-18_nso__pegasus.stix2", "intellexa_predator__predator.stix2",
         "2023-04-11_quadream__kingspawn.stix2", "2024-12-25_eaglemsgspy__eaglemsgspy.stix2")


@dataclass
class Attack:
    """What happened to the slow-loris connections."""

    connected: int = 0
    refused: int = 0  # answered 503 (or reset) at once
    dropped: int = 0  # cut by a deadline after holding on
    held_seconds: list[float] = field(default_factory=list)
    open_now: int = 0
    open_max: int = 0
    errors: int = 0


@dataclass
class Client:
    """What the legitimate client saw."""

    manifest_ok: int = 0
    manifest_failed: int = 0
    evaluate_ok: int = 0
    evaluate_failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    evaluate_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _slow_loris(port: int, source: str, trickle: float, stop: asyncio.Event, attack: Attack) -> None:
    """One attacker slot: connect, trickle a head that never ends, reconnect a second after a drop."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        except OSError:
            attack.errors += 1
            await asyncio.sleep(1)
            continue
        attack.connected += 1
        attack.open_now += 1
        started = time.monotonic()
        try:
            writer.write(b"GET /v1/manifest HTTP/1.1\r\nHost: intel\r\nX-Slow: ")
            answer = b""
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(reader.read(4096), trickle)
                except TimeoutError:
                    writer.write(b"a")
                    continue
                if not data:
                    break
                answer += data
        except (ConnectionError, OSError):
            answer = b""
        finally:
            attack.open_now -= 1
            writer.close()
        if stop.is_set():
            break
        held = time.monotonic() - started
        if answer.startswith(b"HTTP/1.1 503") or held < 0.5:
            attack.refused += 1
        else:
            attack.dropped += 1
            attack.held_seconds.append(held)
        await asyncio.sleep(1)


async def _client(port: int, source: str, token: str, body: bytes, epoch: str, stop: asyncio.Event,
                  seen: Client) -> None:
    """A legitimate client: the manifest every second, an evaluation every fifth second."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=transport, headers=headers,
                                 timeout=30) as http:
        tick = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                if tick % 5 == 4:
                    answer = await http.post(f"/v1/epochs/{epoch}/evaluate", content=body)
                    ok = answer.status_code == 200 and len(answer.content) == len(body)
                    (seen.evaluate_ms if ok else []).append((time.perf_counter() - started) * 1000)
                    seen.evaluate_ok += ok
                    seen.evaluate_failed += not ok
                else:
                    answer = await http.get("/v1/manifest")
                    ok = answer.status_code == 200
                    (seen.latencies_ms if ok else []).append((time.perf_counter() - started) * 1000)
                    seen.manifest_ok += ok
                    seen.manifest_failed += not ok
                if not ok:
                    seen.failures.append(str(answer.status_code))
            except httpx.HTTPError as exc:
                seen.failures.append(type(exc).__name__)
                if tick % 5 == 4:
                    seen.evaluate_failed += 1
                else:
                    seen.manifest_failed += 1
            tick += 1
            await asyncio.sleep(max(0.0, 1 - (time.perf_counter() - started)))


def _sources(scenario: str, connections: int) -> tuple[list[str], str]:
    """(attackers' source addresses, the client's)."""
    if scenario == "one-network":
        return ["127.0.0.1"] * connections, "127.0.1.1"
    if scenario == "same-network":
        return ["127.0.0.1"] * connections, "127.0.0.1"
    return [f"127.{1 + i // 256}.{i % 256}.1" for i in range(connections)], "127.0.0.1"


def run_scenario(scenario: str, folder: Path, token: str, epoch: str, body: bytes, *, connections: int,
                 seconds: float, trickle: float, header_timeout: float, nofile: int | None,
                 baseline: bool = False) -> dict[str, object]:
    port = _free_port()
    options = ["--header-timeout", str(header_timeout)]
    if baseline:
        options = []
    elif scenario == "unguarded":
        options = ["--header-timeout", "3600", "--body-timeout", "3600", "--max-connections", "1000000",
                   "--max-connections-per-network", "1000000"]
    audit = folder / "audit.log"
    audit_before = audit.stat().st_size if audit.exists() else 0
    lines_before = len(audit.read_text().splitlines()) if audit.exists() else 0

    def limit_files() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    server = subprocess.Popen(
        [sys.executable, "-m", "unmask.cli", "intel", "serve", str(folder), "--port", str(port), *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit_files,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start: {server.stderr.read().decode() if server.stderr else ''}")
            time.sleep(0.1)
        idle = {"fds": _fds(server.pid), "rss_mb": round(_rss_mb(server.pid), 1)}
        attack, seen = Attack(), Client()
        samples: list[tuple[int, float]] = []
        attackers, client_source = _sources(scenario, connections)

        async def main() -> None:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(_slow_loris(port, s, trickle, stop, attack)) for s in attackers]
            await asyncio.sleep(2)  # let the attack build up before the client starts
            tasks.append(asyncio.create_task(_client(port, client_source, token, body, epoch, stop, seen)))
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                samples.append((_fds(server.pid), _rss_mb(server.pid)))
                attack.open_max = max(attack.open_max, attack.open_now)
                await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(main())
    finally:
        server.send_signal(signal.SIGINT)  # graceful: pending refusal summaries are written
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    audit_after = audit.stat().st_size if audit.exists() else 0
    lines_after = len(audit.read_text().splitlines()) if audit.exists() else 0
    latencies = seen.latencies_ms or [float("nan")]
    stderr = server.stderr.read().decode(errors="replace") if server.stderr else ""
    if os.environ.get("BENCH_SHOW_STDERR"):
        print(stderr, file=sys.stderr)
    return {
        "scenario": scenario,
        "baseline": baseline,
        "server_nofile": nofile,
        "attackers": connections,
        "seconds": seconds,
        "client": {
            "manifest_ok": seen.manifest_ok,
            "manifest_failed": seen.manifest_failed,
            "evaluate_4096_ok": seen.evaluate_ok,
            "evaluate_4096_failed": seen.evaluate_failed,
            "manifest_ms_median": round(statistics.median(latencies), 1),
            "manifest_ms_max": round(max(latencies), 1),
            "evaluate_ms_median": round(statistics.median(seen.evaluate_ms), 1) if seen.evaluate_ms else None,
            "failures": sorted(set(seen.failures)),
        },
        "server": {
            "idle": idle,
            "fds_max": max(f for f, _ in samples),
            "rss_mb_max": round(max(r for _, r in samples), 1),
        },
        "attack": {
            "connections_made": attack.connected,
            "refused_at_once": attack.refused,
            "dropped_after_holding": attack.dropped,
            "held_seconds_median": round(statistics.median(attack.held_seconds), 1) if attack.held_seconds else None,
            "open_max": attack.open_max,
            "connect_errors": attack.errors,
        },
        "audit_log": {"bytes_added": audit_after - audit_before, "lines_added": lines_after - lines_before},
        "server_stderr_lines": len(stderr.splitlines()),
        "server_stderr_bytes": len(stderr),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each attack lasts")
    parser.add_argument("--trickle", type=float, default=1.0, help="seconds between the attackers' bytes")
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--server-nofile", type=int, default=None, help="the server's open-files limit")
    parser.add_argument("--baseline", action="store_true", help="no abuse options (an older server)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-intel-abuse-"))
    folder = work / "intel"
    report = publish([p for p in bundled_files() if p.name in _SETS], folder)
    _, token = TokenStore(folder).create("bench", requests_per_minute=10_000)
    body = b"".join(oprf.blind_batch([f"k{i}".encode() for i in range(4096)])[1])
    results = []
    for scenario in args.scenario or SCENARIOS:
        result = run_scenario(scenario, folder, token, report.epoch, body, connections=args.connections,
                              seconds=args.seconds, trickle=args.trickle, header_timeout=args.header_timeout,
                              nofile=args.server_nofile, baseline=args.baseline)
        print(json.dumps(result), file=sys.stderr, flush=True)
        results.append(result)
    print(json.dumps({"cpus": os.cpu_count(), "header_timeout": args.header_timeout, "results": results}, indent=1))


if __name__ == "__main__":
    main()
