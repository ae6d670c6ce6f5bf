"""A big scheme's syntax errors from the statements an edit broke, without parsing the rest.

`kpidsl check` parses the whole text, and after a syntax error blanks the failing statement
out and parses the whole text again (parser.parse_tree), up to 25 errors. On 5 000 KPIs each
of those parses takes over a second. The parser reads left to right, so the text before a
broken statement (every statement of it parses alone) tells it nothing but that a new
statement may start: the same search is run here on a window, the scheme's header (and the
grade the statement is in) followed by the statement before the broken one (which the broken
one may only continue), the broken statement and the statements after it, at their own
lines. The window grows while an error falls on its last statement (an unfinished
formula swallows the next statement's first word, and the search then blanks statement after
statement) or that statement is broken too; once it ends on a statement that parses, the
parser is where it would be in the whole text. The errors are `check`'s, in its order and up
to its limit; tests/test_lsp_syntax.py compares them with `check` over random breakage.
"""

from __future__ import annotations

from bisect import bisect_right

from ..diagnostics import Diagnostic
from ..parser import MAX_NESTING, MAX_SYNTAX_ERRORS, parse_tree
from ..source import SourceFile


def syntax_errors(text: str, name: str, chunks: list[tuple[int, int]], lines: list[int],
                  broken: list[int], grades: list[int]) -> list[Diagnostic] | None:
    """`check`'s syntax errors for `text`, found on windows around the `broken` statements
    (indexes into `chunks`, whose first lines are `lines`; `grades` are the chunks that open
    a grade). None when only the whole parse will tell: no syntax error in any window (a
    statement that parses only with its neighbours, or a number too long: errors the parser
    reports only for a whole scheme that parses), or parentheses deep enough for the check
    made on the whole text."""
    if text.count("(") > MAX_NESTING:
        return None
    found: list[Diagnostic] = []
    last = len(chunks) - 1
    done = -1  # the last chunk a window has covered
    starts_broken = set(broken)
    blanked: set[int] = set()  # the statements the search blanked out (where errors are)
    for index in broken:
        if index <= done:
            continue
        # the statement before too (a line that only looks like a statement's start may
        # continue it) and the next (an unfinished statement reads into it)
        first, end = max(index - 1, 0), min(index + 1, last)
        while True:
            window = _window(text, chunks, lines, [g for g in grades if g not in blanked],
                             first, end, broken[0] == 0)
            _tree, errors, stuck = parse_tree(SourceFile(name, window), window,
                                             MAX_SYNTAX_ERRORS - len(found))
            if stuck:
                return None
            if end < last and (end in starts_broken or any(d.line >= lines[end] for d in errors)):
                end = min(last, index + 2 * (end - index + 1))
                continue
            break
        found += errors
        blanked.update(bisect_right(lines, d.line) - 1 for d in errors)
        done = end
        if len(found) >= MAX_SYNTAX_ERRORS:
            break
    return found or None


def _window(text: str, chunks: list[tuple[int, int]], lines: list[int], grades: list[int],
            first: int, end: int, broken_header: bool) -> str:
    """The header, the grade around `first` (the last of `grades` before it, those not blanked
    out), then chunks first..end, each at its own line (blank lines stand for the rest)."""
    if first == 0:
        return text[:chunks[end][1]]
    line = lines[1] if len(lines) > 1 else 1
    # a broken header was blanked to something that parses (its window ended on a statement
    # that parses): any header will do for the statements after it
    parts = ["scheme s" + "\n" * (line - 1) if broken_header else text[:chunks[0][1]]]
    grade = max((g for g in grades if g < first), default=None)
    if grade is not None:
        parts.append("\n" * (lines[grade] - line))
        parts.append(text[chunks[grade][0]:chunks[grade][1]])
        line = lines[grade + 1]
    parts.append("\n" * (lines[first] - line))
    parts.append(text[chunks[first][0]:chunks[end][1]])
    return "".join(parts)
