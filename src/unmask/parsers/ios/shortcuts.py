"""Shortcuts (``Shortcuts.sqlite``): the user's shortcuts and the links in their actions.

A shortcut is a list of actions (``ZSHORTCUTACTIONS.ZDATA``: a binary plist array of
``{WFWorkflowActionIdentifier, WFWorkflowActionParameters}``); an action that opens or downloads a
URL keeps it in its parameters. Shortcuts shared by an attacker, or automations planted to fetch
a payload, show up as links here. Columns as MVT's Shortcuts module reads them (research/mvt.md
§3.3); no real DDL was found, so the fixtures are reconstructed (tests/schemas/ios/Shortcuts.sqlite)
in both layouts seen: actions that point at their shortcut (``ZSHORTCUTACTIONS.ZSHORTCUT``) and a
shortcut that points at its actions (``ZSHORTCUT.ZACTIONS``). Times are Mac absolute seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.observables import find_urls
from unmask.parsers.base import ParseContext, Source, SqliteParser, integer, text
from unmask.parsers.ios.analytics import strings_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Shortcut(Record):
    """One shortcut with its actions and the links they carry."""

    kind: ClassVar[str] = "ios/shortcuts/shortcut"
    summary: ClassVar[str] = "Shortcut {name}: {action_count} actions, links {urls}"

    created: datetime | None = None
    modified: datetime | None = None
    name: str | None = None
    description: str | None = None
    action_count: int | None = None
    actions: tuple[str, ...] = ()
    urls: Annotated[tuple[str, ...], Obs.URL] = ()


def actions_of(blob: object) -> tuple[list[str], list[str]]:
    """``(action identifiers, links in their parameters)`` of a ZDATA plist; raises ArtefactError."""
    if not isinstance(blob, bytes) or not blob:
        return [], []
    value: Any = plist.load(blob)
    idents: list[str] = []
    strings: list[str] = []
    for action in value if isinstance(value, list) else ():
        if not isinstance(action, dict):
            continue
        ident = action.get("WFWorkflowActionIdentifier")
        if isinstance(ident, str):
            idents.append(ident[:256])
        strings_of(action.get("WFWorkflowActionParameters"), strings)
    return idents, list(find_urls(*strings))


class ShortcutsParser(SqliteParser):
    """The user's shortcuts (Shortcuts.sqlite) and the links in their actions."""

    name = "shortcuts"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/Shortcuts/Shortcuts.sqlite"),)
    records = (Shortcut,)
    required: ClassVar[dict[str, set[str]]] = {"ZSHORTCUT": {"Z_PK"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per shortcut, with its actions joined in the layout the store has."""
        t = "ZSHORTCUT"
        if db.has("ZSHORTCUTACTIONS", "ZSHORTCUT", "ZDATA"):
            join = "LEFT JOIN ZSHORTCUTACTIONS a ON a.ZSHORTCUT = ZSHORTCUT.Z_PK"
        elif db.has("ZSHORTCUTACTIONS", "Z_PK", "ZDATA") and "ZACTIONS" in db.columns(t):
            join = "LEFT JOIN ZSHORTCUTACTIONS a ON a.Z_PK = ZSHORTCUT.ZACTIONS"
        else:
            join = ""
        data = "a.ZDATA" if join else "NULL"
        cols = ["ZNAME", "ZCREATIONDATE", "ZMODIFICATIONDATE", "ZACTIONSDESCRIPTION", "ZACTIONCOUNT"]
        sql = f"SELECT ZSHORTCUT.Z_PK AS pk, {', '.join(db.col(t, c) for c in cols)}, {data} AS data FROM {t} {join} ORDER BY ZSHORTCUT.Z_PK"
        damaged = 0
        for row in db.query(sql):
            try:
                idents, urls = actions_of(row["data"])
            except ArtefactError:
                damaged += 1
                idents, urls = [], []
            yield Shortcut(
                device_path=db.device_path,
                locator=f"ZSHORTCUT.Z_PK={row['pk']}",
                created=timeutil.cocoa(row["ZCREATIONDATE"]),
                modified=timeutil.cocoa(row["ZMODIFICATIONDATE"]),
                name=text(row["ZNAME"]),
                description=text(row["ZACTIONSDESCRIPTION"]),
                action_count=integer(row["ZACTIONCOUNT"]),
                actions=tuple(idents),
                urls=tuple(urls),
            )
        if damaged:
            ctx.warn(f"{db.device_path}: {damaged} shortcuts whose actions are not a readable plist")
