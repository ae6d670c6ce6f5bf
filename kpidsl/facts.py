"""Streaming readers of facts: per-employee numbers exported from CRMs or Excel.

Russian-locale exports carry decimal commas, space thousands, currency signs, cp1251 or a BOM,
so every cell is parsed by explicit rules into an exact Decimal (never a float). A bad row
becomes a RowError and reading goes on: one typo must not hide the other thousand rows.
See docs/facts.md for the formats, the parsing rules and the KPI5xx codes.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from .columns import ColumnError, Titles, find_header, find_id
from .diagnostics import Diagnostic, KpiError, did_you_mean, error, warning
from .ids import SeenIds, difference, look_alike_key
from .ids import normalise as normalise_id
from .records import (
    DuplicateKeys,
    Lines,
    Unclosed,
    pairs,
    sniff_delimiter,
    unclosed,
    undecodable_line,
    wide_encoding,
)
from .sheets import PercentNumber
from .units import Unit
from .values import EXPECTED, LOCALES, PERCENT_READINGS, FactValueError, Survey, _hundredth
from .values import Reading as Reading
from .values import _clip as _clip
from .values import convert as _convert
from .values import parse_value as parse_value
from .values import show as _show

FORMATS = ("csv", "json", "jsonl", "xlsx")
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl",
              ".ndjson": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx"}  # any other suffix: an error
KNOWN_EXTRA_COLUMNS = ("name", "label")  # descriptive columns that are not warned about
ENCODING_PREFIX = 64 * 1024  # block of bytes that decides between UTF-8 and cp1251
UNKNOWN_LISTED = 5  # more unknown columns than this make one KPI505 warning, not one each
TOTAL_WORDS = frozenset({"итого", "всего", "общий итог", "итог", "total", "totals",
                         "grand total", "sum"})
STDIN = "-"

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
    currency: str = ""  # a money fact's currency: a cell in another one is KPI522
    percent: str | None = None  # 'points' or 'fraction' when the scheme says how it is written


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


def _fact_row(fields: dict[str, Any], _new: Any = object.__new__,
              _set: Any = object.__setattr__) -> FactRow:
    """FactRow(**fields) without the frozen dataclass's `__init__`, which sets each of the
    seven fields by `object.__setattr__`: ~1 µs a row more on the clean path."""
    row = _new(FactRow)
    _set(row, "__dict__", fields)
    return row  # type: ignore[no-any-return]


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


class FactsFileError(KpiError):
    """The file as a whole cannot be read (missing, undecodable, bad header)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


def _blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


@dataclass
class _Column:
    index: int  # 1-based position in the header (JSON: order of first appearance)
    header: str  # the name as written, stripped
    raw: str  # the name exactly as written (JSON keys are looked up by it)
    role: str  # 'id' | 'grade' | 'team' | 'fact' | 'extra' | 'ignored'
    key: str  # fact name or extra key


class FactsReader:
    """Iterates a facts file, yielding FactRow or RowError in file order. Nothing is read
    before iteration; `columns`, `warnings`, `summary` fill in as rows are read (anew each time).

    Each iteration first surveys the file's fact cells (one more pass, reading no values) to
    decide its locale and each percent column's reading: a cell early in a file can be
    ambiguous until a later one settles it ('142,500' before '1,000.25')."""

    def __init__(self, path: Path, specs: Mapping[str, FactSpec], *, file: str, format: str,
                 id_column: str = "employee", mapping: Mapping[str, str] | None = None,
                 sheet: str | None = None, text: str | None = None,
                 columns: Mapping[str, str] | None = None, header_row: int | None = None,
                 check_map: bool = True, partial: bool = False, locale: str | None = None,
                 percent: str | None = None, keep_totals: bool = False) -> None:
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
        self.locale, self.percent, self.keep_totals = locale, percent, keep_totals
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.detected_locale: str | None = None
        # called before the file is first read: a Parquet file's CSV export is written then
        # (kpidsl/sql/parquet.py), so a run DuckDB reads natively never writes it
        self.before_reading: Callable[[], None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.columns: list[str] | None = None
        self.warnings: list[Diagnostic] = []
        self.summary = FactsSummary()
        self._cols: list[_Column] = []
        self._by_raw: dict[str, _Column] = {}
        self._by_target: dict[tuple[str, str], _Column] = {}
        self._seen = SeenIds()
        self._failed = SeenIds()  # ids whose first row failed (see had_good_row)
        self._unknown: list[_Column] = []
        self._sums: dict[str, Decimal] = {}
        self._readings: dict[str, Reading] = {}
        self._surveyed = False
        self._plan: tuple[Any, ...] | None = None  # see _row_plan
        self._width = 0  # the header's columns, once it is read (0: not yet)

    def __iter__(self) -> Iterator[FactRow | RowError]:
        self._reset()
        tabular = self.format in ("csv", "xlsx")
        rows = self._tabular(self._headed(self._records())) if tabular else \
            self._objects(self._json_records())
        summary = self.summary  # made by _reset
        for item in rows:
            summary.rows_read += 1
            if type(item) is FactRow or isinstance(item, FactRow):
                summary.rows_ok += 1
            elif isinstance(item, RowError):
                summary.rows_failed += 1
            yield item

    def had_good_row(self, employee: str, row: int) -> bool:
        """Whether a row read before `row` gave `employee` (or a look-alike spelling of it)
        a FactRow. Every later row of an employee is a duplicate (KPI504), so that is the
        employee's first row, if it was good."""
        first = self._seen.find(employee)
        return first is not None and first[0] != row and self._failed.find(employee) is None

    def _records(self) -> Iterator[tuple[int, list[object] | Unclosed]]:
        return self._csv_records() if self.format == "csv" else self._xlsx_records()

    # ------------------------------------------------------------ readings

    def _reading(self, fact: str, raw: object) -> Reading:
        """How to read `raw`, a cell of `fact`. The first cell whose reading depends on the
        rest of the file ('142,500', a bare number in a percent column) starts the survey: one
        more pass over the fact cells. Files without such cells are read in one pass."""
        reading = self._readings.get(fact)
        if reading is None:
            spec = self.specs[fact]
            declared = self.percent or spec.percent
            col = self._by_target.get(("fact", fact))
            percent = declared or ("points" if col and "%" in col.header else None)
            reading = Reading(self.locale, {}, percent, "", spec.currency, declared is not None)
            self._readings[fact] = reading
        if not self._surveyed and _depends_on_survey(raw, self.specs[fact].unit, reading):
            self._run_survey()
            reading = self._readings[fact]
        return reading

    def _run_survey(self) -> None:
        survey, warned, noted = Survey(), len(self.warnings), len(self.notes)
        with contextlib.suppress(KpiError):  # the reading pass reports it where it is
            self._survey(survey)
        del self.warnings[warned:], self.notes[noted:]  # the reading pass has said them
        locale = survey.locale(self.locale)
        self._surveyed, self.detected_locale = True, locale if self.locale is None else None
        for fact in self.specs:
            before = self._reading(fact, None)
            self._readings[fact] = dataclasses.replace(
                before, locale=locale, grouped={} if locale else survey.grouped,
                above=survey.above.get(fact, "") if before.percent is None else "")

    def _survey(self, survey: Survey) -> None:
        """One pass over the fact cells of the file, reading no values."""
        facts: dict[str, str | None] = {}  # column name or JSON key → fact, or None

        def fact_of(name: str) -> str | None:
            if name not in facts:
                role, key = self._target(name.strip())
                facts[name] = key if role == "fact" else None
            return facts[name]

        if self.format in ("json", "jsonl"):
            for row, item, _text in self._json_records():
                if isinstance(item, dict):
                    for name, raw in item.items():
                        fact = fact_of(name) if isinstance(name, str) else None
                        if fact is not None:
                            self._survey_cell(survey, raw, fact, row)
            return
        columns: list[tuple[int, str]] | None = None
        for row, cells in self._headed(self._records()):
            if isinstance(cells, Unclosed) or all(_blank(c) for c in cells):
                continue
            if columns is None:
                named = [(i, fact_of(_show(c))) for i, c in enumerate(cells)]
                columns = [(i, f) for i, f in named if f is not None]
                continue
            for i, fact in columns:
                if i < len(cells):
                    self._survey_cell(survey, cells[i], fact, row)

    def _survey_cell(self, survey: Survey, raw: object, fact: str, row: int) -> None:
        spec = self.specs[fact]
        if isinstance(raw, str) and raw:
            survey.cell(raw, spec.unit, fact, f"row {row}")
        elif spec.unit is Unit.PERCENT and _bare_number(raw):
            assert isinstance(raw, (int, float, Decimal))
            survey.number(Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw), fact,
                          f"row {row}")

    # ------------------------------------------------------------ diagnostics

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

    def _headed(self, records: Iterator[tuple[int, list[object] | Unclosed]],
                ) -> Iterator[tuple[int, list[object] | Unclosed]]:
        """Rows with the header first (title rows above it dropped, two header rows merged)."""
        try:  # an Unclosed record iterates as no cells: the header search passes it by
            yield from find_header(records, lambda cells: self.titles.names_a_fact(  # type: ignore[arg-type]
                cells, self.specs), self.header_row)
        except ColumnError as exc:
            raise self._file_error(exc.message, self.header_row or 0, exc.hint) from None

    # ------------------------------------------------------------ columns

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

    def _add_column(self, raw: str, row: int) -> _Column:
        """A new column; in JSON a key naming a column already seen (another case, another
        mapped name) is that column."""
        index, header = len(self._cols) + 1, raw.strip()
        role, key = self._target(header) if header else ("ignored", "")
        col = _Column(index, header, raw, role, key)
        if not header:
            self.warnings.append(self._diag("KPI505", f"column {index} has no name and is ignored",
                                            row, index, warn=True))
        elif (role, key) in self._by_target and self.format in ("json", "jsonl"):
            self._by_raw[raw] = self._by_target[(role, key)]
            return self._by_target[(role, key)]
        elif role != "extra":
            other = self._by_target.get((role, key))
            if other is not None:
                what = f"fact '{key}'" if role == "fact" else f"the {role} column '{key}'"
                raise self._file_error(f"columns '{other.header}' and '{header}' both give {what}",
                                       row, "keep one of them, or fix --map or the --mapping file")
            self._by_target[(role, key)] = col
        elif key not in KNOWN_EXTRA_COLUMNS:
            if self.format in ("json", "jsonl"):
                self._by_target[(role, key)] = col
            self._unknown.append(col)
        self._cols.append(col)
        self._by_raw[raw] = col
        assert self.columns is not None
        self.columns.append(header)
        return col

    def _report_unknown(self, row: int) -> None:
        """KPI505 for the columns no fact of the scheme has: one each, or one for them all
        when there are many (200 000 columns made 400 000 lines on stderr)."""
        unknown, self._unknown = self._unknown, []
        if len(unknown) <= UNKNOWN_LISTED:
            for col in unknown:
                hint = did_you_mean(col.header, [*self.specs, self.id_column, "grade", "team"])
                self.warnings.append(self._diag(
                    "KPI505", f"unknown column '{col.header}': not a fact of this scheme, kept "
                    "as text", row, col.index, col.header,
                    hint or "map CRM column names to facts with --map COLUMN=fact", warn=True))
            return
        listed = ", ".join(f"'{_clip(c.header, 40)}'" for c in unknown[:UNKNOWN_LISTED])
        self.warnings.append(self._diag(
            "KPI505", f"{len(unknown)} unknown columns, not facts of this scheme, kept as text: "
            f"{listed} and {len(unknown) - UNKNOWN_LISTED} more", row, unknown[0].index,
            hint="map CRM column names to facts with --map COLUMN=fact", warn=True))

    def _read_header(self, cells: list[object], row: int, row_text: str) -> None:
        names = [_show(c).strip() for c in cells]
        while names and not names[-1]:  # trailing delimiters, as 1C writes them
            names.pop()
        dups = [n for n, count in Counter(n for n in names if n).items() if count > 1]
        if dups:
            where = "; ".join(
                f"'{_clip(n, 40)}' (columns "
                f"{', '.join(str(i) for i, m in enumerate(names, 1) if m == n)})"
                for n in dups[:UNKNOWN_LISTED])
            more = f" and {len(dups) - UNKNOWN_LISTED} more" if len(dups) > UNKNOWN_LISTED else ""
            raise self._file_error(f"duplicate column names in the header: {where}{more}", row,
                                   "give every column a different name", row_text)
        self._find_id(names, row, row_text)
        self.columns = []
        for name in names:
            self._add_column(name, row)
        self._report_unknown(row)
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
        listed = ", ".join(f"'{_clip(c, 40)}'" for c in found[:20]) or "none"
        if len(found) > 20:
            listed += f" and {len(found) - 20} more"
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

    # ------------------------------------------------------------ rows

    def _bad_row(self, row: int, message: str, column: int, text: str, hint: str,
                 code: str = "KPI506") -> RowError:
        return RowError(self.file, row, "", text,
                        (self._diag(code, message, row, column, text, hint),))

    def _totals(self, cells: list[object]) -> str | None:
        """Why a row is the export's totals row, not an employee's (None when it is not):
        'Итого', 'Total' and the like in its id or a text column, or an empty id beside
        numbers that are the column sums so far."""
        if self.keep_totals:
            return None
        employee = _show(cells[self._by_target[("id", self.id_column)].index - 1]).strip()
        if _total_word(employee):
            return f"'{_clip(employee, 40)}'"
        if employee:
            return None
        for col in self._cols:
            if col.role in ("extra", "grade", "team") and _total_word(_show(cells[col.index - 1])):
                return f"'{_clip(_show(cells[col.index - 1]).strip(), 40)}'"
        compared = 0
        for fact, spec in self.specs.items():
            fact_col = self._by_target.get(("fact", fact))
            if fact_col is None or spec.unit in (Unit.PERCENT, Unit.RATIO) or \
                    _blank(cells[fact_col.index - 1]):
                continue
            try:
                raw = cells[fact_col.index - 1]
                value = _convert(raw, spec.unit, self._reading(fact, raw))
            except ValueError:
                return None
            if value != self._sums.get(fact, 0):
                return None
            compared += 1
        if compared and any(self._sums.values()):
            return "a row without an employee whose numbers are the column sums"
        return None

    def _row_or_totals(self, row: int, cells: list[object], text: str,
                       ) -> FactRow | RowError | None:
        why = self._totals(cells)
        if why is None:
            return self._make_row(row, cells)
        self.warnings.append(self._diag(
            "KPI523", f"row {row}: {why} is a totals row, not an employee; skipped", row, 0,
            text, "pass --keep-totals (keep_totals=True) to read it as an employee's row",
            warn=True))
        return None

    def _make_row(self, row: int, cells: list[object]) -> FactRow | RowError:
        problems: list[tuple[int, str, str, Diagnostic]] = []

        def problem(index: int, header: str, text: str, code: str, what: str, hint: str) -> None:
            diag = self._diag(code, f"row {row}, column '{header}': {what}", row, index, text, hint)
            problems.append((index, header, text, diag))

        id_col = self._by_target[("id", self.id_column)]
        employee = normalise_id(_show(cells[id_col.index - 1]))
        earlier = self._seen.find(employee) if employee else None
        first = False  # this row is the first of its employee
        if not employee:
            problem(id_col.index, id_col.header, "", "KPI502", "missing employee id",
                    "every row needs the employee's id")
        elif earlier is not None:
            at, spelt = earlier
            what = f"employee '{employee}' already appears on row {at}"
            if spelt != employee:
                what += (f" as '{spelt}': the two ids differ only by look-alike characters "
                         f"({difference(employee, spelt)})")
            problem(id_col.index, id_col.header, employee, "KPI504", what,
                    "each employee appears once per facts file; merge or remove the duplicate")
        else:
            self._seen[employee] = row
            first = True
        values: dict[str, Decimal] = {}
        read: list[str] = []
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
                values[fact] = _convert(raw, spec.unit, self._reading(fact, raw))
                read.append(fact)
            except FactValueError as exc:
                hint = exc.hint or f"expected {EXPECTED.get(spec.unit, 'a number')}"
                problem(index, header, _clip(_show(raw), 200), exc.code, str(exc), hint)
        found = {c.role: _show(cells[c.index - 1]).strip() or None for c in self._cols
                 if c.role in ("grade", "team")}
        if problems:
            if first:  # the employee's first row, and it failed
                self._failed[employee] = row
            problems.sort(key=lambda p: p[0])
            _, header, text, _ = problems[0]
            return RowError(self.file, row, header, text, tuple(p[3] for p in problems),
                            employee or None, found.get("team"), True)
        for fact in read:
            self._sums[fact] = self._sums.get(fact, Decimal(0)) + values[fact]
        extra = {c.key: _show(cells[c.index - 1]) for c in self._cols
                 if c.role == "extra" and cells[c.index - 1] is not None}
        return FactRow(self.file, row, employee, found.get("grade"), found.get("team"),
                       values, extra)

    def _clean_row(self, row: int, cells: list[object]) -> FactRow | None:
        """The common row, read at once: as wide as the header, an id seen nowhere before
        and not a totals word, every fact a plain cell ('142500', '3297204.59', '2.42%') of a
        column whose reading is settled. None for anything else, with nothing recorded: the
        row is then read by every rule (`_row_or_totals`), so each refusal and diagnostic is
        the one it always was (tests/test_facts_fast.py holds the two readings equal).
        Measured on 100 000 rows of the reference scheme: ~28 µs a row by every rule, ~11 µs
        here (CPU time, shared machine)."""
        plan = self._plan
        if plan is None:
            plan = self._plan = self._row_plan()
        if not plan:
            return None
        id_index, facts, teams, extras = plan
        raw_id = cells[id_index]
        if type(raw_id) is not str:
            return None
        shown = raw_id.strip()
        if not shown or (not self.keep_totals and shown[0].casefold()[0] in _TOTAL_INITIALS
                         and _total_word(shown)):
            return None
        readings, values = self._readings, {}
        if len(readings) < len(facts):  # a fact whose reading is not settled yet
            return None
        for fact, index, kind in facts:
            text = cells[index]
            if type(text) is not str:
                return None
            if kind is _SIGNED:  # a percent column: '2.42%' (a bare number: see below)
                m = _SIGNED_PERCENT.fullmatch(text)
                if m is not None and len(text) <= 30:
                    values[fact] = _hundredth(Decimal(m[1]))
                elif readings[fact].percent == "points" and len(text) <= 29 and \
                        _PLAIN_CELL.fullmatch(text):  # '2.42' in a column of points
                    values[fact] = _hundredth(Decimal(text))
                else:
                    return None
            elif len(text) <= 29 and kind.fullmatch(text):
                values[fact] = Decimal(text)
            else:
                return None
        employee = shown if raw_id.isascii() else normalise_id(raw_id)
        if self._seen.add(employee, row) is not None:
            return None  # a duplicate: said by the full reading, which finds it again
        sums = self._sums
        for fact, value in values.items():
            sums[fact] = sums.get(fact, _ZERO) + value
        grade = team = None
        for role, index in teams:
            text = _show(cells[index]).strip() or None
            if role == "team":
                team = text
            else:
                grade = text
        return _fact_row({"file": self.file, "row": row, "employee": employee, "grade": grade,
                          "team": team, "values": values,
                          "extra": {key: _show(cells[index]) for key, index in extras
                                    if cells[index] is not None}})

    def _row_plan(self) -> tuple[int, list[tuple[str, int, str]], list[tuple[str, int]],
                                 list[tuple[str, int]]] | tuple[()]:
        """What `_clean_row` needs, worked out once the header is read: positions, and how
        each fact's plain cells read. Empty when a fact has no column (defaults and missing
        facts take the full path) or the file is one of several joined."""
        if self.partial:
            return ()
        facts = []
        for fact, spec in self.specs.items():
            col = self._by_target.get(("fact", fact))
            if col is None:
                return ()
            kind: Any = _SIGNED if spec.unit is Unit.PERCENT else \
                _WHOLE_CELL if spec.unit is Unit.COUNT else _PLAIN_CELL
            facts.append((fact, col.index - 1, kind))
        return (self._by_target[("id", self.id_column)].index - 1, facts,
                [(c.role, c.index - 1) for c in self._cols if c.role in ("grade", "team")],
                [(c.key, c.index - 1) for c in self._cols if c.role == "extra"])

    def _tabular(self, records: Iterator[tuple[int, list[object] | Unclosed]],
                 ) -> Iterator[FactRow | RowError]:
        """CSV and XLSX: the first non-blank row is the header; cells are positional."""
        record = self._record
        for row, cells in records:
            if type(cells) is list and len(cells) == self._width:  # a clean row: at once
                clean = self._clean_row(row, cells)
                if clean is not None:
                    yield clean
                    continue
            made = record(row, cells)
            if made is not None:
                yield made
        self._finish()

    def _record(self, row: int, cells: list[object] | Unclosed) -> FactRow | RowError | None:
        """One record of a CSV or XLSX file by every rule (the header, a bad or totals row,
        a row read cell by cell); None for a record that is no row. kpidsl/fused.py hands
        it every record its fast path does not take."""
        width = self._width
        if isinstance(cells, Unclosed):
            header = self.columns[cells.cell - 1] if self.columns and \
                cells.cell <= len(self.columns) else ""
            where = f" in column '{header}'" if header else ""
            return self._bad_row(
                row, f"row {row}: a quoted cell{where} opens on line {row} and is never "
                f"closed: it runs to the end of the file (line {cells.last}); the "
                f"{cells.last - row} lines after it are read as rows of their own", 0,
                cells.text, "close the quote in that cell, or remove it", "KPI524")
        n = len(cells)
        if all(_blank(c) for c in cells):  # blank rows still count in the numbering
            return None
        row_text = (self.delimiter or "\t").join(map(_show, cells))
        if self.columns is None:
            self._read_header(cells, row, row_text)
            self._width = len(self._cols)
            return None
        if (self.format == "csv" and n < width) or any(not _blank(c) for c in cells[width:]):
            hint = "check for a missing or extra delimiter in this row" + (
                "; quote numbers with a decimal comma" * (self.delimiter == ","))
            message = f"row {row} has {n} cell{'s' * (n != 1)}, but the header has {width}"
            return self._bad_row(row, message + " columns", min(n, width) + 1, row_text, hint)
        return self._row_or_totals(row, [*cells[:width], *[None] * (width - n)], row_text)

    def _finish(self) -> None:
        """The end of a CSV or XLSX file: no header at all, or no rows under it."""
        if self.columns is None:
            raise self._empty()
        if not self.summary.rows_read:
            self.warnings.append(self._diag("KPI508", "the facts file has a header but no rows",
                                            warn=True))

    def _objects(self, records: Iterator[tuple[int, object, str]]) -> Iterator[FactRow | RowError]:
        """JSON and JSONL: one object per row; the first object's keys act as the header."""
        self.columns = []
        for row, item, text in records:
            if isinstance(item, DuplicateKeys):
                key, first, second = item.duplicate
                yield self._bad_row(row, f"row {row}: key '{_clip(key, 40)}' appears twice in one "
                                    f"object ({_clip(first, 30)} and {_clip(second, 30)})", 0,
                                    text, "keep one of them: JSON would keep only the last",
                                    "KPI525")
                continue
            if not isinstance(item, dict):
                message = (str(item) if isinstance(item, ValueError) else
                           f"expected an object of fact values, got {_clip(_show(item))}")
                yield self._bad_row(row, f"row {row}: {message}", 0, text,
                                    "write one JSON object per employee")
                continue
            if not self._cols:
                self._find_id([str(k) for k in item], row, text, check_map=False)
            cells: list[object] = [None] * len(self._cols)
            given: dict[int, str] = {}
            clash = ""
            for key, value in item.items():
                col = self._by_raw.get(key) or self._add_column(key, row)
                if col.index in given and not clash:
                    clash = (f"keys '{_clip(given[col.index], 40)}' and '{_clip(key, 40)}' both "
                             f"give {_describe(col)}")
                given[col.index] = key
                cells.extend([None] * (len(self._cols) - len(cells)))
                cells[col.index - 1] = value
            self._report_unknown(row)
            self._check_header(row, text, require_facts=False)
            if clash:
                yield self._bad_row(row, f"row {row}: {clash}", 0, text,
                                    "keep one spelling of each key", "KPI525")
                continue
            made = self._row_or_totals(row, cells, text)
            if made is not None:
                yield made
        if not self.summary.rows_read:
            self.warnings.append(self._diag("KPI508", "the facts file has no rows", warn=True))
        elif self.check_map:
            # Objects may differ in their keys, so a --map column is looked for in all of them,
            # once the file is read; an output being written is then abandoned, never kept.
            try:
                self.titles.check_mapped([c.header for c in self._cols], "in any object")
            except ColumnError as exc:
                raise self._file_error(exc.message, 0, exc.hint) from None

    # ------------------------------------------------------------ CSV

    def _detect_encoding(self, probe: IO[bytes]) -> str:
        """UTF-16 by its BOM, or UTF-16/32 by the NUL bytes of its ASCII characters; else
        strict UTF-8; else cp1251 (the two that CRM exports use), judged on the first 64 KiB
        block that has a non-ASCII byte, without keeping the rest."""
        offset, rows, head = 0, 0, probe.read(ENCODING_PREFIX)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"  # Excel's "Unicode text" export
        if b"\x00" in head:
            return self._wide_encoding(head)
        while head.isascii() and len(head) == ENCODING_PREFIX:
            offset, rows = offset + len(head), rows + head.count(b"\n")
            head = probe.read(ENCODING_PREFIX)
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

    def _wide_encoding(self, head: bytes) -> str:
        """UTF-16 or UTF-32 without a BOM, named in a warning; other NULs: not text."""
        found = wide_encoding(head)
        if found is None:
            raise self._file_error(
                "the file holds NUL bytes and is neither UTF-16 nor UTF-32 text: is it a "
                "binary file?", 1, "export the facts as CSV (UTF-8), JSON or XLSX")
        self.warnings.append(self._diag(
            "KPI507", f"the file is {found.upper()} without a byte-order mark; read as such",
            warn=True, hint="save the export as UTF-8 (in Excel: 'CSV UTF-8')"))
        return found

    def _csv_lines(self) -> Iterator[str]:
        """The file's physical lines, decoded, endings kept."""
        if self._text is not None:
            yield from io.StringIO(self._text.removeprefix("\ufeff"))
            return
        if self.before_reading is not None:
            self.before_reading()
        try:
            with open(self.path, "rb") as probe:
                self.encoding = self._detect_encoding(probe)
            stream = open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115
        except OSError as exc:
            raise self._file_error(f"cannot read the facts file: {exc.strerror}") from exc
        with stream:
            try:
                yield from stream
            except UnicodeDecodeError as exc:  # the decoder reads ahead: find the real line
                line, offset = undecodable_line(self.path, self.encoding)
                name = "UTF-8" if self.encoding == "utf-8-sig" else self.encoding.upper()
                raise self._file_error(f"the file is not valid {name} on line {line} (byte "
                                       f"offset {offset}): {exc.reason}", line,
                                       "save the export as UTF-8 (in Excel: 'CSV UTF-8')"
                                       ) from None

    def _csv_records(self) -> Iterator[tuple[int, list[object] | Unclosed]]:
        """Records numbered by the physical line they start on. A quote left open to the end
        of the file is reported (Unclosed) and the lines it swallowed are read again as rows."""
        source = Lines(self._csv_lines())
        first = next(source, None)
        while first is not None and not first.strip().strip(";,|\t"):
            yield source.number, []  # blank lines before the header keep their numbers
            first = next(source, None)
        if first is None:
            return
        self.delimiter = sniff_delimiter(first)
        source.replay([first], source.number - 1)
        reader = csv.reader(source, delimiter=self.delimiter)
        while True:
            source.start()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self._file_error(f"line {source.begin}: {exc}", source.begin) from None
            if source.ended and len(source.held) > 1 and unclosed("".join(source.held),
                                                                  self.delimiter):
                begin, held = source.begin, source.held
                yield begin, Unclosed(len(cells), source.number,
                                       _clip(held[0].rstrip("\r\n"), 200))
                source.replay(held[1:], begin)
                reader = csv.reader(source, delimiter=self.delimiter)
                continue
            yield source.begin, cells  # type: ignore[misc]  # a new list each record

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
        files). Numbers become Decimal without passing through float; an object with a key
        twice becomes DuplicateKeys (json would keep the last silently)."""
        row, seen, whole = 0, False, self.format == "json"
        try:
            with open(self.path, encoding="utf-8-sig") as stream:
                for row, line in [(0, stream.read())] if whole else enumerate(stream, start=1):
                    if not line.strip():
                        continue
                    seen = True
                    try:
                        item = json.loads(line, parse_float=_json_number, parse_int=_json_number,
                                          parse_constant=str, object_pairs_hook=pairs)
                    except (json.JSONDecodeError, RecursionError) as exc:  # or absurd nesting
                        why = f"not valid JSON: {getattr(exc, 'msg', 'nested too deeply')}"
                        line_no, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
                        if whole:
                            raise self._file_error(f"{why} at line {line_no}, column {col}",
                                                   line_no) from None
                        item = ValueError(f"{why} at column {col}")  # spoils only its row
                    if not whole:
                        yield row, item, _clip(line.rstrip("\r\n"), 10_000)
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


def _json_number(text: str) -> Decimal | str:
    """A JSON number as an exact Decimal; one beyond what a Decimal can hold
    (`1e9999999999999999999`) stays text, so the value rules refuse it with the cell shown
    instead of `json` raising InvalidOperation out of the reader."""
    try:
        return Decimal(text)
    except (ArithmeticError, ValueError):
        return text


# `_clean_row`: cells read at once. A plain number ('3297204.59', '950') reads as parse_value's
# first branch reads it, within bound_error's limits (at most 20 digits before the point and
# 20 after, 29 characters: 28 digits), unless it is a lone point before three digits
# ('142.500', which the survey may make ambiguous); a count has no point; a signed percent
# ('2.42%') is its digits ÷ 100 (two places fewer after the point), unless they look grouped
# ('1.500%', '0.500%': _plain_number's lone-separator rule).
_SIGNED = "signed"
_PLAIN_CELL = re.compile(r"(?![1-9][0-9]{0,2}\.[0-9]{3}\Z)[0-9]{1,20}(?:\.[0-9]{1,20})?")
_WHOLE_CELL = re.compile(r"[0-9]{1,20}")
_SIGNED_PERCENT = re.compile(r"(?![0-9]{1,3}\.[0-9]{3}%)([0-9]{1,20}(?:\.[0-9]{1,18})?)%")
_TOTAL_INITIALS = frozenset(word[0] for word in TOTAL_WORDS)
_ZERO = Decimal(0)


_LONE_IN = re.compile(r"(?<![0-9.,])[1-9][0-9]{0,2}[.,][0-9]{3}(?![0-9.,])")


def _depends_on_survey(raw: object, unit: Unit, reading: Reading) -> bool:
    """Whether the rest of the file can change how `raw` is read."""
    if isinstance(raw, str):
        return (reading.locale is None and ("," in raw or "." in raw)
                and _LONE_IN.search(raw) is not None) or (
            unit is Unit.PERCENT and reading.percent is None and not raw.rstrip().endswith("%"))
    return _bare_number(raw) and unit is Unit.PERCENT and reading.percent is None


def _bare_number(raw: object) -> bool:
    """A typed number that does not say whether it is a fraction or points: JSON, or an XLSX
    cell without a percent format (kpidsl/sheets.py marks those that have one)."""
    return (isinstance(raw, (int, float, Decimal)) and not isinstance(raw, (bool, PercentNumber))
            and (not isinstance(raw, float) or math.isfinite(raw)))


def _describe(col: _Column) -> str:
    if col.role == "fact":
        return f"fact '{col.key}'"
    if col.role == "id":
        return f"the employee column '{col.key}'"
    return f"column '{col.key}'"


def _total_word(text: str) -> bool:
    return " ".join(text.casefold().strip().rstrip(":.").split()) in TOTAL_WORDS


def _find(name: str, candidates: list[str]) -> str | None:
    """The candidate equal to `name`, else one equal ignoring case, else None."""
    if name in candidates:
        return name
    folded = name.casefold()
    return next((c for c in candidates if c.casefold() == folded), None)


def _check_choice(reader: FactsReader, value: str | None, choices: tuple[str, ...],
                  what: str) -> None:
    if value is not None and value not in choices:
        raise reader._file_error(f"unknown {what} '{value}'; use {' or '.join(choices)}")


def read_facts(path: str | Path, specs: Mapping[str, FactSpec], *, id_column: str = "employee",
               mapping: Mapping[str, str] | None = None, sheet: str | None = None,
               format: str | None = None, columns: Mapping[str, str] | None = None,
               header_row: int | None = None, check_map: bool = True,
               partial: bool = False, locale: str | None = None,
               percent: str | None = None, keep_totals: bool = False) -> FactsReader:
    """Open a facts file for streaming; raise FactsFileError at once if it cannot be read.
    `mapping` renames CRM columns to facts ({'Выручка': 'revenue'}) and each must be in the
    header; `columns` does the same for a mapping file's columns (absent ones are fine);
    `header_row` says which row holds the titles (default: found, see kpidsl/columns.py);
    `format` (csv, json, jsonl, xlsx) defaults to the one the file's extension names. `path`
    '-' is standard input; it and other pipes are first copied to a temporary file, since
    a file is read twice (the survey, then the rows). `locale` ('ru', 'en') and `percent`
    ('points', 'fraction') declare what the file would otherwise leave ambiguous;
    `keep_totals` reads a totals row ('Итого') as an employee's."""
    shown = "<stdin>" if str(path) == STDIN else str(path)
    path = Path(path)
    suffix = path.suffix.lower()
    reader = FactsReader(path, specs, file=shown, id_column=id_column, mapping=mapping,
                         sheet=sheet, format=format or EXTENSIONS.get(suffix, suffix or "csv"),
                         columns=columns, header_row=header_row, check_map=check_map,
                         partial=partial, locale=locale, percent=percent,
                         keep_totals=keep_totals)
    _check_choice(reader, locale, LOCALES, "locale")
    _check_choice(reader, percent, PERCENT_READINGS, "percent reading")
    if str(path) == STDIN or _is_pipe(path):
        try:
            reader.path = _spool(path)
        except OSError as exc:
            raise reader._file_error(f"cannot read the facts: {exc.strerror or exc}") from exc
        if format is None and not suffix:
            reader.format = _sniff_format(reader.path)
    if reader.format not in FORMATS:  # e.g. an old binary .xls workbook
        raise reader._file_error(f"unknown facts format '{reader.format}'; use "
                                 f"{', '.join(FORMATS)}", hint="save workbooks as .xlsx")
    if sheet is not None and reader.format != "xlsx":
        raise reader._file_error(f"--sheet '{sheet}' names a worksheet, but this is a "
                                 f"{reader.format.upper()} file, which has none",
                                 hint="use --sheet with XLSX workbooks only")
    try:
        reader.path.open("rb").close()
    except OSError as exc:
        raise reader._file_error(f"cannot read the facts file: {exc.strerror}") from exc
    return reader


def _is_pipe(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _spool(path: Path) -> Path:
    """Copy standard input or a pipe to a private temporary file, removed at exit."""
    with tempfile.NamedTemporaryFile(prefix="kpidsl-facts-", delete=False) as copy:
        atexit.register(_remove, copy.name)
        if str(path) == STDIN:
            shutil.copyfileobj(sys.stdin.buffer, copy)
        else:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, copy)
    return Path(copy.name)


def _remove(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


def _sniff_format(path: Path) -> str:
    """The format of unnamed facts (standard input) by their first bytes."""
    with open(path, "rb") as stream:
        head = stream.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if text.startswith(b"[") else "jsonl" if text.startswith(b"{") else "csv"


def read_facts_text(text: str, specs: Mapping[str, FactSpec], name: str = "<facts>", *,
                    id_column: str = "employee", mapping: Mapping[str, str] | None = None,
                    locale: str | None = None, percent: str | None = None,
                    keep_totals: bool = False) -> FactsReader:
    """Read CSV facts from a string (tests, pasted data) by the same rules as read_facts."""
    return FactsReader(Path(name), specs, file=name, format="csv", id_column=id_column,
                       mapping=mapping, text=text, locale=locale, percent=percent,
                       keep_totals=keep_totals)


__all__ = ["FactRow", "FactSpec", "FactValueError", "FactsFileError", "FactsReader",
           "FactsSummary", "RowError", "SeenIds", "look_alike_key", "normalise_id",
           "parse_value", "read_facts", "read_facts_text"]
