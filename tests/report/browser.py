"""Launch Debian's Chromium through Playwright (as a driver only: no browser download, ever)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright

# The flags keep a headless Chromium from phoning home (updates, sync, QUIC probes) and let it
# run as root in CI, where its sandbox is unavailable.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path | None:
    """Debian's chromium binary (``UNMASK_CHROMIUM`` overrides), or None when it is not installed."""
    named = os.environ.get("UNMASK_CHROMIUM")
    if named:
        return Path(named) if Path(named).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def launch(playwright: Playwright) -> Browser:
    """A headless Chromium from the system package."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(path), args=ARGS)
