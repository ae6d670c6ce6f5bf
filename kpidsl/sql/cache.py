"""The DuckDB engine's generated SQL kept on disk, so a run of a scheme already seen does not
import sqlglot (0.2–0.4 s of each `kpidsl eval --engine duckdb`, `python -X importtime`).

An entry is keyed by a SHA-256 of the scheme's text, kpidsl's version, the size and time of
every module of the kpidsl package (an edited generator is never served the old SQL), the
dialect and the query's layout (facts table, month, carried columns). It lives in
`$KPIDSL_CACHE_DIR`, else `$XDG_CACHE_HOME/kpidsl/sql`, else `~/.cache/kpidsl/sql`: a
directory created 0700 and used only while it is this user's and writable by no one else
(the SQL is run as it is read). Each entry is written to a temporary file and renamed into
place; an entry that cannot be read, that is not JSON of this format or that holds another
key is ignored and written again. A cache that cannot be created or written is skipped
silently: the query is built as without it. `KPIDSL_NO_CACHE=1` turns it off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..checks import CheckedRuleset
    from . import Query
    from .lines import Plan
    from .native import NativeRun

FORMAT = 1
DIALECT = "duckdb"


@dataclass(frozen=True)
class PayUnits:
    """What the engine reads of a payment's column: its value when known while compiling,
    the largest magnitude it can take (as `generate.Int`)."""

    value: int | None
    bound: int


class CachedOutput:
    """`Query.output` with the payments' columns; anything else builds the query."""

    def __init__(self, pays: list[tuple[str, PayUnits]], build: Callable[[], Query]) -> None:
        self.pays = pays
        self._build = build

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build().output, name)


class CachedQuery:
    """The part of a `Query` the DuckDB engine runs: its SQL text and payment columns."""

    def __init__(self, grade: str, text: str, pays: list[tuple[str, PayUnits]],
                 build: Callable[[], Query]) -> None:
        self.grade = grade
        self.text = text
        self.output = CachedOutput(pays, build)
        self._build = build

    def sql(self, pretty: bool = False) -> str:
        return self._build().sql(pretty=True) if pretty else self.text

    def full(self) -> Query:
        """The query itself, built (sqlglot imported) on first use."""
        return self._build()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)


def directory() -> Path | None:
    """The cache's directory, or None when it is turned off."""
    if os.environ.get("KPIDSL_NO_CACHE", "") not in ("", "0"):
        return None
    chosen = os.environ.get("KPIDSL_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kpidsl" / "sql"


@cache
def _code_stamp() -> str:
    """Every module of the package by name, size and modification time (about 1 ms)."""
    root = Path(__file__).resolve().parents[1]
    parts = []
    for folder, _dirs, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                parts.append(f"{os.path.relpath(os.path.join(folder, name), root)}:"
                             f"{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()


def key(text: str, layout: dict[str, Any]) -> str:
    from .. import __version__

    head = json.dumps([FORMAT, __version__, _code_stamp(), DIALECT, layout], sort_keys=True)
    return hashlib.sha256(head.encode() + b"\0" + text.encode("utf-8")).hexdigest()


def _private(folder: Path) -> bool:
    """This user's directory, writable by no one else (what is read from it is run)."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def load(name: str) -> dict[str, Any] | None:
    folder = directory()
    if folder is None or not _private(folder):
        return None
    path = folder / f"{name}.json"
    try:
        if path.stat().st_uid != os.getuid():
            return None
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != name:
        return None
    return entry


def store(name: str, entry: dict[str, Any]) -> None:
    folder = directory()
    if folder is None:
        return
    try:
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        if not _private(folder):
            return
        handle, temporary = tempfile.mkstemp(prefix=".entry-", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"format": FORMAT, "key": name, **entry}, out)
            os.replace(temporary, folder / f"{name}.json")
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return  # an unwritable cache costs only its time


def native_query(checked: CheckedRuleset, month: int | None,
                 carry: tuple[str, ...]) -> Query | CachedQuery:
    """The one grade's DuckDB query over the native path's facts table (KpiError when the
    scheme cannot be exact), from the cache when it holds it."""
    layout = {"table": "facts", "month": month, "carry": list(carry), "budgets": False}
    built: list[Query] = []

    def build() -> Query:
        if not built:
            from . import queries, runnable_on_duckdb

            found = queries(checked, DIALECT, table="facts", month=month, carry=carry,
                            budgets=False)
            runnable_on_duckdb(found, checked)  # only a query DuckDB can run is stored
            built.append(found[0])
        return built[0]

    name = key(checked.source.text, layout)
    entry = load(name)
    try:
        if entry is not None:
            pays = [(str(p), PayUnits(v if v is None else int(v), int(b)))
                    for p, v, b in entry["pays"]]
            return CachedQuery(str(entry["grade"]), str(entry["sql"]), pays, build)
    except (KeyError, TypeError, ValueError):
        pass
    query = build()  # KpiError when refused (KPI950, KPI953): nothing is stored
    store(name, {"layout": layout, "grade": query.grade, "sql": query.sql(pretty=False),
                 "pays": [[p, u.value, u.bound] for p, u in query.output.pays]})
    return query


def query_steps(checked: CheckedRuleset) -> int | None:
    """The most steps of the scheme's DuckDB queries (`--engine auto`), None when it cannot
    be computed exactly in SQL; from the cache when a run has already built them."""
    from ..diagnostics import KpiError

    name = key(checked.source.text, {"steps": True})
    entry = load(name)
    if entry is not None and "steps" in entry:
        steps = entry["steps"]
        if steps is None or (isinstance(steps, int) and not isinstance(steps, bool)):
            return steps
    from . import queries

    try:
        found: int | None = max((q.steps for q in queries(checked, DIALECT, budgets=False)),
                                default=0)
    except KpiError:
        found = None
    store(name, {"steps": found})
    return found


def _plan_layout(native: NativeRun, kind: str, keys: Sequence[str]) -> dict[str, Any]:
    """What a plan of the query's output lines depends on besides the scheme and the code:
    the format, its columns, the file's columns and the carried ones, the month, and this
    Python (its csv writer decides what is quoted)."""
    return {"plan": kind, "keys": list(keys), "carry": list(native.carry),
            "facts": list(native.facts), "month": native.month, "python": sys.version,
            "columns": [[c.sql, c.role, c.key] for c in native.native.columns]}


def _strings(value: Any, depth: int) -> bool:
    """A string (depth 0), or a list of such at every level down to `depth`."""
    if depth == 0:
        return isinstance(value, str)
    return isinstance(value, list) and all(_strings(v, depth - 1) for v in value)


def cached_plan(native: NativeRun, kind: str, keys: Sequence[str],
                build: Callable[[], Plan | str]) -> Plan | str:
    """`build()` (kpidsl/sql/lines.py `plan`, formats.py `json_plan`, `excel_plan`: the
    query's output lines, or why the query cannot write them) from the cache when a run has
    already built it for this scheme and layout: building it imports sqlglot and generates
    the query. The plan is stored with the query text it is run on (`rendered_query`)."""
    from .lines import Plan

    layout = _plan_layout(native, kind, keys)
    name = key(native.ruleset.checked.source.text, layout)
    entry = load(name)
    if entry is not None:
        reason, fields, tree = entry.get("reason"), entry.get("plan"), entry.get("tree")
        if isinstance(reason, str):
            return reason
        if isinstance(fields, dict) and isinstance(tree, str) and \
                set(fields) == {f.name for f in dataclasses.fields(Plan)} and \
                _strings(fields["appended"], 2) and \
                all(len(a) == 2 for a in fields["appended"]) and \
                _strings(fields["layers"], 2) and \
                all(_strings(fields[f], 0) for f in ("line", "python", "end")):
            appended = [(str(a), str(b)) for a, b in fields["appended"]]
            native.rendered.append((appended, tree))
            return Plan(**{**fields, "appended": appended})
    found = build()
    if isinstance(found, str):
        store(name, {"layout": layout, "reason": found})
        return found
    try:
        fields = json.loads(json.dumps(dataclasses.asdict(found)))
    except (TypeError, ValueError):  # a plan of other values than texts: not stored
        return found
    native.unstored.append((name, layout, fields))
    return found


def rendered_query(native: NativeRun, appended: Sequence[tuple[str, str]],
                   render: Callable[[], str]) -> str:
    """The scheme's query with the plan's `appended` columns as text: `render()` (sqlglot)
    unless the plan came from the cache; a plan built in this run is stored with it."""
    wanted = [tuple(a) for a in appended]
    for known, text in native.rendered:
        if [tuple(a) for a in known] == wanted:
            return text
    text = render()
    for name, layout, fields in native.unstored:
        if [tuple(a) for a in fields["appended"]] == wanted:
            store(name, {"layout": layout, "plan": fields, "tree": text})
    return text
