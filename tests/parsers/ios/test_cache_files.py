"""Cache.db URL caches: every Cache.db of every app and daemon, on a dump; real iOS 15/16/17 DDL."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_fs import DumpBuilder, container_uuid
from tests.builders.run import run_evidence
from tests.builders.schema import db_bytes
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.cache_files import CachedResponse, CacheFilesParser

ROWS = {
    "cfurl_cache_response": [
        {"entry_ID": 1, "version": 0, "hash_value": 1, "storage_policy": 0,
         "request_key": "https://cdn.example.org/app.js", "time_stamp": "2024-02-29 10:11:12", "partition": None},
        {"entry_ID": 2, "version": 0, "hash_value": 2, "storage_policy": 0,
         "request_key": "https://weather4free.com/x?y=1", "time_stamp": "2024-03-01 08:00:00", "partition": None},
    ]
}


@pytest.mark.parametrize("schema", ["ios/Cache.db/ios15.sql", "ios/Cache.db/ios16.sql", "ios/Cache.db/ios17.sql"])
def test_every_cache_in_every_container(dump: DumpBuilder, schema: str) -> None:
    app = dump.container("data", "com.example.chat")
    dump.add_sqlite(app + "/Library/Caches/com.example.chat/Cache.db", schema, ROWS)
    dump.add_sqlite("/private/var/mobile/Library/Caches/com.apple.nsurlsessiond/Cache.db", schema, ROWS)
    dump.add_file("/private/var/mobile/Library/Caches/notadb/Cache.db.bak", b"x")
    records, cov = run_evidence(CacheFilesParser, dump.finish("tar.gz"))
    assert cov.status is Status.PARSED and len(cov.artefacts) == 2
    by_app = {(r.app, r.url) for r in records if isinstance(r, CachedResponse)}
    assert ("com.example.chat", "https://weather4free.com/x?y=1") in by_app
    assert (None, "https://cdn.example.org/app.js") in by_app
    first = next(r for r in records if isinstance(r, CachedResponse))
    assert first.stored == datetime(2024, 2, 29, 10, 11, 12, tzinfo=UTC)
    assert first.locator == "cfurl_cache_response.entry_ID=1"
    assert (Obs.DOMAIN, "cdn.example.org") in {(o.type, o.value) for o in observables_of(first)}


def test_an_unrelated_cache_db_is_unsupported(dump: DumpBuilder) -> None:
    dump.add_sqlite("/private/var/mobile/Library/Caches/x/Cache.db", None, extra_sql="CREATE TABLE other (a);")
    records, cov = run_evidence(CacheFilesParser, dump.finish("zip"))
    assert records == [] and cov.status is Status.UNSUPPORTED


def test_an_app_container_without_metadata_has_no_app(dump: DumpBuilder) -> None:
    folder = "/private/var/mobile/Containers/Data/Application/" + container_uuid("data", "x")
    dump.add_sqlite(folder + "/Library/Caches/x/Cache.db", "ios/Cache.db/ios17.sql", ROWS)
    records, _ = run_evidence(CacheFilesParser, dump.finish("tar"))
    assert {r.app for r in records if isinstance(r, CachedResponse)} == {None}


COLS = ["request_key", "time_stamp", "storage_policy", "version"]


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({c: VALUES for c in COLS}), max_size=5))
def test_garbage_rows_never_crash(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), "ios/Cache.db/ios17.sql", {"cfurl_cache_response": rows},
                          ("cfurl_cache_response", "request_key"))
        records, cov = run_file(CacheFilesParser, "HomeDomain", "Library/Caches/x/Cache.db", data)
    assert_tolerated(records, cov)


@settings(max_examples=12, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99))
def test_truncated_cache_never_crashes(cut: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "s", "ios/Cache.db/ios17.sql", ROWS)
        records, cov = run_file(CacheFilesParser, "HomeDomain", "Library/Caches/x/Cache.db", data[: int(len(data) * cut)])
    assert_tolerated(records, cov)
