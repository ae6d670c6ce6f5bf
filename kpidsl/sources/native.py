"""`--engine duckdb` reading deal exports itself: CSV and Parquet scanned by DuckDB.

Every source row passing the Python reader (kpidsl/sources/read.py) cost about 12 µs before
DuckDB saw it (85 000 rows/s end to end). Here DuckDB reads the file, and the same pass that
loads it into a table checks that every cell the scheme uses is in a grammar whose reading
does not depend on the rest of the file or on anything the Python reader would warn about
or refuse: employees and keys of printable ASCII or Cyrillic without surrounding spaces (no
totals row), dates `2025-07-15`, `2025-07-15 14:30[:00]`, `15.07.2025[ 14:30[:00]]` that are
days of the calendar, numbers in the facts files' plain grammar (kpidsl/sql/native.py's
`cell_sql`: at most 12 integer and 6 decimal digits, a decimal point or comma, thousands
grouped by spaces), text of printable ASCII or Cyrillic. A CSV must have its header on
line 1 and one line a row (no blank lines, no cell over two lines, no ragged row) in UTF-8
or cp1251 (decoded once into a temporary UTF-8 copy, as kpidsl/sql/native.py does for
facts files); a Parquet file typed columns (DECIMAL or integer numbers, TIMESTAMP or DATE
dates, VARCHAR text) or text in the same grammar. Such a row is one the Python reader
reads without a failure or a warning. A row with a cell outside the grammar (or without
a date a fact would count it by) is read alone by the Python reader, from a CSV's cells
as written (kept in the table) or a Parquet file's as DuckDB gives them to it, and failed
as the Python stage fails it (`Native._flagged`): reported with file, row and column, the
facts resting on it failed for its employee, the rest evaluated here without it. Any
other file (a totals row, an employee or a text outside the grammar, a split column, a
percent field, XLSX, JSON) makes the whole run go through the Python reader, whose
diagnostics name file, row and column.

A CSV is loaded into a temporary table (parsing it again for each query would cost more);
a Parquet file is read where it lies, by each query, and never held: its cells are checked
by the scan that groups the employees (`Native.employees`), which with one source also
computes every fact and each payment's magnitudes, so the file is read twice in all (that
scan, then the payment's deals in order), plus once a text column for its distinct values.

The facts are one GROUP BY with a FILTER per fact; each numeric cell carries the number of
decimals it was written with, so a total, a minimum or a median comes back with the exact
digits the Python stage gives (1 047,20 stays 1047.20). Per-deal payments are computed from
each payment's deals in order, streamed from DuckDB in batches (kpidsl/sources/running.py),
and summed per employee; each employee's per-deal lines are made only when they are read
(statements, JSON, explanations), by the Python walk over the rows DuckDB fetches for a
batch of employees at a time, and their amounts are checked against the SQL ones (KPI904).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import gc
import itertools
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ..diagnostics import Diagnostic, KpiError, error
from ..facts import FactRow, _fact_row
from ..runtime import CONTEXT
from ..sql.native import MEMORY, NativeFile, Unusual, _lit, _q, cell_sql
from ..units import Unit
from ..values import show
from . import running
from .dates import period_bounds
from .duck import _AGG, condition_sql, in_period
from .evaluate import check_bounds, mean
from .plan import FactPlan, PayPlan, SourcePlan
from .read import SourceReader
from .run import SourceResult, source_plan
from .transactions import Deal, DealLine, order_key, walk

if TYPE_CHECKING:
    from ..api import Ruleset

# Printable ASCII and Cyrillic: one reading in Python and DuckDB (case, spaces, NFC)
_WORD = "[!-~\u0400-\u04ff]"
_TEXT = "[ -~\u0400-\u04ff]"
_ID = f"{_WORD}({_TEXT}*{_WORD})?"
_TOTALS = "(итого|всего|общий +итог|итог|total|totals|grand +total|sum)[:.]*"
# The date shapes the Python reader reads one way only, with a time below 24:00 (which
# DuckDB would take as the next day) checked by the same regular expression: substrings
# compared after it cost 0.05 s of 0.38 (the CREATE of 1 M rows, measured)
_TIME = "( ([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?"
_ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}" + _TIME
_DOTTED_DATE = "[0-9]{2}[.][0-9]{2}[.][0-9]{4}" + _TIME
_KEY = f"[0-9]{{1,18}}|[!-*,/:-~\u0400-\u04ff]({_TEXT}*{_WORD})?"
_NUMBERS = (Unit.MONEY, Unit.NUMBER, Unit.COUNT, Unit.MINUTES, Unit.HOURS, Unit.DAYS)
_NON_NEGATIVE = (Unit.COUNT, Unit.MINUTES, Unit.HOURS, Unit.DAYS)
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
ATOMS = 10_000  # distinct cells of a text field up to which `where` lists them (Native.atoms)
BATCH = 2_000  # employees whose per-deal lines one query fetches
CHUNK = 1 << 20  # deals of a payment fetched and paid at a time
# rows outside the plain grammar read one by one by the Python reader (`Native._flagged`);
# beyond this many the whole file is read by it
FLAGGED = 100_000


@dataclass
class NativeStage:
    """What run_sources reads of a stage: no row of a native file fails or is warned of."""

    rows_read: int = 0
    bad_rows: list[Any] = field(default_factory=list)
    harmless: list[Any] = field(default_factory=list)


# ---------------------------------------------------------------- reading the files


def _id_check(cell: str) -> str:
    return (f"({cell} IS NOT NULL AND regexp_full_match({cell}, '{_ID}') AND NOT "
            f"regexp_full_match(lower({cell}), '{_TOTALS}'))")


def _inner(cell: str, suffix: str) -> str:
    """The name of a value computed once a row in the scan's first layer."""
    return _q(cell.strip('"') + suffix)


def _date_column(cell: str, kind: str, first: list[str], what: str) -> tuple[str, str]:
    """(the check, the TIMESTAMP) of a date column: text in the reader's formats, or a
    date DuckDB already typed; anything else goes to the Python reader."""
    if kind == "VARCHAR":
        return _date_sql(cell, first)
    if kind in ("TIMESTAMP", "DATE"):
        return "TRUE", f"CAST({cell} AS TIMESTAMP)"
    raise Unusual(what)


def _date_sql(cell: str, first: list[str]) -> tuple[str, str]:
    """(empty or plain, value) of a date cell: digits in one of six shapes with a time
    below 24:00 (a regular expression each for the ISO and the dotted ones) and a day of
    the calendar (DuckDB's cast checks it); any other cell has no value here. The value
    is computed once a row in the first layer (`first`): written out in each check it cost
    four times as much (1 M cells, measured)."""
    iso = f"regexp_full_match({cell}, '{_ISO_DATE}')"
    dotted = f"regexp_full_match({cell}, '{_DOTTED_DATE}')"
    value = _inner(cell, "_date")
    first.append(f"CASE WHEN {iso} THEN try_cast({cell} AS TIMESTAMP) WHEN {dotted} THEN "
                 f"try_cast(substr({cell}, 7, 4) || '-' || substr({cell}, 4, 2) || '-' || "
                 f"substr({cell}, 1, 2) || substr({cell}, 11) AS TIMESTAMP) END AS {value}")
    # a CASE, not an OR: DuckDB computes every operand of an OR for every row of a
    # projection, where a CASE trims only the cells without a date (the load of 1 M rows
    # 1.05 → 0.99 s, measured on a busy machine)
    ok = f"CASE WHEN {value} IS NOT NULL THEN TRUE ELSE {cell} IS NULL OR trim({cell}) = '' END"
    return ok, value


def _key_sql(cell: str, first: list[str], second: list[str]) -> tuple[str, str, str]:
    """(plain, number, not its number's text): a key is an integer of up to 18 digits
    (ordered by value, as key_number orders it) or text of printable ASCII or Cyrillic that
    does not start like a number (which no cast to BIGINT reads). The number is cast once
    a row in the first layer, compared with the text in the second; a key that is its
    number's text, 0 to 10^18 − 1, is plain without the regular expression, which runs on
    the other keys alone ('007', '-5', text; the CREATE of 1 M rows 0.50 → 0.45 s,
    measured). The comparison is kept (`_kodd`) for `Native._pay_stats`, whose scan cast
    every key again (0.068 → 0.042 s at 1 M rows, measured)."""
    number, odd = _inner(cell, "_knum"), _inner(cell, "_kodd")
    first.append(f"TRY_CAST({cell} AS BIGINT) AS {number}")
    second.append(f"{number} IS NULL OR CAST({number} AS VARCHAR) != {cell} AS {odd}")
    return (f"CASE WHEN NOT {odd} AND {number} BETWEEN 0 AND {10 ** 18 - 1} THEN TRUE ELSE "
            f"coalesce(regexp_full_match({cell}, '{_KEY}'), FALSE) END"), number, odd


def _number_sql(cell: str, unit: Unit, comma: bool, first: list[str]) -> tuple[str, str, str]:
    """(plain or empty, value, decimals as written) of a numeric cell in the plain grammar;
    a cell of bare digits with a decimal point or comma takes one regular expression (once
    a row, in the first layer), any other the facts files' whole grammar
    (kpidsl/sql/native.py)."""
    ok, text, shifted = cell_sql(cell, unit, None, comma)
    blank = f"({cell} IS NULL OR trim({cell}) = '')"
    # TRY_CAST: a cell outside the grammar is NULL here, and read by the Python reader
    # (Native._flagged); a plain one casts as CAST would
    number = f"TRY_CAST({text} AS DECIMAL(18, 6))"
    sign = "" if unit in _NON_NEGATIVE else "-?"
    fraction = "" if unit is Unit.COUNT else f"([{'.,' if comma else '.'}][0-9]{{1,6}})?"
    simple = _inner(cell, "_simple")
    first.append(f"regexp_full_match({cell}, '{sign}[0-9]{{1,12}}{fraction}') AS {simple}")
    plain = f"replace({cell}, ',', '.')"
    value = (f"CASE WHEN {simple} THEN CAST({plain} AS DECIMAL(18, 6)) WHEN {blank} THEN NULL "
             f"WHEN {shifted} THEN CAST({number} * 0.01 AS DECIMAL(18, 6)) ELSE {number} END")
    # a simple cell has one separator at most: where it is, without the replace (1 M
    # loaded rows 1.05 → 0.99 s, measured on a busy machine)
    decimals = (f"CAST(CASE WHEN {simple} THEN coalesce(length({cell}) - nullif(strpos({cell}, "
                f"',') + strpos({cell}, '.'), 0), 0) WHEN {blank} THEN 0 ELSE "
                f"coalesce(length({text}) - nullif(strpos({text}, '.'), 0), 0) + CASE WHEN "
                f"{shifted} THEN 2 ELSE 0 END END AS TINYINT)")
    # a CASE, not an OR: DuckDB computes every operand of an OR for every row of a
    # projection, and the whole grammar's regular expression only runs on the cells that
    # are not simple here (1 M loaded rows 1.05 → 0.87 s, measured on a busy machine)
    return f"CASE WHEN {simple} THEN TRUE WHEN {blank} THEN TRUE ELSE {ok} END", value, decimals


def _typed_number(cell: str, kind: str, unit: Unit) -> tuple[str, str, str]:
    """A Parquet number: DECIMAL(p, s ≤ 10) or an integer, as the Python reader takes it,
    kept as DECIMAL(18, s): 64-bit, where DECIMAL(38, 10) is 128-bit (multiplying 1 M of
    them by 100 took 0.95 s in DECIMAL(38, 10) and 0.015 s in DECIMAL(18, 2), measured). A
    value with more than 18 − s integer digits is not plain (the Python reader reads it)."""
    scale = 0
    if kind.startswith("DECIMAL"):
        scale = int(kind.split(",")[1].strip(" )"))
        if scale > 10:
            raise Unusual("more than 10 decimals")
    elif kind not in _INTEGERS:
        raise Unusual(f"a {kind} number")
    fits = f"abs({cell}) < {10 ** (18 - scale)}"
    value = f"CAST(CASE WHEN {fits} THEN {cell} END AS DECIMAL(18, {scale}))"
    checks = [fits]
    if unit in _NON_NEGATIVE:
        checks.append(f"{cell} >= 0")
    if unit is Unit.COUNT and scale:
        checks.append(f"{cell} = trunc({cell})")
    return f"({cell} IS NULL OR ({' AND '.join(checks)}))", value, f"CAST({scale} AS TINYINT)"


def _text_sql(cell: str) -> tuple[str, str]:
    """(text, comparison key) of a text cell: trimmed, and lower case with a run of spaces
    as one (the only run its characters can have)."""
    text = f"coalesce(trim({cell}), '')"
    return text, (f"lower(CASE WHEN contains({text}, '  ') THEN regexp_replace({text}, ' +', "
                  f"' ', 'g') ELSE {text} END)")


def rests_on(plan: SourcePlan, name: str,
             atoms: dict[str, Callable[[str], str]] | None = None) -> str:
    """SQL: a row of source `name` that a fact or a payment would count, on its cells (the
    Python stage fails those facts when the row has no date; any other row without one is
    evaluated and counts for nothing, as there)."""
    kinds = {f.name: f.kind for f in plan.sources[name].fields}
    plans: list[FactPlan | PayPlan] = [*plan.facts.values(), *plan.pays.values()]
    wheres = [condition_sql(p.where, kinds, True, atoms) for p in plans if p.source == name]
    return " OR ".join(dict.fromkeys(wheres)) or "FALSE"  # each distinct one once


class NativeSource:
    """One source file loaded into a DuckDB table when it is plain, else Unusual."""

    def __init__(self, con: Any, reader: SourceReader, index: int, plan: SourcePlan,
                 name: str) -> None:
        self.con, self.reader, self.index, self.plan = con, reader, index, plan
        self.name = name
        self.table = f"native_{index}"
        self.copy: NativeFile | None = None
        # by text field, the column its `where`s test (its distinct cells, Native.atoms)
        self.texts: dict[str, str] = {}
        self.keys: list[str] = []  # a table's text keys, made by its view
        self.integer_keys = False  # a Parquet integer key: its number alone, no text stored
        self.first: list[str] = []  # values computed once a row, before the checks
        self.second: list[str] = []  # values computed from the first's
        self.derived_key = False  # a held key NULL where it is its number's text
        self.lazy = reader.format == "parquet"  # a view over the file, not a table
        self.distinct: dict[str, str] = {}  # a lazy file's text field → its distinct cells

    def load(self) -> int:
        """The rows, loaded; Unusual when any cell is outside the plain grammar."""
        reader = self.reader
        if reader.format == "csv":
            scan, types, lines = self._csv()
        elif reader.format == "parquet":
            scan, types, lines = self._parquet(), None, None
        else:
            raise Unusual(reader.format)
        titles = self._names if types is None else types
        positions = reader._positions(titles, 1)  # FactsFileError: the Python reader says it
        self.titles, self.positions = titles, positions
        columns, checks = self._columns(positions, titles)
        layer = f"(SELECT *, {', '.join(self.first)} FROM {scan})" if self.first else scan
        if self.second:
            layer = f"(SELECT *, {', '.join(self.second)} FROM {layer})"
        if self.lazy:
            # a Parquet file is read where it lies, by each query (its columns typed and
            # compressed: the scan is fast), never held: a temporary table of its 10 M rows
            # took 2.1 s and most of a 2.4 GiB peak (measured). Its checks are made by the
            # scan that groups the employees (Native.employees); its count is in its footer
            self.con.execute(f"CREATE TEMP VIEW {self.table} AS SELECT {', '.join(columns)}, "
                             f"{' AND '.join(checks)} AS _ok, _row FROM {layer}")
            n = self.con.execute(f"SELECT count(*) FROM read_parquet("
                                 f"{_lit(str(reader.path))})").fetchall()[0][0]
            bad = 0
        else:
            # the rows held without their texts' comparison keys (a string column fewer:
            # the `where`s test the texts by their distinct values), which the view makes
            # when a query asks (a text field of more than ATOMS distinct values). A row
            # with a cell outside the plain grammar or without a date keeps its cells as
            # written (`_raw`): the Python reader reads that row alone (Native._flagged)
            raw = ", ".join(f"c{i}" for i in range(len(titles)))
            self.con.execute(f"CREATE TEMP TABLE {self.table}_rows AS SELECT * EXCLUDE "
                             f"({raw}), CASE WHEN NOT _ok OR date IS NULL THEN [{raw}] END AS "
                             f"_raw FROM (SELECT {', '.join(columns)}, {' AND '.join(checks)} "
                             f"AS _ok, {raw} FROM {layer})")
            key = " REPLACE (CASE WHEN _kodd THEN key ELSE CAST(knum AS VARCHAR) END AS key)" \
                if self.derived_key else ""
            self.con.execute(f"CREATE TEMP VIEW {self.table} AS SELECT *{key}, rowid AS _row"
                             f"{''.join(', ' + k for k in self.keys)} FROM {self.table}_rows")
            n, bad = self.con.execute(f"SELECT count(*), count(*) FILTER (WHERE NOT _ok) FROM "
                                      f"{self.table}_rows").fetchall()[0]
            if bad > FLAGGED:
                raise Unusual("more rows outside the plain grammar than are read one by one")
        if not n or (lines is not None and n + 1 != lines):
            raise Unusual("blank lines or cells over lines")
        # texts repeat: their checks run once a value, not once a row (employees are checked
        # so by Native.employees, in the GROUP BY that orders them); a Parquet file's
        # distinct cells are kept (a few rows) for its `where`s (Native.atoms)
        for field_name, column in self.texts.items():
            table = self.distinct[field_name] = f"{self.table}_{len(self.distinct)}"
            self.con.execute(f"CREATE TEMP TABLE {table} AS SELECT DISTINCT {column} AS r "
                             f"FROM {self.table}")
            cells = f"(SELECT {_text_sql('r')[0]} AS t FROM {table})"
            if self.con.execute(f"SELECT count(*) FROM {cells} WHERE NOT "
                                f"regexp_full_match(t, '{_TEXT}*')").fetchall()[0][0]:
                raise Unusual("an employee or a text outside the plain grammar")
        return int(n)

    def rests_on(self) -> str:
        return rests_on(self.plan, self.name)

    def close(self) -> None:
        if self.copy is not None:
            self.copy.close()

    def _csv(self) -> tuple[str, list[str], int]:
        from ..records import Unclosed

        records = self.reader._records_reader
        records._reset()
        found = records._records()
        try:
            first = next(found, None)
            second = next(found, None)
        finally:
            found.close()  # type: ignore[attr-defined]
        if first is None or isinstance(first[1], Unclosed) or first[0] != 1:
            raise Unusual("no header on line 1")
        if second is None or second[0] != 2:
            raise Unusual("no row on line 2")
        if records.encoding not in ("utf-8-sig", "utf-8", "cp1251") or records.notes or \
                records.warnings or records._text is not None:
            raise Unusual("encoding")
        titles = [show(c).strip() for c in first[1]]
        path = self.reader.path
        if records.encoding == "cp1251":  # DuckDB reads UTF-8: a decoded copy, as for facts
            self.copy = NativeFile(None, None, path, None)  # type: ignore[arg-type]
            path = self.copy._utf8_copy()
        self._types = {f"c{i}": "VARCHAR" for i in range(len(titles))}
        names = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in self._types)
        scan = (f"read_csv({_lit(str(path))}, delim = {_lit(records.delimiter or ',')}, "
                f"quote = '\"', escape = '\"', header = false, skip = 1, auto_detect = false, "
                f"strict_mode = true, null_padding = false, columns = {{{names}}})")
        return scan, titles, NativeFile._count_lines(path)

    def _parquet(self) -> str:
        scan = f"read_parquet({_lit(str(self.reader.path))})"
        described = self.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        self._types = {str(name): str(kind) for name, kind, *_ in described}
        self._names = [show(n).strip() for n in self._types]
        renamed = ", ".join(f"{_q(n)} AS c{i}" for i, n in enumerate(self._types))
        self._types = {f"c{i}": kind for i, kind in enumerate(self._types.values())}
        numbered = f"read_parquet({_lit(str(self.reader.path))}, file_row_number = true)"
        return f"(SELECT {renamed}, file_row_number AS _row FROM {numbered})"

    def _columns(self, positions: dict[str, int], titles: list[str]) -> tuple[list[str],
                                                                             list[str]]:
        reader = self.reader
        kinds = list(self._types.values())
        comma = reader.locale != "en"

        def at(name: str) -> tuple[str, str]:
            index = positions[name]
            return _q(f"c{index}"), kinds[index]

        columns, checks = [], []
        first = self.first
        cell, kind = at("employee")
        if kind != "VARCHAR":
            raise Unusual("employee")
        columns.append(f"{cell} AS employee")  # checked once an employee, after the load
        cell, kind = at("date")
        # an empty date is checked after the load: no fact may rest on its row
        ok, value = _date_column(cell, kind, first, "date")
        columns.append(f"{value} AS date")
        checks.append(ok)
        if "key" in positions:
            cell, kind = at("key")
            if kind == "VARCHAR":
                ok, number, odd = _key_sql(cell, first, self.second)
                # a held key that is its number's text is not held (its view makes it):
                # a string column of 10 M cells fewer to spill under MEMORY (81 → 73 MB a
                # million rows, measured)
                held = cell if self.lazy else f"CASE WHEN {odd} THEN {cell} END"
                columns += [f"{held} AS key", f"{number} AS knum", f"{odd} AS _kodd"]
                self.derived_key = not self.lazy
            elif kind in _INTEGERS or kind == "BIGINT":
                ok = f"{cell} IS NOT NULL"
                # its text is made in the view, when a query reads it (the lines)
                columns += [f"CAST({cell} AS BIGINT) AS knum", f"{cell} IS NULL AS _kodd"]
                self.integer_keys = True
            else:
                raise Unusual("key")
            checks.append(ok)
        else:
            columns += ["'' AS key", "NULL::BIGINT AS knum", "TRUE AS _kodd"]
        if reader.source.share_column:
            raise Unusual("credit splits")  # the Python stage splits them
        for fld in reader.source.fields:
            if fld.name not in reader.fields:
                continue
            cell, kind = at(f"field:{fld.name}")
            name = _q(f"f_{fld.name}")
            if fld.kind == "text":
                if kind != "VARCHAR":
                    raise Unusual("text")
                # checked once a distinct text, after the load; its key for `where`
                text, key = _text_sql(cell)
                columns.append(f"{text} AS {name}")
                if self.lazy:  # the cell as written: `where` tests it by its distinct values
                    columns += [f"{key} AS {_q(f'k_{fld.name}')}",
                                f"{cell} AS {_q(f'r_{fld.name}')}"]
                    self.texts[fld.name] = _q(f"r_{fld.name}")
                else:  # the key made from the text held when a query asks for it (few do)
                    self.keys.append(f"{_text_sql(name)[1]} AS {_q(f'k_{fld.name}')}")
                    self.texts[fld.name] = name
            elif fld.kind == "date":
                ok, value = _date_column(cell, kind, first, "date field")
                columns.append(f"{value} AS {name}")
                checks.append(ok)
            else:
                unit = Unit(fld.kind)
                if unit not in _NUMBERS:
                    raise Unusual(f"a {unit} field")
                if kind == "VARCHAR":
                    ok, value, decimals = _number_sql(cell, unit, comma, first)
                else:
                    ok, value, decimals = _typed_number(cell, kind, unit)
                columns += [f"{value} AS {name}", f"{decimals} AS {_q(f'd_{fld.name}')}"]
                checks.append(ok)
        return columns, checks


# ---------------------------------------------------------------- the run


def _exact(value: Any, decimals: int) -> Decimal:
    """A DuckDB DECIMAL with the decimals the cell was written with (the Python digits)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals))


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return exponent


def _places(value: Decimal) -> int:
    """Decimals `value` needs (0 for an integer)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def rounding_sql(x: str, shift: int, mode: str) -> str:
    """SQL: an integer `x` of units 10^-shift times the step's, rounded to whole steps as
    Decimal.quantize rounds (MODES), in integer arithmetic."""
    if shift <= 0:
        return f"({x} * {10 ** -shift})"
    m = 10 ** shift
    a, q, r = f"abs({x})", f"(abs({x}) // {m})", f"(abs({x}) % {m})"
    more = {"half up": f"2 * {r} >= {m}", "half down": f"2 * {r} > {m}",
            "half even": f"(2 * {r} > {m} OR (2 * {r} = {m} AND {q} % 2 = 1))",
            "down": "FALSE", "up": f"{r} > 0", "ceiling": f"({x} > 0 AND {r} > 0)",
            "floor": f"({x} < 0 AND {r} > 0)"}[mode]
    del a
    return f"(sign({x}) * ({q} + CASE WHEN {more} THEN 1 ELSE 0 END))"


def _numbers(np: Any, array: Any) -> Any:
    """An Arrow integer column without nulls as a numpy array over its buffer (Arrow's
    own `to_numpy` imports pandas: 1.1 s, measured)."""
    dtype = np.dtype(str(array.type))  # int32 or int64
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array),
                         offset=array.offset * dtype.itemsize)


def _distinct(units: list[list[int | None]]) -> set[tuple[int | None, ...]]:
    """The distinct rows of bounds: employees of one plan share one list (`pay_totals`)."""
    return {tuple(row) for row in {id(row): row for row in units}.values()}


class Native:
    """The sources of one run in DuckDB: the tables, then the facts, the per-deal sums and,
    on demand, the per-deal lines."""

    def __init__(self, ruleset: Ruleset, plan: SourcePlan, con: Any,
                 readers: dict[str, list[SourceReader]],
                 period: tuple[dt.datetime, dt.datetime] | None) -> None:
        self.ruleset, self.plan, self.con, self.period = ruleset, plan, con, period
        self.files: list[NativeSource] = []
        self.views: dict[str, str] = {}
        self.paths: list[str] = []  # by file index
        self.rows = 0
        self.ordered: list[str] = []  # the employees with rows, in the run's order
        self.ordinal: dict[str, int] = {}
        self.most_deals = 0  # rows of the employee with the most
        self._ordinal_table = ""
        # what the scan of `employees` computed: the facts, each payment's first column
        # by source, its table of employees and the facts it computed; by payment, its
        # table and the column of its magnitudes (`employees`)
        self._scanned_facts: dict[str, tuple[str, list[FactPlan]]] = {}
        self._scanned_pays: dict[str, tuple[str, int]] = {}
        self._rescan: set[str] = set()  # sources whose scan is made again (`_flagged`)
        self.integer_keys: dict[str, bool] = {}  # by source: every key a stored integer
        self.atoms: dict[str, dict[str, Callable[[str], str]]] = {}  # by source (`_atoms`)
        # by source: the SQL that leaves out the rows the Python reader read (`_flagged`)
        self.clean: dict[str, str] = {}
        # what the Python reader made of those rows: the rows that failed, the rows nothing
        # rests on, and by employee the facts that rest on a failed row
        self.bad_rows: list[Any] = []
        self.harmless: list[Any] = []
        self.failures: dict[str, dict[str, list[Diagnostic]]] = {}
        self._atom_sql: dict[tuple[str, str], str] = {}
        self._found: dict[str, tuple[tuple[Any, ...], str]] = {}  # by payment (`_pay_found`)
        self._counts: dict[str, dict[str, int]] = {}  # by payment (`deal_counts`)
        self._sorting: Sorting | None = None  # a sort running in a thread (`start_sort`)
        index = 0
        try:
            for name, files in readers.items():
                parts = []
                for reader in files:
                    native = NativeSource(con, reader, index, plan, name)
                    self.files.append(native)
                    self.paths.append(reader.file)
                    self.rows += native.load()
                    key = "CAST(knum AS VARCHAR) AS key, " if native.integer_keys else ""
                    parts.append(f"SELECT *, {key}{index} AS file, {_lit(reader.file)} AS "
                                 f"path, _row + 2 AS row FROM "
                                 f"{native.table}")
                    index += 1
                if parts:
                    self.views[name] = f"view_{len(self.views)}"
                    self.integer_keys[name] = all(n.integer_keys for n in self.files
                                                  if n.name == name)
                    con.execute(f"CREATE TEMP VIEW {self.views[name]} AS "
                                f"{' UNION ALL BY NAME '.join(parts)}")
                    self.atoms[name] = self._atoms([n for n in self.files if n.name == name])
                    # a table's rows carry their check; a Parquet file's are checked by the
                    # scan of `employees` alone (any row outside the grammar: Unusual)
                    held = all(not n.lazy for n in self.files if n.name == name)
                    self.clean[name] = " AND _ok AND date IS NOT NULL" if held else ""
        finally:
            for native in self.files:
                native.close()

    def _atoms(self, files: list[NativeSource]) -> dict[str, Callable[[str], str]]:
        """By text field of Parquet files: a `where`'s test of it as a list of the cells as
        written that pass it, decided once a distinct cell. The test on the trimmed,
        lower-cased key took 2.4 s of CPU a scan of 10 M cells (trim 0.6 s, the key 1.8 s;
        EXPLAIN ANALYZE), where the list is a hash lookup of the cell DuckDB read."""
        out: dict[str, Callable[[str], str]] = {}
        for name in files[0].distinct if files else ():
            tables = [f.distinct.get(name) for f in files]
            column = files[0].texts[name]
            if None in tables or any(f.texts.get(name) != column for f in files):
                continue  # a CSV's text (trimmed) and a Parquet file's cell in one source
            union = " UNION ".join(f"SELECT r FROM {t}" for t in tables)
            if self.con.execute(f"SELECT count(*) FROM ({union})").fetchall()[0][0] > ATOMS:
                continue
            text, key = _text_sql("r")
            cells = (f"(SELECT r, {text} AS {_q(f'f_{name}')}, {key} AS {_q(f'k_{name}')} "
                     f"FROM ({union}))")
            out[name] = functools.partial(self._atom, column, cells)
        return out

    def _atom(self, column: str, cells: str, test: str) -> str:
        found = self._atom_sql.get((cells, test))
        if found is None:
            found = self._atom_sql[cells, test] = self._atom_made(column, cells, test)
        return found

    def _atom_made(self, column: str, cells: str, test: str) -> str:
        passed = [r for (r,) in self.con.execute(f"SELECT r FROM {cells} WHERE {test}")
                  .fetchall()]
        texts = [_lit(r) for r in passed if r is not None]
        found = f"{column} IN ({', '.join(texts)})" if texts else "FALSE"
        if None in passed:
            return f"({column} IS NULL OR coalesce({found}, FALSE))"
        return f"coalesce({found}, FALSE)"

    def where(self, source: str, condition: Any) -> str:
        """A `where` of the source in SQL over its view."""
        kinds = {f.name: f.kind for f in self.plan.sources[source].fields}
        return condition_sql(condition, kinds, True, self.atoms.get(source))

    def employees(self) -> list[tuple[str, str, int, int]]:
        """(employee, file, first row, rows) in the order the Python stage meets them; an
        employee outside the plain grammar (or a totals row) is Unusual. One GROUP BY a
        source: the check runs once an employee (100 000 of 10 M rows), not once a row, and
        the same scan checks a Parquet file's cells (its rows are read where they lie) and
        computes every fact of the source (`facts`) and each payment's magnitudes
        (`pay_totals`): one read of the file where four took 2.4 s, 1.5 s, 0.5 s and 0.3 s
        at 10 M deals. Several sources (deals and calls) are one scan each, their
        employees merged, where a scan of them all for the employees and one more of each
        for its facts read every file twice."""
        self.ordered, self.ordinal, self.most_deals = [], {}, 0
        self._scanned_facts, self._scanned_pays = {}, {}
        if not self.views:
            return []
        tables = [self._scan(index, source, view)
                  for index, (source, view) in enumerate(self.views.items())]
        if len(tables) > 1:
            union = " UNION ALL ".join(f"SELECT employee, first, n, odd FROM {t}"
                                       for t in tables)
            self.con.execute(f"CREATE TEMP TABLE native_employees AS SELECT employee, "
                             f"min(first) AS first, CAST(sum(n) AS BIGINT) AS n, bool_or(odd) "
                             f"AS odd FROM ({union}) GROUP BY employee")
        if self.con.execute(f"SELECT count(*) FROM native_employees WHERE NOT "
                            f"{_id_check('employee')}").fetchall()[0][0]:
            raise Unusual("an employee outside the plain grammar")
        failed: dict[str, int] = {}
        if self.con.execute("SELECT count(*) FROM native_employees WHERE odd").fetchall()[0][0]:
            failed = self._flagged()
            for index, (source, view) in enumerate(self.views.items()):
                if source in self._rescan:  # its facts, again without the rows that failed
                    self._scan(index, source, view)
        found = self.con.execute("SELECT employee, first, n FROM native_employees "
                                 "ORDER BY first").fetchall()
        if failed:  # an employee's rows that failed are counted as failed, not evaluated
            found = [(e, at, n - failed.get(e, 0)) for e, at, n in found]
        self.ordered = [e for e, _at, _n in found]
        self.ordinal = {e: i for i, e in enumerate(self.ordered)}
        self.most_deals = max((int(n) for _e, _at, n in found), default=0)
        return [(e, self.paths[at >> 32], at & 0xFFFFFFFF, n) for e, at, n in found]

    def _scan(self, index: int, source: str, view: str) -> str:
        """The GROUP BY employee of one source: first row, rows, whether any row is outside
        the plain grammar, every fact of the source and its payments' magnitudes."""
        rests = rests_on(self.plan, source, self.atoms.get(source))
        named: dict[str, str] = {}
        facts, extra = self._fact_selects(source, in_period(self.period) + self.clean[source],
                                          named)
        # each distinct FILTER computed once a row, where repeated it was computed once an
        # aggregate: the scan of 10 M deals 0.62 → 0.53 s, 1.35 → 1.16 s of CPU (measured)
        tests = "".join(f", {test} AS {name}" for test, name in named.items())
        rows = (f"(SELECT *, file * 4294967296 + row AS place, NOT _ok OR (date IS NULL AND "
                f"({rests})) AS odd{tests} FROM {view})")
        table = "native_employees" if len(self.views) == 1 else f"native_employees_{index}"
        self._scanned_facts[source] = (table, facts)
        for pay in self.plan.pays.values():
            if pay.source == source:
                self._scanned_pays[pay.payment] = (table, len(extra))
                extra += self._pay_stats(pay, True)
        more = "".join(f", {x} AS a{i}" for i, x in enumerate(extra))
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT employee, min(place) "
                         f"AS first, count(*) AS n, bool_or(odd) AS odd{more} FROM {rows} "
                         f"GROUP BY employee")
        return table

    def _cells(self, native: NativeSource, rows: list[int]) -> dict[int, list[object]]:
        """The cells of some rows as the Python reader reads them: a CSV's as written (kept
        in the table), a Parquet file's as DuckDB gives them to it (typed)."""
        if not native.lazy:
            return {}
        listed = ", ".join(str(r - 2) for r in rows)
        found = self.con.execute(f"SELECT * FROM read_parquet({_lit(str(native.reader.path))}, "
                                 f"file_row_number = true) WHERE file_row_number IN "
                                 f"({listed})").fetchall()
        return {int(r[-1]) + 2: list(r[:-1]) for r in found}

    def _flagged(self) -> dict[str, int]:
        """The rows outside the plain grammar (or without a date a fact rests on), read one
        by one by the Python reader from their cells as written, and failed as the Python
        stage fails them (kpidsl/sources/evaluate.py's Stage): the diagnostics name file, row
        and column; each fact resting on a failed row fails for its employee; the rest of
        the file stays in DuckDB, which leaves those rows out (`clean`). Unusual when the
        Python reader would read such a row otherwise (a totals row, a row it reads whole, an
        employee it spells differently) or a Parquet file has one. Returns the failed rows
        by employee."""
        from collections import Counter

        from .evaluate import Stage

        stage = Stage(self.plan, self.period)
        for source, view in self.views.items():
            odd = f"NOT _ok OR (date IS NULL AND ({rests_on(self.plan, source)}))"
            if not self.con.execute(f"SELECT count(*) FROM {view} WHERE {odd}").fetchall()[0][0]:
                continue
            facts = [f for f in self.plan.facts.values() if f.source == source]
            pays = [p for p in self.plan.pays.values() if p.source == source]
            raw = "_raw" if self.clean[source] else "NULL"
            found = self.con.execute(f"SELECT file, row, employee, {raw} FROM {view} WHERE "
                                     f"{odd} ORDER BY file, row").fetchall()
            if len(found) > FLAGGED:
                raise Unusual("more rows outside the plain grammar than are read one by one")
            typed: dict[int, dict[int, list[object]]] = {}
            for file in {f for f, *_ in found}:
                typed[file] = self._cells(self.files[file], [r for f, r, *_ in found
                                                             if f == file])
            for file, row, employee, raw in found:
                native = self.files[file]
                reader = native.reader
                cells: list[object] = typed[file][row] if native.lazy else \
                    ["" if c is None else c for c in raw]
                made = reader._row_general(row, cells, native.positions, native.titles)
                if made is None or not made.problems or "employee" in made.problems or \
                        made.employee != employee or reader.warnings:
                    raise Unusual("a row the Python reader reads otherwise")
                stage._fail(made, facts, pays)
            # the rows that failed are left out of every query of the source from here on:
            # a Parquet file's (whose rows are checked by the scan of `employees` alone,
            # `clean` empty until now) are scanned again (`employees`)
            if not self.clean[source]:
                self._rescan.add(source)
                self.clean[source] = " AND _ok AND date IS NOT NULL"
        self.bad_rows, self.harmless = stage.bad_rows, stage.harmless
        every = [*self.plan.facts, *(p.fact for p in self.plan.pays.values())]
        for who in stage.employees:
            mine = stage.failures_of(who, every)
            if mine:
                self.failures[who] = mine
        return Counter(r.employee for r in stage.bad_rows)

    def periods(self) -> list[str]:
        kind = self.plan.period
        text = {"quarter": "strftime(date, '%Y') || '-Q' || CAST(quarter(date) AS VARCHAR)",
                "year": "strftime(date, '%Y')"}.get(kind, "strftime(date, '%Y-%m')")
        union = " UNION ".join(f"SELECT DISTINCT {text} AS p FROM {v} WHERE date IS NOT NULL"
                               f"{self.clean[s]}" for s, v in self.views.items())
        if kind == "week":
            raise Unusual("weekly periods")
        return sorted(p for (p,) in self.con.execute(union).fetchall())

    def _fact_selects(self, source: str, within: str = "TRUE",
                      named: dict[str, str] | None = None) -> tuple[list[FactPlan], list[str]]:
        """Three aggregates a fact of the source, each over the rows `within` and the
        fact's `where`; with `named`, each distinct such condition is a column the caller
        computes (`named` maps it to its name)."""
        facts = [f for f in self.plan.facts.values() if f.source == source]
        selects = []
        for fact in facts:
            where = self.where(source, fact.where)
            if within != "TRUE":
                where = f"{within} AND {where}"
            if named is not None:
                where = named.setdefault(where, f"_w{len(named)}")
            x, d = _q(f"f_{fact.field}"), _q(f"d_{fact.field}")
            if fact.kind in ("total", "average"):
                # as text: DuckDB makes a Python Decimal of a DECIMAL in 3.4 µs, where its
                # text and Decimal(text) take under 1 µs (100 000 sums, measured)
                selects += [f"CAST(SUM({x}) FILTER (WHERE {where}) AS VARCHAR)",
                            f"COUNT({x}) FILTER (WHERE {where})",
                            f"MAX({d}) FILTER (WHERE {where} AND {x} IS NOT NULL)"]
            elif fact.kind == "median":
                selects += [f"list_sort(list(({x}, file, row, {d})) FILTER (WHERE {where} "
                            f"AND {x} IS NOT NULL))", "NULL", "NULL"]
            elif fact.kind in ("min", "max"):
                pick = "arg_min" if fact.kind == "min" else "arg_max"
                order = "(file, row)" if fact.kind == "min" else "(-file, -row)"
                # the first row holding the extreme value, as the Python fold keeps it
                selects += [f"{pick}(({x}, {d}), ({x}, {order})) FILTER (WHERE {where} "
                            f"AND {x} IS NOT NULL)", "NULL", "NULL"]
            elif fact.kind == "count":
                selects += [f"COUNT(*) FILTER (WHERE {where})", "NULL", "NULL"]
            else:  # count distinct
                selects += [_AGG[fact.kind].format(x=x) + f" FILTER (WHERE {where})",
                            "NULL", "NULL"]
        return facts, selects

    def fact_rows(self) -> list[tuple[list[FactPlan], list[tuple[Any, ...]]]]:
        """Each source's facts and their aggregates by employee, as DuckDB gives them (the
        query apart from the conversion, `facts_of`, which runs while DuckDB sorts the
        deals)."""
        out = []
        for source in self.views:
            table, facts = self._scanned_facts[source]  # computed by the scans of `employees`
            if facts:
                query = (f"SELECT employee, "
                         f"{', '.join(f'a{i}' for i in range(3 * len(facts)))} FROM {table}")
                out.append((facts, self.con.execute(query).fetchall()))
        return out

    @staticmethod
    def facts_of(rows: list[tuple[list[FactPlan], list[tuple[Any, ...]]]]
                 ) -> tuple[dict[str, dict[str, Decimal]], bool]:
        """`fact_rows` with the Python stage's digits, by employee and fact; and whether every
        value is known to be within a fact's bounds by its column (`_bounded`), so that no
        employee's needs `check_bounds`."""
        out: dict[str, dict[str, Decimal]] = {}
        bounded = True
        for facts, found in rows:
            # a column at a time: each fact's values by one comprehension of its kind, where
            # a call a value (`_fact_value`) took 0.145 s of CPU for 10 000 employees × 3
            # facts and this 0.0x (measured)
            if not found:
                continue
            columns = list(zip(*found, strict=True))
            bounded = bounded and all(
                _bounded(fact.kind, columns[1 + 3 * i], columns[3 + 3 * i])
                for i, fact in enumerate(facts))
            made = [_fact_column(fact.kind, *columns[1 + 3 * i:4 + 3 * i])
                    for i, fact in enumerate(facts)]
            names = [fact.fact for fact in facts]
            # a dict an employee by `dict(zip)` unless one of its values is missing (found
            # by identity: `None in values` compares each Decimal with None), stored as it
            # is for the first source, whose rows name each employee once: `facts_of` of
            # 100 000 employees' three facts 0.31 → 0.29 s (measured)
            holes = {at for column in made for at, value in enumerate(column)
                     if value is None}
            first = not out
            for at, (employee, values) in enumerate(zip(columns[0], zip(*made, strict=True),
                                                        strict=True)):
                mine = dict(zip(names, values, strict=True)) if at not in holes else \
                    {n: v for n, v in zip(names, values, strict=True) if v is not None}
                if first:
                    out[employee] = mine
                else:
                    out.setdefault(employee, {}).update(mine)
        return out, bounded

    def _pay_stats(self, pay: PayPlan, grouped: bool = False) -> list[str]:
        """The payment's credits' most decimals, largest magnitude, and keys that are not
        integers written plainly (per employee when `grouped`)."""
        credit, decimals = _q(f"f_{pay.field}"), _q(f"d_{pay.field}")
        has = f" FILTER (WHERE {credit} IS NOT NULL)" if grouped else ""
        # `_kodd`: knum IS NULL OR CAST(knum AS VARCHAR) != key, made by the load
        mismatch = "0" if self.integer_keys[pay.source] else \
            f"count(*) FILTER (WHERE {credit} IS NOT NULL AND _kodd)"
        return [f"max({decimals}){has}", f"max(abs({credit})){has}", mismatch]

    # ---- per-deal payments
    def pay_totals(self, pay: PayPlan, plans: dict[str, Decimal]
                   ) -> dict[str, tuple[Decimal, int]]:
        """Each employee's payment: the sum of its deals' amounts, each rounded as the scheme
        rounds payouts and lifted to the per-deal minimum as the walk lifts it (the Python
        stage's sum of lines), in integers: credits and tier bounds in units of 10^-K (K the
        decimals they need), rates in units of 10^-R, a slice times a rate exact in units of
        10^-(K+R), rounded to the step by integer division. DuckDB puts the deals in order;
        the running totals and slices are array operations (kpidsl/sources/running.py) when
        every intermediate fits in 64 bits, else the SQL window query (`_sql_totals`)."""
        found, _order = self._pay_found(pay)
        k = int(found[0] or 0)
        bounds: dict[str, list[Decimal | None]] = {}
        made: dict[Decimal, list[Decimal | None]] = {}  # by plan: most share one
        for employee, value in plans.items():
            mine = made.get(value)
            if mine is None:
                scale = value if pay.running == "attainment" else Decimal(1)
                mine = made[value] = [None if bound is None else bound * scale
                                      for tier in pay.tiers for bound in (tier.lower, tier.upper)]
                k = max(k, *(_places(b) for b in mine if b is not None), 0)
            bounds[employee] = mine
        r = max((_places(t.rate) for t in pay.tiers), default=0)
        step = self.plan.payout_step.as_tuple().exponent
        assert isinstance(step, int)
        if r > 12 or not _in_units(found, k):
            raise Unusual("credits, bounds or rates too fine for integer units")
        unit = 10 ** k
        # in units once a plan, not once an employee (100 000 employees of one plan: 1.5 s)
        by_plan = {id(mine): [None if b is None else int(b * unit) for b in mine]
                   for mine in made.values()}
        units = [by_plan[id(mine)] for mine in bounds.values()]
        rates = [int(t.rate * 10 ** r) for t in pay.tiers]
        minimum = pay.minimum
        lift_shift, minimum_units = 0, 0
        if minimum is not None:
            floor = min(step, _exponent(minimum.normalize()))
            lift_shift, minimum_units = step - floor, int(minimum.scaleb(-floor))
        max_run = int((found[1] or 0) * unit) * max(self.most_deals, 1)
        # once a plan, not once an employee (100 000 employees × 8 bounds: 0.9 s, profiled)
        max_bound = max((abs(b) for row in by_plan.values() for b in row if b is not None),
                        default=0)
        if running.fits(int((found[1] or 0) * unit), max_run, max_bound,
                        sum(abs(x) for x in rates), k + r + step,
                        abs(minimum_units), self.most_deals):
            totals = self._array_totals(pay, unit, bounds, units, rates, k + r + step,
                                        lift_shift, minimum_units)
        else:
            self.settle()  # the connection's again
            totals = self._sql_totals(pay, unit, bounds, units, rates, k + r + step,
                                      lift_shift, minimum_units)
        exponent = min(0, step)
        places = Decimal(1).scaleb(exponent)
        places_lifted = places if minimum is None else \
            Decimal(1).scaleb(min(exponent, _exponent(minimum)))
        exponent_units = step - lift_shift
        if exponent_units == exponent and minimum is None:  # the units are the step's:
            return {employee: (Decimal(total).scaleb(exponent), count)  # quantize is a no-op
                    for employee, total, count, _lifted in totals}
        return {employee: (Decimal(total).scaleb(exponent_units).quantize(
                    places_lifted if lifted else places), count)
                for employee, total, count, lifted in totals}

    def _pay_found(self, pay: PayPlan) -> tuple[tuple[Any, ...], str]:
        """The payment's `_pay_stats` over every employee, and the order of its deals."""
        known = self._found.get(pay.payment)
        if known is not None:
            return known
        self.settle()  # the connection is this thread's
        table, at = self._scanned_pays.get(pay.payment, ("", -1))
        if table:  # computed by the scan of `employees`
            found = self.con.execute(f"SELECT max(a{at}), max(a{at + 1}), sum(a{at + 2}) "
                                     f"FROM {table}").fetchall()[0]
        else:
            credit = _q(f"f_{pay.field}")
            found = self.con.execute(f"SELECT {', '.join(self._pay_stats(pay))} FROM "
                                     f"{self.views[pay.source]} WHERE {credit} IS NOT NULL"
                                     ).fetchall()[0]
        # keys that are all integers written plainly are ordered by their number alone (the
        # text cannot break a tie the number leaves): a narrower sort key
        order = "date, knum, file, row" if not found[2] else \
            "date, knum NULLS LAST, key, file, row"
        if sum(n.name == pay.source for n in self.files) == 1:
            order = order.replace("file, ", "")  # one file: its rows break every tie
        self._found[pay.payment] = found, order
        return found, order

    def _where_paid(self, pay: PayPlan) -> str:
        """The SQL condition of the deals a payment pays."""
        credit = _q(f"f_{pay.field}")
        return (f"{in_period(self.period)} AND {self.where(pay.source, pay.where)} AND "
                f"{credit} IS NOT NULL{self.clean[pay.source]}")

    def _sorted_query(self, pay: PayPlan, unit: int) -> str:
        """The query of `_array_totals`: the payment's deals (employee ordinal, credit in
        units, and a key number when there is a minimum) in the payment's order, sorted by
        DuckDB. (DuckDB 2.0 sorting by the ordinal alone, the ties then put in order by
        numpy's argsorts, took 4.04–4.22 s for 10 M deals where this takes 3.87–4.34 s, and
        30 MiB more: three more columns handed over; measured, interleaved. The argsorts
        had paid on DuckDB 1's sort, 4.5 s of CPU where the ordinal alone took 2.6 s.)"""
        credit = _q(f"f_{pay.field}")
        keyed = ", dense_rank() OVER (ORDER BY v.key) AS kid" if pay.minimum is not None else ""
        found, order = self._pay_found(pay)
        # credits in 32 bits when they fit: each sorted row is 4 bytes narrower, and the
        # arrays' sums are taken in 64 (numpy's cumsum of int32 gives int64)
        width = "INTEGER" if int((found[1] or 0) * unit) < 2 ** 31 else "BIGINT"
        return (f"SELECT o.ordinal, CAST({credit} * {unit} AS {width}) AS c{keyed} FROM "
                f"{self.views[pay.source]} v JOIN {self._ordinals()} o USING (employee) "
                f"WHERE {self._where_paid(pay)} ORDER BY o.ordinal, {order}")

    def start_sort(self, pay: PayPlan) -> None:
        """DuckDB sorts the payment's deals in a thread while Python converts the facts and
        makes the employees' rows (`_evaluate_sources_native`), which touch no DuckDB
        connection until `pay_totals` takes the sorted deals (or `settle` drops them). The
        sort releases the GIL: at 10 M deals it took 1.0 s of wall time on both cores, the
        Python work beside it 1.0 s on one (measured). The query is the one `pay_totals`
        makes when the tier bounds need no more decimals than the credits; otherwise that
        query is made again."""
        found, _order = self._pay_found(pay)
        k = int(found[0] or 0)
        if not _in_units(found, k):
            return  # `pay_totals` refuses it
        query = self._sorted_query(pay, 10 ** k)
        sorting = Sorting(query)

        def run() -> None:
            try:
                sorting.reader = self.con.sql(query).to_arrow_reader(CHUNK)
            except BaseException as exc:  # raised where it is taken
                sorting.failure = exc

        sorting.thread = threading.Thread(target=run, name="kpidsl-sort", daemon=True)
        try:
            sorting.thread.start()
        except RuntimeError:  # no thread to be had: `pay_totals` sorts them itself
            return
        self._sorting = sorting

    def settle(self) -> None:
        """The sort `start_sort` began, finished and dropped: the connection is the caller's."""
        sorting, self._sorting = self._sorting, None
        if sorting is not None:
            sorting.take()
            if sorting.reader is not None:
                sorting.reader.close()

    def _sorted(self, query: str) -> Any:
        """The batches of the sorted deals: those `start_sort` began when it is the same
        query, else a new one."""
        sorting = self._sorting
        if sorting is not None and sorting.query == query:
            self._sorting = None
            return sorting.take()
        self.settle()
        return self.con.sql(query).to_arrow_reader(CHUNK)

    def _ordinals(self) -> str:
        """A table of (employee, ordinal): each employee's place in the run (made once)."""
        if not self._ordinal_table:
            self.con.execute("CREATE TEMP TABLE native_ordinals AS SELECT employee, CAST("
                             "row_number() OVER (ORDER BY first) - 1 AS INTEGER) AS ordinal "
                             "FROM native_employees")
            self._ordinal_table = "native_ordinals"
        return self._ordinal_table

    def _array_totals(self, pay: PayPlan, unit: int,
                      bounds: dict[str, list[Decimal | None]], units: list[list[int | None]],
                      rates: list[int], shift: int, lift_shift: int, minimum: int,
                      ) -> Iterable[tuple[str, int, int, bool]]:
        """The deals in order from DuckDB (employee ordinal, credit in units, a key number
        when there is a minimum), the sums from kpidsl/sources/running.py. (Sorting by the
        employee's name instead, with each one's count from a GROUP BY in the same order,
        spares the join but took 1.31 s where this took 0.86 s at 900 000 deals; under DuckDB
        2.0, 1.87 s where this took 1.30 s at 9 M.)"""
        import numpy as np

        keyed = pay.minimum is not None
        names = self.ordered
        columns = len(pay.tiers) * 2
        distinct = _distinct(units)
        opens = [(units[0][2 * i] is None, units[0][2 * i + 1] is None) if units else
                 (True, True) for i in range(len(pay.tiers))]
        wanted = None  # employees asked for, by ordinal (None: all)
        if len(distinct) <= 1:
            grid = np.array([[0 if b is None else b for b in (units[0] if units else
                                                              [None] * columns)]],
                            dtype=np.int64)
            if units and len(bounds) < len(names):  # only the employees asked for
                wanted = np.zeros(len(names), dtype=bool)
                wanted[[self.ordinal[e] for e in bounds]] = True
        else:
            grid = np.zeros((len(names), columns), dtype=np.int64)
            wanted = np.zeros(len(names), dtype=bool)
            for employee, row in zip(bounds, units, strict=True):
                at = self.ordinal[employee]
                wanted[at] = True
                grid[at] = [0 if b is None else b for b in row]
        tiers = running.Tiers(grid, opens, rates)
        reader = self._sorted(self._sorted_query(pay, unit))
        found: list[tuple[Any, Any, Any, Any]] = []
        buffers = running.Buffers()

        def paid(arrays: list[Any]) -> None:
            ordinal, credits = arrays[0], arrays[1]
            keys = arrays[2] if keyed else None
            if wanted is not None:
                keep = wanted[ordinal]
                ordinal, credits = ordinal[keep], credits[keep]
                keys = keys[keep] if keys is not None else None
            found.append(running.payment_totals(
                ordinal, credits, tiers, shift, self.plan.payout_mode,
                minimum if pay.minimum is not None else None, keys, lift_shift, buffers))

        # the sorted deals streamed in batches, each paid up to its last employee (whose
        # deals may go on in the next): arrays of a few MB are reused where one array a
        # column of 9 M deals took each operation's pages fresh (payment_totals over 9 M
        # deals at once 3.8 s, in batches of 2^20 1.4 s, measured), and memory stays flat
        held: list[Any] = []
        for batch in reader:
            arrays = [_numbers(np, batch.column(i)) for i in range(batch.num_columns)]
            if held:  # into reused arrays (`running.Buffers`), the few deals held first
                arrays = [np.concatenate([a, b], out=buffers.get(
                    np, f"column {i}", len(a) + len(b), a.dtype))
                    for i, (a, b) in enumerate(zip(held, arrays, strict=True))]
            ordinal = arrays[0]
            if not len(ordinal):
                continue
            last = int(np.searchsorted(ordinal, ordinal[-1]))  # sorted by ordinal
            if last:
                paid([a[:last] for a in arrays])
            held = [a[last:].copy() for a in arrays]  # apart from the arrays reused next
        if held and len(held[0]):
            paid(held)
        # each employee once, in order (a batch holds its last employee's deals back for the
        # next), read as the sums are made into Decimals (`pay_totals`): no dict between
        return itertools.chain.from_iterable(
            zip(map(names.__getitem__, who.tolist()), sums.tolist(), counts.tolist(),
                lifted.tolist(), strict=True) for who, sums, counts, lifted in found)

    def _sql_totals(self, pay: PayPlan, unit: int,
                    bounds: dict[str, list[Decimal | None]], units: list[list[int | None]],
                    rates: list[int], shift: int, lift_shift: int = 0, minimum: int = 0,
                    ) -> Iterable[tuple[str, int, int, bool]]:
        """The same sums by DuckDB's windows, in HUGEINT: amounts too large for 64 bits. The
        same query in DECIMAL(38, 10) (kpidsl/sources/duck.py) took 7.8 s for 900 000
        deals, this one 2.5 s (measured on the shared machine, same run). The per-deal
        minimum as the walk pays it: a deal of positive credit paying less is lifted to it;
        a reversal bringing its key's running credit to zero or below (a `reset`) takes back
        the lifts of that key since the previous reset (its group)."""
        credit, where = _q(f"f_{pay.field}"), self._where_paid(pay)
        _found, order = self._pay_found(pay)
        columns = len(pay.tiers) * 2
        distinct = _distinct(units)
        if len(distinct) == 1:  # one plan for everyone (a constant): bounds in the query
            (only,) = distinct
            given = [None if b is None else str(b) for b in only]
            join = ""
        else:
            table = self._bounds_table(pay, bounds, unit)
            given = [None if all(b[i] is None for b in bounds.values()) else f"p.b{i}"
                     for i in range(columns)]
            join = f"JOIN {table} p USING (employee)"
        slices = []
        for i, rate in enumerate(rates):
            lower, upper = given[2 * i], given[2 * i + 1]
            start = "lo" if lower is None else f"GREATEST(lo, {lower})"
            end = "hi" if upper is None else f"LEAST(hi, {upper})"
            if rate:
                slices.append(f"GREATEST({end} - {start}, 0) * {rate}")
        exact = f"sign(c) * ({' + '.join(slices) or '0'})"
        rounded = rounding_sql("x", shift, self.plan.payout_mode)
        query = f"""
            WITH d AS (
                SELECT employee, CAST(CAST({credit} * {unit} AS BIGINT) AS HUGEINT) AS c,
                       SUM(CAST(CAST({credit} * {unit} AS BIGINT) AS HUGEINT)) OVER (
                           PARTITION BY employee ORDER BY {order}
                           ROWS UNBOUNDED PRECEDING) AS after
                FROM {self.views[pay.source]}
                WHERE {where}),
            m AS (SELECT employee, c, LEAST(after - c, after) AS lo,
                         GREATEST(after - c, after) AS hi FROM d),
            x AS (SELECT m.employee, CAST({exact} AS HUGEINT) AS x FROM m {join})
            SELECT employee, SUM({rounded}), count(*) FROM x GROUP BY employee"""
        if pay.minimum is not None:
            lifted = 10 ** lift_shift
            query = f"""
            WITH d AS (
                SELECT employee, key, CAST(CAST({credit} * {unit} AS BIGINT) AS HUGEINT) AS c,
                       SUM(CAST(CAST({credit} * {unit} AS BIGINT) AS HUGEINT)) OVER w AS after,
                       row_number() OVER w AS seq
                FROM {self.views[pay.source]}
                WHERE {where}
                WINDOW w AS (PARTITION BY employee ORDER BY {order}
                             ROWS UNBOUNDED PRECEDING)),
            m AS (SELECT employee, key, seq, c, LEAST(after - c, after) AS lo,
                         GREATEST(after - c, after) AS hi FROM d),
            x AS (SELECT m.employee, key, seq, c, CAST({exact} AS HUGEINT) AS x FROM m {join}),
            a AS (SELECT employee, key, seq, c, {rounded} * {lifted} AS amount,
                         SUM(c) OVER (PARTITION BY employee, key ORDER BY seq
                                      ROWS UNBOUNDED PRECEDING) AS so_far FROM x),
            r AS (SELECT *, CASE WHEN c > 0 AND amount < {minimum} THEN {minimum} - amount
                                 ELSE 0 END AS up,
                         c < 0 AND so_far <= 0 AS reset FROM a),
            g AS (SELECT *, coalesce(SUM(CASE WHEN reset THEN 1 ELSE 0 END) OVER (
                      PARTITION BY employee, key ORDER BY seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS grp FROM r),
            l AS (SELECT *, CASE WHEN reset THEN -SUM(up) OVER (PARTITION BY employee, key, grp)
                                 ELSE up END AS lift FROM g)
            SELECT employee, SUM(amount + lift), count(*), bool_or(lift != 0) FROM l
            GROUP BY employee"""
            return [(e, int(total), int(n), bool(x))
                    for e, total, n, x in self.con.execute(query).fetchall()]
        return [(e, int(total), int(n), False)
                for e, total, n in self.con.execute(query).fetchall()]

    def _bounds_table(self, pay: PayPlan, bounds: dict[str, list[Decimal | None]],
                      unit: int) -> str:
        """Each employee's tier bounds in units, as a table (through a temporary CSV: an
        Arrow table would import pandas, 0.5 s)."""
        import csv
        import tempfile

        name = f"bounds_{pay.fact.replace('.', '_')}"
        columns = len(pay.tiers) * 2
        with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8",
                                         delete=False) as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            for employee, mine in bounds.items():
                writer.writerow([employee, *("" if b is None else int(b * unit) for b in mine)])
        types = ", ".join(["'employee': 'VARCHAR'",
                           *(f"'b{i}': 'HUGEINT'" for i in range(columns))])
        try:
            self.con.execute(f"CREATE TEMP TABLE {_q(name)} AS SELECT * FROM read_csv("
                             f"{_lit(handle.name)}, delim = '\t', header = false, quote = '\"', "
                             f"auto_detect = false, columns = {{{types}}})")
        finally:
            Path(handle.name).unlink(missing_ok=True)
        return _q(name)

    def deal_counts(self, pay: PayPlan) -> dict[str, int]:
        """The payment's deals by employee (asked once: before `start_sort`, then again)."""
        known = self._counts.get(pay.payment)
        if known is None:
            self.settle()  # the connection is this thread's
            query = (f"SELECT employee, count(*) FROM {self.views[pay.source]} WHERE "
                     f"{self._where_paid(pay)} GROUP BY employee")
            known = self._counts[pay.payment] = {
                e: int(n) for e, n in self.con.execute(query).fetchall()}
        return known


def _in_units(found: tuple[Any, ...], k: int) -> bool:
    """Whether a payment's credits (`_pay_stats`) are whole 64-bit numbers of units of
    10^-k, k at most 12."""
    return k <= 12 and (found[1] is None or found[1] * 10 ** k < 9 * 10 ** 18)


@dataclass
class Sorting:
    """A payment's deals sorted by DuckDB in a thread (`Native.start_sort`)."""

    query: str
    thread: threading.Thread | None = None
    reader: Any = None
    failure: BaseException | None = None

    def take(self) -> Any:
        """The sorted deals' batches, once the thread is done; its error raised here."""
        if self.thread is not None:
            self.thread.join()
        if self.failure is not None:
            raise self.failure
        return self.reader


_STEPS = [Decimal(1).scaleb(-d) for d in range(39)]  # `_exact`'s quantum by decimals


def _bounded(kind: str, sums: Sequence[Any], decimals: Sequence[Any]) -> bool:
    """Whether every value of a fact's column is within a fact's bounds (`bound_error`)
    without a test a value: a count; a total or an average whose sums DuckDB writes in at
    most 20 characters, with at most 8 decimals as written (the total below 10^20 however
    it is rounded, with at most 28 digits; an average no larger, rounded by `mean` within
    the digits). `check_bounds` took 0.12 s of 100 000 employees' three facts (measured)."""
    if kind in ("count", "count distinct"):
        return True
    if kind in ("total", "average"):  # the sums as text, as `_fact_selects` asks for them
        return max(map(len, filter(None, sums)), default=0) <= 20 and \
            max(filter(None, decimals), default=0) <= 8
    return False


def _fact_column(kind: str, first: Sequence[Any], second: Sequence[Any],
                 third: Sequence[Any]) -> list[Decimal | None]:
    """`_fact_value` of each employee's three aggregates, a column at a time: the same
    operations, without a call and a dispatch on the kind a value."""
    if kind in ("count", "count distinct"):
        return [Decimal(x) if x else None for x in first]
    if kind == "total":
        steps = _STEPS
        return [Decimal(x).quantize(steps[d]) + 0 if x is not None and n else None
                for x, n, d in zip(first, second, third, strict=True)]
    if kind == "average":
        steps = _STEPS
        return [mean(Decimal(x).quantize(steps[d]), n) if x is not None and n else None
                for x, n, d in zip(first, second, third, strict=True)]
    return [_fact_value(kind, *v) for v in zip(first, second, third, strict=True)]


def _fact_value(kind: str, first: Any, second: Any, third: Any) -> Decimal | None:
    if kind in ("count", "count distinct"):
        return Decimal(first) if first else None
    if first is None:
        return None
    if kind == "total":
        return _exact(first, third) + 0 if second else None
    if kind == "average":
        return mean(_exact(first, third), second) if second else None
    if kind in ("min", "max"):
        value, decimals = first.values() if isinstance(first, dict) else first
        return _exact(value, decimals)
    if kind == "median":
        from .evaluate import _SUM

        items = [_exact(v[0], v[3]) if not isinstance(v, dict) else
                 _exact(*(list(v.values())[i] for i in (0, 3))) for v in first]
        if not items:
            return None
        middle = len(items) // 2
        if len(items) % 2:
            return items[middle]
        return _SUM.divide(_SUM.add(items[middle - 1], items[middle]), 2)
    raise ValueError(kind)  # pragma: no cover


class LazyDeals(Sequence[DealLine]):
    """An employee's per-deal lines, made when first read (see the module's docstring)."""

    def __init__(self, store: DealStore, employee: str, count: int) -> None:
        self.store, self.employee, self.size = store, employee, count
        self._lines: tuple[DealLine, ...] | None = None

    def _made(self) -> tuple[DealLine, ...]:
        if self._lines is None:
            self._lines = self.store.lines(self.employee)
        return self._lines

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    @overload
    def __getitem__(self, index: int) -> DealLine: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DealLine]: ...

    def __getitem__(self, index: int | slice) -> DealLine | Sequence[DealLine]:
        return self._made()[index]

    def __iter__(self) -> Iterator[DealLine]:
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __hash__(self) -> int:
        return hash(self._made())


class DealStore:
    """The per-deal rows of the paid employees, fetched BATCH employees at a time, walked by
    the Python walk (the oracle's own lines), checked against the SQL sums."""

    def __init__(self, native: Native, everyone: list[str], paid: Paid) -> None:
        self.native, self.paid, self.everyone = native, paid, everyone
        self.ordinal: dict[str, int] = {}  # the paid employees' places, made when first read
        self.order: list[str] = []
        self.made: dict[str, tuple[DealLine, ...]] = {}
        self.tables: dict[str, str] = {}

    def _table(self, pay: PayPlan) -> str:
        """The payment's deals, sorted by the employee's place in the run (made once)."""
        import pyarrow as pa

        found = self.tables.get(pay.payment)
        if found is not None:
            return found
        con = self.native.con
        con.register("deal_ordinals", pa.table({
            "employee": pa.array(self.order, pa.string()),
            "ordinal": pa.array(range(len(self.order)), pa.int64())}))
        where = self.native.where(pay.source, pay.where)
        credit, decimals = _q(f"f_{pay.field}"), _q(f"d_{pay.field}")
        name = f"deals_{len(self.tables)}"
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT o.ordinal, v.employee, v.key, v.date, "
                    f"v.file, v.path, v.row, {credit} AS credit, {decimals} AS decimals "
                    f"FROM {self.native.views[pay.source]} v JOIN deal_ordinals o USING "
                    f"(employee) WHERE {in_period(self.native.period)} AND {where} AND "
                    f"{credit} IS NOT NULL{self.native.clean[pay.source]} ORDER BY o.ordinal")
        con.unregister("deal_ordinals")
        self.tables[pay.payment] = name
        return name

    def lines(self, employee: str) -> tuple[DealLine, ...]:
        found = self.made.pop(employee, None)
        if found is not None:
            return found
        if not self.order:
            paid = [totals for totals, _plans in self.paid.values()]
            self.order = [e for e in self.everyone if any(e in totals for totals in paid)]
            self.ordinal = {e: i for i, e in enumerate(self.order)}
        start = self.ordinal[employee]
        batch = self.order[start:start + BATCH]
        rows: dict[str, dict[str, list[Deal]]] = {e: {} for e in batch}
        plan = self.native.plan
        for pay in plan.pays.values():
            totals, _plans = self.paid[pay.payment]
            if not any(e in totals for e in batch):
                continue
            table = self._table(pay)
            for _o, who, key, date, file, path, row, credit, decimals in \
                    self.native.con.execute(
                        f"SELECT * FROM {table} WHERE ordinal BETWEEN ? AND ?",
                        [start, start + len(batch) - 1]).fetchall():
                rows[who].setdefault(pay.payment, []).append(Deal(
                    order_key(date, key, file, row), key, date, path, row,
                    _exact(credit, decimals), None))
        self.made = {}
        for who in batch:
            made: list[DealLine] = []
            for pay in plan.pays.values():
                totals, plans = self.paid[pay.payment]
                own = rows[who].get(pay.payment)
                if not own or who not in totals:
                    continue
                with decimal.localcontext(CONTEXT):
                    lines = walk(pay, who, own, plans.get(who) if plans is not None else None,
                                 plan.payout_step, plan.payout_mode)
                total = sum((d.amount for d in lines), Decimal(0))
                if total != totals[who][0]:
                    raise KpiError([error(
                        "KPI904", f"DuckDB and Python disagree on the per-deal payment "
                        f"'{pay.payment}' of '{who}': {totals[who][0]} and {total}")])
                made += lines
            self.made[who] = tuple(made)
        return self.made.pop(employee)


def evaluate_sources_native(ruleset: Ruleset, readers: dict[str, list[SourceReader]], *,
                            period: str | None = None, grade: str | None = None,
                            month: int | None = None, extra: dict[str, FactRow] | None = None,
                            on_warning: Callable[[list[Diagnostic]], None] | None = None,
                            ) -> tuple[NativeStage, Iterator[SourceResult]]:
    """The sources stage with DuckDB reading every file; Unusual when a file is not plain
    (the caller then reads them with the Python reader)."""
    with collector_paused():
        return _evaluate_sources_native(ruleset, readers, period=period, grade=grade,
                                        month=month, extra=extra)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the native stage builds its 100 000
    employees' rows: everything it makes stays alive until the results are read and holds
    no cycle, and the collector's full passes over it took 0.6 s of 4.9 at 10 M deals
    (0.7 s of 4.0 in this stage; measured). Its state is given back as it was found.

    What the stage made is handed to the oldest generation as it stands (`freeze`, then
    `unfreeze`, moves every tracked object there without looking at one): the youngest
    generation's first pass over its million objects took 0.07 s before the first result
    (measured). Left alone when the caller has frozen objects itself: `unfreeze` would
    thaw them too."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _evaluate_sources_native(ruleset: Ruleset, readers: dict[str, list[SourceReader]], *,
                             period: str | None, grade: str | None, month: int | None,
                             extra: dict[str, FactRow] | None,
                             ) -> tuple[NativeStage, Iterator[SourceResult]]:
    import duckdb

    plan = source_plan(ruleset)
    bounds = period_bounds(period, plan.period) if period else None
    con = duckdb.connect()
    # bounded as the facts files' native path is (kpidsl/sql/native.py): DuckDB spills a
    # CSV's table of rows and the payment's sort to disk beyond it. 10 M CSV deals peaked at
    # 1 616 MiB without it, 702 MiB with 400 MB (and took 1.11x the time, same load)
    con.execute(f"SET memory_limit = '{MEMORY}'")
    con.execute(f"SET temp_directory = {_lit(tempfile.gettempdir())}")
    native: Native | None = None
    try:
        native = Native(ruleset, plan, con, readers, bounds)
        employees = native.employees()  # Unusual first: a totals row has a date too
        if bounds is None:
            seen = native.periods()
            if len(seen) > 1:
                raise KpiError([error(
                    "KPI543", f"the sources hold rows of {len(seen)} periods "
                    f"({', '.join(seen[:6])}{' …' if len(seen) > 6 else ''}); adding them up "
                    "as one would pay several periods at once",
                    hint=f"choose the period: --period {seen[-1][:7]}")])
        aggregates = native.fact_rows()
        first = next(iter(plan.pays.values()), None)
        if first is not None and employees:
            if _plan_by_employee(ruleset, first):
                native.deal_counts(first)  # asked by `_prepare`, before the sort holds DuckDB
            native.start_sort(first)
        values, bounded = native.facts_of(aggregates)  # Python, beside DuckDB's sort
        prepared = _prepare(ruleset, native, employees, values, bounded, grade, month,
                            extra or {})
        native.settle()
    except duckdb.Error as exc:
        native_failed(native)
        con.close()
        raise Unusual(str(exc)) from None
    except BaseException:
        native_failed(native)
        con.close()
        raise
    stage = NativeStage(native.rows, native.bad_rows, native.harmless)
    return stage, _results(native, employees, *prepared)


def native_failed(native: Native | None) -> None:
    """A sort still running in its thread finished before the connection closes (its own
    error is the lesser one: the run's is raised)."""
    if native is not None:
        with contextlib.suppress(Exception):
            native.settle()


# by payment: each employee's (amount, deals), and the plans its running attainment was
# taken over (None: it is not paid on an attainment)
Paid = dict[str, tuple[dict[str, tuple[Decimal, int]], dict[str, Decimal] | None]]
Prepared = tuple[list[str], dict[str, FactRow], dict[str, dict[str, list[Diagnostic]]], Paid]


def _constant_plan(ruleset: Ruleset, pay: PayPlan) -> Decimal | None:
    """The plan of the KPI a running attainment is taken over, when it is one constant for
    everyone (one grade, no plan by month, no fact in it); else None."""
    from ..checks.fold import fold as fold_expr

    if pay.running != "attainment" or len(ruleset.checked.variants) != 1:
        return None
    (variant,) = ruleset.checked.variants.values()
    kpi = variant.kpis.get(pay.kpi)
    if kpi is None or kpi.plan is None or kpi.plan_by_month:
        return None
    return fold_expr(kpi.plan, variant.constant_values)


def _plan_by_employee(ruleset: Ruleset, pay: PayPlan) -> bool:
    """Whether a running attainment's plan is evaluated for each employee (not one constant
    for everyone; a constant of zero too, so that each says KPI901)."""
    return pay.running == "attainment" and not _constant_plan(ruleset, pay)


def _prepare(ruleset: Ruleset, native: Native, employees: list[tuple[str, str, int, int]],
             values: dict[str, dict[str, Decimal]], bounded: bool, grade: str | None,
             month: int | None, extra: dict[str, FactRow]) -> Prepared:
    """Each employee's facts row, failures, plans and per-deal sums, before the first result
    (a query DuckDB cannot run sends the run to the Python reader): the same rules as
    kpidsl/sources/run.py's, on the values DuckDB gives."""
    plan = native.plan
    seen = {e for e, *_ in employees}
    order = [(e, f, r) for e, f, r, _n in employees]
    order += [(e, "", 0) for e in extra if e not in seen]
    rows: dict[str, FactRow] = {}
    failed: dict[str, dict[str, list[Diagnostic]]] = {}
    failures = native.failures
    for name, file, first in order:
        # `facts` made this employee's dict for this run alone: it is the row's, uncopied
        mine = values.get(name) or {}
        facts_row = extra.get(name) if extra else None
        if facts_row is not None:
            mine = {**facts_row.values, **mine}
        why = check_bounds(mine) if facts_row is not None or not bounded else None
        if why is not None or name in failures:
            mine_failed = {f: list(d) for f, d in failures.get(name, {}).items()}
            if why is not None:
                mine_failed.setdefault("", []).append(error("KPI902",
                                                            f"employee '{name}': {why}"))
            failed[name] = mine_failed
        if facts_row is None:
            rows[name] = _fact_row({"file": file, "row": first, "employee": name,
                                    "grade": None, "team": None, "values": mine, "extra": {}})
            continue
        if name not in seen:
            file, first = facts_row.file, facts_row.row
        rows[name] = FactRow(file, first, name, facts_row.grade, facts_row.team, mine,
                             dict(facts_row.extra))
    # per-deal payments: the plans from the scheme's evaluation, the sums from SQL, kept
    # by payment as `pay_totals` gives them (a dict an employee: 0.11 s of 100 000, measured)
    paid: Paid = {}
    kpi_plans: dict[str, dict[str, Decimal | None]] = {}

    def plan_of(name: str, pay: PayPlan) -> Decimal | None:
        """The KPI's plan as the scheme evaluates it for the employee; None when it failed."""
        known = kpi_plans.setdefault(name, {})
        if pay.kpi not in known:
            row = rows[name]
            try:
                result = ruleset.evaluate(row.values, grade or row.grade, employee=name,
                                          month=month)
            except KpiError as exc:
                failed[name] = {"": [exc.diagnostics[0]]}
                return None
            known[pay.kpi] = result.kpis[pay.kpi].plan if pay.kpi in result.kpis else None
        value = known[pay.kpi]
        if value is None or not value:
            failed[name] = {"": [error(
                "KPI901", f"employee '{name}': payment '{pay.payment}' is paid on the running "
                f"attainment of '{pay.kpi}', whose plan is {value or 'missing'}")]}
            return None
        return value

    for pay in plan.pays.values():
        wanted: dict[str, Decimal] = {}
        if not _plan_by_employee(ruleset, pay):
            constant = _constant_plan(ruleset, pay) or Decimal(0)
            wanted = {name: constant for name in rows if name not in failed}
        else:
            for name in native.deal_counts(pay):
                if name not in failed:
                    value = plan_of(name, pay)
                    if value is not None:
                        wanted[name] = value
        # an employee failed here fails whole: `_results` pays none of its payments
        paid[pay.payment] = (native.pay_totals(pay, wanted) if wanted else {},
                             wanted if pay.running == "attainment" else None)
    return [e for e, *_ in order], rows, failed, paid


def _results(native: Native, employees: list[tuple[str, str, int, int]], order: list[str],
             rows: dict[str, FactRow], failed: dict[str, dict[str, list[Diagnostic]]],
             paid: Paid) -> Iterator[SourceResult]:
    """Each employee's facts and per-deal sums, in the Python stage's order. An employee paid
    on a running attainment is `deferred`: its one constant plan was not evaluated for it
    first, so a failure there is the run's evaluation's to report."""
    plan = native.plan
    store = DealStore(native, order, paid)
    counts = [n for _e, _f, _r, n in employees]  # the employees of the facts files after
    counts += [0] * (len(order) - len(counts))
    pays = [(payment, plan.pays[payment].fact, totals.get, plans)
            for payment, (totals, plans) in paid.items()]
    get_failed = failed.get
    for name, rows_read in zip(order, counts, strict=True):
        row = rows[name]
        mine_failed = get_failed(name)
        if mine_failed:
            yield SourceResult(row, mine_failed, (), rows_read)
            continue
        values = row.values
        count, deferred, mine_plans = 0, False, {}
        for payment, fact, total_of, plans in pays:
            total = total_of(name)
            if total is not None:
                values[fact], n = total
                count += n
                mine_plans[payment] = None if plans is None else plans[name]
                deferred = deferred or plans is not None
        yield SourceResult(row, {}, LazyDeals(store, name, count) if mine_plans else (),
                           rows_read, mine_plans, deferred)


__all__ = ["LazyDeals", "NativeStage", "evaluate_sources_native"]
