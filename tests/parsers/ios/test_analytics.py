"""SFAnalytics stores: every string of every event as a process and host observable; OS builds first seen."""

from __future__ import annotations

import plistlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import assert_tolerated, plist_dicts, run_file
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run_evidence
from tests.builders.schema import db_bytes
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.analytics import AnalyticsBuild, AnalyticsEvent, AnalyticsParser

T1 = datetime(2023, 5, 1, 10, 0, tzinfo=UTC)
T2 = datetime(2023, 6, 1, 10, 0, tzinfo=UTC)


def _event(when: datetime, **data: Any) -> dict[str, Any]:
    return {"timestamp": timeutil.to_cocoa(when), "data": plistlib.dumps(data, fmt=plistlib.FMT_BINARY)}


ROWS = {
    "hard_failures": [_event(T2, EventType="ckksFetch", build="20F66", process="roleaccountd",
                             detail={"server": "https://weather4free.com/x", "n": 3})],
    "soft_failures": [_event(T1, EventType="trust", build="20E252", host="api.example.com")],
}


@pytest.mark.parametrize("schema", ["ios/Analytics/sfanalytics.sql", "ios/Analytics/sfanalytics-all-events.sql"])
def test_events_strings_and_builds(dump: DumpBuilder, schema: str) -> None:
    rows = dict(ROWS)
    if "all-events" in schema:
        rows["all_events"] = [_event(T1, EventType="x", build="20E252")]
    dump.add_sqlite("/private/var/Keychains/Analytics/ckks_analytics.db", schema, rows)
    records, cov = run_evidence(AnalyticsParser, dump.finish("tar.gz"))
    assert cov.status is Status.PARSED
    events = [r for r in records if isinstance(r, AnalyticsEvent)]
    hard = events[0]
    assert (hard.table, hard.event_type, hard.build, hard.time, hard.store) == (
        "hard_failures", "ckksFetch", "20F66", T2, "ckks_analytics.db")
    assert "roleaccountd" in hard.values and "https://weather4free.com/x" in hard.values
    obs = {(o.type, o.value) for o in observables_of(hard)}
    assert (Obs.PROCESS, "roleaccountd") in obs and (Obs.DOMAIN, "weather4free.com") in obs
    soft = events[1]
    assert (Obs.DOMAIN, "api.example.com") in {(o.type, o.value) for o in observables_of(soft)}
    builds = [(b.build, b.first_seen) for b in records if isinstance(b, AnalyticsBuild)]
    assert builds == [("20E252", T1), ("20F66", T2)]  # the update history, oldest first


def test_a_database_without_event_tables_is_failed(dump: DumpBuilder) -> None:
    dump.add_sqlite("/private/var/Keychains/Analytics/x.db", None, extra_sql="CREATE TABLE t (a);")
    records, cov = run_evidence(AnalyticsParser, dump.finish("zip"))
    assert records == [] and cov.status is Status.FAILED


def test_a_blob_that_is_not_a_plist_is_a_warning(dump: DumpBuilder) -> None:
    dump.add_sqlite("/private/var/Keychains/Analytics/x.db", "ios/Analytics/sfanalytics.sql",
                    {"notes": [{"timestamp": 1.0, "data": b"garbage"}]})
    records, cov = run_evidence(AnalyticsParser, dump.finish("tar"))
    assert cov.status is Status.PARSED and [r.values for r in records if isinstance(r, AnalyticsEvent)] == [()]
    assert any("not a plist" in w for w in cov.warnings)


@settings(max_examples=15, deadline=None)
@given(values=st.lists(plist_dicts(), max_size=3))
def test_garbage_events_never_crash(values: list[dict[str, Any]]) -> None:
    rows = {"hard_failures": [{"timestamp": 1.5, "data": plistlib.dumps(v, fmt=plistlib.FMT_BINARY)} for v in values]}
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "s", "ios/Analytics/sfanalytics.sql", rows)
        records, cov = run_file(AnalyticsParser, "KeychainDomain", "Analytics/x.db", data)
    assert_tolerated(records, cov)
