"""A hostile intel server for client tests: it serves a real, signed epoch and lies where told.

It runs on 127.0.0.1 in a thread (the standard library's threading HTTP server), counts requests
per endpoint, and can: answer any ``limits`` value, re-sign a modified manifest with the holder's
key, stream an endless or huge answer, answer evaluations with zeros, wrong sizes or an endless
stream, or answer honestly with the epoch's real key.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from unmask.detect.indicators import oprf
from unmask.intel import manifest as manifest_mod
from unmask.intel.publish import key_info
from unmask.intel.store import epoch_dir, read_state, signing_key

Answer = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hostile:
    """What the fake server does; change the fields between requests as a test needs."""

    folder: Path
    limits: Any = field(default_factory=lambda: {"max_batch": 65536, "min_charge": 4096})
    manifest_answer: Answer | None = None  # replaces GET /v1/manifest entirely
    resign: Callable[[dict[str, Any]], None] | None = None  # edits the manifest, which is re-signed
    evaluate: str = "honest"  # honest | zeros | short | long | noncanonical | endless
    extra_set_bytes: bytes = b""
    hits: Counter[str] = field(default_factory=Counter)
    url: str = ""

    @property
    def epoch(self) -> str:
        current = read_state(self.folder).current
        assert current is not None
        return current

    def envelope(self) -> dict[str, Any]:
        envelope: dict[str, Any] = json.loads((epoch_dir(self.folder, self.epoch) / "manifest.json").read_text())
        if self.resign is not None:
            manifest = envelope["manifest"]
            self.resign(manifest)
            envelope = manifest_mod.sign(manifest, signing_key(self.folder, create=False))
        return envelope

    def evaluated(self, body: bytes) -> bytes:
        count = len(body) // 32
        if self.evaluate == "zeros":
            return bytes(32 * count)
        if self.evaluate == "noncanonical":
            return b"\xff" * 32 * count
        if self.evaluate == "short":
            return oprf.random_element() * (count - 1)
        if self.evaluate == "long":
            return oprf.random_element() * (count + 1)
        seed = (epoch_dir(self.folder, self.epoch) / "seed").read_bytes()
        secret, _ = oprf.derive_key_pair(seed, key_info(self.epoch))
        elements = [body[i : i + 32] for i in range(0, len(body), 32)]
        return b"".join(oprf.blind_evaluate_batch(secret, elements))


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def endless(declared: int | None = None, limit: int = 3 << 30) -> Answer:
    """An answer of ``limit`` bytes (3 GB) at full speed, with or without a Content-Length."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declared is not None:
            handler.send_header("Content-Length", str(declared))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b'{"envelope":' + b" " * 65524
        sent = 0
        try:
            while sent < limit:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        handler.close_connection = True

    return answer


def _handler(state: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path
            if path == "/v1/manifest":
                state.hits["manifest"] += 1
                if state.manifest_answer is not None:
                    state.manifest_answer(self)
                    return
                doc = {"envelope": state.envelope(), "limits": state.limits, "quota_remaining": 10**6}
                send(self, 200, json.dumps(doc).encode(), {"Content-Type": "application/json"})
                return
            name = path.rsplit("/", 1)[-1]
            state.hits[name] += 1
            data = (epoch_dir(state.folder, state.epoch) / name).read_bytes()
            send(self, 200, data + (state.extra_set_bytes if name == "set.bin" else b""))

        def do_POST(self) -> None:
            state.hits["evaluate"] += 1
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.evaluate == "endless":
                endless()(self)
                return
            send(self, 200, state.evaluated(body), {"Content-Type": "application/octet-stream"})

    return Handler


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up on a lie is the expected outcome, not news for stderr


@contextmanager
def hostile_server(folder: Path) -> Iterator[Hostile]:
    """Serve ``folder``'s current epoch from a hostile server on a free loopback port."""
    state = Hostile(folder)
    server = _Quiet(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
