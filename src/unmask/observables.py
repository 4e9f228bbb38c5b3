"""Normalising observables: the one place that lower-cases, IDNA-encodes, splits URLs and folds paths.

Indicator values and observed values go through the same :func:`normalize`, so a comparison in the
index is always between two values of the same form.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from unmask.model import Obs, Observable, Record

_HEX_SEPARATORS = re.compile(r"[\s:]")
# Anything ipaddress could accept: dotted digits, or something with a colon (IPv6).
_IP_SHAPE = re.compile(r"[0-9.]+\Z|.*:")
_HOST_CHARS = re.compile(r"^[a-z0-9_.-]+$")
_SLASHES = re.compile(r"/{2,}")
# Obs members as module globals: reading an attribute of an Enum class costs a lookup in the
# metaclass on every call, and these functions run for every observable of a scan.
_DOMAIN, _IPV4, _IPV6, _URL = Obs.DOMAIN, Obs.IPV4, Obs.IPV6, Obs.URL
_EMAIL, _PHONE, _FILE_PATH, _FILE_NAME = Obs.EMAIL, Obs.PHONE, Obs.FILE_PATH, Obs.FILE_NAME
# iOS and Android mount points whose short form is a symlink to /private/…
_PRIVATE_PREFIXES = ("/var/", "/etc/", "/tmp/")


@lru_cache(maxsize=65536)
def normalize_domain(value: str) -> str | None:
    """Lower-case, IDNA-encode and strip a host name; ``None`` when it cannot be a host name."""
    host = value.strip().strip("\x00").lower().rstrip(".")
    if host.startswith("*."):
        host = host[2:]
    host = host.lstrip(".")
    if not host or len(host) > 253:
        return None
    if not host.isascii():
        labels = []
        for label in host.split("."):
            if label.isascii():
                labels.append(label)
                continue
            try:
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError:
                return None
        host = ".".join(labels)
    if not _HOST_CHARS.match(host) or ".." in host:
        return None
    return host


@lru_cache(maxsize=65536)
def normalize_ip(value: str) -> tuple[Obs, str] | None:
    """``(IPV4|IPV6, canonical text)`` when the value is an IP address literal, else ``None``."""
    text = value.strip().strip("[]")
    if not _IP_SHAPE.match(text):
        return None  # most values are host names: skip ipaddress, which raises on them (slowly)
    if "%" in text:  # IPv6 zone index
        text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _IPV4, str(address.ipv4_mapped)
        return _IPV6, address.compressed
    return _IPV4, str(address)


def split_host_port(host: str) -> str:
    """Drop a ``:port`` suffix (and IPv6 brackets) from a host as found in a URL or log."""
    host = host.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


# scheme://host[:port][/path][?query][#fragment] in plain printable ASCII: no user info, no IPv6
# brackets, nothing urlsplit would strip, remove or reject. Most links are written like this, and
# for them url_parts reads the pieces from one match instead of urlsplit's string surgery.
_PLAIN_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?([/?#][!-~]*)?\Z")


@lru_cache(maxsize=65536)
def url_parts(url: str) -> tuple[str, str] | None:
    """``(normalised URL, host)`` for a URL with or without a scheme; ``None`` if it has no host."""
    text = url.strip()
    if not text:
        return None
    candidate = text if "://" in text[:16] else "http://" + text
    plain = _PLAIN_URL.match(candidate)
    if plain is not None:
        scheme, host, port_text, rest = plain.groups()
        port = int(port_text) if port_text else None
        if port is not None and port > 65535:
            return None
        path, _, query = (rest or "").partition("#")[0].partition("?")
        host = host.lower()
    else:
        try:
            parts = urlsplit(candidate)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            return None
        if not host:
            return None
        scheme, path, query = parts.scheme, parts.path, parts.query
    scheme = scheme.lower()
    ip = normalize_ip(host)
    if ip is not None:
        norm_host = f"[{ip[1]}]" if ip[0] is _IPV6 else ip[1]
        bare_host = ip[1]
    else:
        domain = normalize_domain(host)
        if domain is None:
            return None
        norm_host = bare_host = domain
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = norm_host if port in (None, default_port) else f"{norm_host}:{port}"
    path = path or "/"
    query = f"?{query}" if query else ""
    return f"{scheme}://{netloc}{path}{query}", bare_host


_SIMPLE_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_HOST_END = re.compile(r"[/?#\\]")


def url_host_hint(url: str) -> str | None:
    """The normalised host of a URL when it is plain ASCII, found without parsing the whole URL.

    ``None`` means the host is not simple (IDNA, IPv6, odd characters) and only
    :func:`url_parts` can say; matching uses the hint to skip normalising URLs whose host no URL
    indicator names.
    """
    rest = url.strip()
    scheme = rest.find("://")
    if 0 <= scheme < 16:
        rest = rest[scheme + 3 :]
    end = _HOST_END.search(rest)
    netloc = rest[: end.start()] if end else rest
    host = netloc.rsplit("@", 1)[-1]
    if ":" in host:
        host = host.split(":", 1)[0]
    host = host.lower().rstrip(".")
    return host if _SIMPLE_HOST.fullmatch(host) else None


# Not cached: a Manifest names each of its hundreds of thousands of paths once, so a cache would
# only add a lookup and an eviction to every call.
def normalize_path(value: str) -> str | None:
    """A device path in one form: ``/private/var/…`` for ``/var/…``, no repeated or trailing ``/``."""
    path = value.strip().strip("\x00")
    if not path:
        return None
    if path[0] != "/" and path.startswith("file://"):
        path = path[7:]
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if len(path) > 1 and path[-1] == "/":
        path = path.rstrip("/")
    if path.startswith(_PRIVATE_PREFIXES) or path in ("/var", "/etc", "/tmp"):
        path = "/private" + path
    return path


def basename(path: str) -> str:
    """The last component of a POSIX path (``""`` for ``/``)."""
    # posixpath.basename, without its os.fspath and separator lookups: called once per Manifest row.
    path = path.rstrip("/")
    return path[path.rfind("/") + 1 :]


def _norm_email(text: str) -> str | None:
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower() or None


def _norm_phone(text: str) -> str | None:
    if text.lower().startswith("tel:"):
        text = text[4:]
    return text.strip() or None


def _norm_ip(text: str) -> str | None:
    ip = normalize_ip(text)
    return ip[1] if ip else None


def _norm_name(text: str) -> str | None:
    return text.strip("\x00") or None


def _norm_hex(text: str) -> str | None:
    # Alphanumeric text holds no separator to remove: skip the regex (hashes are most of the sets).
    return (text if text.isalnum() else _HEX_SEPARATORS.sub("", text)).lower() or None


def _norm_text(text: str) -> str | None:
    # Certificate subject values: case and inner runs of spaces are not meaningful.
    return " ".join(text.split()).casefold() or None


def _norm_lower(text: str) -> str | None:
    return text.lower()


def _norm_same(text: str) -> str | None:
    return text


# One normaliser per observable type, looked up once instead of a chain of comparisons.
_NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    Obs.DOMAIN: normalize_domain,
    Obs.IPV4: _norm_ip,
    Obs.IPV6: _norm_ip,
    Obs.URL: _norm_same,
    Obs.EMAIL: _norm_email,
    Obs.PHONE: _norm_phone,
    Obs.FILE_PATH: normalize_path,
    Obs.PROCESS: _norm_name,
    Obs.FILE_NAME: _norm_name,
    Obs.MD5: _norm_hex,
    Obs.SHA1: _norm_hex,
    Obs.SHA256: _norm_hex,
    Obs.CERT_MD5: _norm_hex,
    Obs.CERT_SHA1: _norm_hex,
    Obs.CERT_SHA256: _norm_hex,
    Obs.APP_ID: _norm_lower,
    Obs.CERT_ORG: _norm_text,
    Obs.CERT_CN: _norm_text,
    Obs.ANDROID_PROPERTY: _norm_lower,
    Obs.PROFILE_ID: _norm_lower,
}


def normalize(kind: str, value: str) -> str | None:
    """Normalise one value of a STIX observable type for comparison; ``None`` when unusable.

    Used for indicator values and observed values alike.
    """
    text = value.strip()
    if not text:
        return None
    normalizer = _NORMALIZERS.get(kind)
    return normalizer(text) if normalizer is not None else text


_PLAIN_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\Z")
_IP_CHARS = "0123456789."


def is_plain_domain(value: str) -> bool:
    """True when ``value`` is a host name already in normal form: ``normalize_domain`` returns it
    unchanged and ``normalize_ip`` declines it.

    Lets indicator loading skip both (nearly every domain of the public sets is written this way).
    """
    return len(value) <= 253 and _PLAIN_HOST.match(value) is not None and bool(value.strip(_IP_CHARS))


Pair = tuple[Obs, str]
"""A normalised observable without its field name: what matching looks up."""

_NO_PAIRS: tuple[Pair, ...] = ()


def _host_pairs(value: str) -> Sequence[Pair]:
    ip = normalize_ip(split_host_port(value) if value.count(":") == 1 else value)
    if ip is not None:
        return (ip,)
    domain = normalize_domain(split_host_port(value))
    if domain is not None and "." in domain:
        return ((_DOMAIN, domain),)
    return _NO_PAIRS


def _expand_url(value: str) -> Sequence[Pair]:
    parts = url_parts(value)
    if parts is None:
        return _NO_PAIRS
    return ((_URL, value.strip()), *_host_pairs(parts[1]))


def _expand_host(value: str) -> Sequence[Pair]:
    return _expand_url(value) if "://" in value else _host_pairs(value)


def _expand_handle(value: str) -> Sequence[Pair]:
    text = value.strip()
    target = _EMAIL if "@" in text else _PHONE
    norm = normalize(target, text)
    return ((target, norm),) if norm else _NO_PAIRS


def _expand_path(value: str) -> Sequence[Pair]:
    norm = normalize_path(value)
    if not norm:
        return _NO_PAIRS
    # basename(norm): a normalised path ends with "/" only when it is "/", whose name is "".
    name = norm[norm.rfind("/") + 1 :]
    return ((_FILE_PATH, norm), (_FILE_NAME, name)) if name else ((_FILE_PATH, norm),)


def _expand_plain(kind: Obs) -> Callable[[str], Sequence[Pair]]:
    def expand_one(value: str) -> Sequence[Pair]:
        norm = normalize(kind, value)
        return ((kind, norm),) if norm else _NO_PAIRS

    return expand_one


_EXPANDERS: dict[Obs, Callable[[str], Sequence[Pair]]] = {kind: _expand_plain(kind) for kind in Obs}
_EXPANDERS.update(
    {
        Obs.URL: _expand_url,
        Obs.HOST: _expand_host,
        Obs.DOMAIN: _expand_host,
        Obs.IPV4: _expand_host,
        Obs.IPV6: _expand_host,
        Obs.PHONE_OR_EMAIL: _expand_handle,
        Obs.FILE_PATH: _expand_path,
    }
)


def expander(kind: Obs) -> Callable[[str], Sequence[Pair]]:
    """The function :func:`expand_value` uses for ``kind``, for loops that expand many values of one
    declared type (the matching loop looks it up once per record field, not once per value)."""
    return _EXPANDERS[kind]


def expand_value(kind: Obs, value: str) -> Sequence[Pair]:
    """``(type, normalised value)`` pairs of one declared value, in the order :func:`expand` yields."""
    return _EXPANDERS[kind](value)


def expand(raw: Observable) -> Iterator[Observable]:
    """Turn one declared observable into the normalised observables matching looks up.

    A URL also yields its host (as a domain or an IP); a host string is classified as domain or IP;
    a path also yields its file name; a message handle becomes an email or a phone number.
    """
    fld = raw.field
    for kind, value in _EXPANDERS[raw.type](raw.value):
        yield Observable(kind, value, fld)


# Per record class: (field name, declared observable type, is a sequence, expander) for each field
# declared as an observable, in declaration order: the declarations Record.raw_observables reads,
# with the expander looked up once per class instead of once per value.
RecordField = tuple[str, Obs, bool, Callable[[str], Sequence[Pair]]]
_FIELDS: dict[type[Record], tuple[RecordField, ...]] = {}


def record_fields(cls: type[Record]) -> tuple[RecordField, ...]:
    """The observable fields of a record class with their expanders (computed once per class)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(
            (spec.name, spec.obs, spec.is_seq, _EXPANDERS[spec.obs])
            for spec in cls.field_specs()
            if spec.obs is not None
        )
    return fields


def observables_of(record: Record) -> Iterator[Observable]:
    """Every matchable observable of a record: its declared values, expanded and normalised."""
    for raw in record.raw_observables():
        yield from expand(raw)


def record_pairs(record: Record) -> Iterator[tuple[str, Obs, str]]:
    """``(field, type, normalised value)`` of every observable :func:`observables_of` yields, in the
    same order, without building the :class:`Observable` objects."""
    for name, _, is_seq, expand_one in record_fields(type(record)):
        value = getattr(record, name)
        if not value:
            continue
        for item in value if is_seq else (value,):
            if item:
                for kind, norm in expand_one(item if type(item) is str else str(item)):
                    yield name, kind, norm


# Links in free text: with a scheme, or bare host names with a path or a well-formed TLD.
_URL_WITH_SCHEME = r"(?:https?|ftp|itms-services|itms-apps)://[^\s<>\"'`]+"
_BARE_HOST = (
    r"(?<![@\w.\-/])"  # not the domain part of an email address, not inside another token
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:xn--[a-z0-9-]{2,59}|[a-z]{2,24})"
    r"(?::\d{2,5})?"
    r"(?:/[^\s<>\"'`]*)?"
    r"(?![\w@-])"
)
_LINK = re.compile(f"{_URL_WITH_SCHEME}|{_BARE_HOST}", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"»”’>"
# Common file extensions that look like TLDs in prose ("photo.jpg"); a bare token ending in one
# of these is a file name, not a link.
_FILE_SUFFIXES = frozenset(
    [
        "jpg",
        "jpeg",
        "png",
        "gif",
        "heic",
        "mov",
        "mp4",
        "mp3",
        "m4a",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "txt",
        "zip",
        "plist",
        "db",
        "sqlite",
        "json",
        "xml",
        "html",
        "htm",
        "js",
        "css",
        "py",
        "sh",
        "exe",
        "apk",
        "ipa",
        "dmg",
        "pkg",
        "log",
        "csv",
        "vcf",
        "ics",
    ]
)


def find_urls(*texts: str | None) -> tuple[str, ...]:
    """Links in free texts, with or without a scheme, in order of appearance, without duplicates."""
    found: list[str] = []
    seen: set[str] = set()
    for text in texts:
        if text:
            _collect_links(text, found, seen)
    return tuple(found)


def _collect_links(text: str, found: list[str], seen: set[str]) -> None:
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        if "://" not in link:
            host = link.split("/", 1)[0].split(":", 1)[0].lower()
            if host.rsplit(".", 1)[-1] in _FILE_SUFFIXES and "/" not in link:
                continue
        if link and link not in seen:
            seen.add(link)
            found.append(link)
