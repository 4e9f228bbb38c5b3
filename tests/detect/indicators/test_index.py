from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.matching import INDICATORS, OBSERVATIONS, ind
from unmask.detect.indicators.index import IndicatorIndex, naive_match
from unmask.model import Indicator, Obs, Observable
from unmask.observables import expand


def hits(index: IndicatorIndex, kind: Obs, value: str) -> set[str]:
    found: set[str] = set()
    for obs in expand(Observable(kind, value)):
        found.update(i.value for i in index.match(obs))
    return found


def test_domains_match_on_label_boundaries_at_any_depth() -> None:
    index = IndicatorIndex.build(
        [ind("domain-name:value", "eagle.demo.tzsafe.com"), ind("domain-name:value", "humandiven.com")]
    )
    assert hits(index, Obs.HOST, "cdn.eagle.demo.tzsafe.com") == {"eagle.demo.tzsafe.com"}
    assert hits(index, Obs.HOST, "EAGLE.demo.tzsafe.com.") == {"eagle.demo.tzsafe.com"}
    assert hits(index, Obs.HOST, "demo.tzsafe.com") == set()
    assert hits(index, Obs.HOST, "humandiven.com.weather-news.example") == set()
    assert hits(index, Obs.HOST, "nothumandiven.com") == set()
    assert hits(index, Obs.URL, "https://x.humandiven.com:8443/a?b=c") == {"humandiven.com"}
    assert hits(index, Obs.URL, "humandiven.com/path") == {"humandiven.com"}


def test_idna_domains_match_their_unicode_form() -> None:
    index = IndicatorIndex.build([ind("domain-name:value", "xn--bcher-kva.example")])
    assert hits(index, Obs.HOST, "shop.bücher.example") == {"xn--bcher-kva.example"}
    index = IndicatorIndex.build([ind("domain-name:value", "bücher.example")])
    assert hits(index, Obs.HOST, "xn--bcher-kva.example") == {"bücher.example"}


def test_cidr_blocks_are_reported_unusable_not_silently_dead() -> None:
    index = IndicatorIndex.build([ind("ipv4-addr:value", "10.1.2.0/24")])
    assert [i.value for i in index.unusable] == ["10.1.2.0/24"] and index.count == 0
    assert hits(index, Obs.HOST, "10.1.2.5") == set()


def test_urls_with_fragments_trailing_dots_and_ports() -> None:
    index = IndicatorIndex.build(
        [ind("url:value", "http://evil.com/"), ind("url:value", "http://evil.com/path")]
    )
    assert hits(index, Obs.URL, "http://evil.com#frag") == {"http://evil.com/"}
    assert hits(index, Obs.URL, "http://evil.com./path") == {"http://evil.com/path"}
    assert hits(index, Obs.URL, "HTTP://EVIL.COM:80/path") == {"http://evil.com/path"}


def test_ips_match_by_address_only_even_when_filed_as_domains() -> None:
    index = IndicatorIndex.build(
        [
            ind("ipv4-addr:value", "59.48.241.22"),
            ind("domain-name:value", "198.51.100.7"),
            ind("ipv6-addr:value", "2001:DB8::1"),
        ]
    )
    assert hits(index, Obs.HOST, "59.48.241.221") == set()
    assert hits(index, Obs.HOST, "59.48.241.22") == {"59.48.241.22"}
    assert hits(index, Obs.URL, "http://198.51.100.7:8080/x") == {"198.51.100.7"}
    assert hits(index, Obs.HOST, "1.198.51.100.7") == set()
    assert hits(index, Obs.URL, "https://[2001:db8:0::1]/") == {"2001:DB8::1"}


def test_urls_match_exactly_or_normalised() -> None:
    index = IndicatorIndex.build(
        [ind("url:value", "http://example.com/thisisbad"), ind("url:value", "https://evil.example/a?b=c")]
    )
    assert hits(index, Obs.URL, "http://example.com/thisisbad") == {"http://example.com/thisisbad"}
    assert hits(index, Obs.URL, "HTTP://EXAMPLE.com:80/thisisbad") == {"http://example.com/thisisbad"}
    assert hits(index, Obs.URL, "http://example.com/thisisbad/more") == set()
    assert hits(index, Obs.URL, "http://example.com/ThisIsBad") == set()
    assert hits(index, Obs.URL, "https://evil.example/a?b=c") == {"https://evil.example/a?b=c"}


def test_process_names_exact_basename_and_truncation() -> None:
    index = IndicatorIndex.build(
        [
            ind("process:name", "roleaccountd"),
            ind("process:name", "com.apple.xpc.roleaccountd"),
            ind("process:name", "bh"),
        ]
    )
    assert hits(index, Obs.PROCESS, "roleaccountd") == {"roleaccountd"}
    assert hits(index, Obs.PROCESS, "/usr/libexec/roleaccountd") == {"roleaccountd"}
    assert hits(index, Obs.PROCESS, "Roleaccountd") == set()
    assert hits(index, Obs.PROCESS, "com.apple.xpc.ro") == {"com.apple.xpc.roleaccountd"}  # 16 chars
    assert hits(index, Obs.PROCESS, "com.apple.xpc.r") == {"com.apple.xpc.roleaccountd"}  # 15 chars
    assert hits(index, Obs.PROCESS, "com.apple.xpc") == set()  # not a truncation length
    assert hits(index, Obs.PROCESS, "bhx") == set()


def test_file_paths_prefix_on_component_boundaries_and_names_by_basename() -> None:
    index = IndicatorIndex.build(
        [
            ind("file:path", "/private/var/db/foo"),
            ind("file:path", "/tmp/l/"),
            ind("file:name", "roleaccountd.plist"),
        ]
    )
    assert hits(index, Obs.FILE_PATH, "/private/var/db/foo/x") == {"/private/var/db/foo"}
    assert hits(index, Obs.FILE_PATH, "/var/db/foo") == {"/private/var/db/foo"}
    assert hits(index, Obs.FILE_PATH, "/private/var/db/foobar/x") == set()
    assert hits(index, Obs.FILE_PATH, "/private/tmp/l/x.dylib") == {"/tmp/l/"}
    assert hits(index, Obs.FILE_PATH, "/Library/LaunchDaemons/roleaccountd.plist") == {"roleaccountd.plist"}
    assert hits(index, Obs.FILE_PATH, "/Library/LaunchDaemons/roleaccountd.plist.bak") == set()


def test_case_insensitive_types_and_hashes() -> None:
    index = IndicatorIndex.build(
        [
            ind("email-addr:value", "Foo@Evil.com"),
            ind("app:id", "com.malware.blah"),
            ind("android-property:name", "persist.sys.evil"),
            ind("file:hashes.sha256", "ABCDEF0123"),
            ind("configuration-profile:id", "ABCDEF01-2345-6789-ABCD-EF0123456789"),
            ind("app:cert.sha1", "AA:BB:CC"),
        ]
    )
    assert hits(index, Obs.EMAIL, "mailto:FOO@EVIL.COM") == {"Foo@Evil.com"}
    assert hits(index, Obs.APP_ID, "COM.MALWARE.BLAH") == {"com.malware.blah"}
    assert hits(index, Obs.ANDROID_PROPERTY, "Persist.Sys.Evil") == {"persist.sys.evil"}
    assert hits(index, Obs.SHA256, "abcdef0123") == {"ABCDEF0123"}
    assert hits(index, Obs.PROFILE_ID, "abcdef01-2345-6789-abcd-ef0123456789") == {
        "ABCDEF01-2345-6789-ABCD-EF0123456789"
    }
    assert hits(index, Obs.PROFILE_ID, "2345") == set()
    assert hits(index, Obs.CERT_SHA1, "aabbcc") == {"AA:BB:CC"}


def test_phone_or_email_handles() -> None:
    index = IndicatorIndex.build([ind("email-addr:value", "attacker@icloud.com")])
    assert hits(index, Obs.PHONE_OR_EMAIL, "Attacker@iCloud.com") == {"attacker@icloud.com"}
    assert hits(index, Obs.PHONE_OR_EMAIL, "+41790000000") == set()


# --- property: the index agrees with a linear-scan reference ----------------------------------


@settings(max_examples=400, deadline=None)
@given(indicators=st.lists(INDICATORS, max_size=25), observation=OBSERVATIONS)
def test_index_agrees_with_the_naive_reference(indicators: list[Indicator], observation: Observable) -> None:
    index = IndicatorIndex.build(indicators)
    for obs in expand(observation):
        fast = {(i.type, i.value) for i in index.match(obs)}
        slow = {(i.type, i.value) for i in naive_match(obs, indicators)}
        assert fast == slow, (obs, indicators)


def test_the_path_gate_is_coarse_but_never_wrong() -> None:
    paths = [f"/private/var/d{i}/sub/x{i}" for i in range(60)] + [
        "/private/tmp/l",
        "Library/Preferences/p.plist",
    ]
    index = IndicatorIndex.build([ind("file:path", p) for p in paths])
    for path in paths:
        assert hits(index, Obs.FILE_PATH, path) == {path}
        assert hits(index, Obs.FILE_PATH, path + "/child") == {path}
        assert hits(index, Obs.FILE_PATH, path + "child") == set()
    assert hits(index, Obs.FILE_PATH, "/private/var/mobile/Library/x") == set()
    index.add(ind("file:path", "/usr/lib/late"))  # after build: the gate must let it through
    assert hits(index, Obs.FILE_PATH, "/usr/lib/late/x") == {"/usr/lib/late"}
    assert hits(IndicatorIndex.build([ind("file:path", "/")]), Obs.FILE_PATH, "/a/b") == {"/"}
    assert hits(IndicatorIndex.build([]), Obs.FILE_PATH, "/a/b") == set()
