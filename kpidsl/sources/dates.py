"""A date cell of an export: ISO, Russian `15.07.2025 14:30`, XLSX dates, Parquet dates.

A slashed date that reads both ways (`07/08/2025`: 7 August or July 8) is refused with both
readings, never guessed; one with a part above 12 (`15/07/2025`) reads one way only.
"""

from __future__ import annotations

import datetime as dt
import re

from ..values import FactValueError

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_date(raw: object) -> dt.datetime:
    """A cell as a datetime (midnight for a day); FactValueError (KPI541) when it is none."""
    if isinstance(raw, dt.datetime):
        return raw.replace(tzinfo=None)
    if isinstance(raw, dt.date):
        return dt.datetime(raw.year, raw.month, raw.day)
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise FactValueError("empty date", "KPI502")
    shown = text if len(text) <= 40 else text[:39] + "…"
    match = _ISO.fullmatch(text)
    if match:
        y, m, d, *time = match.groups()
        return _made(shown, int(y), int(m), int(d), time)
    match = _DOTTED.fullmatch(text)
    if match:
        d, m, y, *time = match.groups()
        return _made(shown, int(y), int(m), int(d), time)
    match = _SLASHED.fullmatch(text)
    if match:
        a, b, y, *time = match.groups()
        first, second = int(a), int(b)
        if first <= 12 and second <= 12 and first != second:
            raise FactValueError(
                f"'{shown}' could be {second} {_MONTHS[first - 1]} (day/month) or {first} "
                f"{_MONTHS[second - 1]} (month/day)", "KPI541",
                "export dates as 2025-07-15 or 15.07.2025")
        day, month = (second, first) if second > 12 else (first, second)
        return _made(shown, int(y), month, day, time)
    raise FactValueError(f"'{shown}' is not a date", "KPI541",
                         "expected a date like 2025-07-15 or 15.07.2025 (a time may follow)")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _made(shown: str, year: int, month: int, day: int, time: list[str | None]) -> dt.datetime:
    hour, minute, second = (int(t) if t else 0 for t in (time + [None] * 3)[:3])
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise FactValueError(f"'{shown}' is no day of the calendar", "KPI541",
                             "check the day and the month") from None


def period_bounds(period: str, kind: str) -> tuple[dt.datetime, dt.datetime]:
    """`2025-07` with the scheme's period (month, quarter, year) → [start, end)."""
    year, month = (int(p) for p in period.split("-")[:2])
    if kind == "quarter":
        month = (month - 1) // 3 * 3 + 1
        span = 3
    elif kind == "year":
        month, span = 1, 12
    else:
        span = 1
    start = dt.datetime(year, month, 1)
    end_month = month + span
    end = dt.datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def period_of(moment: dt.datetime, kind: str) -> str:
    """The period (`2025-07`, `2025-Q3`, `2025`) a moment falls in."""
    if kind == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    if kind == "year":
        return str(moment.year)
    return f"{moment.year}-{moment.month:02d}"
