"""Fixtures for confidential matching: a published intel folder and a live loopback server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn

from unmask.detect.indicators.sets import bundled_files
from unmask.intel.publish import PublishReport, publish
from unmask.intel.server import IntelService, ServerConfig, uvicorn_config

# Small real sets that hold every kind of trace the sample backup plants (and a little more).
SUBSET = (
    "2021-07-18_nso__pegasus.stix2",
    "intellexa_predator__predator.stix2",
    "2023-04-11_quadream__kingspawn.stix2",
    "2023-06_01_operation_triangulation__operation_triangulation.stix2",
    "2024-12-25_eaglemsgspy__eaglemsgspy.stix2",
    "2026-03-30_darksword__darksword.stix2",
)


def subset_files() -> list[Path]:
    """The bundled files named in :data:`SUBSET`."""
    chosen = [p for p in bundled_files() if p.name in SUBSET]
    assert len(chosen) == len(SUBSET)
    return chosen


@dataclass
class Live:
    """A running intel server."""

    url: str
    service: IntelService
    server: uvicorn.Server


class Clock:
    """A settable clock for quota and rotation tests."""

    def __init__(self, start: datetime | None = None) -> None:
        from unmask import timeutil

        self.now = start or timeutil.now()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def intel_dir(tmp_path: Path) -> tuple[Path, PublishReport]:
    """An intel folder with one epoch of the subset."""
    folder = tmp_path / "intel"
    return folder, publish(subset_files(), folder)


@pytest.fixture
def start_server() -> Iterator[Callable[..., Live]]:
    """Start IntelService on uvicorn in a thread on a free loopback port; stopped at teardown.

    The server runs as ``unmask intel serve`` runs it: the guarded protocol, its caps and deadlines.
    """
    running: list[tuple[uvicorn.Server, threading.Thread, IntelService]] = []

    def start(folder: Path, **policy: object) -> Live:
        service = IntelService(ServerConfig(folder, **policy))  # type: ignore[arg-type]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(service))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        running.append((server, thread, service))
        return Live(f"http://127.0.0.1:{port}", service, server)

    yield start
    for server, thread, service in running:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()
