"""Fixtures of the case store tests: isolated folders and secret, and both stores (a SQLite file
and a real PostgreSQL server started by the test suite as an unprivileged user)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders.postgres import PostgresServer, binaries
from tests.builders.sample import Sample, build_sample
from unmask.detect.indicators import sets
from unmask.store import secret
from unmask.store.db import ENV_CASE, ENV_STORE

SECRET = "test-store-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data, config and cache folders of the test's own, a fixed store secret, no UNMASK_* from the caller."""
    monkeypatch.setenv(sets.ENV_DATA, str(tmp_path / "data"))
    monkeypatch.setenv(secret.ENV_CONFIG, str(tmp_path / "config"))
    monkeypatch.setenv(sets.ENV_CACHE, str(tmp_path_factory.getbasetemp() / "iocs-cache"))
    monkeypatch.setenv(secret.ENV_SECRET, SECRET)
    for name in (sets.ENV_IOCS, ENV_STORE, ENV_CASE):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (Debian's postgresql package)."""
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; make sysdeps does it)")
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "store" / "cases.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The demo backup with traces planted from the public indicator sets (read only)."""
    return build_sample(tmp_path_factory.mktemp("sample") / "backup")
