"""``dumpsys adb``: the ADB keys the device trusts, and when each last connected."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import abx
from unmask.model import Record, Timestamp
from unmask.parsers.base import ParseContext, Parser, Source

_XML_KEY = re.compile(r"<adbKey key=\"([^\"]+)\" lastConnection=\"(\d+)\"")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdbKey(Record):
    """One trusted ADB public key (``user_keys=`` lines, and the ``keystore=`` that Android 11
    writes as XML and Android 12+ as Android Binary XML: ``<adbKey key= lastConnection=>``)."""

    kind: ClassVar[str] = "android/dumpsys/adb_key"
    summary: ClassVar[str] = "trusted ADB key {fingerprint} of {user} (last connected {last_connected})"
    key: str
    user: str | None = None
    fingerprint: str | None = None
    """MD5 of the decoded key, colon-separated, as ``adb`` shows it."""
    last_connected: Timestamp | None = None


def fingerprint(key: str) -> str | None:
    """The MD5 fingerprint of an ADB public key (the base64 part)."""
    try:
        raw = base64.b64decode(key.split()[0], validate=True)
    except (ValueError, IndexError):
        return None
    return ":".join(f"{b:02X}" for b in hashlib.md5(raw).digest())


class DumpsysAdbParser(Parser):
    """Trusted ADB keys from ``dumpsys adb`` (text, XML or ABX key store)."""

    name = "dumpsys_adb"
    platform = "android"
    sources = (Source.section("dumpsys:adb"),)
    records = (AdbKey,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[AdbKey]:
        with ctx.open(device_path) as handle:
            data = handle.read(16 << 20)
        keys: dict[str, Timestamp | None] = {}
        at = data.find(b"ABX\x00")
        if at >= 0:
            try:
                for element in abx.elements(data[at:]):
                    if element.tag == "adbKey" and element.attributes.get("key"):
                        keys[element.attributes["key"]] = timeutil.unix_ms(_int(element.attributes.get("lastConnection")))
            except ArtefactError:
                pass  # the key store runs into the dump's text: keys read before that are kept
        text = data.decode("utf-8", "replace")
        for key, last in _XML_KEY.findall(text):
            keys.setdefault(key, timeutil.unix_ms(int(last)))
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("user_keys="):
                line = line[len("user_keys="):]
            if line.startswith("QAAAA") and " " in line:
                keys.setdefault(line, None)
        for key, last in keys.items():
            user = key.split(" ", 1)[1] if " " in key else None
            yield AdbKey(device_path=device_path, key=key[:8192], user=user, fingerprint=fingerprint(key),
                         last_connected=last)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
