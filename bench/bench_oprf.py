"""Confidential matching costs: publish time, and client/server CPU and bytes for a big backup.

    .venv/bin/python -m bench.bench_oprf                      # everything (10^6 synthetic: minutes)
    .venv/bin/python -m bench.bench_oprf --synthetic 100000   # a smaller synthetic publication
    .venv/bin/python -m bench.bench_oprf --synthetic 0        # skip it

The server runs as a separate ``unmask intel serve`` process on 127.0.0.1, so its CPU time is
read from /proc and is not mixed with the client's. Results go to stdout as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.builders.sample import build_sample

from unmask import api
from unmask.detect.indicators.sets import bundled_files
from unmask.intel.client import confidential_indicators
from unmask.intel.publish import build_epoch, publish
from unmask.intel.tokens import TokenStore
from unmask.model import Indicator
from unmask.observables import observables_of


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_publish(label: str, run) -> dict[str, object]:  # type: ignore[no-untyped-def]
    wall, cpu, children = time.perf_counter(), time.process_time(), _cpu_children()
    report = run()
    return {
        "what": label,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu + _cpu_children() - children, 2),
        "indicators": report.indicators,
        "keys": report.keys,
        "records": report.records,
        "set_bytes": report.set_bytes,
    }


def synthetic(n: int) -> list[Indicator]:
    """n distinct domain indicators in 50 collections (the bulk of real sets are domains)."""
    return [
        Indicator("domain-name:value", f"h{i:07d}x{(i * 2654435761) % 10**9:09d}.example", f"C{i % 50}",
                  f"indicator--00000000-0000-4000-8000-{i:012d}", "synthetic.stix2")
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    parser.add_argument("--filler-files", type=int, default=60_000)
    parser.add_argument("--visits", type=int, default=15_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--processes", type=int, default=800)
    parser.add_argument("--whatsapp", type=int, default=3_000)
    args = parser.parse_args()
    results: dict[str, object] = {"cpus": os.cpu_count()}
    work = Path(tempfile.mkdtemp(prefix="bench-oprf-"))
    folder = work / "intel"
    results["publish_public"] = _timed_publish("all bundled public sets", lambda: publish(bundled_files(), folder))
    print(json.dumps(results["publish_public"]), file=sys.stderr)
    if args.synthetic:
        indicators = synthetic(args.synthetic)
        results["publish_synthetic"] = _timed_publish(
            f"{args.synthetic} synthetic domains", lambda: build_epoch(indicators, work / "synthetic")
        )
        del indicators
        print(json.dumps(results["publish_synthetic"]), file=sys.stderr)

    sample = build_sample(work / "backup", messages=args.messages, visits=args.visits,
                          filler_files=args.filler_files, processes=args.processes, whatsapp=args.whatsapp,
                          varied_paths=True)
    _, token = TokenStore(folder).create("bench", evals_per_day=10**9, requests_per_minute=10**6)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([sys.executable, "-m", "unmask", "intel", "serve", str(folder), "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/v1/health")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        key = (folder / "signing.pub").read_text().strip()

        wall, cpu = time.perf_counter(), time.process_time()
        plain = api.check_backup(sample.root, iocs=bundled_files())
        plain_wall, plain_cpu = time.perf_counter() - wall, time.process_time() - cpu
        observables = {o for recs in plain.records.values() for r in recs for o in observables_of(r)}

        server_cpu = _cpu_of(server.pid)
        wall, cpu = time.perf_counter(), time.process_time()
        sets, matcher, client = confidential_indicators(url, key, token)
        download = dict(vars(client.traffic))
        scan = api.check_backup(sample.root, indicators=(sets, matcher))
        conf_wall, conf_cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_cpu = _cpu_of(server.pid) - server_cpu

        def keyset(result: api.ScanResult) -> set[tuple[object, ...]]:
            return {(f.indicator.type, f.indicator.value, f.indicator.collection, f.device_path, f.locator)
                    for f in result.findings if f.indicator}

        results["scan"] = {
            "records": sum(len(v) for v in plain.records.values()),
            "distinct_observables": len(observables),
            "oprf_keys": matcher.stats.keys,
            "findings_equal": keyset(plain) == keyset(scan),
            "indicator_findings": len(keyset(scan)),
            "plaintext_scan": {"wall_s": round(plain_wall, 2), "cpu_s": round(plain_cpu, 2)},
            "confidential_scan_client": {"wall_s": round(conf_wall, 2), "cpu_s": round(conf_cpu, 2)},
            "server_cpu_s": round(server_cpu, 2),
            "download_bytes": download["received"],
            "traffic": vars(client.traffic),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
