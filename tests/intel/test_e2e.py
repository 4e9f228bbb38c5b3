"""End to end over loopback: confidential and plaintext matching find the same things."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.sample import build_sample
from tests.intel.conftest import subset_files
from unmask import api
from unmask.cli import main
from unmask.detect.indicators.sets import bundled_files
from unmask.intel.client import confidential_indicators
from unmask.intel.publish import publish
from unmask.intel.tokens import TokenStore


def _findings(result: api.ScanResult) -> set[tuple[str, str, str, str | None, str]]:
    return {
        (f.indicator.type, f.indicator.value, f.indicator.collection, f.device_path, f.locator)
        for f in result.findings
        if f.indicator is not None
    }


def test_confidential_equals_plaintext_on_all_public_sets(tmp_path: Path, start_server) -> None:  # type: ignore[no-untyped-def]
    sample = build_sample(tmp_path / "b")
    files = bundled_files()
    folder = tmp_path / "intel"
    report = publish(files, folder)
    live = start_server(folder)
    _, token = TokenStore(folder).create("test lab")

    plain = api.check_backup(sample.root, iocs=files)
    sets, matcher, client = confidential_indicators(live.url, report.public_key, token)
    secret = api.check_backup(sample.root, indicators=(sets, matcher), output=tmp_path / "out")

    expected = _findings(plain)
    assert expected, "the sample backup has planted traces"
    assert _findings(secret) == expected
    # Every planted trace is among them, with its collection decrypted from the metadata.
    found = {(t, v, c) for t, v, c, _, _ in _findings(secret)}
    for planted in sample.planted:
        assert (planted.indicator_type, planted.indicator, planted.collection) in found
    # The server saw only padded batches of blinded elements; provenance names the remote epoch.
    assert client.traffic.sent % (4096 * 32) == 0
    assert matcher.stats.hits >= len(sample.planted)
    info = json.loads((tmp_path / "out" / "info.json").read_text())
    assert info["indicator_sets"][0]["name"] == f"intel epoch {report.epoch}"
    assert "Pegasus" in info["indicator_sets"][0]["collections"]


def test_cli_check_backup_with_intel_server(tmp_path: Path, start_server, intel_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    live = start_server(folder)
    sample = build_sample(tmp_path / "b")
    _, token = TokenStore(folder).create("test lab")
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    monkeypatch.delenv("UNMASK_INTEL_TOKEN", raising=False)
    runner = CliRunner()
    args = ["check-backup", str(sample.root), "-q", "--intel-server", live.url, "--intel-key", report.public_key]
    result = runner.invoke(main, [*args, "--intel-token-file", str(token_file), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output  # planted traces found
    alerts = json.loads((tmp_path / "o" / "alerts.json").read_text())
    plain = api.check_backup(sample.root, iocs=subset_files())
    got = {(a["indicator"]["value"], a["indicator"]["collection"]) for a in _alerts(alerts) if a.get("indicator")}
    assert got == {(t[1], t[2]) for t in _findings(plain)}

    monkeypatch.setenv("UNMASK_INTEL_TOKEN", token)
    assert runner.invoke(main, args).exit_code == 1


def _alerts(doc: object) -> list[dict[str, object]]:
    if isinstance(doc, dict):
        return list(doc.get("alerts", []))
    assert isinstance(doc, list)
    return doc


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--intel-server", "ftp://x", "--intel-key", "00" * 32], "bad intel server URL"),
        (["--intel-server", "http://example.org", "--intel-key", "00" * 32], "plain http"),
        (["--intel-server", "http://127.0.0.1:9", "--intel-key", "zz"], "Ed25519 public key"),
        (["--intel-key", "00" * 32], "need --intel-server"),
        (["--intel-server", "http://127.0.0.1:9", "--intel-key", "11" * 32], "no intel token"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, monkeypatch, extra: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("UNMASK_INTEL_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["check-backup", str(tmp_path), *extra])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_unreachable_server_and_wrong_key(tmp_path: Path, start_server, intel_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder, _ = intel_dir
    live = start_server(folder)
    _, token = TokenStore(folder).create("lab")
    monkeypatch.setenv("UNMASK_INTEL_TOKEN", token)
    sample = build_sample(tmp_path / "b", plant=False)
    wrong = CliRunner().invoke(
        main, ["check-backup", str(sample.root), "--intel-server", live.url, "--intel-key", "ab" * 32]
    )
    assert wrong.exit_code == 2 and "signature does not verify" in wrong.output
    down = CliRunner().invoke(
        main, ["check-backup", str(sample.root), "--intel-server", "http://127.0.0.1:9", "--intel-key", "ab" * 32]
    )
    assert down.exit_code == 2 and "cannot reach the intel server" in down.output
