"""Cookies.binarycookies: domains, names, paths, flags, times; damaged files fail with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.binarycookies import binarycookies, cookie, page
from tests.builders.fuzz import assert_writable, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.safari_cookies import Cookie, SafariCookiesParser

CREATED = datetime(2024, 2, 2, 10, 0, tzinfo=UTC)
EXPIRES = datetime(2025, 2, 2, 10, 0, tzinfo=UTC)
REL = "Library/Cookies/Cookies.binarycookies"
FILE = binarycookies([
    page([cookie(".weather4free.com", "sid", "/", "x", flags=5, created=CREATED, expires=EXPIRES),
          cookie("www.example.org", "lang", "/en", "de", created=CREATED, expires=EXPIRES)]),
    page([cookie("accounts.example.net", "t", created=CREATED, expires=EXPIRES)]),
])


def test_cookies_of_every_app(dump: DumpBuilder) -> None:
    app = dump.container("data", "com.example.chat")
    dump.add_file(app + "/" + REL, FILE)
    dump.add_file("/private/var/mobile/" + REL, FILE)
    records, cov = run_evidence(SafariCookiesParser, dump.finish("tar"))
    assert cov.status is Status.PARSED and len(cov.artefacts) == 2
    cookies = [r for r in records if isinstance(r, Cookie) and r.app == "com.example.chat"]
    assert [(c.domain, c.name, c.path, c.secure, c.http_only) for c in cookies] == [
        (".weather4free.com", "sid", "/", True, True), ("www.example.org", "lang", "/en", False, False),
        ("accounts.example.net", "t", "/", False, False),
    ]
    assert (cookies[0].created, cookies[0].expires, cookies[0].locator) == (CREATED, EXPIRES, "page=0 cookie=0")
    assert (Obs.DOMAIN, "weather4free.com") in {(o.type, o.value) for o in observables_of(cookies[0])}


def test_safaris_cookies_in_a_backup(backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", REL, FILE)
    records, cov = run(SafariCookiesParser, backup.finish())
    assert cov.status is Status.PARSED and len(records) == 3


@pytest.mark.parametrize("data", [b"", b"cooX\x00\x00\x00\x01", b"cook\xff\xff\xff\xff", FILE[:30], FILE[:-60]])
def test_damaged_files_fail_with_a_reason(backup: BackupBuilder, data: bytes) -> None:
    backup.add_file("HomeDomain", REL, data)
    _, cov = run(SafariCookiesParser, backup.finish())
    assert cov.status in (Status.FAILED, Status.PARTIAL) and cov.reason


@settings(max_examples=30, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), st.binary(max_size=200).map(lambda b: b"cook" + b),
                      st.integers(0, len(FILE)).map(lambda n: FILE[:n]),
                      st.tuples(st.integers(0, len(FILE) - 1), st.integers(0, 255)).map(
                          lambda t: FILE[: t[0]] + bytes([t[1]]) + FILE[t[0] + 1 :])))
def test_garbage_never_crashes(data: bytes) -> None:
    records, cov = run_file(SafariCookiesParser, "HomeDomain", REL, data)
    assert_writable(records)
    assert cov.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
    assert cov.status is Status.PARSED or (cov.reason and not cov.reason.startswith("unexpected"))
