from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from unmask.model import Obs, Observable
from unmask.observables import (
    basename,
    expand,
    find_urls,
    is_plain_domain,
    normalize_domain,
    normalize_ip,
    normalize_path,
    url_parts,
)


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


def _url_parts_reference(url: str) -> tuple[str, str] | None:
    """url_parts as it was before its plain-URL fast path: urlsplit for every URL."""
    from urllib.parse import urlsplit

    from unmask.observables import normalize_ip

    text = url.strip()
    if not text:
        return None
    candidate = text if "://" in text[:16] else "http://" + text
    try:
        parts = urlsplit(candidate)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    scheme = parts.scheme.lower()
    ip = normalize_ip(host)
    if ip is not None:
        norm_host = f"[{ip[1]}]" if ip[0] is Obs.IPV6 else ip[1]
        bare_host = ip[1]
    else:
        domain = normalize_domain(host)
        if domain is None:
            return None
        norm_host = bare_host = domain
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = norm_host if port in (None, default_port) else f"{norm_host}:{port}"
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}", bare_host


_SCHEMES = st.sampled_from(
    ["", "http://", "HTTPS://", "ftp://", "itms-services://", "h+t.t-p://", "1x://", "a b://"]
)
_URL_HOSTS = st.one_of(
    st.sampled_from(
        [
            "evil.example",
            "EVIL.Example.",
            "a..b",
            "-x.com",
            "1.2.3.4",
            "999.1.1.1",
            "[::1]",
            "[::1",
            "u@h.com",
        ]
    ),
    st.text(st.sampled_from("abcXYZ019.-_@[]:%ü"), min_size=0, max_size=12),
)
_PORTS = st.sampled_from(
    ["", ":", ":80", ":443", ":0080", ":8443", ":65535", ":65536", ":99999", ":123456", ":x", ":٣"]
)
_RESTS = st.one_of(
    st.sampled_from(["", "/", "/a/b", "?q=1", "#frag", "/p?q#f", "/p#f?q", "/ü", "/a b", "/a\tb", "\\x"]),
    st.text(max_size=12),
)


@settings(max_examples=600)
@given(
    scheme=_SCHEMES, host=_URL_HOSTS, port=_PORTS, rest=_RESTS, pad=st.sampled_from(["", " ", "\x01", "\t"])
)
def test_url_parts_fast_path_equals_urlsplit(scheme: str, host: str, port: str, rest: str, pad: str) -> None:
    url = f"{pad}{scheme}{host}{port}{rest}{pad}"
    url_parts.cache_clear()
    assert url_parts(url) == _url_parts_reference(url), url


@given(st.text(max_size=60))
def test_url_parts_on_any_text_equals_urlsplit(text: str) -> None:
    assert url_parts(text) == _url_parts_reference(text)


@given(st.one_of(st.text(max_size=30), st.text(st.sampled_from("abz09.-_:*ÀA\x00 "), max_size=30)))
def test_plain_domains_are_left_unchanged_by_normalisation(text: str) -> None:
    # Declining is always safe (the index then normalises as usual); accepting must be exact.
    if is_plain_domain(text):
        assert normalize_domain(text) == text and normalize_ip(text) is None


def test_basename_is_posix_basename() -> None:
    import posixpath

    for path in ["/", "", "a", "/a/b", "/a/b/", "a//", "//", "/a/b.c/"]:
        assert basename(path) == posixpath.basename(path.rstrip("/"))


@given(st.one_of(st.text(max_size=30), st.text(st.sampled_from("/ab.\x00 :file"), max_size=20)))
def test_a_path_expands_to_itself_and_its_basename(text: str) -> None:
    import posixpath

    from unmask.observables import expand_value

    pairs = list(expand_value(Obs.FILE_PATH, text))
    norm = normalize_path(text)
    if not norm:
        assert pairs == []
        return
    name = posixpath.basename(norm.rstrip("/"))
    assert pairs == [(Obs.FILE_PATH, norm)] + ([(Obs.FILE_NAME, name)] if name else [])
