"""Text from evidence, made inert for the places it is shown: the terminal and spreadsheets.

Everything printed or written that may hold a value from the evidence (an SMS handle, a file
name, a process name) passes through here, because the people who shape that evidence know which
tools examine it:

- :func:`for_console`: control characters (escape sequences that would move the cursor, recolour
  or retitle the terminal, hide text) and bidirectional overrides are shown as ``\\xNN`` /
  ``\\uNNNN`` escapes, and rich markup (``[/x]``, ``[link=…]``) is escaped (rich's own
  ``escape``) so it prints as text.
- :func:`for_csv`: a cell that a spreadsheet would run as a formula (it begins with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return) is written with a leading apostrophe, the convention
  spreadsheets honour to show the rest as text; so is a cell that begins with an apostrophe, so
  that the rule can be undone exactly (:func:`from_csv`: drop one leading apostrophe). The raw
  value is always in the JSON outputs.

This module imports nothing from unmask (only rich, for its markup escape).
"""

from __future__ import annotations

import re

from rich.markup import escape as escape_markup

# C0 controls (tab, newline included: console lines are one line each), DEL, C1 controls, and the
# Unicode format characters that reorder or hide text on screen.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def strip_controls(text: str) -> str:
    """``text`` with every control and text-reordering character shown as a visible escape."""
    return _CONTROL.sub(_escape_char, text)


def for_console(value: object) -> str:
    """Any value, as text safe to embed in a rich console string: no control characters, no markup."""
    return escape_markup(strip_controls(str(value)))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make spreadsheets (Excel, LibreOffice, Google Sheets) read a cell as a
formula or a command."""


_NEUTRALISE = frozenset((*FORMULA_START, "'"))


def for_csv(cell: str) -> str:
    """A CSV cell that no spreadsheet runs: a leading apostrophe when it begins like a formula (or
    with an apostrophe, which spreadsheets would otherwise swallow)."""
    # One set lookup of the first character: the timeline passes every record's text through here.
    return "'" + cell if cell[:1] in _NEUTRALISE else cell


def from_csv(cell: str) -> str:
    """The value :func:`for_csv` was given."""
    return cell[1:] if cell.startswith("'") else cell
