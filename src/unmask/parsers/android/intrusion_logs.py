"""Android 16 intrusion logs: DNS, connect and security events (newline-delimited JSON).

Lines are ``{"dns_event": {event_time (ms), hostname, ip_addresses, package_name}}``,
``{"connect_event": {event_time (ms), ip_address, port, package_name}}`` and
``{"security_event": {event_time (ns), <tag>: {…}}}`` with one key per SecurityLog tag
(``app_process_start``, ``adb_shell_cmd``, ``cert_authority_installed`` …); addresses are written
as Java prints them (``/1.2.3.4``). Sources: MVT ``docs/android/intrusion_logs.md`` and the
SecurityLog API. Identical lines of overlapping files are read once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.acquisition.androidqf import INTRUSION_FOLDER
from unmask.formats.text import Line, locator
from unmask.model import Obs, Record, Timestamp
from unmask.parsers.android._common import int_of, text_of
from unmask.parsers.base import ParseContext, Source, TextParser


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsEvent(Record):
    """A DNS lookup an app made."""

    kind: ClassVar[str] = "android/intrusion/dns"
    summary: ClassVar[str] = "{package} looked up {hostname}"
    time: Timestamp | None = None
    hostname: Annotated[str | None, Obs.DOMAIN] = None
    addresses: Annotated[tuple[str, ...], Obs.HOST] = ()
    package: Annotated[str | None, Obs.APP_ID] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectEvent(Record):
    """A network connection an app opened."""

    kind: ClassVar[str] = "android/intrusion/connect"
    summary: ClassVar[str] = "{package} connected to {address}:{port}"
    time: Timestamp | None = None
    address: Annotated[str | None, Obs.HOST] = None
    port: int | None = None
    package: Annotated[str | None, Obs.APP_ID] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEvent(Record):
    """One SecurityLog event: its tag and payload (JSON), with the app, process and path it names."""

    kind: ClassVar[str] = "android/intrusion/security"
    summary: ClassVar[str] = "security event {tag} {package} {process} {path}"
    time: Timestamp | None = None
    tag: str = ""
    data: str = ""
    success: bool | None = None
    package: Annotated[str | None, Obs.APP_ID] = None
    process: Annotated[str | None, Obs.PROCESS] = None
    path: Annotated[str | None, Obs.FILE_PATH] = None
    subject: str | None = None


def _ip(value: object) -> str | None:
    text = text_of(value, 128)
    return text.rsplit("/", 1)[-1] if text else None


class IntrusionLogsParser(TextParser):
    """Intrusion-log events (DNS, connect, security) from the device's intrusion-logging folder."""

    name = "intrusion_logs"
    platform = "android"
    sources = (Source(INTRUSION_FOLDER + "/**/*.txt"),)
    records = (DnsEvent, ConnectEvent, SecurityEvent)
    max_line = 1 << 20

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        for line in lines:
            text = line.text.strip()
            if not text:
                continue
            digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()
            if digest in self._seen:
                continue
            if len(self._seen) < 5_000_000:
                self._seen.add(digest)
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                ctx.warn(f"{device_path}: line {line.number} is not JSON")
                continue
            if not isinstance(value, dict):
                continue
            record = self._event(device_path, locator(line), value)
            if record is not None:
                yield record
            elif value:
                ctx.warn(f"{device_path}: line {line.number}: unknown event type {', '.join(map(str, value))[:80]}")

    def _event(self, device_path: str, where: str, value: dict[str, Any]) -> Record | None:
        if isinstance(value.get("dns_event"), dict):
            e = value["dns_event"]
            ips = e.get("ip_addresses")
            return DnsEvent(device_path=device_path, locator=where, time=timeutil.unix_ms(int_of(e.get("event_time"))),
                            hostname=text_of(e.get("hostname"), 512),
                            addresses=tuple(a for a in (_ip(i) for i in ips) if a) if isinstance(ips, list) else (),
                            package=text_of(e.get("package_name"), 512))
        if isinstance(value.get("connect_event"), dict):
            e = value["connect_event"]
            return ConnectEvent(device_path=device_path, locator=where,
                                time=timeutil.unix_ms(int_of(e.get("event_time"))), address=_ip(e.get("ip_address")),
                                port=int_of(e.get("port")), package=text_of(e.get("package_name"), 512))
        if isinstance(value.get("security_event"), dict):
            e = value["security_event"]
            tags = [k for k in e if k not in ("event_time", "event_id", "log_level", "tag")]
            tag = tags[0] if tags else str(e.get("tag", ""))
            payload = e.get(tag) if tags else None
            p = payload if isinstance(payload, dict) else {}
            success = p.get("success")
            return SecurityEvent(
                device_path=device_path, locator=where, time=timeutil.unix_ns(int_of(e.get("event_time"))),
                tag=tag[:128], data=json.dumps(payload, ensure_ascii=False)[:8192] if payload is not None else "",
                success=success if isinstance(success, bool) else None,
                package=text_of(p.get("package_name") or p.get("package"), 512),
                process=text_of(p.get("process"), 512), path=text_of(p.get("path") or p.get("file"), 4096),
                subject=text_of(p.get("subject"), 1024),
            )
        return None
