"""iOS version history from the first line of each Analytics journal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run_evidence
from unmask.model import Status
from unmask.parsers.ios.ios_version_history import IOSVersionHistoryParser, OSVersionSeen

FOLDER = "/private/var/db/analyticsd/"


def test_one_version_per_journal(dump: DumpBuilder) -> None:
    header = {"timestamp": "2023-03-01 10:00:00.00 +0100", "os_version": "iPhone OS 16.3.1 (20D67)", "bug_type": "211"}
    dump.add_file(FOLDER + "Analytics-Journal-2023-03-01-100000.ips", (json.dumps(header) + "\n{\"x\": 1}\n").encode())
    header2 = {"timestamp": "2023-04-01 09:00:00 +0200", "os_version": "iPhone OS 16.4 (20E247)"}
    dump.add_file(FOLDER + "Analytics-Journal-2023-04-01-090000.ips", json.dumps(header2).encode())
    records, cov = run_evidence(IOSVersionHistoryParser, dump.finish("tar"))
    assert cov.status is Status.PARSED
    seen = [(r.os_version, r.time, r.time_inferred) for r in records if isinstance(r, OSVersionSeen)]
    assert seen == [
        ("iPhone OS 16.3.1 (20D67)", datetime(2023, 3, 1, 9, 0, tzinfo=UTC), ""),
        ("iPhone OS 16.4 (20E247)", datetime(2023, 4, 1, 7, 0, tzinfo=UTC), ""),
    ]


@pytest.mark.parametrize("content", [b"", b"not json\n", b"[1, 2]\n", b"\xff\xfe\x00garbage"])
def test_a_damaged_journal_fails_with_a_reason(dump: DumpBuilder, content: bytes) -> None:
    dump.add_file(FOLDER + "Analytics-Journal-x.ips", content)
    records, cov = run_evidence(IOSVersionHistoryParser, dump.finish("folder"))
    assert records == [] and cov.status is Status.FAILED and cov.reason


def test_a_header_without_a_time_keeps_the_version(dump: DumpBuilder) -> None:
    dump.add_file(FOLDER + "Analytics-Journal-y.ips", b'{"os_version": "iPhone OS 17.0 (21A329)", "timestamp": "soon"}\n')
    records, _ = run_evidence(IOSVersionHistoryParser, dump.finish("zip"))
    assert [(r.os_version, r.time) for r in records if isinstance(r, OSVersionSeen)] == [("iPhone OS 17.0 (21A329)", None)]
