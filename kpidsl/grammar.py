"""The one place that finds kpi.lark and builds the LALR parser (once, lazily, cached)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import TypeVar

import lark

_HERE = Path(__file__).resolve().parent
# Installed wheels carry the grammar inside the package; a source checkout has it at the top.
_CANDIDATES = (_HERE / "grammars" / "kpi.lark", _HERE.parent / "grammars" / "kpi.lark")


def grammar_path() -> Path:
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("kpi.lark is missing from the installation: " + str(_CANDIDATES[0]))


_T = TypeVar("_T")


def collector_paused(function: Callable[..., _T]) -> Callable[..., _T]:
    """Run `function` with Python's cyclic garbage collector paused (when it was running).

    Parsing builds a tree of hundreds of thousands of objects that all stay alive, and
    every collection on the way traverses them again only to free nothing (trees hold no
    cycles; reference counting frees the rest as usual). For a 10 000-KPI scheme those
    collections doubled the parse time per KPI; paused, the time per KPI stays flat.
    """
    @wraps(function)
    def paused(*args: object, **kwargs: object) -> _T:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return paused


@cache
def parser() -> lark.Lark:
    """The LALR parser; its tables are cached on disk by Lark (keyed by grammar and version)."""
    path = grammar_path()
    return lark.Lark(
        path.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,
    )


# Terminal names as a consultant would read them, for "expected ..." messages.
TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a label in quotes ("...")',
    "NUMBER": "a number",
    "PERCENT": "a percentage (80%)",
    "DATE": "a date (2025-07 or 2025-07-01)",
    "CURRENCY": "a currency (RUB, USD, EUR, ₽)",
    "UNIT": "a unit (money, count, percent, ratio, number, minutes, hours, days)",
    "PERIOD": "a period (month, quarter, year, week)",
    "SECTOR": "a sector (b2b, b2c, infobusiness)",
    "ROUND_TARGET": "'payouts' or 'attainment'",
    "ROUND_MODE": "a rounding mode (half up, half even, half down, up, down, ceiling, floor)",
    "DIRECTION": "'higher' or 'lower'",
    "GROUP": "a KPI group (activity, efficiency, result)",
    "TIER_KIND": "'marginal' or 'whole'",
    "AGGREGATE": "total, average, min or max",
    "FUNCTION": "min, max or abs",
    "MONTH": "a month (jan ... dec)",
    "COMPARE": "a comparison (=, <, >, <=, >=, !=)",
    "ADD_OP": "+ or -",
    "MUL_OP": "×",
    "DIV_OP": "/",
    "$END": "the end of the file",
}


def describe_terminal(name: str) -> str:
    if name in TERMINAL_WORDS:
        return TERMINAL_WORDS[name]
    try:
        pattern = next(t.pattern for t in parser().terminals if t.name == name)
    except StopIteration:
        return name.lower()
    if isinstance(pattern, lark.lexer.PatternStr):
        return f"'{pattern.value}'"
    return name.lower()
