"""Effective dates: `effective from 2025-01 to 2025-06` names real months or days, in order.

A scheme whose dates are wrong would be picked for the wrong months (or never), so `check`
refuses `2025-13`, `2025-02-30` and a `to` before its `from` (KPI623), the same rules a
directory of versions applies when it places versions side by side.
"""

from __future__ import annotations

import datetime as dt
import re

from .. import ast
from ..diagnostics import Diagnostic, error
from ..source import SourceFile, Span

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_EFFECTIVE = re.compile(r"effective\s+from\s+(\S+)(?:\s+to\s+(\S+))?")


def parse_period(text: str, *, end: bool = False) -> dt.date:
    """'2025-07' → 2025-07-01 (or 2025-07-31 when `end`); '2025-07-15' → that day.

    Raises ValueError with a plain message for anything else (2025-13, 2025-02-30, July).
    """
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a month like 2025-07 or a date like 2025-07-15")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"'{text}': there is no month {month}")
    if year < 1:
        raise ValueError(f"'{text}': there is no year {year}")
    if match[3] is None:  # a month's last day: the next one's first − 1 (not `calendar`,
        if not end:  # which took 7 M instructions to import: a tenth of `kpidsl check`'s own)
            return dt.date(year, month, 1)
        if month == 12:
            return dt.date(year, 12, 31)
        return dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    try:
        return dt.date(year, month, int(match[3]))
    except ValueError:
        raise ValueError(f"'{text}': {year}-{month:02d} has no day {int(match[3])}") from None


def effective_span(source: SourceFile, header: ast.Header) -> Span:
    """The `effective` clause in the header (the scheme's name when there is none)."""
    span = header.span  # found by its lines: a header parsed alone (the editor's statement
    # cache) has the right lines and columns but offsets into its own text
    lines = source.text.split("\n")
    start = sum(len(text) + 1 for text in lines[:max(span.line - 1, 0)])
    end = start + sum(len(text) + 1 for text in lines[max(span.line - 1, 0):span.end_line])
    match = _EFFECTIVE.search(source.text, start, end)
    return source.span(match.start(), match.end()) if match else header.name_span


def effective_dates(header: ast.Header, source: SourceFile) -> tuple[
        dt.date | None, dt.date | None, list[Diagnostic]]:
    """The first and last day a scheme is in force (None: not stated), and KPI623 problems."""
    problems: list[Diagnostic] = []
    dates: list[dt.date | None] = []
    for text, is_end in ((header.effective_from, False), (header.effective_to, True)):
        if not text:
            dates.append(None)
            continue
        try:
            dates.append(parse_period(text, end=is_end))
        except ValueError as exc:
            problems.append(error("KPI623", f"effective date {exc}", source,
                                  effective_span(source, header),
                                  hint="write a month as YYYY-MM (2025-07) or a day as "
                                  "YYYY-MM-DD (2025-07-15)"))
            dates.append(None)
    start, end = dates
    if start and end and end < start:
        problems.append(error("KPI623", f"this version ends ({end}) before it starts ({start})",
                              source, effective_span(source, header),
                              hint="'to' names the last month or day in force, after 'from'"))
    return start, end, problems


def check_effective(header: ast.Header, source: SourceFile) -> list[Diagnostic]:
    return effective_dates(header, source)[2]
