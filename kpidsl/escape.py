"""Text from a CRM file shown to people: what cannot break a table, a heading or a workbook.

A facts file may hold anything in an id, a name or a column header: a newline (a fake row in
a terminal table, a fake `## Total` heading in a Markdown statement), an ANSI escape (which
clears the screen or hides text), a bidi override (which shows text in another order), a
control character (which openpyxl refuses with IllegalCharacterError, losing the workbook).
Machine formats (CSV, JSON) carry such text unchanged; every human-readable output passes it
through :func:`visible` and XLSX cells through :func:`xlsx_text`.
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls, DEL, line and paragraph separators, and the bidi controls
# (embeddings, overrides, isolates, marks) that reorder or hide what follows them.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f"
                        "\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# what openpyxl refuses in a cell (XML 1.0 forbids these)
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Controls, line breaks and bidi controls as escapes: 'a\\nb' → 'a\\\\nb', ESC → '\\\\x1b'.

    Text without them (nearly all text) is returned as it is.
    """
    return _INVISIBLE.sub(_escape, text) if _INVISIBLE.search(text) else text


def visible_value(value: Any) -> Any:
    """`visible` for strings; other values unchanged (for Jinja's finalize)."""
    return visible(value) if type(value) is str else value


def xlsx_text(text: str) -> str:
    """A string openpyxl accepts: the control characters XML forbids, as visible escapes.
    Tabs and line breaks stay (a cell may hold several lines)."""
    return _XLSX_ILLEGAL.sub(_escape, text) if _XLSX_ILLEGAL.search(text) else text
