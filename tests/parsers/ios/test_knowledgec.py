"""KnowledgeC: app usage and web usage streams with their domains and page URLs (real macOS 10.14 DDL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated
from tests.builders.fuzz import db_bytes as fuzz_db
from tests.builders.fuzz import rows as fuzz_rows
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run_evidence
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.knowledgec import KnowledgeCParser, KnowledgeEvent

SCHEMA = "macos/knowledgeC.db/macos10.14.sql"
PATH = "/private/var/mobile/Library/CoreDuet/Knowledge/knowledgeC.db"
START = datetime(2024, 3, 3, 9, 0, tzinfo=UTC)
END = datetime(2024, 3, 3, 9, 5, tzinfo=UTC)


def _obj(pk: int, stream: str, value: str | None, meta: int | None = None) -> dict[str, Any]:
    return {"Z_PK": pk, "ZSTREAMNAME": stream, "ZVALUESTRING": value, "ZSTARTDATE": timeutil.to_cocoa(START),
            "ZENDDATE": timeutil.to_cocoa(END), "ZSTRUCTUREDMETADATA": meta, "ZSOURCE": 1}


ROWS: dict[str, list[dict[str, Any]]] = {
    "ZOBJECT": [_obj(1, "/app/inFocus", "com.apple.mobilesafari"),
                _obj(2, "/app/webUsage", "com.apple.mobilesafari", meta=1),
                _obj(3, "/device/isLocked", None)],
    "ZSTRUCTUREDMETADATA": [{"Z_PK": 1, "Z_DKDIGITALHEALTHMETADATAKEY__WEBDOMAIN": "md-news-direct.com",
                             "Z_DKDIGITALHEALTHMETADATAKEY__WEBPAGEURL": "https://md-news-direct.com/a"}],
    "ZSOURCE": [{"Z_PK": 1, "ZBUNDLEID": "com.apple.mobilesafari"}],
}


def test_usage_streams(dump: DumpBuilder) -> None:
    dump.add_sqlite(PATH, SCHEMA, ROWS)
    records, cov = run_evidence(KnowledgeCParser, dump.finish("tar"))
    assert cov.status is Status.PARSED
    events = [r for r in records if isinstance(r, KnowledgeEvent)]
    assert [(e.stream, e.bundle_id, e.domain, e.url) for e in events] == [
        ("/app/inFocus", "com.apple.mobilesafari", None, None),
        ("/app/webUsage", "com.apple.mobilesafari", "md-news-direct.com", "https://md-news-direct.com/a"),
    ]  # /device/isLocked is not a usage stream
    assert (events[0].start, events[0].end) == (START, END)
    assert (Obs.DOMAIN, "md-news-direct.com") in {(o.type, o.value) for o in observables_of(events[1])}


def test_a_store_without_metadata_tables(dump: DumpBuilder) -> None:
    dump.add_sqlite(PATH, None, {"ZOBJECT": [{"Z_PK": 1, "ZSTREAMNAME": "/app/usage", "ZVALUESTRING": "a.b"}]},
                    extra_sql="CREATE TABLE ZOBJECT (Z_PK INTEGER PRIMARY KEY, ZSTREAMNAME VARCHAR, ZVALUESTRING VARCHAR);")
    records, cov = run_evidence(KnowledgeCParser, dump.finish("zip"))
    assert cov.status is Status.PARSED and [r.bundle_id for r in records if isinstance(r, KnowledgeEvent)] == ["a.b"]


@settings(max_examples=15, deadline=None)
@given(objects=fuzz_rows(SCHEMA, "ZOBJECT"))
def test_garbage_rows_never_crash(objects: list[dict[str, Any]]) -> None:
    import tempfile
    from pathlib import Path

    for o in objects:
        o["ZSTREAMNAME"] = "/app/webUsage"
    data = fuzz_db(SCHEMA, {"ZOBJECT": objects})
    with tempfile.TemporaryDirectory() as tmp:
        dump = DumpBuilder(Path(tmp), system=False)
        dump.add_file(PATH, data)
        records, cov = run_evidence(KnowledgeCParser, dump.finish("tar"))
    assert_tolerated(records, cov)
