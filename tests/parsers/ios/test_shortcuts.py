"""Shortcuts: actions and the links in their parameters, in both store layouts (reconstructed DDL)."""

from __future__ import annotations

import plistlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, run_file
from tests.builders.fuzz import db_bytes as fuzz_db
from tests.builders.fuzz import rows as fuzz_rows
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.shortcuts import Shortcut, ShortcutsParser

REL = "Library/Shortcuts/Shortcuts.sqlite"
WHEN = datetime(2024, 1, 1, tzinfo=UTC)
ACTIONS = plistlib.dumps([
    {"WFWorkflowActionIdentifier": "is.workflow.actions.url", "WFWorkflowActionParameters": {"WFURLActionURL": "https://wikipedoptions.com/p"}},
    {"WFWorkflowActionIdentifier": "is.workflow.actions.downloadurl", "WFWorkflowActionParameters": {"Advanced": True}},
], fmt=plistlib.FMT_BINARY)


@pytest.mark.parametrize("schema", ["ios/Shortcuts.sqlite/mvt-columns.sql", "ios/Shortcuts.sqlite/actions-by-shortcut.sql"])
def test_links_in_actions(backup: BackupBuilder, schema: str) -> None:
    by_shortcut = "mvt-columns" in schema
    rows: dict[str, list[dict[str, Any]]] = {
        "ZSHORTCUT": [{"Z_PK": 1, "ZNAME": "Get parcel", "ZCREATIONDATE": timeutil.to_cocoa(WHEN), "ZACTIONCOUNT": 2,
                       **({} if by_shortcut else {"ZACTIONS": 7})},
                      {"Z_PK": 2, "ZNAME": "Empty", **({} if by_shortcut else {"ZACTIONS": None})}],
        "ZSHORTCUTACTIONS": [{"Z_PK": 7, "ZDATA": ACTIONS, **({"ZSHORTCUT": 1} if by_shortcut else {})}],
    }
    backup.add_sqlite("HomeDomain", REL, schema, rows)
    records, cov = run(ShortcutsParser, backup.finish())
    assert cov.status is Status.PARSED
    first, second = records
    assert isinstance(first, Shortcut) and isinstance(second, Shortcut)
    assert (first.name, first.created, first.urls) == ("Get parcel", WHEN, ("https://wikipedoptions.com/p",))
    assert first.actions == ("is.workflow.actions.url", "is.workflow.actions.downloadurl")
    assert (Obs.DOMAIN, "wikipedoptions.com") in {(o.type, o.value) for o in observables_of(first)}
    assert (second.urls, second.actions) == ((), ())


def test_damaged_action_data_is_a_warning(backup: BackupBuilder) -> None:
    rows = {"ZSHORTCUT": [{"Z_PK": 1, "ZNAME": "x"}], "ZSHORTCUTACTIONS": [{"Z_PK": 1, "ZSHORTCUT": 1, "ZDATA": b"bplist00x"}]}
    backup.add_sqlite("HomeDomain", REL, "ios/Shortcuts.sqlite/mvt-columns.sql", rows)
    records, cov = run(ShortcutsParser, backup.finish())
    assert len(records) == 1 and any("not a readable plist" in w for w in cov.warnings)


@settings(max_examples=15, deadline=None)
@given(shortcuts=fuzz_rows("ios/Shortcuts.sqlite/mvt-columns.sql", "ZSHORTCUT"),
       actions=fuzz_rows("ios/Shortcuts.sqlite/mvt-columns.sql", "ZSHORTCUTACTIONS"))
def test_garbage_rows_never_crash(shortcuts: list[dict[str, Any]], actions: list[dict[str, Any]]) -> None:
    data = fuzz_db("ios/Shortcuts.sqlite/mvt-columns.sql", {"ZSHORTCUT": shortcuts, "ZSHORTCUTACTIONS": actions})
    records, cov = run_file(ShortcutsParser, "HomeDomain", REL, data)
    assert_tolerated(records, cov)
