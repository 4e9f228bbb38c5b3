"""TCC privacy permissions: which apps and binaries may use the camera, microphone, photos…"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.observables import basename
from unmask.parsers.base import ParseContext, Source, SqliteParser, integer, text

# access.client_type: 0 = bundle identifier, 1 = absolute path of an executable.
CLIENT_BUNDLE = 0
CLIENT_PATH = 1

# access.auth_value (iOS 14+ / macOS 11+).
AUTH_VALUES = {0: "denied", 1: "unknown", 2: "allowed", 3: "limited"}
# access.auth_reason: why the current decision was taken.
AUTH_REASONS = {
    1: "error",
    2: "user consent",
    3: "user set",
    4: "system set",
    5: "service policy",
    6: "MDM policy",
    7: "override policy",
    8: "missing usage string",
    9: "prompt timeout",
    10: "preflight unknown",
    11: "entitled",
    12: "app type policy",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TccAccess(Record):
    """One TCC ``access`` row: a client's permission for a privacy service."""

    kind: ClassVar[str] = "ios/tcc/access"
    summary: ClassVar[str] = "{service} {auth} for {client} ({auth_reason_name})"

    last_modified: datetime | None = None
    last_used: datetime | None = None
    service: str | None = None
    client: str | None = None
    client_type: int | None = None
    app_id: Annotated[str | None, Obs.APP_ID] = None
    process: Annotated[str | None, Obs.PROCESS] = None
    path: Annotated[str | None, Obs.FILE_PATH] = None
    auth: str = "unknown"
    auth_value: int | None = None
    allowed: int | None = None
    prompt_count: int | None = None
    auth_reason: int | None = None
    auth_reason_name: str | None = None
    auth_version: int | None = None
    indirect_object: str | None = None


def client_observables(
    client: str | None, client_type: int | None
) -> tuple[str | None, str | None, str | None]:
    """``(app id, process name, file path)`` a TCC client names.

    A bundle id is both an app id and, for system daemons and implants that register one, the name
    its process runs under (indicator sets list such names as ``process:name``). A path is a file
    path whose last component is the process name.
    """
    if not client:
        return None, None, None
    is_path = client_type == CLIENT_PATH or (client_type != CLIENT_BUNDLE and client.startswith("/"))
    if is_path:
        return None, basename(client) or None, client
    return client, client, None


def _auth(auth_value: int | None, allowed: int | None) -> str:
    if auth_value is not None:
        return AUTH_VALUES.get(auth_value, f"value {auth_value}")
    if allowed is not None:
        return "allowed" if allowed == 1 else "denied" if allowed == 0 else f"value {allowed}"
    return "unknown"


class TccParser(SqliteParser):
    """Privacy permissions granted or denied to apps and binaries, from TCC.db (iOS 7 to current)."""

    name = "tcc"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/TCC/TCC.db"),)
    records = (TccAccess,)
    required: ClassVar[dict[str, set[str]]] = {"access": {"service", "client"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[TccAccess]:
        """One record per ``access`` row; iOS 7 stores also get their ``access_times`` last use."""
        cols = [
            '"access".rowid AS "rowid"',
            db.col("access", "service", "service"),
            db.col("access", "client", "client"),
            db.col("access", "client_type", "client_type"),
            db.col("access", "auth_value", "auth_value"),
            db.col("access", "allowed", "allowed"),
            db.col("access", "prompt_count", "prompt_count"),
            db.col("access", "auth_reason", "auth_reason"),
            db.col("access", "auth_version", "auth_version"),
            db.col("access", "indirect_object_identifier", "indirect_object"),
            db.col("access", "last_modified", "last_modified"),
        ]
        source = '"access"'
        if db.has("access_times", "service", "client", "client_type", "last_used_time") and "client_type" in (
            db.columns("access")
        ):
            cols.append('"access_times"."last_used_time" AS "last_used"')
            source += (
                " LEFT JOIN access_times ON access_times.service = access.service"
                " AND access_times.client = access.client AND access_times.client_type = access.client_type"
            )
        else:
            cols.append('NULL AS "last_used"')
        for row in db.query(f"SELECT {', '.join(cols)} FROM {source}"):
            client = text(row["client"])
            client_type = integer(row["client_type"])
            app_id, process, path = client_observables(client, client_type)
            auth_value, allowed = integer(row["auth_value"]), integer(row["allowed"])
            reason = integer(row["auth_reason"])
            indirect = text(row["indirect_object"])
            yield TccAccess(
                device_path=db.device_path,
                locator=f"access.rowid={integer(row['rowid'])}",
                last_modified=timeutil.unix(row["last_modified"]),
                last_used=timeutil.unix(row["last_used"]),
                service=text(row["service"]),
                client=client,
                client_type=client_type,
                app_id=app_id,
                process=process,
                path=path,
                auth=_auth(auth_value, allowed),
                auth_value=auth_value,
                allowed=allowed,
                prompt_count=integer(row["prompt_count"]),
                auth_reason=reason,
                auth_reason_name=AUTH_REASONS.get(reason) if reason is not None else None,
                auth_version=integer(row["auth_version"]),
                indirect_object=None if indirect == "UNUSED" else indirect,
            )
