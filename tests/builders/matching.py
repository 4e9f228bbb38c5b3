"""Hypothesis strategies of indicators and observations, shared by every test that holds a matcher
(the plaintext index, confidential lookup keys) against the naive reference."""

from __future__ import annotations

from hypothesis import strategies as st

from unmask.model import Indicator, Obs, Observable


def ind(kind: str, value: str, collection: str = "Test", stix_id: str | None = None) -> Indicator:
    return Indicator(kind, value, collection, stix_id or f"indicator--{kind}-{value}", "test.stix2")


_LABEL = st.sampled_from(["a", "b", "evil", "cdn", "x1", "bücher", "com", "net", "example"])
_HOSTS = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_IPS = st.sampled_from(["59.48.241.22", "59.48.241.221", "198.51.100.7", "::1", "2001:db8::1", "::ffff:10.0.0.1"])
_COMPONENT = st.sampled_from(["private", "var", "tmp", "db", "foo", "foobar", "l", "x.plist", "bh"])
_PATHS = st.lists(_COMPONENT, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts))
_PROCS = st.sampled_from(
    [
        "bh",
        "roleaccountd",
        "com.apple.xpc.roleaccountd",
        "com.apple.xpc.ro",  # 16: Darwin's truncation
        "com.apple.xpc.r",  # 15: Linux's truncation
        "com.apple.xpc.",
        "com.apple.xpc.rol",
        "/usr/bin/bh",
        "/usr/libexec/com.apple.xpc.ro",
        "BH",
    ]
)
_URL_FORMS = st.sampled_from(
    ["{h}{p}", "http://{h}.{p}", "https://{h}:443{p}#frag", "http://u@{h}{p}?q=1", "http://{h}#x", "http://{h}"]
)
INDICATORS = st.one_of(
    st.builds(lambda v: ind("domain-name:value", v), st.one_of(_HOSTS, _IPS)),
    st.builds(lambda v: ind("ipv4-addr:value", v), _IPS),
    st.builds(lambda v: ind("ipv6-addr:value", v), _IPS),
    st.builds(lambda v: ind("file:path", v), st.one_of(_PATHS, _PATHS.map(lambda p: p + "/"), st.just("/var"))),
    st.builds(lambda v: ind("file:name", v), _COMPONENT),
    st.builds(lambda v: ind("process:name", v), _PROCS),
    st.builds(lambda h, p: ind("url:value", f"https://{h}{p}"), _HOSTS, _PATHS),
    st.builds(lambda h: ind("url:value", f"http://{h}/"), _HOSTS),
    st.builds(lambda v: ind("ipv4-addr:value", v), st.sampled_from(["10.1.2.0/24", "59.48.241.0/24"])),
    st.builds(lambda h, p: ind("domain-name:value", f"{h}{p}"), _HOSTS, _PATHS),  # a URL filed as a domain
    st.builds(lambda v: ind("email-addr:value", f"U@{v}"), _HOSTS),
    st.builds(lambda v: ind("app:id", v), st.sampled_from(["com.Evil.app", "com.evil.app", "org.x"])),
    st.builds(lambda v: ind("file:hashes.sha256", v), st.sampled_from(["AB:CD", "abcd", "ABCD"])),
)
OBSERVATIONS = st.one_of(
    st.builds(lambda v: Observable(Obs.HOST, v), st.one_of(_HOSTS, _IPS)),
    st.builds(lambda h, p: Observable(Obs.URL, f"https://{h}{p}"), st.one_of(_HOSTS, _IPS), _PATHS),
    st.builds(lambda h, p: Observable(Obs.URL, f"HTTPS://{h.upper()}:443{p}"), _HOSTS, _PATHS),
    st.builds(lambda f, h, p: Observable(Obs.URL, f.format(h=h, p=p)), _URL_FORMS, st.one_of(_HOSTS, _IPS), _PATHS),
    st.builds(lambda v: Observable(Obs.FILE_PATH, v), st.one_of(_PATHS, _PATHS.map(lambda p: "/var" + p))),
    st.builds(lambda v: Observable(Obs.PROCESS, v), _PROCS),
    st.builds(lambda v: Observable(Obs.PHONE_OR_EMAIL, f"u@{v}"), _HOSTS),
    st.builds(lambda v: Observable(Obs.APP_ID, v), st.sampled_from(["COM.EVIL.APP", "org.x"])),
    st.builds(lambda v: Observable(Obs.SHA256, v), st.sampled_from(["ab cd", "ABCD"])),
)
