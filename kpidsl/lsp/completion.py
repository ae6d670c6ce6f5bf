"""Completion and quick fixes.

Keywords come from the grammar itself: the statement around the cursor is fed to Lark's
LALR interactive parser, whose `accepts()` names every terminal that may come next, so a
word added to grammars/kpi.lark is offered where the grammar allows it with no list here
to keep in step.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import lark
from lark.lexer import PatternStr

from ..diagnostics import Diagnostic
from ..grammar import parser
from .analysis import NAME, Analysis, Place, _offset_of_line, statement_start

# what a name after these words can be
_AFTER = {
    ("curve",): ("curve",),
    ("for",): ("kpi",),
    ("plan", "of"): ("kpi",),
    ("attainment", "of"): ("kpi",),
    ("drop",): ("kpi", "fact", "constant", "curve", "pay", "budget"),
    ("based", "on"): ("grade",),
    ("grade",): ("grade",),
}
_TEAM_OF = re.compile(r"team\s+\w+\s+of\s*$")
_VALUE_NAMES = ("fact", "constant", "kpi", "curve")


@dataclass(frozen=True)
class Item:
    label: str
    kind: str  # keyword | unit | currency | word | fact | constant | curve | kpi | pay | grade ...
    detail: str = ""


@cache
def words_of(terminal: str) -> tuple[str, ...]:
    """The words a terminal stands for: 'kpi' for KPI, 'money' ... 'days' for UNIT."""
    definition = next((t for t in parser().terminals if t.name == terminal), None)
    if definition is None or terminal == "NAME":
        return ()
    pattern = definition.pattern
    if isinstance(pattern, PatternStr):
        return (pattern.value,) if NAME.fullmatch(pattern.value) else ()
    regex = re.compile(pattern.to_regexp())
    text = re.sub(r"\[ (?:\t|\\t)\]\+", " ", pattern.value)
    text = text.replace("\\b", "").replace("?:", "")
    found = []
    for candidate in re.split(r"[|()]", text):
        # words ('half up' too) and currency signs (₽, €); operators are not words
        word = bool(re.fullmatch(r"[^\W\d][\w ]*", candidate)) or (
            len(candidate) == 1 and unicodedata.category(candidate) == "Sc")
        if word and regex.fullmatch(candidate) and candidate not in found:
            found.append(candidate)
    return tuple(found)


def keywords() -> set[str]:
    """Every word of the language, from the grammar's terminals."""
    return {w for t in parser().terminals for w in words_of(t.name)}


def expected_terminals(prefix: str) -> set[str] | None:
    """What the grammar accepts after `prefix` (None when the prefix does not parse)."""
    try:
        interactive = parser().parse_interactive(prefix)
        interactive.exhaust_lexer()
    except (lark.exceptions.UnexpectedInput, lark.exceptions.UnexpectedEOF):
        return None
    return set(interactive.accepts())


def complete(analysis: Analysis, line: int, column: int) -> list[Item]:
    text = analysis.text
    line_start = _offset_of_line(text, line)
    offset = line_start + column
    current = text[line_start:offset]
    if _in_label_or_comment(current):
        return []
    partial = re.search(r"[^\W\d]\w*$", current)
    before = text[: offset - (len(partial.group(0)) if partial else 0)]
    start = statement_start(before, len(before))
    head = before[start:]
    prefix = head if head.lstrip().startswith("scheme") else "scheme s\n" + head
    accepted = expected_terminals(prefix)
    words = re.findall(r"[^\W\d]\w*", head)[-2:]
    items: list[Item] = []
    if accepted is None:
        return _names(analysis, words, head)
    for terminal in sorted(accepted):
        if terminal == "NAME":
            items += _names(analysis, words, head)
            continue
        words_here = words_of(terminal)
        kind = {"UNIT": "unit", "CURRENCY": "currency"}.get(
            terminal, "keyword" if len(words_here) == 1 else "word")
        items += [Item(w, kind) for w in words_here]
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.label, item)
    return list(unique.values())


def _names(analysis: Analysis, words: list[str], head: str) -> list[Item]:
    kinds: tuple[str, ...] = _VALUE_NAMES
    for length in (2, 1):
        if tuple(words[-length:]) in _AFTER:
            kinds = _AFTER[tuple(words[-length:])]
            break
    if _TEAM_OF.search(head):
        kinds = ("fact",)
    out = []
    for symbol in analysis.names(kinds):
        label = symbol.node.label
        out.append(Item(symbol.name, symbol.kind, f"{symbol.kind} — {label}" if label
                        else symbol.kind))
    return out


def _in_label_or_comment(line: str) -> bool:
    stripped = re.sub(r'"(?:[^"\\\n]|\\.)*"', "", line)
    return '"' in stripped or "#" in stripped


# ---------------------------------------------------------------- quick fixes

_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_QUOTED = re.compile(r"'([^']+)'")


@dataclass(frozen=True)
class Fix:
    title: str
    place: Place  # the text replaced (start == end: an insertion)
    new_text: str


def diagnostic_place(d: Diagnostic) -> Place:
    if not d.line:
        return Place(0, 0, 0)
    end = d.end_column if d.end_column > d.column else d.column
    return Place(d.line - 1, d.column - 1, end - 1)


def fix_for(analysis: Analysis, d: Diagnostic) -> Fix | None:
    """The one edit a diagnostic's hint asks for, when its hint names exactly one."""
    place = diagnostic_place(d)
    line_text = analysis.source.line_text(d.line) if d.line else ""
    written = line_text[place.start:place.end]
    suggestion = _DID_YOU_MEAN.search(d.hint)
    if suggestion:
        declared = {s.name for s in analysis.symbols}
        for wrong in _QUOTED.findall(d.message):
            if wrong in declared:
                continue
            found = [m for m in NAME.finditer(written) if m.group(0) == wrong]
            if len(found) == 1:
                start = place.start + found[0].start()
                return Fix(f"Change '{wrong}' to '{suggestion.group(1)}'",
                           Place(place.line, start, start + len(wrong)), suggestion.group(1))
        return None
    if d.hint.startswith("write: ") and d.hint.endswith(" otherwise 0"):
        return Fix("Add 'otherwise 0'", Place(place.line, place.end, place.end), " otherwise 0")
    percent = re.fullmatch(r"a weight or threshold is a percentage: write (\S+)%", d.hint)
    if percent and written == percent.group(1):
        return Fix(f"Write {written}%", Place(place.line, place.end, place.end), "%")
    return None
