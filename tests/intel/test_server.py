"""The intel service: tokens, quotas, refusals, rotation, and what the client checks."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tests.intel.conftest import Clock, subset_files
from unmask.cli import main
from unmask.detect.indicators import oprf
from unmask.intel.client import IntelClient
from unmask.intel.errors import IntelError
from unmask.intel.publish import PublishReport, publish
from unmask.intel.store import epoch_dir, read_state
from unmask.intel.tokens import TokenStore


def _blinded(n: int) -> bytes:
    return b"".join(oprf.blind(f"key{i}".encode())[1] for i in range(n))


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})


def test_tokens_are_stored_as_hashes_only(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    record, token = store.create("Lab A", evals_per_day=10)
    text = (tmp_path / "tokens.json").read_text()
    secret = token.split("_", 2)[2]
    assert secret not in text and record.sha256 in text
    assert (tmp_path / "tokens.json").stat().st_mode & 0o077 == 0
    assert store.lookup(token)[1] == record
    assert store.lookup(token[:-1] + ("A" if token[-1] != "A" else "B"))[1] is None
    assert store.lookup("garbage") == (None, None)


def test_revoked_or_unknown_token_is_refused_with_401(intel_dir: tuple[Path, PublishReport], start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder)
    record, token = TokenStore(folder).create("Lab A")
    with _client(live.url, token) as http:
        assert http.get("/v1/manifest").status_code == 200
        result = CliRunner().invoke(main, ["intel", "token", "revoke", str(folder), record.id])
        assert result.exit_code == 0, result.output
        refused = http.get("/v1/manifest")
        assert refused.status_code == 401 and "Bearer" in refused.headers["www-authenticate"]
        assert http.post("/v1/epochs/x/evaluate", content=b"").status_code == 401
    assert httpx.get(live.url + "/v1/manifest").status_code == 401
    assert httpx.get(live.url + "/v1/manifest", headers={"Authorization": "Bearer mvtcm_zz_nope"}).status_code == 401
    assert httpx.get(live.url + "/v1/health").status_code == 200
    with pytest.raises(IntelError, match="401"):
        IntelClient(live.url, _pub(folder), token).fetch()


def _pub(folder: Path) -> str:
    return (folder / "signing.pub").read_text().strip()


def test_requests_per_minute_limit(intel_dir: tuple[Path, PublishReport], start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    clock = Clock()
    live = start_server(folder, clock=clock)
    _, token = TokenStore(folder).create("Lab A", requests_per_minute=3)
    with _client(live.url, token) as http:
        assert [http.get("/v1/manifest").status_code for _ in range(3)] == [200, 200, 200]
        limited = http.get("/v1/manifest")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        clock.now += timedelta(seconds=61)
        assert http.get("/v1/manifest").status_code == 200


def test_daily_quota_minimum_charge_and_restart(intel_dir: tuple[Path, PublishReport], start_server) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    clock = Clock()
    live = start_server(folder, clock=clock, min_charge=4096)
    _, token = TokenStore(folder).create("Lab A", evals_per_day=10_000)
    path = f"/v1/epochs/{report.epoch}/evaluate"
    with _client(live.url, token) as http:
        one = http.post(path, content=_blinded(1))
        assert one.status_code == 200 and len(one.content) == 32
        assert one.headers["x-quota-remaining"] == str(10_000 - 4096)  # a 1-element probe costs 4096
        assert http.post(path, content=_blinded(2)).headers["x-quota-remaining"] == str(10_000 - 8192)
        over = http.post(path, content=_blinded(1))
        assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
    # Quotas are read back from the audit log, so a restart does not reset them.
    restarted = start_server(folder, clock=clock)
    with _client(restarted.url, token) as http:
        assert http.post(path, content=_blinded(1)).status_code == 429
        clock.now += timedelta(days=1)
        assert http.post(path, content=_blinded(1)).status_code == 200


def test_malformed_batches_are_refused(intel_dir: tuple[Path, PublishReport], start_server) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    live = start_server(folder, max_batch=8)
    _, token = TokenStore(folder).create("Lab A")
    path = f"/v1/epochs/{report.epoch}/evaluate"
    with _client(live.url, token) as http:
        assert http.post(path, content=_blinded(2)[:-1]).status_code == 400
        assert http.post(path, content=b"").status_code == 400
        assert http.post(path, content=_blinded(1) + oprf.IDENTITY).status_code == 400
        assert http.post(path, content=b"\xff" * 31 + b"\x7f").status_code == 400
        assert http.post(path, content=_blinded(9)).status_code == 413
        assert http.post("/v1/epochs/nope/evaluate", content=_blinded(1)).status_code == 404
        # The OPRF seed and the signing key are never served.
        assert http.get(f"/v1/epochs/{report.epoch}/seed").status_code == 404
        assert http.get(f"/v1/epochs/{report.epoch}/..%2F..%2Fsigning.key").status_code == 404
        assert http.get(f"/v1/epochs/{report.epoch}/set.bin").status_code == 200


def test_rotation_grace_period_and_retirement(tmp_path: Path, start_server) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "intel"
    files = subset_files()[-1:]
    first = publish(files, folder)
    clock = Clock()
    live = start_server(folder, clock=clock)
    _, token = TokenStore(folder).create("Lab A")
    second = publish(files, folder, grace_days=7, now=clock.now)
    assert second.previous == first.epoch and second.public_key == first.public_key
    with _client(live.url, token) as http:
        manifest = http.get("/v1/manifest").json()["envelope"]["manifest"]
        assert manifest["epoch"] == second.epoch
        for epoch in (first.epoch, second.epoch):
            assert http.post(f"/v1/epochs/{epoch}/evaluate", content=_blinded(1)).status_code == 200
        same = _blinded(1)
        a = http.post(f"/v1/epochs/{first.epoch}/evaluate", content=same).content
        b = http.post(f"/v1/epochs/{second.epoch}/evaluate", content=same).content
        assert a != b  # a fresh key per epoch: harvested outputs do not carry over
        clock.now += timedelta(days=7, seconds=1)
        assert http.post(f"/v1/epochs/{first.epoch}/evaluate", content=_blinded(1)).status_code == 410
        assert http.get(f"/v1/epochs/{first.epoch}/set.bin").status_code == 410
        assert http.post(f"/v1/epochs/{second.epoch}/evaluate", content=_blinded(1)).status_code == 200
    third = publish(files, folder, now=clock.now)
    state = read_state(folder)
    assert third.retired == [first.epoch]
    assert state.epochs[first.epoch].retired and not (epoch_dir(folder, first.epoch) / "seed").exists()
    assert (epoch_dir(folder, second.epoch) / "seed").exists() and state.current == third.epoch


def test_client_rejects_tampered_set_and_manifest(intel_dir: tuple[Path, PublishReport], start_server) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    live = start_server(folder)
    _, token = TokenStore(folder).create("Lab A")
    target = epoch_dir(folder, report.epoch)
    good = IntelClient(live.url, report.public_key, token).fetch()
    assert good.manifest["epoch"] == report.epoch and good.campaigns
    data = bytearray((target / "set.bin").read_bytes())
    data[100] ^= 1
    (target / "set.bin").write_bytes(bytes(data))
    with pytest.raises(IntelError, match="does not match its signed manifest"):
        IntelClient(live.url, report.public_key, token).fetch()
    envelope = json.loads((target / "manifest.json").read_text())
    envelope["manifest"]["set"]["sha256"] = "0" * 64
    (target / "manifest.json").write_text(json.dumps(envelope))
    with pytest.raises(IntelError, match="signature does not verify"):
        IntelClient(live.url, report.public_key, token).fetch()


def test_token_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["intel", "token", "create", str(tmp_path), "--org", "Lab B"])
    assert created.exit_code == 0
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mvtcm_")
    listed = runner.invoke(main, ["intel", "token", "list", str(tmp_path)])
    assert "Lab B" in listed.output and "active" in listed.output
    assert runner.invoke(main, ["intel", "token", "revoke", str(tmp_path), "nope"]).exit_code == 2
    token_id = token.split("_")[1]
    assert runner.invoke(main, ["intel", "token", "revoke", str(tmp_path), token_id]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["intel", "token", "list", str(tmp_path)]).output


def test_publish_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["intel", "publish", "--iocs", str(subset_files()[-1]), "--out", str(tmp_path / "i")]
    )
    assert result.exit_code == 0, result.output
    assert _pub(tmp_path / "i") in result.output
    assert (tmp_path / "i" / "signing.key").stat().st_mode & 0o077 == 0
    empty = CliRunner().invoke(main, ["intel", "publish", "--out", str(tmp_path / "j")])
    assert empty.exit_code == 2 and "--iocs" in empty.output


def test_expired_token_is_refused(intel_dir: tuple[Path, PublishReport], start_server) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    clock = Clock()
    live = start_server(folder, clock=clock)
    _, token = TokenStore(folder).create("Lab A", expires_days=1, now=clock.now)
    with _client(live.url, token) as http:
        assert http.get("/v1/manifest").status_code == 200
        clock.now += timedelta(days=1, seconds=1)
        assert http.get("/v1/manifest").status_code == 401


def test_serve_refuses_plain_http_off_loopback(intel_dir: tuple[Path, PublishReport]) -> None:
    folder, _ = intel_dir
    result = CliRunner().invoke(main, ["intel", "serve", str(folder), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "plain http" in result.output
    empty = CliRunner().invoke(main, ["intel", "serve", str(folder / "nothing")])
    assert empty.exit_code == 2 and "no published epoch" in empty.output
