"""The audit log: one chained line per request, no bodies, tampering detected."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from unmask.cli import main
from unmask.detect.indicators import oprf
from unmask.intel.audit import AUDIT_FILE, AuditLog, verify
from unmask.intel.errors import IntelError
from unmask.intel.publish import PublishReport
from unmask.intel.tokens import TokenStore


@pytest.fixture
def logged(intel_dir: tuple[Path, PublishReport], start_server) -> tuple[Path, bytes]:  # type: ignore[no-untyped-def]
    """A folder whose audit log holds a few requests (accepted and refused); returns the body sent."""
    folder, report = intel_dir
    live = start_server(folder)
    _, token = TokenStore(folder).create("Lab A")
    body = b"".join(oprf.blind(f"k{i}".encode())[1] for i in range(3))
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "test-client"}
    with httpx.Client(base_url=live.url, headers=headers) as http:
        assert http.get("/v1/manifest").status_code == 200
        assert http.post(f"/v1/epochs/{report.epoch}/evaluate", content=body).status_code == 200
        assert http.get(f"/v1/epochs/{report.epoch}/set.bin").status_code == 200
    assert httpx.get(live.url + "/v1/manifest", headers={"Authorization": "Bearer mvtcm_abc_wrong"}).status_code == 401
    return folder, body


def test_every_request_is_logged_without_bodies(logged: tuple[Path, bytes]) -> None:
    folder, body = logged
    path = folder / AUDIT_FILE
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["endpoint"], x["status"]) for x in lines] == [
        ("manifest", 200), ("evaluate", 200), ("file", 200), ("manifest", 401)
    ]
    evaluate = lines[1]
    assert evaluate["charged"] == 4096 and evaluate["elements"] == 3 and evaluate["bytes_in"] == 96
    assert evaluate["org"] == "Lab A" and evaluate["client"] == "test-client" and evaluate["peer"] == "127.0.0.0/24"
    assert lines[3]["token_id"] == "abc" and lines[3]["org"] is None
    text = path.read_text()
    for i in range(0, len(body), 32):
        assert body[i : i + 32].hex() not in text
    result = verify(path)
    assert result.ok and result.count == 4 and result.head == lines[-1]["hash"]


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    lines = path.read_text().splitlines()
    path.write_text("\n".join(change(lines)) + "\n")


def test_tampering_is_detected(logged: tuple[Path, bytes]) -> None:
    folder, _ = logged
    path = folder / AUDIT_FILE
    original = path.read_text()

    def edit(lines: list[str]) -> list[str]:
        record = json.loads(lines[1])
        record["charged"] = 1  # hide how much was evaluated
        lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":"))
        return lines

    _rewrite(path, edit)
    broken = verify(path)
    assert not broken.ok and broken.line == 2 and "hash" in (broken.error or "")
    with pytest.raises(IntelError, match="chain broken"):
        AuditLog(path)  # a server will not append to a broken chain
    result = CliRunner().invoke(main, ["intel", "audit-verify", str(folder)])
    assert result.exit_code == 2 and "line 2" in result.output

    path.write_text(original)
    _rewrite(path, lambda lines: lines[:1] + lines[2:])  # delete a line
    deleted = verify(path)
    assert not deleted.ok and deleted.line == 2

    path.write_text(original)
    assert CliRunner().invoke(main, ["intel", "audit-verify", str(folder)]).exit_code == 0
