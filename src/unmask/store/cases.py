"""Scanning into a case: where its results go and how the scan is registered in the store."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.acquisition.base import Acquisition
from unmask.detect.indicators.sets import IndicatorSets, data_dir
from unmask.store.db import Store, check_case_name, open_store
from unmask.store.recorder import CaseRecorder

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def case_folder(case: str, root: Path | None = None) -> Path:
    """A new results folder for one scan of a case: ``<root>/<case>/<UTC time>`` (made exclusively,
    mode 0700), ``root`` being the user data folder's ``results`` by default. The folder name of a
    case is its name made safe, with a short hash so that two names never share a folder."""
    check_case_name(case)
    safe = _UNSAFE.sub("_", case).strip("._")[:60] or "case"
    digest = hashlib.sha256(case.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    parent = (root or data_dir() / "results") / f"{safe}-{digest}"
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = timeutil.now().strftime("%Y%m%dT%H%M%S%fZ")
    candidate, n = parent / stamp, 1
    while True:
        try:
            candidate.mkdir(mode=0o700)
            return candidate
        except FileExistsError:
            n += 1
            candidate = parent / f"{stamp}-{n}"


def begin_case_scan(
    store: Store | str | None, case: str, acq: Acquisition, sets: IndicatorSets, output: str | Path | None
) -> tuple[CaseRecorder, Path]:
    """Register a scan of ``acq`` into ``case``; returns its recorder and the output folder to use."""
    check_case_name(case)
    owns = not isinstance(store, Store)
    opened = store if isinstance(store, Store) else open_store(store)
    try:
        folder = Path(output) if output is not None else case_folder(case)
        recorder = CaseRecorder.begin(opened, case, acq, sets, str(folder.resolve()), owns_store=owns)
    except BaseException:
        if owns:
            opened.close()
        raise
    return recorder, folder


def resolve_store(store: Any) -> tuple[Store, bool]:
    """An open store and whether the caller must close it."""
    if isinstance(store, Store):
        return store, False
    return open_store(store), True
