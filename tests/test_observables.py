from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from unmask.model import Obs, Observable
from unmask.observables import expand, find_urls, normalize_domain, normalize_path, url_parts


def test_find_urls_with_and_without_scheme() -> None:
    text = (
        "Hi! Track it at https://Evil.example/a?b=c, or www.bad.example/x. Mail me: a@b.example. "
        "See photo.jpg and cdn.eagle.demo.tzsafe.com (now)."
    )
    assert find_urls(text) == ("https://Evil.example/a?b=c", "www.bad.example/x", "cdn.eagle.demo.tzsafe.com")
    assert find_urls(None) == () and find_urls("no links here.") == ()
    assert find_urls("itms-services://?action=download-manifest&url=https://x.example/m.plist") == (
        "itms-services://?action=download-manifest&url=https://x.example/m.plist",
    )


def test_url_parts_normalise() -> None:
    assert url_parts("HTTP://EVIL.example:80") == ("http://evil.example/", "evil.example")
    assert url_parts("evil.example/path") == ("http://evil.example/path", "evil.example")
    assert url_parts("https://[2001:db8::1]:8443/x") == ("https://[2001:db8::1]:8443/x", "2001:db8::1")
    assert url_parts("http:///nohost") is None
    assert url_parts("https://exa mple.com/") is None


def test_domains_and_paths() -> None:
    assert normalize_domain("Bücher.Example.") == "xn--bcher-kva.example"
    assert normalize_domain("*.evil.example") == "evil.example"
    assert normalize_domain("not a host") is None
    assert normalize_path("/var//mobile/x/") == "/private/var/mobile/x"
    assert normalize_path("/private/var/tmp") == "/private/var/tmp"
    assert normalize_path("file:///tmp/l") == "/private/tmp/l"


def test_expand() -> None:
    got = {(o.type, o.value) for o in expand(Observable(Obs.URL, "https://sub.evil.example/x"))}
    assert got == {(Obs.URL, "https://sub.evil.example/x"), (Obs.DOMAIN, "sub.evil.example")}
    got = {(o.type, o.value) for o in expand(Observable(Obs.HOST, "198.51.100.7:443"))}
    assert got == {(Obs.IPV4, "198.51.100.7")}
    got = {(o.type, o.value) for o in expand(Observable(Obs.FILE_PATH, "/var/tmp/hooker"))}
    assert got == {(Obs.FILE_PATH, "/private/var/tmp/hooker"), (Obs.FILE_NAME, "hooker")}
    assert [o.type for o in expand(Observable(Obs.PHONE_OR_EMAIL, "tel:+4179"))] == [Obs.PHONE]


@given(st.text(max_size=300))
def test_text_functions_never_raise(text: str) -> None:
    for link in find_urls(text):
        assert link and link in text
        url_parts(link)
    normalize_domain(text)
    normalize_path(text)
    for kind in Obs:
        list(expand(Observable(kind, text)))
