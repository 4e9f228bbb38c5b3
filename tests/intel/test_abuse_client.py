"""The intel client against a hostile server: it trusts only what is signed, within its own caps.

Every case goes through the CLI (``unmask check-backup ... --intel-server``) and must end in one
line and exit 2, quickly, without evaluating anything it should not.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.builders.sample import build_sample
from tests.intel.hostile import Hostile, endless, hostile_server, send
from unmask import api
from unmask.cli import main
from unmask.intel.client import MIN_BATCH, confidential_indicators
from unmask.intel.publish import PublishReport

pytestmark = pytest.mark.timeout(120)
TOKEN = "mvtcm_0123456789ab_secret"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("b") / "b", plant=False).root


@pytest.fixture(scope="module")
def busy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup with enough distinct observables for several thousand lookups."""
    return build_sample(tmp_path_factory.mktemp("busy") / "b", plant=False, visits=2000, filler_files=2000).root


def _check(hostile: Hostile, report: PublishReport, backup: Path, monkeypatch: pytest.MonkeyPatch,
           seconds: float = 30.0) -> str:
    """Run the CLI against the hostile server; assert exit 2 with one clean line in time; the line."""
    monkeypatch.setenv("UNMASK_INTEL_TOKEN", TOKEN)
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["check-backup", str(backup), "-q", "--intel-server", hostile.url, "--intel-key", report.public_key]
    )
    elapsed = time.monotonic() - started
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "Traceback" not in result.output and "internal error" not in result.output, lines
    assert "\x1b" not in result.output
    assert elapsed < seconds, elapsed
    return lines[0]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_batch": 65536, "min_charge": 2_000_000_000}, "min_charge 2000000000"),
        ({"max_batch": 65536, "min_charge": 2e9}, "min_charge 2000000000.0"),
        ({"max_batch": 1, "min_charge": 1}, "max_batch 1 "),
        ({"max_batch": 65536, "min_charge": 65536}, "min_charge 65536"),  # over the client's cap
        ({"max_batch": 4096, "min_charge": 8192}, "min_charge 8192"),  # more than a batch
        ({"max_batch": "65536", "min_charge": 4096}, "max_batch \"65536\""),
        ({"max_batch": 65536.0, "min_charge": 4096}, "max_batch 65536.0"),
        ({"max_batch": -65536, "min_charge": 4096}, "max_batch -65536"),
        ({"max_batch": 10**30, "min_charge": 4096}, "max_batch 10000000000000"),
        ({"max_batch": 65536, "min_charge": True}, "min_charge True"),
        ({"max_batch": None, "min_charge": 4096}, "max_batch None"),
        ([65536, 4096], "limits are malformed"),
        ("[bold]65536", "limits are malformed"),
    ],
)
def test_unsigned_limits_out_of_range_or_wrongly_typed(  # type: ignore[no-untyped-def]
    intel_dir, sample: Path, monkeypatch, limits: Any, message: str
) -> None:
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.limits = limits
        line = _check(hostile, report, sample, monkeypatch, seconds=10)
        assert message in line.replace("[", "(").replace("]", ")") or message in line, line
        # Refused before downloading the set, let alone padding or evaluating anything.
        assert dict(hostile.hits) == {"manifest": 1}


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("zeros", "invalid group element (identity element) at position 0"),
        ("noncanonical", "invalid group element (non-canonical or invalid element)"),
        ("short", "not 131072"),
        ("long", "larger than 131072 bytes"),
        ("endless", "larger than 131072 bytes"),
    ],
)
def test_evaluation_answers_are_checked(intel_dir, sample: Path, monkeypatch, mode: str, message: str) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.evaluate = mode
        line = _check(hostile, report, sample, monkeypatch)
        assert message in line, line
        assert hostile.hits["evaluate"] <= 2  # the first bad answer ends the scan (one may be in flight)


def test_small_valid_limits_keep_the_number_of_requests_bounded(intel_dir, busy_sample: Path) -> None:  # type: ignore[no-untyped-def]
    """A server that asks for its smallest accepted batches gets one request per 1,024 lookups (a
    max_batch of 1 once made a scan send 23,868 requests), and the scan still works."""
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.limits = {"max_batch": 1024, "min_charge": 1024}
        sets, matcher, client = confidential_indicators(hostile.url, report.public_key, TOKEN)
        result = api.check_backup(busy_sample, indicators=(sets, matcher))
    lookups, calls = client.traffic.elements, matcher.stats.requests
    assert lookups > 5 * MIN_BATCH
    assert hostile.hits["evaluate"] == client.traffic.requests - 3
    assert hostile.hits["evaluate"] <= calls + math.ceil(lookups / MIN_BATCH)
    assert client.traffic.padding < 1024 * calls
    assert [f for f in result.findings if f.indicator is not None] == []  # nothing planted, nothing found


def _answer(status: int, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return lambda handler: send(handler, status, body, headers)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (endless(declared=3_000_000_000), "larger than 1048576 bytes"),
        (endless(), "larger than 1048576 bytes"),
        (_answer(200, b"[" * 500_000 + b"]" * 500_000), "does not look like an unmask intel server"),
        (_answer(200, b"[1, 2]"), "does not look like an unmask intel server"),
        (_answer(200, b"\x00garbage"), "does not look like an unmask intel server"),
        (_answer(200, gzip.compress(b"{}" + b" " * 10_000_000), {"Content-Encoding": "gzip"}), "compressed (gzip)"),
        (_answer(500, b"[/bold]boom\n\x1b[31mred[x] " + b"y" * 100_000), "answered 500 for /v1/manifest: (/bold)boom"),
        (_answer(429, b"", {"Retry-After": "[red]soon\x1b"}), "retry after ? s"),
        (_answer(200, json.dumps({"envelope": {"manifest": {}, "signature": "00"}}).encode()), "does not verify"),
    ],
)
def test_manifest_answers_are_capped_and_checked(intel_dir, sample: Path, monkeypatch, answer, message: str) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.manifest_answer = answer
        line = _check(hostile, report, sample, monkeypatch, seconds=20)
        assert message in line, line
        assert len(line) < 400


def _set(field_name: str, value: Any):  # type: ignore[no-untyped-def]
    def edit(manifest: dict[str, Any]) -> None:
        manifest["set"][field_name] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("bytes", "1084228"), "set size \"1084228\" is not an integer"),
        (_set("bytes", 2**40), "set size 1099511627776 is not an integer up to"),
        (_set("records", -1), "record count -1"),
        (_set("sha256", ["x"]), "set.sha256 is not a SHA-256"),
        (lambda m: m.update(epoch="../../signing.key"), "malformed epoch id"),
        (lambda m: m.update(set=None), "does not describe its set"),
    ],
)
def test_signed_manifest_fields_are_type_checked(intel_dir, sample: Path, monkeypatch, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    """Even a manifest the pinned key signed is checked before its fields are used."""
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.resign = edit
        line = _check(hostile, report, sample, monkeypatch)
        assert message in line, line
        assert dict(hostile.hits) == {"manifest": 1}


def test_set_longer_than_its_signed_size_is_refused(intel_dir, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.extra_set_bytes = b"\0" * 10_000_000
        line = _check(hostile, report, sample, monkeypatch)
    assert f"larger than {report.set_bytes} bytes" in line


_MEASURE = """
import json, resource, sys
import unmask.api, unmask.intel.client  # imported before the baseline: only the fetch is measured
from unmask.cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "growth_kb": after - before, "peak_kb": after}))
"""


@pytest.mark.parametrize("declared", [None, 3_000_000_000])
def test_huge_manifest_answer_keeps_memory_bounded(intel_dir, sample: Path, declared: int | None) -> None:  # type: ignore[no-untyped-def]
    """A 3 GB answer (once took 6.9 GB of memory): the client stops past its 1 MiB cap."""
    folder, report = intel_dir
    with hostile_server(folder) as hostile:
        hostile.manifest_answer = endless(declared=declared)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, "check-backup", str(sample), "-q", "--intel-server", hostile.url,
             "--intel-key", report.public_key],
            capture_output=True, text=True, timeout=60, env={**os.environ, "UNMASK_INTEL_TOKEN": TOKEN},
        )
        elapsed = time.monotonic() - started
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 2, done.stderr
    assert "larger than 1048576 bytes" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert outcome["growth_kb"] < 32 * 1024, outcome  # MiB, not GB
    assert elapsed < 30
