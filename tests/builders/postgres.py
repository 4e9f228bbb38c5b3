"""A real PostgreSQL server for tests and benchmarks: Debian's ``postgresql`` binaries, a fresh
cluster in a temporary folder, run by an unprivileged user (CI runs as root, and PostgreSQL refuses
to run as root), reached over a Unix socket in that folder only (no TCP port is opened)."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def binaries() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (the newest version installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _run_as() -> pwd.struct_passwd | None:
    """The user that runs the server when we are root: ``postgres`` (made by the package), else ``nobody``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """One running cluster; :meth:`url` names a database on it, :meth:`create_database` makes one."""

    bindir: Path
    folder: Path
    port: int
    user: pwd.struct_passwd | None
    _names = itertools.count(1)

    @classmethod
    def start(cls, options: str = "") -> PostgresServer:
        bindir = binaries()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL server binaries not found (apt-get install postgresql)")
        user = _run_as()
        folder = Path(tempfile.mkdtemp(prefix="unmask-pg-"))
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
        server = cls(bindir, folder, _free_port(), user)
        server._pg("initdb", "-D", str(folder / "data"), "-U", "unmask", "--auth=trust", "-E", "UTF8",
                   "--no-instructions")
        options = f"-k {folder} -p {server.port} -c listen_addresses='' -c fsync=off -c full_page_writes=off {options}"
        server._pg("pg_ctl", "-D", str(folder / "data"), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
        return server

    def _pg(self, tool: str, *args: str) -> None:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run([str(self.bindir / tool), *args], capture_output=True, text=True, cwd=self.folder,
                              check=False, **kwargs)  # type: ignore[call-overload]
        if done.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()} {log.read_text() if log.exists() else ''}")

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3) for a database of this server."""
        return f"postgresql+psycopg://unmask@/{database}?host={self.folder}&port={self.port}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(host=str(self.folder), port=self.port, user="unmask", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def dump(self, url: str) -> bytes:
        """``pg_dump`` of a database (as the file a copy of the database would be)."""
        from sqlalchemy.engine import make_url

        database = str(make_url(url).database)
        return subprocess.run([str(self.bindir / "pg_dump"), "-h", str(self.folder), "-p", str(self.port),
                               "-U", "unmask", database], capture_output=True, check=True).stdout

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._pg("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
