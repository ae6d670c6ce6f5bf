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
dates, VARCHAR text) or text in the same grammar. Such a file has no row the Python reader
would fail or warn about, so every row is evaluated and no diagnostic is lost; any other
file (a bad cell, a split column, a percent field, a totals row, XLSX, JSON) makes the
whole run go through the Python reader, whose diagnostics name file, row and column.

The facts are one GROUP BY with a FILTER per fact (kpidsl/sources/duck.py); each numeric
cell carries the number of decimals it was written with, so a total, a minimum or a median
comes back with the exact digits the Python stage gives (1 047,20 stays 1047.20). Per-deal
payments are computed by the window query, rounded in SQL as the scheme rounds, and summed
per employee; each employee's per-deal lines are made only when they are read (statements,
JSON, explanations), by the Python walk over the rows DuckDB fetches for a batch of
employees at a time, and their amounts are checked against the SQL ones (KPI904).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

from ..diagnostics import Diagnostic, KpiError, error
from ..facts import FactRow
from ..runtime import CONTEXT
from ..sql.native import NativeFile, Unusual, _lit, _q, cell_sql
from ..units import Unit
from ..values import show
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
_DATE = ("([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}[.][0-9]{2}[.][0-9]{4})"
         "( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?")
_FORMATS = "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d', '%d.%m.%Y %H:%M:%S', " \
    "'%d.%m.%Y %H:%M', '%d.%m.%Y']"
_NUMBERS = (Unit.MONEY, Unit.NUMBER, Unit.COUNT, Unit.MINUTES, Unit.HOURS, Unit.DAYS)
_NON_NEGATIVE = (Unit.COUNT, Unit.MINUTES, Unit.HOURS, Unit.DAYS)
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
BATCH = 2_000  # employees whose per-deal lines one query fetches


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


def _date_sql(cell: str, required: bool) -> tuple[str, str]:
    value = f"try_strptime({cell}, {_FORMATS})"
    ok = f"(regexp_full_match({cell}, '{_DATE}') AND {value} IS NOT NULL)"
    return (ok if required else f"({cell} IS NULL OR {ok})"), value


def _key_sql(cell: str) -> tuple[str, str]:
    """(plain, number): a key is an integer of up to 18 digits (ordered by value, as
    key_number orders it) or text that does not start like a number."""
    number = f"regexp_full_match({cell}, '[0-9]{{1,18}}')"
    ok = f"({_id_check(cell)} AND ({number} OR NOT regexp_matches({cell}, '^[-+.0-9]')))"
    return ok, f"CASE WHEN {number} THEN CAST({cell} AS BIGINT) END"


def _number_sql(cell: str, unit: Unit, comma: bool) -> tuple[str, str, str]:
    """(plain or empty, value, decimals as written) of a numeric cell in the plain grammar."""
    ok, text, shifted = cell_sql(cell, unit, None, comma)
    blank = f"({cell} IS NULL OR trim({cell}) = '')"
    number = f"CAST({text} AS DECIMAL(18, 6))"
    value = (f"CASE WHEN {blank} THEN NULL WHEN {shifted} THEN CAST({number} * 0.01 AS "
             f"DECIMAL(18, 6)) ELSE {number} END")
    decimals = (f"CAST(CASE WHEN {blank} THEN 0 ELSE coalesce(length({text}) - "
                f"nullif(strpos({text}, '.'), 0), 0) + CASE WHEN {shifted} THEN 2 ELSE 0 END "
                f"END AS TINYINT)")
    return f"({blank} OR {ok})", value, decimals


def _typed_number(cell: str, kind: str, unit: Unit) -> tuple[str, str, str]:
    """A Parquet number: DECIMAL(p, s ≤ 10) or an integer, as the Python reader takes it."""
    scale = 0
    if kind.startswith("DECIMAL"):
        scale = int(kind.split(",")[1].strip(" )"))
        if scale > 10:
            raise Unusual("more than 10 decimals")
    elif kind not in _INTEGERS:
        raise Unusual(f"a {kind} number")
    value = f"CAST({cell} AS DECIMAL(38, 10))"
    checks = [f"abs({value}) < 1e{min(18, 28 - scale)}"]
    if unit in _NON_NEGATIVE:
        checks.append(f"{value} >= 0")
    if unit is Unit.COUNT:
        checks.append(f"{value} = trunc({value})")
    return f"({cell} IS NULL OR ({' AND '.join(checks)}))", value, f"CAST({scale} AS TINYINT)"


class NativeSource:
    """One source file loaded into a DuckDB table when it is plain, else Unusual."""

    def __init__(self, con: Any, reader: SourceReader, index: int, plan: SourcePlan,
                 name: str) -> None:
        self.con, self.reader, self.index, self.plan = con, reader, index, plan
        self.name = name
        self.table = f"native_{index}"
        self.copy: NativeFile | None = None

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
        columns, checks = self._columns(positions, titles)
        self.con.execute(f"CREATE TEMP TABLE {self.table} AS SELECT {', '.join(columns)}, "
                         f"{' AND '.join(checks)} AS _ok FROM {scan}")
        n, bad = self.con.execute(f"SELECT count(*), count(*) FILTER (WHERE NOT _ok) FROM "
                                  f"{self.table}").fetchone()
        if bad or not n or (lines is not None and n + 1 != lines):
            raise Unusual("cells outside the plain grammar, blank lines or cells over lines")
        if self.con.execute(f"SELECT count(*) FROM {self.table} WHERE date IS NULL AND "
                            f"({self.rests_on()})").fetchone()[0]:
            raise Unusual("a row without a date that a fact rests on")
        return int(n)

    def rests_on(self) -> str:
        """SQL: a row that a fact or a payment would count, on its cells (the Python stage
        fails those facts when the row has no date; any other row without one is evaluated
        and counts for nothing, as there)."""
        source = self.reader.source
        kinds = {f.name: f.kind for f in source.fields}
        plan = self.plan
        plans: list[FactPlan | PayPlan] = [*plan.facts.values(), *plan.pays.values()]
        wheres = [condition_sql(p.where, kinds) for p in plans if p.source == self.name]
        return " OR ".join(wheres) or "FALSE"

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
        return f"(SELECT {renamed} FROM {scan})"

    def _columns(self, positions: dict[str, int], titles: list[str]) -> tuple[list[str],
                                                                             list[str]]:
        reader = self.reader
        kinds = list(self._types.values())
        comma = reader.locale != "en"

        def at(name: str) -> tuple[str, str]:
            index = positions[name]
            return _q(f"c{index}"), kinds[index]

        columns, checks = [], []
        cell, kind = at("employee")
        if kind != "VARCHAR":
            raise Unusual("employee")
        columns.append(f"{cell} AS employee")
        checks.append(_id_check(cell))
        cell, kind = at("date")
        # an empty date is checked after the load: no fact may rest on its row
        if kind == "VARCHAR":
            ok, value = _date_sql(cell, False)
            ok = f"(trim({cell}) = '' OR {ok})"
        elif kind in ("TIMESTAMP", "DATE"):
            ok, value = "TRUE", f"CAST({cell} AS TIMESTAMP)"
        else:
            raise Unusual("date")
        columns.append(f"{value} AS date")
        checks.append(ok)
        if "key" in positions:
            cell, kind = at("key")
            if kind == "VARCHAR":
                ok, number = _key_sql(cell)
                columns += [f"{cell} AS key", f"{number} AS knum"]
            elif kind in _INTEGERS or kind == "BIGINT":
                ok = f"{cell} IS NOT NULL"
                columns += [f"CAST({cell} AS VARCHAR) AS key", f"CAST({cell} AS BIGINT) AS knum"]
            else:
                raise Unusual("key")
            checks.append(ok)
        else:
            columns += ["'' AS key", "NULL::BIGINT AS knum"]
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
                columns.append(f"coalesce(trim({cell}), '') AS {name}")
                checks.append(f"regexp_full_match(coalesce({cell}, ''), '{_TEXT}*')")
            elif fld.kind == "date":
                if kind == "VARCHAR":
                    ok, value = _date_sql(cell, False)
                elif kind in ("TIMESTAMP", "DATE"):
                    ok, value = "TRUE", f"CAST({cell} AS TIMESTAMP)"
                else:
                    raise Unusual("date field")
                columns.append(f"{value} AS {name}")
                checks.append(ok)
            else:
                unit = Unit(fld.kind)
                if unit not in _NUMBERS:
                    raise Unusual(f"a {unit} field")
                if kind == "VARCHAR":
                    ok, value, decimals = _number_sql(cell, unit, comma)
                else:
                    ok, value, decimals = _typed_number(cell, kind, unit)
                columns += [f"{value} AS {name}", f"{decimals} AS {_q(f'd_{fld.name}')}"]
                checks.append(ok)
        return columns, checks


# ---------------------------------------------------------------- the run


def _exact(value: Any, decimals: int) -> Decimal:
    """A DuckDB DECIMAL with the decimals the cell was written with (the Python digits)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals))


def _rounding(step: Decimal, mode: str, x: str) -> str:
    """SQL: `x` rounded to a payout step that is a power of ten, as Decimal.quantize does."""
    digits = step.normalize().as_tuple()
    if digits.digits != (1,) or digits.sign or not isinstance(digits.exponent, int):
        raise Unusual("a payout step that is not a power of ten")
    places = -digits.exponent
    scaled = f"({x} * {_decimal_literal(Decimal(1).scaleb(places))})"
    back = _decimal_literal(step)
    whole = {"half up": f"round({scaled})", "half even": f"round_even({scaled}, 0)",
             "down": f"trunc({scaled})", "up": f"(sign({scaled}) * ceil(abs({scaled})))",
             "ceiling": f"ceil({scaled})", "floor": f"floor({scaled})",
             "half down": f"(sign({scaled}) * ceil(abs({scaled}) - 0.5))"}[mode]
    return f"CAST({whole} AS HUGEINT) * {back}"


def _decimal_literal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    scale = len(text.split(".")[1]) if "." in text else 0
    return f"CAST('{text}' AS DECIMAL(38, {min(scale, 10)}))"


class Native:
    """The sources of one run in DuckDB: the tables, then the facts, the per-deal sums and,
    on demand, the per-deal lines."""

    def __init__(self, ruleset: Ruleset, plan: SourcePlan, con: Any,
                 readers: dict[str, list[SourceReader]],
                 period: tuple[dt.datetime, dt.datetime] | None) -> None:
        self.ruleset, self.plan, self.con, self.period = ruleset, plan, con, period
        self.files: list[NativeSource] = []
        self.views: dict[str, str] = {}
        self.rows = 0
        index = 0
        try:
            for name, files in readers.items():
                parts = []
                for reader in files:
                    native = NativeSource(con, reader, index, plan, name)
                    self.files.append(native)
                    self.rows += native.load()
                    parts.append(f"SELECT *, {index} AS file, {_lit(reader.file)} AS path, "
                                 f"rowid + 2 AS row FROM {native.table}")
                    index += 1
                if parts:
                    self.views[name] = f"view_{len(self.views)}"
                    con.execute(f"CREATE TEMP VIEW {self.views[name]} AS "
                                f"{' UNION ALL '.join(parts)}")
        finally:
            for native in self.files:
                native.close()

    def employees(self) -> list[tuple[str, str, int, int]]:
        """(employee, file, first row, rows) in the order the Python stage meets them."""
        if not self.views:
            return []
        union = " UNION ALL ".join(f"SELECT employee, file, row, path FROM {v}"
                                   for v in self.views.values())
        found = self.con.execute(
            f"SELECT employee, arg_min(path, (file, row)), arg_min(row, (file, row)), count(*) "
            f"FROM ({union}) GROUP BY employee ORDER BY min((file, row))").fetchall()
        return [(e, p, int(r), int(n)) for e, p, r, n in found]

    def periods(self) -> list[str]:
        kind = self.plan.period
        text = {"quarter": "strftime(date, '%Y') || '-Q' || CAST(quarter(date) AS VARCHAR)",
                "year": "strftime(date, '%Y')"}.get(kind, "strftime(date, '%Y-%m')")
        union = " UNION ".join(f"SELECT DISTINCT {text} AS p FROM {v} WHERE date IS NOT NULL"
                               for v in self.views.values())
        if kind == "week":
            raise Unusual("weekly periods")
        return sorted(p for (p,) in self.con.execute(union).fetchall())

    def facts(self) -> dict[str, dict[str, Decimal]]:
        """Every fact of every employee, with the Python stage's digits."""
        out: dict[str, dict[str, Decimal]] = {}
        for source, view in self.views.items():
            facts = [f for f in self.plan.facts.values() if f.source == source]
            if not facts:
                continue
            kinds = {f.name: f.kind for f in self.plan.sources[source].fields}
            selects = []
            for fact in facts:
                where = condition_sql(fact.where, kinds)
                x, d = _q(f"f_{fact.field}"), _q(f"d_{fact.field}")
                if fact.kind in ("total", "average"):
                    selects += [f"SUM({x}) FILTER (WHERE {where})",
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
            query = (f"SELECT employee, {', '.join(selects)} FROM {view} "
                     f"WHERE {in_period(self.period)} GROUP BY employee")
            for employee, *values in self.con.execute(query).fetchall():
                mine = out.setdefault(employee, {})
                for i, fact in enumerate(facts):
                    value = _fact_value(fact.kind, *values[3 * i:3 * i + 3])
                    if value is not None:
                        mine[fact.fact] = value
        return out

    # ---- per-deal payments
    def deal_sql(self, pay: PayPlan, plans: str) -> str:
        from .duck import deals_query

        view = self.views[pay.source]
        return deals_query(self.plan, pay, view, self.period, plans)

    def pay_totals(self, pay: PayPlan, plans: dict[str, Decimal]
                   ) -> dict[str, tuple[Decimal, int]]:
        """Each employee's payment: the sum of its deals' amounts, each rounded as the
        scheme rounds payouts (the Python stage's sum of lines)."""
        import pyarrow as pa

        name = f"plans_{pay.payment}"
        self.con.register(name, pa.table({
            "employee": pa.array(list(plans), pa.string()),
            "s": pa.array(list(plans.values()), pa.decimal128(38, 10))}))
        rounded = _rounding(self.plan.payout_step, self.plan.payout_mode, "amount")
        query = (f"SELECT employee, SUM({rounded}), count(*) FROM ({self.deal_sql(pay, name)}) "
                 f"GROUP BY employee")
        step = self.plan.payout_step
        exponent = step.normalize().as_tuple().exponent
        places = Decimal(1).scaleb(min(0, exponent if isinstance(exponent, int) else 0))
        return {e: (Decimal(total).quantize(places), int(n))
                for e, total, n in self.con.execute(query).fetchall()}

    def deal_counts(self, pay: PayPlan) -> dict[str, int]:
        kinds = {f.name: f.kind for f in self.plan.sources[pay.source].fields}
        where = condition_sql(pay.where, kinds)
        credit = _q(f"f_{pay.field}")
        query = (f"SELECT employee, count(*) FROM {self.views[pay.source]} WHERE "
                 f"{in_period(self.period)} AND {where} AND {credit} IS NOT NULL "
                 f"GROUP BY employee")
        return {e: int(n) for e, n in self.con.execute(query).fetchall()}


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

    def __init__(self, native: Native, order: list[str],
                 plans: dict[str, dict[str, Decimal | None]],
                 totals: dict[str, dict[str, tuple[Decimal, int]]]) -> None:
        self.native, self.plans, self.totals = native, plans, totals
        self.ordinal = {e: i for i, e in enumerate(order)}
        self.order = order
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
        kinds = {f.name: f.kind for f in self.native.plan.sources[pay.source].fields}
        where = condition_sql(pay.where, kinds)
        credit, decimals = _q(f"f_{pay.field}"), _q(f"d_{pay.field}")
        name = f"deals_{len(self.tables)}"
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT o.ordinal, v.employee, v.key, v.date, "
                    f"v.file, v.path, v.row, {credit} AS credit, {decimals} AS decimals "
                    f"FROM {self.native.views[pay.source]} v JOIN deal_ordinals o USING "
                    f"(employee) WHERE {in_period(self.native.period)} AND {where} AND "
                    f"{credit} IS NOT NULL ORDER BY o.ordinal")
        con.unregister("deal_ordinals")
        self.tables[pay.payment] = name
        return name

    def lines(self, employee: str) -> tuple[DealLine, ...]:
        found = self.made.pop(employee, None)
        if found is not None:
            return found
        start = self.ordinal[employee]
        batch = self.order[start:start + BATCH]
        rows: dict[str, dict[str, list[Deal]]] = {e: {} for e in batch}
        plan = self.native.plan
        for pay in plan.pays.values():
            if not any(pay.payment in self.totals.get(e, {}) for e in batch):
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
                own = rows[who].get(pay.payment)
                if not own or pay.payment not in self.totals.get(who, {}):
                    continue
                with decimal.localcontext(CONTEXT):
                    lines = walk(pay, who, own, self.plans[who].get(pay.payment),
                                 plan.payout_step, plan.payout_mode)
                total = sum((d.amount for d in lines), Decimal(0))
                if total != self.totals[who][pay.payment][0]:
                    raise KpiError([error(
                        "KPI904", f"DuckDB and Python disagree on the per-deal payment "
                        f"'{pay.payment}' of '{who}': {self.totals[who][pay.payment][0]} "
                        f"and {total}")])
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
    import duckdb

    plan = source_plan(ruleset)
    if any(p.minimum is not None for p in plan.pays.values()):
        raise Unusual("a per-deal minimum")  # lifted lines: the Python walk pays them
    bounds = period_bounds(period, plan.period) if period else None
    con = duckdb.connect()
    try:
        native = Native(ruleset, plan, con, readers, bounds)
        if bounds is None:
            seen = native.periods()
            if len(seen) > 1:
                raise KpiError([error(
                    "KPI543", f"the sources hold rows of {len(seen)} periods "
                    f"({', '.join(seen[:6])}{' …' if len(seen) > 6 else ''}); adding them up "
                    "as one would pay several periods at once",
                    hint=f"choose the period: --period {seen[-1][:7]}")])
        employees = native.employees()
        values = native.facts()
    except duckdb.Error as exc:
        con.close()
        raise Unusual(str(exc)) from None
    except BaseException:
        con.close()
        raise
    stage = NativeStage(native.rows)
    return stage, _results(ruleset, native, employees, values, grade, month, extra or {})


def _results(ruleset: Ruleset, native: Native, employees: list[tuple[str, str, int, int]],
             values: dict[str, dict[str, Decimal]], grade: str | None, month: int | None,
             extra: dict[str, FactRow]) -> Iterator[SourceResult]:
    """Each employee's facts and per-deal sums, in the Python stage's order and with its
    failures (the same code as kpidsl/sources/run.py's, on the values DuckDB gives)."""
    plan = native.plan
    seen = {e for e, *_ in employees}
    order = [(e, f, r, n) for e, f, r, n in employees]
    order += [(e, "", 0, 0) for e in extra if e not in seen]
    rows: dict[str, FactRow] = {}
    failed: dict[str, dict[str, list[Diagnostic]]] = {}
    for name, file, first, _n in order:
        mine = dict(values.get(name, {}))
        facts_row = extra.get(name)
        if facts_row is not None:
            mine = {**facts_row.values, **mine}
        why = check_bounds(mine)
        if why is not None:
            failed[name] = {"": [error("KPI902", f"employee '{name}': {why}")]}
        if name not in seen:
            assert facts_row is not None
            file, first = facts_row.file, facts_row.row
        rows[name] = FactRow(file, first, name, facts_row.grade if facts_row else None,
                             facts_row.team if facts_row else None, mine,
                             dict(facts_row.extra) if facts_row else {})
    # per-deal payments: the plans from the scheme's evaluation, the sums from SQL
    plans: dict[str, dict[str, Decimal | None]] = {}
    totals: dict[str, dict[str, tuple[Decimal, int]]] = {}
    kpi_plans: dict[str, dict[str, Decimal | None]] = {}
    for pay in plan.pays.values():
        counts = native.deal_counts(pay)
        wanted: dict[str, Decimal] = {}
        for name in counts:
            if name in failed or name not in rows:
                continue
            row = rows[name]
            value: Decimal | None = None
            if pay.running == "attainment":
                known = kpi_plans.setdefault(name, {})
                if pay.kpi not in known:
                    try:
                        result = ruleset.evaluate(row.values, grade or row.grade,
                                                  employee=name, month=month)
                        known[pay.kpi] = result.kpis[pay.kpi].plan \
                            if pay.kpi in result.kpis else None
                    except KpiError as exc:
                        failed[name] = {"": [exc.diagnostics[0]]}
                        continue
                value = known[pay.kpi]
                if value is None or not value:
                    failed[name] = {"": [error(
                        "KPI901", f"employee '{name}': payment '{pay.payment}' is paid on the "
                        f"running attainment of '{pay.kpi}', whose plan is "
                        f"{value or 'missing'}")]}
                    continue
            plans.setdefault(name, {})[pay.payment] = value
            wanted[name] = value if value is not None else Decimal(0)
        try:
            found = native.pay_totals(pay, wanted)
        except Exception as exc:  # duckdb.Error: a product beyond DECIMAL(38)
            raise KpiError([error("KPI950", f"payment '{pay.payment}' cannot be computed in "
                                  f"DuckDB: {exc}", hint="use --engine python")]) from None
        for name, total in found.items():
            if name in failed:
                continue
            totals.setdefault(name, {})[pay.payment] = total
    store = DealStore(native, [e for e, *_ in order if e in totals], plans, totals)
    by_name = {e: n for e, _f, _r, n in employees}
    for name, *_rest in order:
        row = rows[name]
        mine_failed = failed.get(name, {})
        deals: Sequence[DealLine] = ()
        if not mine_failed and name in totals:
            for payment, (paid, _count) in totals[name].items():
                row.values[plan.pays[payment].fact] = paid
            deals = LazyDeals(store, name, sum(n for _t, n in totals[name].values()))
        yield SourceResult(row, mine_failed, deals, by_name.get(name, 0),  # type: ignore[arg-type]
                           dict(plans.get(name, {})))


__all__ = ["LazyDeals", "NativeStage", "evaluate_sources_native"]
