"""The one place that finds kpi.lark and builds the LALR parser (once, lazily, cached)."""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import stat
from collections.abc import Callable
from contextlib import suppress
from functools import cache, wraps
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import lark
import lark.grammar
from lark.parsers import lalr_analysis

from .lexing import PLUGINS

if TYPE_CHECKING:
    from pathlib import Path

# os.path, not pathlib, on the way to the parser: `kpidsl check` imports no pathlib (it
# costs 0.06× of `import lark, click`: kpidsl/source.py, `path_text`)
_HERE = os.path.dirname(os.path.realpath(__file__))
# Installed wheels carry the grammar inside the package; a source checkout has it at the top.
_CANDIDATES = (os.path.join(_HERE, "grammars", "kpi.lark"),
               os.path.join(os.path.dirname(_HERE), "grammars", "kpi.lark"))


def _grammar_file() -> str:
    for candidate in _CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError("kpi.lark is missing from the installation: " + _CANDIDATES[0])


def grammar_path() -> Path:
    """Where kpi.lark is (in the package, or at the top of a source checkout)."""
    from pathlib import Path

    return Path(_grammar_file())


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


OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual",
                           "propagate_positions": True, "maybe_placeholders": False}


@cache
def parser() -> lark.Lark:
    """The LALR parser, built once per grammar, Lark and Python version and kept on disk.

    Lark's own cache (`cache=True`) keeps the tables as plain data and builds its objects
    from them in every process: 48 ms of `kpidsl check`'s start-up (the contextual lexer's
    184 per-state lexers, the 613 states' tables, the rules). The whole parser object is
    kept instead (`_stored`, pickled) and loaded in 20 ms; a missing, stale or unreadable
    copy is built again from the grammar (with Lark's cache) and stored. Its contextual
    lexer compiles regular expressions only where they pay (kpidsl/lexing.py).
    """
    with open(_grammar_file(), encoding="utf-8") as f:
        text = f.read()
    where = _stored(text)
    loaded = _load(where)
    if loaded is not None:
        return loaded
    made = lark.Lark(text, cache=True, _plugins=PLUGINS, **OPTIONS)
    _store(made, where)
    return made


def _stored(grammar: str) -> str:
    """Where the parser of `grammar` is kept: the temporary directory (as Lark keeps its
    cache), named by the grammar, the options, Lark's and Python's versions and the user."""
    import hashlib
    import sys
    import tempfile

    key = hashlib.sha256("\0".join((grammar, repr(sorted(OPTIONS.items())), lark.__version__,
                                     sys.version, _FORMAT)).encode()).hexdigest()[:32]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f".kpidsl_parser_{uid}_{key}.pickle")


_FORMAT = "5"  # changes when what is stored changes


def _load(where: str | Path) -> lark.Lark | None:
    """The stored parser, when the file is there and only its owner can have written it
    (a pickle runs what it says: one left by another user is not read)."""
    try:
        with open(where, "rb") as f:
            status = os.fstat(f.fileno())
            if hasattr(os, "getuid") and (status.st_uid != os.getuid()
                                          or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
                return None
            made = pickle.load(f)
    except Exception:  # missing, truncated, or from another layout: build it again
        return None
    return made if isinstance(made, lark.Lark) else None


def _store(made: lark.Lark, where: str | Path) -> None:
    """Keep `made` for the next process; a directory that cannot be written to only costs
    the next process the time to build the parser again."""
    import tempfile

    try:
        handle, part = tempfile.mkstemp(prefix=os.path.basename(where), suffix=".part",
                                        dir=os.path.dirname(where))
    except OSError:
        return
    try:
        _share_equal_parts(made)
        with os.fdopen(handle, "wb") as f:
            _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(made)
        os.replace(part, where)
    except Exception:
        with suppress(OSError):
            os.unlink(part)


def _share_equal_parts(made: lark.Lark) -> None:
    """One object for each distinct LALR action and grammar symbol, so that the stored
    parser holds each once: Lark makes a new `(Shift, state)` tuple for each of the 8 579
    entries of its table (947 distinct) and a new symbol for each place in a rule (1 494,
    234 distinct). Loading then makes 10 000 fewer objects: 34 → 23 M instructions
    (callgrind), and fewer to free at exit. Lark compares actions by their parts and
    symbols by type and name, so sharing equal ones changes nothing it does."""
    states = made.parser.parser.parser.parse_table.states
    actions: dict[Any, Any] = {}
    for table in states.values():
        for terminal, action in table.items():
            table[terminal] = actions.setdefault(action, action)
    symbols: dict[Any, Any] = {}

    def shared(symbol: Any) -> Any:
        key = (type(symbol), symbol.name, getattr(symbol, "filter_out", None))
        return symbols.setdefault(key, symbol)

    for rule in made.rules:
        rule.origin = shared(rule.origin)
        rule.expansion = [shared(symbol) for symbol in rule.expansion]


class _Pickler(pickle.Pickler):
    """Lark's parser as it is, except: modules (the lexers' `re`) and the LALR actions,
    which Lark compares by identity, are stored by name (and loaded once each: a persistent
    reference would be looked up again at each of the table's 8 600 actions); a rule is
    stored as its arguments, so that its hash (cached, of strings hashed differently in
    every process) is computed again when it is loaded."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is lark.Lark:  # without what only building it needed
            return object.__new__, (lark.Lark,), {
                name: value for name, value in vars(obj).items() if name not in _BUILDING}
        if type(obj) is lark.grammar.Rule:
            return lark.grammar.Rule, (obj.origin, obj.expansion, obj.order, obj.alias,
                                       obj.options)
        if isinstance(obj, ModuleType):
            return importlib.import_module, (obj.__name__,)
        if obj is lalr_analysis.Shift or obj is lalr_analysis.Reduce:
            return _action, (str(obj),)
        return NotImplemented


# A Lark object's attributes used only while it is built: the grammar's definitions (kept
# when Lark built the parser from the grammar, not when from its cache) and the builder of
# the tree callbacks (`_callbacks` is what parsing uses).
_BUILDING = frozenset({"grammar", "_parse_tree_builder"})


def _action(name: str) -> Any:
    """Lark's LALR action `name` (Shift or Reduce), for the stored parser."""
    return {"Shift": lalr_analysis.Shift, "Reduce": lalr_analysis.Reduce}[name]


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
