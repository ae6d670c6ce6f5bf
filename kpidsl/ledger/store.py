"""The ledger file: an SQLite database that is only ever appended to.

Why SQLite (Python's standard `sqlite3`) and not DuckDB: a ledger is a payroll record
written a few thousand lines at a time and read back by period and employee — an
OLTP workload, where SQLite's guarantees are the ones that matter: one writer at a time
with a lock another process sees (`BEGIN IMMEDIATE`), atomic commits that survive a
killed process or a power cut (its rollback journal), and a single file any SQLite tool
opens. It adds no dependency (DuckDB stays an optional extra for the SQL engine), and
DuckDB's strengths, columnar scans of millions of rows, are not what a ledger needs.

What makes it a ledger rather than a table of amounts:

- every table refuses UPDATE and DELETE (triggers): a closed period is never rewritten, a
  correction is a new revision whose lines are the differences;
- amounts are exact decimals stored as text (`CHECK (typeof(amount) = 'text')`), summed in
  Python with `Decimal`, never by SQLite (whose SUM would go through binary floats);
- a close is one transaction: everything it writes lands, or nothing does.
"""

from __future__ import annotations

import decimal
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, KpiError, Severity

FORMAT = "1"  # the ledger's schema version; a newer one is refused, never misread
BUSY_SECONDS = 0.5  # how long a second writer waits for the lock before it is refused

_TABLES = ("meta", "closings", "employees", "lines", "balances", "facts")
_CREATE = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE closings (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,                 -- 2025-07
    revision INTEGER NOT NULL,            -- 0: the close, then 1, 2 ...: reopenings
    reason TEXT NOT NULL,                 -- why a reopening corrects the period
    closed_at TEXT NOT NULL,              -- UTC, ISO 8601
    scheme TEXT NOT NULL,
    scheme_version TEXT NOT NULL,
    scheme_file TEXT NOT NULL,
    scheme_sha256 TEXT NOT NULL,
    inputs TEXT NOT NULL,                 -- JSON: [{"role", "file", "sha256"}]
    program TEXT NOT NULL,                -- the kpidsl version that closed it
    UNIQUE (period, revision)
);
CREATE TABLE employees (                  -- whose statements a revision holds
    closing INTEGER NOT NULL REFERENCES closings (id),
    employee TEXT NOT NULL,
    grade TEXT NOT NULL,
    PRIMARY KEY (closing, employee)
);
CREATE TABLE lines (
    id INTEGER PRIMARY KEY,
    closing INTEGER NOT NULL REFERENCES closings (id),
    employee TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,                   -- component, deal, draw, recovery, clawback ...
    name TEXT NOT NULL,                   -- a payment's name, a deal's key
    amount NOT NULL CHECK (typeof(amount) = 'text'),  -- no affinity: a float is refused
    detail TEXT NOT NULL                  -- JSON: what the line rests on
);
CREATE INDEX lines_by_employee ON lines (employee, kind, name);
CREATE INDEX lines_by_closing ON lines (closing);
CREATE TABLE balances (
    closing INTEGER NOT NULL REFERENCES closings (id),
    employee TEXT NOT NULL,
    name TEXT NOT NULL,                   -- draw, year, paid_this_year
    carried_in NOT NULL CHECK (typeof(carried_in) = 'text'),
    carried_out NOT NULL CHECK (typeof(carried_out) = 'text'),
    PRIMARY KEY (closing, employee, name)
);
CREATE TABLE facts (
    closing INTEGER NOT NULL REFERENCES closings (id),
    employee TEXT NOT NULL,
    name TEXT NOT NULL,
    value NOT NULL CHECK (typeof(value) = 'text'),
    PRIMARY KEY (closing, employee, name)
);
"""
# one statement each: `executescript` would commit the close's transaction before running
SCHEMA = [part.strip() for part in _CREATE.split(";") if part.strip()] + [
    f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} BEGIN "
    f"SELECT RAISE(ABORT, 'a ledger is never changed in place: {table} cannot be {verb}'); END"
    for table in _TABLES for action, verb in (("update", "updated"), ("delete", "deleted"))]


@dataclass(frozen=True)
class Closing:
    """One revision of one period: revision 0 closes it, later ones correct it."""

    id: int
    period: str
    revision: int
    reason: str
    closed_at: str
    scheme: str
    scheme_version: str
    scheme_file: str
    scheme_sha256: str
    inputs: tuple[dict[str, str], ...]
    program: str


@dataclass(frozen=True)
class StoredLine:
    id: int
    closing: int
    period: str
    revision: int
    employee: str
    seq: int
    kind: str
    name: str
    amount: Decimal
    detail: dict[str, Any] = field(default_factory=dict)


def ledger_error(message: str, path: str | os.PathLike[str], hint: str = "",
                 code: str = "KPI661") -> KpiError:
    return KpiError([Diagnostic(code, Severity.ERROR, message, os.fspath(path), hint=hint)])


class Ledger:
    """An open ledger file. Reads run outside any transaction; writes go through `writing`."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise ledger_error("no such ledger", path,
                               "a ledger is created by its first `kpidsl close ... --ledger FILE`")
        if self.path.is_dir():
            raise ledger_error("is a directory, not a ledger file", path)
        try:
            if create:
                self.db = sqlite3.connect(self.path, timeout=BUSY_SECONDS,
                                          isolation_level=None)
            else:  # reading never creates the file, nor changes what it holds
                self.db = _open_existing(self.path)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = FULL")
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise self._refused(exc) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---------------------------------------------------------------- format
    def _tables(self) -> set[str]:
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}

    @property
    def empty(self) -> bool:
        return not self._tables()

    def _check_format(self) -> None:
        tables = self._tables()
        if not tables:
            return  # a new ledger: its tables are created by its first close
        if not set(_TABLES) <= tables:
            raise ledger_error("is an SQLite database but not a kpidsl ledger", self.path,
                               "give another file name; a new ledger is created by close")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if row is None or row[0] != FORMAT:
            raise ledger_error(f"is a ledger of format {row[0] if row else '?'}; this kpidsl "
                               f"reads format {FORMAT}", self.path,
                               "use the kpidsl version that wrote it")

    def _refused(self, exc: sqlite3.Error) -> KpiError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return ledger_error(
                "another process is writing this ledger (a close in progress); nothing was "
                "written", self.path, "run the command again when the other close has "
                "finished", code="KPI662")
        if "not a database" in text or "malformed" in text:
            return ledger_error("is not a kpidsl ledger (not an SQLite database)", self.path,
                                "give another file name; a new ledger is created by close")
        if "readonly" in text or "unable to open" in text:
            return ledger_error(f"cannot be written ({text})", self.path)
        return ledger_error(text, self.path)

    @property
    def scheme(self) -> str | None:
        if self.empty:
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key = 'scheme'").fetchone()
        return row[0] if row else None

    # ---------------------------------------------------------------- writing
    @contextmanager
    def writing(self) -> Iterator[Writer]:
        """One transaction holding the write lock: everything lands at the end, or nothing.

        The lock is taken first (`BEGIN IMMEDIATE`), so a second writer is refused at once
        with KPI662 instead of computing a close it could not write."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._refused(exc) from None
        try:
            yield Writer(self)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:  # pragma: no cover - a full disk at the very end
            self.db.execute("ROLLBACK")
            raise self._refused(exc) from None

    # ---------------------------------------------------------------- reading
    def closings(self, period: str | None = None) -> list[Closing]:
        if self.empty:
            return []
        query = "SELECT * FROM closings" + (" WHERE period = ?" if period else "") + \
            " ORDER BY period, revision"
        rows = self.db.execute(query, (period,) if period else ())
        return [Closing(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                        tuple(json.loads(row[9])), row[10]) for row in rows]

    def periods(self) -> list[str]:
        return sorted({c.period for c in self.closings()})

    def lines(self, period: str | None = None, employee: str | None = None,
              kind: str | None = None, name: str | None = None) -> list[StoredLine]:
        if self.empty:
            return []
        where, args = [], []
        for column, value in (("c.period", period), ("l.employee", employee),
                              ("l.kind", kind), ("l.name", name)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        query = ("SELECT l.id, l.closing, c.period, c.revision, l.employee, l.seq, l.kind, "
                 "l.name, l.amount, l.detail FROM lines l JOIN closings c ON c.id = l.closing"
                 + (" WHERE " + " AND ".join(where) if where else "")
                 + " ORDER BY c.period, c.revision, l.employee, l.seq")
        return [StoredLine(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                           Decimal(row[8]), json.loads(row[9]))
                for row in self.db.execute(query, args)]

    def paid_before(self, pairs: list[tuple[str, str]], kinds: tuple[str, ...],
                    before: str) -> set[tuple[str, str]]:
        """The (employee, name) pairs with a line of one of `kinds` in a period before
        `before`: a close asks it of every deal it pays, in chunks of 400 pairs a query
        (one query a deal cost 0.9 s of CPU for 5 000 deals; the (employee, kind, name)
        index answers each pair)."""
        found: set[tuple[str, str]] = set()
        if self.empty:
            return found
        marks = ", ".join("?" * len(kinds))
        for start in range(0, len(pairs), 400):
            chunk = pairs[start:start + 400]
            values = ", ".join("(?, ?)" for _ in chunk)
            found.update(self.db.execute(
                f"WITH paying (employee, name) AS (VALUES {values}) "
                "SELECT DISTINCT p.employee, p.name FROM paying p JOIN lines l "
                f"ON l.employee = p.employee AND l.name = p.name AND l.kind IN ({marks}) "
                "JOIN closings c ON c.id = l.closing WHERE c.period < ?",
                (*(x for pair in chunk for x in pair), *kinds, before)))
        return found

    def amounts(self, period: str) -> list[tuple[str, str, str, Decimal]]:
        """(employee, kind, name, amount) of every line of every revision of a period: what
        a comparison needs, without decoding each line's detail."""
        return [(e, k, n, Decimal(a)) for e, k, n, a in self.db.execute(
            "SELECT l.employee, l.kind, l.name, l.amount FROM lines l JOIN closings c "
            "ON c.id = l.closing WHERE c.period = ? ORDER BY c.revision, l.employee, l.seq",
            (period,))]

    def balances(self, closing: int) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
        """employee → name → (carried in, carried out) as one revision recorded them."""
        found: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
        for employee, name, carried_in, carried_out in self.db.execute(
                "SELECT employee, name, carried_in, carried_out FROM balances WHERE closing = ? "
                "ORDER BY employee, name", (closing,)):
            found.setdefault(employee, {})[name] = (Decimal(carried_in), Decimal(carried_out))
        return found

    def employees(self, closing: int) -> dict[str, str]:
        """employee → grade, for everyone whose statement the revision holds."""
        return dict(self.db.execute("SELECT employee, grade FROM employees WHERE closing = ? "
                                    "ORDER BY rowid", (closing,)).fetchall())

    def facts(self, closing: int) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for employee, name, value in self.db.execute(
                "SELECT employee, name, value FROM facts WHERE closing = ? ORDER BY rowid",
                (closing,)):
            found.setdefault(employee, {})[name] = value
        return found


def _open_existing(path: Path) -> sqlite3.Connection:
    """Read-write when the file allows it, so that SQLite can roll back the hot journal a
    killed close left (the reader then sees the ledger as it was; read-only, it could not);
    read-only otherwise (a ledger on a read-only medium)."""
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=rw", uri=True, timeout=BUSY_SECONDS,
                             isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # recovery happens here
        return db
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise
        return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_SECONDS,
                               isolation_level=None)


class Writer:
    """Appends inside the transaction of `Ledger.writing`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.db = ledger.db

    def create(self, scheme: str) -> None:
        """A new ledger's tables, in the same transaction as its first close."""
        for statement in SCHEMA:
            self.db.execute(statement)
        from .. import __version__

        self.db.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", FORMAT), ("scheme", scheme), ("created_by", f"kpidsl {__version__}")])

    def closing(self, period: str, revision: int, reason: str, closed_at: str, scheme: str,
                version: str, scheme_file: str, sha256: str, inputs: list[dict[str, str]],
                program: str) -> int:
        cursor = self.db.execute(
            "INSERT INTO closings (period, revision, reason, closed_at, scheme, "
            "scheme_version, scheme_file, scheme_sha256, inputs, program) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (period, revision, reason, closed_at, scheme, version, scheme_file, sha256,
             json.dumps(inputs, ensure_ascii=False), program))
        return int(cursor.lastrowid or 0)

    def line(self, closing: int, employee: str, seq: int, kind: str, name: str,
             amount: Decimal, detail: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO lines (closing, employee, seq, kind, name, amount, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (closing, employee, seq, kind, name, amount_text(amount),
             json.dumps(detail, ensure_ascii=False, sort_keys=True)))

    def balance(self, closing: int, employee: str, name: str, carried_in: Decimal,
                carried_out: Decimal) -> None:
        self.db.execute("INSERT INTO balances VALUES (?, ?, ?, ?, ?)",
                        (closing, employee, name, amount_text(carried_in),
                         amount_text(carried_out)))

    def employee(self, closing: int, employee: str, grade: str) -> None:
        self.db.execute("INSERT INTO employees VALUES (?, ?, ?)", (closing, employee, grade))

    def fact(self, closing: int, employee: str, name: str, value: str) -> None:
        self.db.execute("INSERT INTO facts VALUES (?, ?, ?, ?)",
                        (closing, employee, name, value))


def amount_text(value: Decimal) -> str:
    """An exact decimal as text with at least the kopecks: '1000.00', '0.00' (a total of
    no lines), '0.125' (kept exact), never '1E+3', never '-0.00'."""
    if value == 0:
        value = abs(value)
    _sign, digits, exponent = value.as_tuple()
    if isinstance(exponent, int) and exponent > -2:  # exact: only zeros are added
        value = value.quantize(Decimal("0.01"),
                               context=decimal.Context(prec=len(digits) + max(exponent, 0) + 2))
    return format(value, "f")
