from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from unmask.cli import main
from unmask.detect.indicators import sets
from unmask.detect.indicators.update import entry_url, update
from unmask.errors import IndicatorError

BUNDLE = {
    "type": "bundle",
    "objects": [
        {"type": "malware", "id": "malware--1", "name": "Served"},
        {
            "type": "indicator",
            "id": "indicator--1",
            "pattern": "[domain-name:value='served.example']",
            "pattern_type": "stix",
        },
        {
            "type": "relationship",
            "id": "relationship--1",
            "relationship_type": "indicates",
            "source_ref": "indicator--1",
            "target_ref": "malware--1",
        },
    ],
}

INDEX = """
indicators:
  - type: github
    name: Served set
    github: {owner: org, repo: intel, branch: main, path: dir/served.stix2}
  - type: download
    name: Direct set
    download_url: {base}/direct.stix2
  - type: github
    name: Missing set
    github: {owner: org, repo: intel, branch: main, path: missing.stix2}
  - type: download
    name: Not STIX
    download_url: {base}/garbage.stix2
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    (root / "org/intel/main/dir").mkdir(parents=True)
    (root / "org/intel/main/dir/served.stix2").write_text(json.dumps(BUNDLE))
    (root / "direct.stix2").write_text(json.dumps(BUNDLE))
    (root / "garbage.stix2").write_text("<html>not found</html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    (root / "indicators.yaml").write_text(INDEX.replace("{base}", base))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sets.ENV_DATA, str(tmp_path / "data"))
    monkeypatch.setenv(sets.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(sets.ENV_IOCS, raising=False)


def test_update_downloads_valid_sets_and_reports_failures(server: str) -> None:
    report = update(f"{server}/indicators.yaml", raw_base=server)
    assert len(report.saved) == 2
    assert "org__intel__dir__served.stix2" in {p.name for p in report.saved}
    assert {name for name, _ in report.failed} == {"Missing set", "Not STIX"}
    assert any("HTTP 404" in reason for _, reason in report.failed)
    # The downloaded sets become part of the default.
    names = {p.name for p in sets.resolve()}
    assert {p.name for p in report.saved} <= names


def test_cli_update_then_list(server: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["iocs", "update", "--index", f"{server}/indicators.yaml", "--raw-base", server]
    )
    assert result.exit_code == 0, result.output
    assert "2 set(s) saved" in result.output
    listed = runner.invoke(main, ["iocs", "list", "--json"])
    assert listed.exit_code == 0
    names = {s["name"] for s in json.loads(listed.output)}
    assert "org__intel__dir__served.stix2" in names and len(names) == len(sets.bundled_files()) + 2


def test_unreachable_index_is_a_clear_error() -> None:
    with pytest.raises(IndicatorError, match="cannot download"):
        update("http://127.0.0.1:9/indicators.yaml")
    result = CliRunner().invoke(main, ["iocs", "update", "--index", "http://127.0.0.1:9/indicators.yaml"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_entry_url_forms() -> None:
    gh = {"type": "github", "github": {"owner": "o", "repo": "r", "branch": "b", "path": "p/x.stix2"}}
    assert entry_url(gh) == "https://raw.githubusercontent.com/o/r/b/p/x.stix2"
    assert entry_url({"download_url": "https://e.example/x"}) == "https://e.example/x"
    assert entry_url({"type": "github", "github": {"owner": "o"}}) is None


def test_the_bundled_community_index_parses() -> None:
    import yaml

    index = Path(sets.bundled_files()[0]).parent / "indicators.yaml"
    entries = yaml.safe_load(index.read_text())["indicators"]
    urls = [entry_url(e) for e in entries]
    assert len(entries) >= 10 and all(urls)
