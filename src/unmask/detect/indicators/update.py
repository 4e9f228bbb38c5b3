"""``unmask iocs update``: the one explicit, opt-in network step for indicators.

Reads an ``indicators.yaml`` index (the community index by default; any URL or local path), then
downloads each listed set, checks that it loads as STIX 2, and saves it in the user data folder.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from unmask.detect.indicators.sets import downloaded_dir
from unmask.detect.indicators.stix import load_bytes
from unmask.errors import IndicatorError, UsageError

DEFAULT_INDEX = "https://raw.githubusercontent.com/mvt-project/mvt-indicators/main/indicators.yaml"
DEFAULT_RAW_BASE = "https://raw.githubusercontent.com"
_MAX_BYTES = 64 * 1024 * 1024
_TIMEOUT = 30


@dataclass
class UpdateReport:
    """What an update saved and what failed, with reasons."""

    folder: Path
    saved: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _fetch(location: str) -> bytes:
    if "://" not in location:
        path = Path(location)
        if not path.is_file():
            raise UsageError(f"{location}: no such index file")
        return path.read_bytes()
    if not location.startswith(("https://", "http://")):
        raise UsageError(f"{location}: only http(s) URLs and local paths are supported")
    request = urllib.request.Request(location, headers={"User-Agent": "unmask-iocs-update"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            data: bytes = response.read(_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise IndicatorError(f"{location}: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IndicatorError(f"{location}: cannot download ({reason})") from None
    if len(data) > _MAX_BYTES:
        raise IndicatorError(f"{location}: larger than {_MAX_BYTES} bytes")
    return data


def entry_url(entry: dict[str, Any], raw_base: str = DEFAULT_RAW_BASE) -> str | None:
    """The download URL of one index entry (``type: github`` or a ``download_url``)."""
    if entry.get("type") == "github" and isinstance(entry.get("github"), dict):
        gh = entry["github"]
        parts = [gh.get("owner"), gh.get("repo"), gh.get("branch", "main"), gh.get("path")]
        if all(isinstance(p, str) and p for p in parts):
            return "/".join([raw_base.rstrip("/"), *[str(p).strip("/") for p in parts]])
        return None
    url = entry.get("download_url")
    return url if isinstance(url, str) and url else None


def _file_name(entry: dict[str, Any], url: str) -> str:
    gh = entry.get("github") if isinstance(entry.get("github"), dict) else None
    if gh and isinstance(gh.get("path"), str):
        stem = f"{gh.get('owner')}__{gh.get('repo')}__{gh['path'].replace('/', '__')}"
    else:
        stem = url.split("://", 1)[-1].replace("/", "__")
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem)
    return stem if stem.endswith(".stix2") else stem + ".stix2"


def update(
    index: str = DEFAULT_INDEX,
    *,
    raw_base: str | None = None,
    folder: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> UpdateReport:
    """Download every set of an index; a set that fails is reported and the others still saved."""
    target = folder or downloaded_dir()
    report = UpdateReport(target)
    try:
        document = yaml.safe_load(_fetch(index))
    except yaml.YAMLError as exc:
        raise IndicatorError(f"{index}: not a YAML index ({str(exc).splitlines()[0]})") from None
    entries = document.get("indicators") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise IndicatorError(f"{index}: no 'indicators' list in the index")
    target.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("name") or "unnamed set")
        url = entry_url(entry, raw_base or DEFAULT_RAW_BASE)
        if url is None:
            report.failed.append((name, "no download location in the index entry"))
            continue
        if log:
            log(f"downloading {name}")
        try:
            data = _fetch(url)
            load_bytes(data, name, url)
        except (IndicatorError, UsageError) as exc:
            report.failed.append((name, str(exc)))
            continue
        path = target / _file_name(entry, url)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        report.saved.append(path)
    return report
