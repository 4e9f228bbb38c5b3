from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.whatsapp import (
    WhatsAppDataItem,
    WhatsAppMedia,
    WhatsAppMessage,
    WhatsAppParser,
    jid_phone,
)
from unmask.timeutil import to_cocoa

DOMAIN, REL = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite"
CONTAINER = "/private/var/mobile/Containers/Shared/AppGroup/group.net.whatsapp.WhatsApp.shared"
T0 = datetime(2022, 6, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2022, 6, 1, 12, 0, 30, tzinfo=UTC)
PEER = "491701234567@s.whatsapp.net"


def kinds(records: list[object]) -> tuple[list[WhatsAppMessage], list[WhatsAppMedia], list[WhatsAppDataItem]]:
    return (
        [r for r in records if isinstance(r, WhatsAppMessage)],
        [r for r in records if isinstance(r, WhatsAppMedia)],
        [r for r in records if isinstance(r, WhatsAppDataItem)],
    )


def test_jid_phone() -> None:
    assert jid_phone(PEER) == "+491701234567"
    assert jid_phone("491701234567:12@s.whatsapp.net") == "+491701234567"
    assert jid_phone("1203630@g.us") is None and jid_phone("12345@lid") is None and jid_phone(None) is None


def test_ios15_messages_media_and_data_items(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/ChatStorage.sqlite/ios15.sql",
        rows={
            "ZWAMESSAGE": [
                {
                    "Z_PK": 1,
                    "ZISFROMME": 0,
                    "ZFROMJID": PEER,
                    "ZTOJID": None,
                    "ZMESSAGEDATE": to_cocoa(T0),
                    "ZSENTDATE": to_cocoa(T1),
                    "ZTEXT": "look https://news.example.org/story and shop.example.net",
                    "ZMESSAGETYPE": 0,
                    "ZCHATSESSION": 3,
                    "ZPUSHNAME": "Bob",
                },
                {
                    "Z_PK": 2,
                    "ZISFROMME": 1,
                    "ZFROMJID": None,
                    "ZTOJID": PEER,
                    "ZMESSAGEDATE": to_cocoa(T1),
                    "ZMESSAGETYPE": 1,
                    "ZMEDIAITEM": 5,
                },
            ],
            "ZWAMEDIAITEM": [
                {
                    "Z_PK": 5,
                    "ZMESSAGE": 2,
                    "ZMEDIAURL": "https://mmg.whatsapp.net/d/f/abc.enc",
                    "ZMEDIALOCALPATH": "Media/491701234567@s.whatsapp.net/a/b/photo.jpg",
                    "ZTITLE": "see evil.example.com",
                    "ZFILESIZE": 2048,
                    "ZAUTHORNAME": "Bob",
                },
            ],
            "ZWAMESSAGEDATAITEM": [
                {
                    "Z_PK": 8,
                    "ZMESSAGE": 1,
                    "ZMATCHEDTEXT": "https://news.example.org/story",
                    "ZCONTENT1": "https://cdn.example.org/img.png",
                    "ZCONTENT2": None,
                    "ZTITLE": "Story",
                    "ZDATE": to_cocoa(T0),
                    "ZSENDERJID": PEER,
                },
            ],
        },
    )
    records, cov = run(WhatsAppParser, backup.finish())
    assert cov.status is Status.PARSED
    assert cov.artefacts[0].device_path == f"{CONTAINER}/ChatStorage.sqlite"
    messages, media, items = kinds(records)
    first, second = messages
    assert (first.sent, first.sent_date, first.direction, first.from_jid) == (T0, T1, "received", PEER)
    assert first.links == ("https://news.example.org/story", "shop.example.net")
    assert first.peer_phone == "+491701234567" and second.peer_phone == "+491701234567"
    assert (second.direction, second.media_item, second.text, second.links) == ("sent", 5, None, ())
    assert first.locator == "ZWAMESSAGE.Z_PK=1"
    (item,) = media
    assert item.media_url == "https://mmg.whatsapp.net/d/f/abc.enc"
    # Nothing stored: the usual layout, under the group's Message/ folder.
    assert item.local_path == f"{CONTAINER}/Message/Media/491701234567@s.whatsapp.net/a/b/photo.jpg"
    assert (item.message_pk, item.message_date, item.direction, item.file_size) == (2, T1, "sent", 2048)
    obs = {(o.type, o.value) for o in observables_of(item)}
    # WhatsApp's own media hosts are facts too: matching decides what they mean.
    assert (Obs.DOMAIN, "mmg.whatsapp.net") in obs and (Obs.DOMAIN, "evil.example.com") in obs
    assert (Obs.FILE_NAME, "photo.jpg") in obs
    (data_item,) = items
    assert data_item.links == ("https://news.example.org/story", "https://cdn.example.org/img.png")
    assert (data_item.date, data_item.message_pk, data_item.title) == (T0, 1, "Story")
    assert (Obs.PHONE, "+491701234567") in {(o.type, o.value) for o in observables_of(first)}


def test_mvt_fixture_schema(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/ChatStorage.sqlite/mvt-fixture.sql",
        rows={
            "ZWAMESSAGE": [
                {
                    "Z_PK": 1,
                    "ZFROMJID": PEER,
                    "ZTEXT": "http://a.example/x",
                    "ZMESSAGEDATE": to_cocoa(T0),
                    "ZISFROMME": 0,
                }
            ],
            "ZWAMEDIAITEM": [{"Z_PK": 1, "ZMESSAGE": 1, "ZMEDIAURL": "https://b.example/y"}],
            "ZWAMESSAGEDATAITEM": [{"Z_PK": 1, "ZMESSAGE": 1, "ZCONTENT2": "see c.example/z"}],
        },
    )
    records, cov = run(WhatsAppParser, backup.finish())
    assert cov.status is Status.PARSED
    messages, media, items = kinds(records)
    assert [m.links for m in messages] == [("http://a.example/x",)]
    assert [(m.media_url, m.local_path, m.message_date) for m in media] == [("https://b.example/y", None, T0)]
    assert [i.links for i in items] == [("c.example/z",)]


def test_store_without_messages_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, "ios/DataUsage.sqlite/ios14.sql")
    records, cov = run(WhatsAppParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED


def test_truncated_database() -> None:
    data = junk.db_bytes(
        "ios/ChatStorage.sqlite/ios15.sql",
        {"ZWAMESSAGE": [{"Z_PK": i, "ZTEXT": "t" * 400} for i in range(1, 40)]},
    )
    _, cov = junk.run_file(WhatsAppParser, DOMAIN, REL, data[:4096])
    junk.assert_truncated_handled(cov)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hostile_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = data.draw(
        st.sampled_from(["ios/ChatStorage.sqlite/ios15.sql", "ios/ChatStorage.sqlite/mvt-fixture.sql"])
    )
    tables = {
        t: data.draw(junk.rows(schema, t)) for t in ("ZWAMESSAGE", "ZWAMEDIAITEM", "ZWAMESSAGEDATAITEM")
    }
    records, cov = junk.run_file(WhatsAppParser, DOMAIN, REL, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    for record in records:
        list(observables_of(record))
        record.describe()


def test_media_path_follows_the_layout_the_evidence_holds(backup: BackupBuilder) -> None:
    rows = {"ZWAMEDIAITEM": [{"Z_PK": 1, "ZMEDIALOCALPATH": "Media/x@s.whatsapp.net/p.jpg"}]}
    backup.add_sqlite(DOMAIN, "ChatStorage.sqlite", "ios/ChatStorage.sqlite/ios15.sql", rows=rows)
    backup.add_file(DOMAIN, "Media/x@s.whatsapp.net/p.jpg", b"\xff\xd8\xff")  # old layout, no Message/
    records, _ = run(WhatsAppParser, backup.finish())
    (media,) = [r for r in records if r.kind == "ios/whatsapp/media"]
    assert media.local_path == f"{CONTAINER}/Media/x@s.whatsapp.net/p.jpg"
