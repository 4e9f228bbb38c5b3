import json
from pathlib import Path

from tests.builders.android import run_on
from unmask.parsers.android.intrusion_logs import ConnectEvent, DnsEvent, IntrusionLogsParser, SecurityEvent


def test_dns_connect_and_security_events_read_once(tmp_path: Path) -> None:
    lines = [
        {"dns_event": {"event_time": 1714640000000, "hostname": "evil.example", "ip_addresses": ["/203.0.113.5"], "package_name": "com.spy"}},
        {"connect_event": {"event_time": 1714640001000, "ip_address": "/203.0.113.5", "port": 443, "package_name": "com.spy"}},
        {"security_event": {"event_time": 1714640002000000000, "cert_authority_installed": {"success": True, "subject": "CN=MITM"}}},
    ]
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):  # overlapping rotations
        (folder / name).write_text("".join(json.dumps(x) + "\n" for x in lines))
    records, _ = run_on(IntrusionLogsParser, folder)
    assert [type(r) for r in records] == [DnsEvent, ConnectEvent, SecurityEvent]
    dns, conn, sec = records
    assert dns.addresses == ("203.0.113.5",) and conn.port == 443 and sec.tag == "cert_authority_installed"
    assert sec.time.isoformat() == "2024-05-02T08:53:22+00:00"
