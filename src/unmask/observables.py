"""Normalising observables: the one place that lower-cases, IDNA-encodes, splits URLs and folds paths.

Indicator values and observed values go through the same :func:`normalize`, so a comparison in the
index is always between two values of the same form.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urlsplit

from unmask.model import Obs, Observable

_HEX_SEPARATORS = re.compile(r"[\s:]")
# Anything ipaddress could accept: dotted digits, or something with a colon (IPv6).
_IP_SHAPE = re.compile(r"[0-9.]+\Z|.*:")
_HOST_CHARS = re.compile(r"^[a-z0-9_.-]+$")
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
            return Obs.IPV4, str(address.ipv4_mapped)
        return Obs.IPV6, address.compressed
    return Obs.IPV4, str(address)


def split_host_port(host: str) -> str:
    """Drop a ``:port`` suffix (and IPv6 brackets) from a host as found in a URL or log."""
    host = host.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


@lru_cache(maxsize=65536)
def url_parts(url: str) -> tuple[str, str] | None:
    """``(normalised URL, host)`` for a URL with or without a scheme; ``None`` if it has no host."""
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


@lru_cache(maxsize=8192)
def normalize_path(value: str) -> str | None:
    """A device path in one form: ``/private/var/…`` for ``/var/…``, no repeated or trailing ``/``."""
    path = value.strip().strip("\x00")
    if not path:
        return None
    if path.startswith("file://"):
        path = path[7:]
    if "//" in path:
        path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    if path.startswith(_PRIVATE_PREFIXES) or path in ("/var", "/etc", "/tmp"):
        path = "/private" + path
    return path


def basename(path: str) -> str:
    """The last component of a POSIX path (``""`` for ``/``)."""
    return posixpath.basename(path.rstrip("/"))


def normalize(kind: str, value: str) -> str | None:
    """Normalise one value of a STIX observable type for comparison; ``None`` when unusable.

    Used for indicator values and observed values alike.
    """
    text = value.strip()
    if not text:
        return None
    if kind == Obs.DOMAIN:
        return normalize_domain(text)
    if kind in (Obs.IPV4, Obs.IPV6):
        ip = normalize_ip(text)
        return ip[1] if ip else None
    if kind == Obs.URL:
        return text
    if kind == Obs.EMAIL:
        if text.lower().startswith("mailto:"):
            text = text[7:]
        return text.strip().lower() or None
    if kind == Obs.PHONE:
        if text.lower().startswith("tel:"):
            text = text[4:]
        return text.strip() or None
    if kind == Obs.FILE_PATH:
        return normalize_path(text)
    if kind in (Obs.PROCESS, Obs.FILE_NAME):
        return text.strip("\x00") or None
    if kind in (Obs.MD5, Obs.SHA1, Obs.SHA256, Obs.CERT_MD5, Obs.CERT_SHA1, Obs.CERT_SHA256):
        return _HEX_SEPARATORS.sub("", text).lower() or None
    if kind in (Obs.APP_ID, Obs.ANDROID_PROPERTY, Obs.PROFILE_ID):
        return text.lower()
    return text


def _host(value: str, field: str) -> Iterator[Observable]:
    ip = normalize_ip(split_host_port(value) if value.count(":") == 1 else value)
    if ip is not None:
        yield Observable(ip[0], ip[1], field)
        return
    domain = normalize_domain(split_host_port(value))
    if domain is not None and "." in domain:
        yield Observable(Obs.DOMAIN, domain, field)


def expand(raw: Observable) -> Iterator[Observable]:
    """Turn one declared observable into the normalised observables matching looks up.

    A URL also yields its host (as a domain or an IP); a host string is classified as domain or IP;
    a path also yields its file name; a message handle becomes an email or a phone number.
    """
    kind, value, fld = raw.type, raw.value, raw.field
    if kind is Obs.URL:
        parts = url_parts(value)
        if parts is None:
            return
        yield Observable(Obs.URL, value.strip(), fld)
        yield from _host(parts[1], fld)
    elif kind in (Obs.HOST, Obs.DOMAIN, Obs.IPV4, Obs.IPV6):
        if "://" in value:
            yield from expand(Observable(Obs.URL, value, fld))
        else:
            yield from _host(value, fld)
    elif kind is Obs.PHONE_OR_EMAIL:
        text = value.strip()
        target = Obs.EMAIL if "@" in text else Obs.PHONE
        norm = normalize(target, text)
        if norm:
            yield Observable(target, norm, fld)
    elif kind is Obs.FILE_PATH:
        norm = normalize_path(value)
        if norm:
            yield Observable(Obs.FILE_PATH, norm, fld)
            name = basename(norm)
            if name:
                yield Observable(Obs.FILE_NAME, name, fld)
    else:
        norm = normalize(kind, value)
        if norm:
            yield Observable(kind, norm, fld)


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
