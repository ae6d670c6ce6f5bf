"""Streaming readers of facts: per-employee numbers exported from CRMs or Excel.

Russian-locale exports carry decimal commas, space thousands, currency signs, cp1251 or a BOM,
so every cell is parsed by explicit rules into an exact Decimal (never a float). A bad row
becomes a RowError and reading goes on: one typo must not hide the other thousand rows.
See docs/facts.md for the formats, the parsing rules and the KPI5xx codes.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import itertools
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

from .columns import ColumnError, Titles, find_header, find_id
from .diagnostics import Diagnostic, KpiError, did_you_mean, error, warning
from .sheets import CellError
from .units import Unit

FORMATS = ("csv", "json", "jsonl", "xlsx")
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl",
              ".ndjson": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx"}  # any other suffix: an error
KNOWN_EXTRA_COLUMNS = ("name", "label")  # descriptive columns that are not warned about
MAX_DIGITS = 100
ENCODING_PREFIX = 64 * 1024  # block of bytes that decides between UTF-8 and cp1251


@dataclass(frozen=True)
class FactSpec:
    """What the ruleset expects of one fact column."""

    name: str
    unit: Unit
    required: bool = True
    default: Decimal | None = None  # used when the cell is missing/empty and not required
    label: str = ""
    labels: tuple[str, ...] = ()  # the label in every language: a column titled so is the fact
    column: str = ""  # the scheme's `from column "…"`


@dataclass(frozen=True)
class FactRow:
    """One good row; `values` has every fact that has a value (defaults applied)."""

    file: str
    row: int  # as the spreadsheet shows it: header = 1 (JSON: index of the object)
    employee: str
    grade: str | None
    team: str | None
    values: dict[str, Decimal]
    extra: dict[str, str]


@dataclass(frozen=True)
class RowError:
    """One bad row, with one diagnostic per bad cell; `column`/`text` are the first bad cell's."""

    file: str
    row: int
    column: str  # header name of the first bad cell ('' when the whole row is malformed)
    text: str  # raw text of that cell (or of the row)
    diagnostics: tuple[Diagnostic, ...]
    employee: str | None = None
    # the row's team cell, when the row could be split into cells: a team result must know
    # which team lost a member (a ragged row could be anyone's: team_known is False)
    team: str | None = None
    team_known: bool = False

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]


@dataclass
class FactsSummary:
    rows_read: int = 0
    rows_ok: int = 0
    rows_failed: int = 0


class FactValueError(ValueError):
    """A cell that cannot be a fact value; `code` is the KPI5xx diagnostic it becomes."""

    def __init__(self, message: str, code: str = "KPI501", hint: str = "") -> None:
        super().__init__(message)
        self.code, self.hint = code, hint


class FactsFileError(KpiError):
    """The file as a whole cannot be read (missing, undecodable, bad header)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


_SPACES = str.maketrans(dict.fromkeys("\u00a0\u202f\u2009\u2007", " "))  # no-break, narrow…
_NUMBER = re.compile(r"(?P<int>[0-9]{1,3}(?P<sep>[ '\u2019.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*"
                     r"|[0-9]*)(?:(?P<dec>[.,])(?P<frac>[0-9]*))?")
_MINUS = "-\u2212\u2013"  # hyphen-minus, minus sign, en dash (word processors)
_CURRENCY = r"(?:₽|\$|€|руб\.?|р\.?|rub|rur|usd|eur)"
_CURRENCY_AROUND = re.compile(rf"^{_CURRENCY}\s*|\s*{_CURRENCY}$", re.IGNORECASE)
_REJECTED = [(re.compile(pattern, re.IGNORECASE | re.DOTALL), why) for pattern, why in [
    (r"=.*", "looks like an Excel formula; export values, not formulas"),
    (r"#.*", "is an Excel error value, not a number"),
    (r"\d{4}-\d\d?-\d\d?(?:[ T].*)?|\d\d?[./]\d\d?[./]\d{2,4}(?: .*)?",
     "looks like a date, not a number"),
    (r"\d{1,3}:\d\d(?::\d\d)?", "looks like a time, not a number"),
    (r"[-+\u2212]?(?:nan|snan|inf|infinity|∞)", "is not a finite number"),
    (r"[-+\u2212]?[0-9]+(?:[.,][0-9]*)?e[-+]?[0-9]+",
     "is in scientific notation, which loses digits; export the column as a plain number"),
]]
_NON_NEGATIVE = {Unit.COUNT: "a count", Unit.MINUTES: "a duration", Unit.HOURS: "a duration",
                 Unit.DAYS: "a duration"}
_EXPECTED = {  # the hint of KPI501, per unit
    Unit.MONEY: "a sum like 3 300 000 or 3300000,50", Unit.COUNT: "a whole number like 12",
    Unit.PERCENT: "a percentage like 2,1% or a fraction like 0,021", Unit.DAYS: "days, like 5",
    Unit.RATIO: "a ratio like 0,85 or 85%", Unit.NUMBER: "a number like 1500 or 1,5",
    Unit.MINUTES: "minutes, like 90 or 1,5", Unit.HOURS: "hours, like 8 or 7,5"}


_SIMPLE = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")  # plain digits, no sign


def parse_value(text: str, unit: Unit) -> Decimal:
    """Parse one cell's text into an exact Decimal for a fact of `unit`.

    Raises FactValueError (a ValueError) whose message quotes the text. A lone comma is
    always a decimal separator (Russian locale): '3,300' is 3.3, not 3300. A percent fact
    takes '2,1%' as 0.021 and a bare number as the fraction itself ('0,021').
    """
    s = text.strip()
    if _SIMPLE.fullmatch(s):  # the common case, '142500' or '0.021': no other rule applies
        return _check_unit(Decimal(s), unit, s)
    shown = _clip(s)
    if not s:
        raise FactValueError("empty value", "KPI502")
    digits = sum(c in "0123456789" for c in s)
    if digits > MAX_DIGITS:
        raise FactValueError(f"'{shown}' has {digits} digits; at most {MAX_DIGITS} are allowed")
    for pattern, why in _REJECTED:
        if pattern.fullmatch(s):
            raise FactValueError(f"'{shown}' {why}")
    body, percent = s, s.endswith("%")
    if percent:
        if unit not in (Unit.PERCENT, Unit.RATIO, Unit.NUMBER):
            raise FactValueError(f"'{shown}' has a percent sign, but a {unit} value cannot")
        body = body[:-1].rstrip()
    body = _strip_currency(body, unit)
    negative = body[:1] in _MINUS
    if negative or body[:1] == "+":
        body = _strip_currency(body[1:].lstrip(), unit)  # both '-$100' and '$-100'
    plain = _plain_number(body)
    if plain is None:
        raise FactValueError(f"'{shown}' is not a number")
    value = Decimal(plain)  # exact: Decimal(str) never rounds
    if percent:
        sign, ds, exp = value.as_tuple()
        value = Decimal((sign, ds, int(exp) - 2))  # exact ÷100 (scaleb would round to 28 digits)
    if negative and value:
        value = value.copy_negate()
    return _check_unit(value, unit, shown)


def _strip_currency(body: str, unit: Unit) -> str:
    return _CURRENCY_AROUND.sub("", body) if unit is Unit.MONEY else body


def _plain_number(body: str) -> str | None:
    """'3 300 000,50' → '3300000.50'; None unless the text is one well-grouped number: one
    thousands separator between groups of three, and a different decimal separator."""
    m = _NUMBER.fullmatch(body.translate(_SPACES))
    if not m or (m["sep"] and m["sep"] == m["dec"]):
        return None
    whole, sep, frac = m["int"], m["sep"], m["frac"] or ""
    if sep in (".", ",") and m["dec"] is None and whole.count(sep) == 1:
        whole, frac = whole.split(sep)  # a lone separator is decimal: '3,300' is 3.3
    elif sep:
        whole = whole.replace(sep, "")
    if not (whole or frac):
        return None
    return f"{whole or '0'}.{frac}" if frac else whole


def _check_unit(value: Decimal, unit: Unit, shown: str) -> Decimal:
    what = _NON_NEGATIVE.get(unit)
    if what and value < 0:
        raise FactValueError(f"'{shown}' is negative; {what} cannot be negative", "KPI503",
                             f"{what} is 0 or more")
    if unit is not Unit.COUNT:
        return value
    _, digits, exp = value.as_tuple()
    if isinstance(exp, int) and exp < 0 and any(digits[exp:]):
        raise FactValueError(f"'{shown}' is not a whole number; a count must be whole",
                             "KPI503", "a count is a whole number of things, 0 or more")
    return value


def _convert(raw: object, unit: Unit) -> Decimal:
    """A cell from any format (text, JSON Decimal, XLSX int/float/date) into a Decimal. A float
    goes through repr, the shortest text of Excel's double (3300000.0, not 3299999.99…)."""
    if isinstance(raw, str):
        return parse_value(raw, unit)
    if isinstance(raw, CellError):  # an XLSX cell that could not be read (kpidsl/sheets.py)
        raise FactValueError(raw.message)
    shown = _clip(_show(raw))
    if isinstance(raw, bool):
        raise FactValueError(f"'{shown}' is a yes/no value, not a number")
    if isinstance(raw, (dt.date, dt.time)):
        raise FactValueError(f"'{shown}' looks like a date, not a number")
    if not isinstance(raw, (int, float, Decimal)):
        raise FactValueError(f"'{shown}' is not a number")
    value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if not value.is_finite():
        raise FactValueError(f"'{shown}' is not a finite number")
    if len(value.as_tuple().digits) > MAX_DIGITS:
        raise FactValueError(f"'{shown}' has more than {MAX_DIGITS} digits")
    return _check_unit(value, unit, shown)


def _show(raw: object) -> str:
    """A cell as text, as a person would read it in the spreadsheet."""
    if type(raw) is str:  # CSV cells: most calls
        return raw
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e16:
        return str(int(raw))
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    if raw is None or isinstance(raw, (str, bool, int, float, Decimal)):
        return "" if raw is None else str(raw).lower() if isinstance(raw, bool) else str(raw)
    return json.dumps(raw, ensure_ascii=False, default=str)


def _blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Column:
    index: int  # 1-based position in the header (JSON: order of first appearance)
    header: str  # the name as written, stripped
    raw: str  # the name exactly as written (JSON keys are looked up by it)
    role: str  # 'id' | 'grade' | 'team' | 'fact' | 'extra' | 'ignored'
    key: str  # fact name or extra key


class SeenIds:
    """Employee ids already read, with where they were (a row number, or "file:row"), for
    KPI504. The usual few thousand live in a dict; past SPILL they go to a temporary on-disk
    SQLite table (2 MB page cache), so a file of a million rows streams in flat memory and
    every duplicate is still found."""

    SPILL = 20_000

    def __init__(self) -> None:
        self._rows: dict[str, int | str] = {}
        self._db: sqlite3.Connection | None = None

    def __contains__(self, employee: str) -> bool:
        return self[employee] is not None

    def __getitem__(self, employee: str) -> int | str | None:
        row = self._rows.get(employee)
        if row is None and self._db is not None:
            found = self._db.execute("SELECT at FROM seen WHERE id = ?", (employee,)).fetchone()
            row = found[0] if found else None
        return row

    def __setitem__(self, employee: str, row: int | str) -> None:
        if len(self._rows) < self.SPILL:
            self._rows[employee] = row
            return
        if self._db is None:
            self._db = sqlite3.connect("")  # "": a private temporary file, gone when closed
            self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, at) WITHOUT ROWID")
        self._db.execute("INSERT INTO seen VALUES (?, ?)", (employee, row))


class FactsReader:
    """Iterates a facts file, yielding FactRow or RowError in file order. Nothing is read
    before iteration; `columns`, `warnings`, `summary` fill in as rows are read (anew each time)."""

    def __init__(self, path: Path, specs: Mapping[str, FactSpec], *, file: str, format: str,
                 id_column: str = "employee", mapping: Mapping[str, str] | None = None,
                 sheet: str | None = None, text: str | None = None,
                 columns: Mapping[str, str] | None = None, header_row: int | None = None,
                 check_map: bool = True, partial: bool = False) -> None:
        self.path, self.file, self.format, self.sheet = path, file, format, sheet
        self.specs, self.id_column, self._text = dict(specs), id_column, text
        self.mapping = {k.strip(): v.strip() for k, v in (mapping or {}).items()}
        self.header_row, self.check_map, self.notes = header_row, check_map, list[str]()
        self.partial = partial  # one of several files joined by employee (kpidsl/join.py)
        try:  # see kpidsl/columns.py: titles, labels, mappings, the id column, the header row
            self.titles = Titles.build(self.specs, self.mapping, columns)
        except ColumnError as exc:
            raise self._file_error(exc.message, hint=exc.hint) from None
        self._id_wanted = id_column
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self._reset()

    def _reset(self) -> None:
        self.columns: list[str] | None = None
        self.warnings: list[Diagnostic] = []
        self.summary = FactsSummary()
        self._cols: list[_Column] = []
        self._by_raw: dict[str, _Column] = {}
        self._by_target: dict[tuple[str, str], _Column] = {}
        self._seen = SeenIds()

    def __iter__(self) -> Iterator[FactRow | RowError]:
        self._reset()
        records = {"csv": self._csv_records, "xlsx": self._xlsx_records}.get(self.format)
        rows = self._tabular(self._headed(records())) if records else \
            self._objects(self._json_records())
        for item in rows:
            self.summary.rows_read += 1
            self.summary.rows_ok += isinstance(item, FactRow)
            self.summary.rows_failed += isinstance(item, RowError)
            yield item

    def _diag(self, code: str, message: str, line: int = 0, column: int = 0, source: str = "",
              hint: str = "", *, warn: bool = False) -> Diagnostic:
        made = (warning if warn else error)(code, message, hint=hint)
        return dataclasses.replace(made, file=self.file, line=line, column=column,
                                   source_line=_clip(source, 200))

    def _file_error(self, message: str, line: int = 0, hint: str = "", source: str = "",
                    code: str = "KPI507") -> FactsFileError:
        return FactsFileError(self._diag(code, message, line, 0, source, hint))

    def _empty(self) -> FactsFileError:
        return self._file_error("the facts file is empty", hint="export a header row and a row "
                                "per employee")

    def _headed(self, records: Iterator[tuple[int, list[object]]],
                ) -> Iterator[tuple[int, list[object]]]:
        """Rows with the header first (title rows above it dropped, two header rows merged)."""
        try:
            yield from find_header(records, lambda cells: self.titles.names_a_fact(
                cells, self.specs), self.header_row)
        except ColumnError as exc:
            raise self._file_error(exc.message, self.header_row or 0, exc.hint) from None

    def _target(self, name: str) -> tuple[str, str]:
        """The role of a column: mappings, `from column`, names and labels (kpidsl/columns.py),
        then the id, grade and team columns by name, ignoring case."""
        name = self.titles.target(name) or name
        for role, names in (("id", [self.id_column]), ("fact", list(self.specs)),
                            ("grade", ["grade"]), ("team", ["team"])):
            found = _find(name, names)
            if found is not None:
                return role, found
        return "extra", _find(name, list(KNOWN_EXTRA_COLUMNS)) or name

    def _add_column(self, raw: str, row: int) -> None:
        index, header = len(self._cols) + 1, raw.strip()
        role, key = self._target(header) if header else ("ignored", "")
        col = _Column(index, header, raw, role, key)
        if not header:
            self.warnings.append(self._diag("KPI505", f"column {index} has no name and is ignored",
                                            row, index, warn=True))
        elif role != "extra":
            other = self._by_target.get((role, key))
            if other is not None:
                what = f"fact '{key}'" if role == "fact" else f"the {role} column '{key}'"
                raise self._file_error(f"columns '{other.header}' and '{header}' both give {what}",
                                       row, "keep one of them, or fix `mapping`")
            self._by_target[(role, key)] = col
        elif key not in KNOWN_EXTRA_COLUMNS:
            hint = did_you_mean(header, [*self.specs, self.id_column, "grade", "team"])
            self.warnings.append(self._diag(
                "KPI505", f"unknown column '{header}': not a fact of this scheme, kept as text",
                row, index, header, hint or "map CRM column names to facts with --map COLUMN=fact",
                warn=True))
        self._cols.append(col)
        self._by_raw[raw] = col
        assert self.columns is not None
        self.columns.append(header)

    def _read_header(self, cells: list[object], row: int, row_text: str) -> None:
        names = [_show(c).strip() for c in cells]
        while names and not names[-1]:  # trailing delimiters, as 1C writes them
            names.pop()
        dups = [n for n, count in Counter(n for n in names if n).items() if count > 1]
        if dups:
            where = "; ".join(
                f"'{n}' (columns {', '.join(str(i) for i, m in enumerate(names, 1) if m == n)})"
                for n in dups)
            raise self._file_error(f"duplicate column names in the header: {where}", row,
                                   "give every column a different name", row_text)
        self._find_id(names, row, row_text)
        self.columns = []
        for name in names:
            self._add_column(name, row)
        self._check_header(row, row_text, require_facts=not self.partial)

    def _find_id(self, names: list[str], row: int, row_text: str, check_map: bool = True) -> None:
        try:
            self.id_column = find_id(names, self.titles, self._id_wanted)
            if self.check_map and check_map:
                self.titles.check_mapped(names)
        except ColumnError as exc:
            raise self._file_error(exc.message, row, exc.hint, row_text) from None

    def _check_header(self, row: int, row_text: str, *, require_facts: bool) -> None:
        """The id column must exist; in CSV/XLSX so must every required fact's column."""
        missing = [f for f, s in self.specs.items()
                   if require_facts and s.required and ("fact", f) not in self._by_target]
        if ("id", self.id_column) in self._by_target and not missing:
            return
        found = [c for c in self.columns or [] if c]
        listed = ", ".join(f"'{c}'" for c in found) or "none"
        if ("id", self.id_column) not in self._by_target:
            hint = did_you_mean(self.id_column, found) or (
                "name the employee's column with --id COLUMN (API: id_column=...)")
            raise self._file_error(f"no '{self.id_column}' column in the header; columns found: "
                                   f"{listed}", row, hint, row_text)
        hint = did_you_mean(missing[0], found) or (
            f"map the export's column to it with --map COLUMN={missing[0]}, or write "
            f"`from column \"…\"` after the fact in the scheme, or make the fact optional")
        raise self._file_error(f"no column for required fact(s) {', '.join(map(repr, missing))}; "
                               f"columns found: {listed}", row, hint, row_text, code="KPI502")

    def _bad_row(self, row: int, message: str, column: int, text: str, hint: str) -> RowError:
        return RowError(self.file, row, "", text,
                        (self._diag("KPI506", message, row, column, text, hint),))

    def _make_row(self, row: int, cells: list[object]) -> FactRow | RowError:
        problems: list[tuple[int, str, str, Diagnostic]] = []

        def problem(index: int, header: str, text: str, code: str, what: str, hint: str) -> None:
            diag = self._diag(code, f"row {row}, column '{header}': {what}", row, index, text, hint)
            problems.append((index, header, text, diag))

        id_col = self._by_target[("id", self.id_column)]
        employee = _show(cells[id_col.index - 1]).strip()
        if not employee:
            problem(id_col.index, id_col.header, "", "KPI502", "missing employee id",
                    "every row needs the employee's id")
        elif employee in self._seen:
            problem(id_col.index, id_col.header, employee, "KPI504",
                    f"employee '{employee}' already appears on row {self._seen[employee]}",
                    "each employee appears once per facts file; merge or remove the duplicate")
        else:
            self._seen[employee] = row
        values: dict[str, Decimal] = {}
        for fact, spec in self.specs.items():
            col = self._by_target.get(("fact", fact))
            raw = cells[col.index - 1] if col else None
            header, index = (col.header, col.index) if col else (fact, 0)
            if _blank(raw):
                if self.partial:  # one of several files: the join applies the missing-fact rule
                    continue
                if spec.required:
                    problem(index, header, "", "KPI502", f"missing required fact '{fact}'",
                            "fill in the cell, or make the fact optional with a default")
                elif spec.default is not None:
                    values[fact] = spec.default
                continue
            try:
                values[fact] = _convert(raw, spec.unit)
            except FactValueError as exc:
                hint = exc.hint or f"expected {_EXPECTED.get(spec.unit, 'a number')}"
                problem(index, header, _show(raw), exc.code, str(exc), hint)
        found = {c.role: _show(cells[c.index - 1]).strip() or None for c in self._cols
                 if c.role in ("grade", "team")}
        if problems:
            problems.sort(key=lambda p: p[0])
            _, header, text, _ = problems[0]
            return RowError(self.file, row, header, text, tuple(p[3] for p in problems),
                            employee or None, found.get("team"), True)
        extra = {c.key: _show(cells[c.index - 1]) for c in self._cols
                 if c.role == "extra" and cells[c.index - 1] is not None}
        return FactRow(self.file, row, employee, found.get("grade"), found.get("team"),
                       values, extra)

    def _tabular(self, records: Iterator[tuple[int, list[object]]]) -> Iterator[FactRow | RowError]:
        """CSV and XLSX: the first non-blank row is the header; cells are positional."""
        width = 0
        for row, cells in records:
            if all(_blank(c) for c in cells):  # blank rows still count in the numbering
                continue
            n = len(cells)
            row_text = (self.delimiter or "\t").join(map(_show, cells))
            if self.columns is None:
                self._read_header(cells, row, row_text)
                width = len(self._cols)
            elif (self.format == "csv" and n < width) or any(not _blank(c) for c in cells[width:]):
                hint = "check for a missing or extra delimiter in this row" + (
                    "; quote numbers with a decimal comma" * (self.delimiter == ","))
                message = f"row {row} has {n} cell{'s' * (n != 1)}, but the header has {width}"
                yield self._bad_row(row, message + " columns", min(n, width) + 1, row_text, hint)
            else:
                yield self._make_row(row, [*cells[:width], *[None] * (width - n)])
        if self.columns is None:
            raise self._empty()
        if not self.summary.rows_read:
            self.warnings.append(self._diag("KPI508", "the facts file has a header but no rows",
                                            warn=True))

    def _objects(self, records: Iterator[tuple[int, object, str]]) -> Iterator[FactRow | RowError]:
        """JSON and JSONL: one object per row; the first object's keys act as the header."""
        self.columns = []
        for row, item, text in records:
            if not isinstance(item, dict):
                message = (str(item) if isinstance(item, ValueError) else
                           f"expected an object of fact values, got {_clip(_show(item))}")
                yield self._bad_row(row, f"row {row}: {message}", 0, text,
                                    "write one JSON object per employee")
                continue
            if not self._cols:
                self._find_id([str(k) for k in item], row, text, check_map=False)
            for key in item:
                if key not in self._by_raw:
                    self._add_column(key, row)
            self._check_header(row, text, require_facts=False)
            yield self._make_row(row, [item.get(c.raw) for c in self._cols])
        if not self.summary.rows_read:
            self.warnings.append(self._diag("KPI508", "the facts file has no rows", warn=True))

    def _detect_encoding(self, probe: IO[bytes]) -> str:
        """UTF-16 by its BOM; else strict UTF-8; else cp1251 (the two that CRM exports use),
        judged on the first 64 KiB block that has a non-ASCII byte, without keeping the rest."""
        offset, rows, head = 0, 0, probe.read(ENCODING_PREFIX)
        while head.isascii() and len(head) == ENCODING_PREFIX:
            offset, rows = offset + len(head), rows + head.count(b"\n")
            head = probe.read(ENCODING_PREFIX)
        if not offset and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"  # Excel's "Unicode text" export
        for encoding in ("utf-8-sig", "cp1251"):  # utf-8-sig: UTF-8 with or without a BOM
            try:  # final=False: a block cut inside a multibyte character is not an error
                codecs.getincrementaldecoder(encoding)().decode(head, len(head) < ENCODING_PREFIX)
                return encoding
            except UnicodeDecodeError as exc:
                bad = exc.start
        raise self._file_error(f"cannot decode the file: byte 0x{head[bad]:02x} at offset "
                               f"{offset + bad} is invalid in both UTF-8 and Windows-1251 (cp1251)",
                               rows + head.count(b"\n", 0, bad) + 1,
                               "save the export as UTF-8 (in Excel: 'CSV UTF-8')")

    def _csv_records(self) -> Iterator[tuple[int, list[object]]]:
        row = 0
        try:
            if self._text is not None:
                stream: IO[str] = io.StringIO(self._text.removeprefix("\ufeff"))
            else:
                with open(self.path, "rb") as probe:
                    self.encoding = self._detect_encoding(probe)
                stream = open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115
        except OSError as exc:
            raise self._file_error(f"cannot read the facts file: {exc.strerror}") from exc
        with stream:
            try:
                lines = iter(stream)
                head_lines: list[str] = []
                for line in lines:  # the delimiter is chosen from the first non-blank line
                    head_lines.append(line)
                    if line.strip().strip(";,|\t"):
                        break
                self.delimiter = _sniff_delimiter(head_lines[-1] if head_lines else "")
                reader = csv.reader(itertools.chain(head_lines, lines), delimiter=self.delimiter)
                for row, cells in enumerate(reader, start=1):
                    yield row, list(cells)
            except UnicodeDecodeError as exc:
                name = "UTF-8" if self.encoding == "utf-8-sig" else self.encoding
                raise self._file_error(f"the file is not valid {name} after row {row}: "
                                       f"{exc.reason}", row + 1) from None
            except csv.Error as exc:
                raise self._file_error(f"row {row + 1}: {exc}", row + 1) from None

    def _xlsx_records(self) -> Iterator[tuple[int, list[object]]]:
        """The chosen sheet's rows, streamed within bounds (kpidsl/sheets.py); a damaged part
        is a file diagnostic, a damaged cell a CellError that becomes a row diagnostic."""
        from .sheets import Workbook, WorkbookError, choose_sheet

        try:
            with Workbook(self.path) as book:
                sheet, note = choose_sheet(book, self.sheet, lambda cells: self.titles.names_a_fact(
                    cells, self.specs))
                if note:  # a sheet other than the active one: said, never silent
                    self.notes.append(note)
                    self.warnings.append(self._diag("KPI531", note, warn=True,
                                                    hint="choose the sheet with --sheet NAME"))
                yield from book.rows(sheet)
        except WorkbookError as exc:
            raise self._file_error(exc.message, hint=exc.hint) from None

    def _json_records(self) -> Iterator[tuple[int, object, str]]:
        """JSONL is streamed line by line; a JSON array is loaded whole (use JSONL for big
        files). Numbers become Decimal without passing through float."""
        row, seen, whole = 0, False, self.format == "json"
        try:
            with open(self.path, encoding="utf-8-sig") as stream:
                for row, line in [(0, stream.read())] if whole else enumerate(stream, start=1):
                    if not line.strip():
                        continue
                    seen = True
                    try:
                        item = json.loads(line, parse_float=Decimal, parse_int=Decimal,
                                          parse_constant=str)
                    except (json.JSONDecodeError, RecursionError) as exc:  # or absurd nesting
                        why = f"not valid JSON: {getattr(exc, 'msg', 'nested too deeply')}"
                        line_no, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
                        if whole:
                            raise self._file_error(f"{why} at line {line_no}, column {col}",
                                                   line_no) from None
                        item = ValueError(f"{why} at column {col}")  # spoils only its row
                    if not whole:
                        yield row, item, line.rstrip("\r\n")
                    elif isinstance(item, list):
                        yield from ((i, x, _show(x)) for i, x in enumerate(item, start=1))
                    else:
                        raise self._file_error("a JSON facts file must be an array of objects, "
                                               "one per employee", 1, "use [{...}, {...}]")
        except OSError as exc:
            raise self._file_error(f"cannot read the facts file: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            where = f" after row {row}" if row else ""
            raise self._file_error(f"the file is not valid UTF-8{where}: {exc.reason}",
                                   row + 1) from None
        if not seen:
            raise self._empty()


def _find(name: str, candidates: list[str]) -> str | None:
    """The candidate equal to `name`, else one equal ignoring case, else None."""
    if name in candidates:
        return name
    folded = name.casefold()
    return next((c for c in candidates if c.casefold() == folded), None)


_DELIMITERS = (";", "\t", ",", "|")


def _sniff_delimiter(line: str) -> str:
    """The most frequent of ; tab , | outside quotes (csv.Sniffer trips over decimal commas)."""
    bare = re.sub(r'"[^"]*"', "", line)  # delimiters inside quotes do not count
    best = max(_DELIMITERS, key=bare.count)  # max keeps the first of equals
    return best if bare.count(best) else ","


def read_facts(path: str | Path, specs: Mapping[str, FactSpec], *, id_column: str = "employee",
               mapping: Mapping[str, str] | None = None, sheet: str | None = None,
               format: str | None = None, columns: Mapping[str, str] | None = None,
               header_row: int | None = None, check_map: bool = True,
               partial: bool = False) -> FactsReader:
    """Open a facts file for streaming; raise FactsFileError at once if it cannot be read.
    `mapping` renames CRM columns to facts ({'Выручка': 'revenue'}) and each must be in the
    header; `columns` does the same for a mapping file's columns (absent ones are fine);
    `header_row` says which row holds the titles (default: found, see kpidsl/columns.py);
    `format` (csv, json, jsonl, xlsx) defaults to the one the file's extension names."""
    path = Path(path)
    suffix = path.suffix.lower()
    reader = FactsReader(path, specs, file=str(path), id_column=id_column, mapping=mapping,
                         sheet=sheet, format=format or EXTENSIONS.get(suffix, suffix or "csv"),
                         columns=columns, header_row=header_row, check_map=check_map,
                         partial=partial)
    if reader.format not in FORMATS:  # e.g. an old binary .xls workbook
        raise reader._file_error(f"unknown facts format '{reader.format}'; use "
                                 f"{', '.join(FORMATS)}", hint="save workbooks as .xlsx")
    try:
        path.open("rb").close()
    except OSError as exc:
        raise reader._file_error(f"cannot read the facts file: {exc.strerror}") from exc
    return reader


def read_facts_text(text: str, specs: Mapping[str, FactSpec], name: str = "<facts>", *,
                    id_column: str = "employee", mapping: Mapping[str, str] | None = None,
                    ) -> FactsReader:
    """Read CSV facts from a string (tests, pasted data) by the same rules as read_facts."""
    return FactsReader(Path(name), specs, file=name, format="csv", id_column=id_column,
                       mapping=mapping, text=text)
