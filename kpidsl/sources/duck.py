"""The sources stage in embedded DuckDB: aggregates by GROUP BY, running totals by window.

The rows are read by the same reader as the Python stage (kpidsl/sources/read.py, the same
value rules and failures), loaded into DuckDB through Arrow as exact DECIMAL(38, 10), and:

- each fact is one aggregate with a FILTER over its `where`, grouped by employee, inside the
  period; an average comes back as its exact sum and count, a median as its two middle
  values, and the quotient is taken in Python as the Python stage takes it;
- each per-deal payment is `SUM(credit) OVER (PARTITION BY employee ORDER BY date, key
  number, key, file, row)`: the running total after each deal, from which every tier's slice
  is `GREATEST(LEAST(after, upper) − GREATEST(before, lower), 0)` (signed for reversals),
  and the deal's exact amount the sum of slice × rate, all in DECIMAL.

The Python stage is the oracle: the per-deal lines shown are the Python walk's, and the
DuckDB amounts must equal them to the digit (tests/test_sources_duckdb.py checks it on
random sources); a difference is an internal error, never a silent choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, KpiError, error
from ..facts import FactRow
from .dates import period_bounds
from .evaluate import Stage, mean
from .plan import FactPlan, PayPlan, SourcePlan, literal, text_key
from .read import SourceReader, SourceRow
from .run import SourceResult, _results, source_plan
from .transactions import key_number

if TYPE_CHECKING:
    from ..api import Ruleset

SCALE = 10  # decimals of a numeric field in DuckDB (DECIMAL(38, 10)); more is refused
_AGG = {"total": "SUM({x})", "min": "MIN({x})", "max": "MAX({x})",
        "count distinct": "COUNT(DISTINCT {x})", "count": "COUNT(*)"}


class Collecting(Stage):
    """The Python stage's reading, failures and splits, with the good rows kept for DuckDB."""

    SPILL = None  # the rows are kept for DuckDB anyway: nothing to gain by spilling

    def __init__(self, plan: SourcePlan, period: tuple[dt.datetime, dt.datetime] | None):
        super().__init__(plan, period)
        self.rows: dict[str, list[tuple[int, SourceRow]]] = {}
        self.current = ""  # the source being read
        self.tables: dict[str, str] = {}  # source → its DuckDB table, once loaded

    def _fold(self, row: SourceRow, facts: list[FactPlan], pays: list[PayPlan],
              file_index: int) -> None:
        super()._fold(row, facts, pays, file_index)  # the Python values: the oracle's
        self.rows.setdefault(self.current, []).append((file_index, row))


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _key_sql(column: str) -> str:
    return f"lower(regexp_replace(trim({column}), '\\s+', ' ', 'g'))"


def condition_sql(condition: Any, kinds: dict[str, str], keyed: bool = False,
                  atoms: dict[str, Callable[[str], str]] | None = None) -> str:
    """A `where` in SQL, three-valued like the Python predicate (rows read whole only).
    `keyed`: the table holds each text field's comparison key as "k_<field>"; `atoms`: by
    text field, what a test of that field becomes (kpidsl/sources/native.py: a list of the
    raw cells it holds for, decided once a distinct text instead of once a row)."""
    from .. import ast

    if condition is None:
        return "TRUE"
    if isinstance(condition, ast.BothOrEither):
        return (f"({condition_sql(condition.left, kinds, keyed, atoms)} "
                f"{condition.op.upper()} {condition_sql(condition.right, kinds, keyed, atoms)})")
    if isinstance(condition, ast.NotCondition):
        return f"(NOT {condition_sql(condition.operand, kinds, keyed, atoms)})"
    column = f'"f_{condition.name}"'
    kind = kinds[condition.name]
    values = [literal(v) for v in condition.values]

    def value_sql(value: object) -> str:
        if isinstance(value, str):
            return sql_text(text_key(value))
        if isinstance(value, dt.datetime):
            return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
        return f"CAST('{value}' AS DECIMAL(38, {SCALE}))"

    subject = column
    if kind == "text":
        subject = f'"k_{condition.name}"' if keyed else _key_sql(column)
    op = {"is": "=", "is not": "!="}.get(condition.op, condition.op)
    if condition.op == "one of":
        test = f"{subject} IN ({', '.join(value_sql(v) for v in values)})"
    else:
        test = f"{subject} {op} {value_sql(values[0])}"
    if condition.op in ("is not", "!="):  # an empty cell equals nothing
        test = f"({column} IS NULL OR {test})"
    else:
        test = f"COALESCE({test}, FALSE)"
    if atoms is not None and condition.name in atoms:
        return atoms[condition.name](test)
    return test


def evaluate_sources_duckdb(ruleset: Ruleset, readers: dict[str, list[SourceReader]], *,
                            period: str | None = None, grade: str | None = None,
                            month: int | None = None, extra: dict[str, FactRow] | None = None,
                            on_warning: Callable[[list[Diagnostic]], None] | None = None,
                            ) -> tuple[Stage, Iterator[SourceResult]]:
    import duckdb

    plan = source_plan(ruleset)
    bounds = period_bounds(period, plan.period) if period else None
    stage = Collecting(plan, bounds)
    index = 0
    for name, files in readers.items():
        stage.current = name
        for reader in files:
            stage.read(name, reader, index)
            index += 1
            if on_warning is not None and reader.warnings:
                on_warning(reader.warnings)
        stage.finish()
    con = duckdb.connect()
    computed = sql_values(con, stage, plan)
    # the DuckDB aggregates replace the Python ones: they must be the same
    for employee in stage.employees.values():
        python = employee.values()
        mine = computed.get(employee.employee, {})
        if python != mine:
            raise KpiError([error("KPI904", f"DuckDB and Python disagree on the sources of "
                                  f"'{employee.employee}': {mine} and {python}")])
    results = _results(ruleset, plan, stage, grade, month, extra or {})
    return stage, _checked_lines(con, stage, plan, results)


def load(con: Any, stage: Collecting, plan: SourcePlan, source: str) -> str:
    """The source's good rows as a DuckDB table through Arrow; its name."""
    import pyarrow as pa

    src = plan.sources[source]
    rows = stage.rows.get(source, [])
    used = plan.fields[source]
    kinds = {f.name: f.kind for f in src.fields}
    columns: dict[str, list[object]] = {"employee": [], "date": [], "key": [], "knum": [],
                                        "file": [], "path": [], "row": []}
    for name in used:
        columns[f"f_{name}"] = []
    limit = Decimal(1).scaleb(-SCALE)
    for file_index, row in rows:
        columns["employee"].append(row.employee)
        columns["date"].append(row.date)
        columns["key"].append(row.key)
        columns["knum"].append(key_number(row.key))
        columns["file"].append(file_index)
        columns["path"].append(row.file)
        columns["row"].append(row.row)
        for name in used:
            value = row.values.get(name)
            if isinstance(value, Decimal) and value != value.quantize(limit):
                raise KpiError([error("KPI950", f"{row.file}:{row.row}: '{value}' has more "
                                      f"than {SCALE} decimals, more than the SQL sources "
                                      "hold", hint="use --engine python")])
            columns[f"f_{name}"].append(value)
    decimal_type = pa.decimal128(38, SCALE)
    fields = [pa.field("employee", pa.string()), pa.field("date", pa.timestamp("us")),
              pa.field("key", pa.string()), pa.field("knum", decimal_type),
              pa.field("file", pa.int64()), pa.field("path", pa.string()),
              pa.field("row", pa.int64())]
    for name in used:
        kind = kinds[name]
        fields.append(pa.field(f"f_{name}", pa.string() if kind == "text" else
                               pa.timestamp("us") if kind == "date" else decimal_type))
    table = pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in fields})
    name = f"src_{len(stage.tables)}"
    con.register(name, table)
    stage.tables[source] = name
    return name


def in_period(period: tuple[dt.datetime, dt.datetime] | None) -> str:
    if period is None:
        return "TRUE"
    start, end = period
    return (f"date >= TIMESTAMP '{start.isoformat(sep=' ')}' AND "
            f"date < TIMESTAMP '{end.isoformat(sep=' ')}'")


def facts_query(plan: SourcePlan, source: str, table: str,
                period: tuple[dt.datetime, dt.datetime] | None) -> tuple[str, list[FactPlan]]:
    """One GROUP BY employee over the source, two columns per fact (an aggregate with the
    fact's `where` as its FILTER; an average's count, a median's second middle value)."""
    facts = [f for f in plan.facts.values() if f.source == source]
    kinds = {f.name: f.kind for f in plan.sources[source].fields}
    selects = []
    for fact in facts:
        where = condition_sql(fact.where, kinds)
        x = f'"f_{fact.field}"' if fact.field else "NULL"
        if fact.kind == "average":
            selects += [f"SUM({x}) FILTER (WHERE {where})",
                        f"COUNT({x}) FILTER (WHERE {where})"]
        elif fact.kind == "median":
            ordered = f"list_sort(list({x}) FILTER (WHERE {where} AND {x} IS NOT NULL))"
            selects += [f"{ordered}[(len({ordered}) + 1) // 2]",
                        f"{ordered}[len({ordered}) // 2 + 1]"]
        elif fact.kind == "count":
            selects += [f"COUNT(*) FILTER (WHERE {where})", "NULL"]
        else:
            selects += [_AGG[fact.kind].format(x=x) + f" FILTER (WHERE {where})", "NULL"]
    query = (f"SELECT employee, {', '.join(selects)} FROM {table} "
             f"WHERE {in_period(period)} GROUP BY employee")
    return query, facts


def sql_values(con: Any, stage: Collecting, plan: SourcePlan) -> dict[str, dict[str, Decimal]]:
    """Every fact of every employee, by GROUP BY with a FILTER per fact."""
    out: dict[str, dict[str, Decimal]] = {}
    for source in plan.sources:
        if not any(f.source == source for f in plan.facts.values()):
            continue
        table = stage.tables.get(source) or load(con, stage, plan, source)
        query, facts = facts_query(plan, source, table, stage.period)
        for employee, *values in con.execute(query).fetchall():
            mine = out.setdefault(employee, {})
            for i, fact in enumerate(facts):
                value = _value(fact.kind, values[2 * i], values[2 * i + 1])
                if value is not None:
                    mine[fact.fact] = value
    return out


def _value(kind: str, first: Any, second: Any) -> Decimal | None:
    if kind in ("count", "count distinct"):
        return Decimal(first) if first else None
    if first is None:
        return None
    if kind == "average":
        return mean(first, second) if second else None
    if kind == "median":
        return (first + second) / 2 if first != second else first + 0
    return first + 0


def deals_query(plan: SourcePlan, pay: PayPlan, table: str,
                period: tuple[dt.datetime, dt.datetime] | None, plans: str) -> str:
    """Each deal's exact amount: the running total after it by a window, then one slice per
    tier between the running total before and after it. `plans` is a relation (employee,
    s) of the plans the attainment is taken over (ignored on a running total)."""
    kinds = {f.name: f.kind for f in plan.sources[pay.source].fields}
    where = condition_sql(pay.where, kinds)
    credit = f'"f_{pay.field}"'
    slices = []
    for tier in pay.tiers:
        # every product is brought back to DECIMAL(38, 10), so a slice times a rate keeps
        # 18 integer digits; a bound that needs more decimals differs from Python's, which
        # is then reported (KPI904), never paid
        bounds = []
        for bound in (tier.lower, tier.upper):
            text = None if bound is None else _literal(bound)
            # in the credits' type: LEAST(DECIMAL(38, 10), DECIMAL(38, 0)) is DECIMAL(38, 0)
            # in DuckDB, which cut a 0.01 credit to 0 against a bound of 80 000 RUB
            if text is not None:
                text = f"CAST({text}{' * s' if pay.running == 'attainment' else ''} AS " \
                       f"DECIMAL(38, {SCALE}))"
            bounds.append(text)
        start = "lo" if bounds[0] is None else f"GREATEST(lo, {bounds[0]})"
        end = "hi" if bounds[1] is None else f"LEAST(hi, {bounds[1]})"
        slices.append(f"GREATEST({end} - {start}, 0) * SIGN(credit) * {_literal(tier.rate)}")
    return f"""
        WITH deals AS (
            SELECT employee, path, row, {credit} AS credit,
                   SUM({credit}) OVER (PARTITION BY employee ORDER BY date, knum NULLS LAST,
                                       key, file, row ROWS UNBOUNDED PRECEDING) AS after
            FROM {table}
            WHERE {in_period(period)} AND {where} AND {credit} IS NOT NULL),
        moved AS (
            SELECT d.*, LEAST(after - credit, after) AS lo,
                   GREATEST(after - credit, after) AS hi, p.s
            FROM deals d LEFT JOIN {plans} p USING (employee))
        SELECT employee, path, row, {' + '.join(slices)} AS amount FROM moved"""


def _literal(value: Decimal) -> str:
    """An exact constant with only the decimals it has (a wider scale would eat the integer
    digits of every product it enters)."""
    exponent = value.normalize().as_tuple().exponent
    scale = max(0, -exponent) if isinstance(exponent, int) else 0
    return f"CAST('{value}' AS DECIMAL(38, {min(scale, SCALE)}))"


def deal_amounts(con: Any, stage: Collecting, plan: SourcePlan, pay: PayPlan,
                 plans: dict[str, Decimal | None]) -> dict[tuple[str, str, int], Decimal]:
    """The exact amount of every deal of a per-deal payment, computed in DuckDB."""
    import pyarrow as pa

    table = stage.tables.get(pay.source) or load(con, stage, plan, pay.source)
    known = {e: p for e, p in plans.items() if p is not None}
    con.register("deal_plans", pa.table({
        "employee": pa.array(list(known), pa.string()),
        "s": pa.array(list(known.values()), pa.decimal128(38, SCALE))}))
    query = deals_query(plan, pay, table, stage.period, "deal_plans")
    return {(e, f, r): amount for e, f, r, amount in con.execute(query).fetchall()}


def _checked_lines(con: Any, stage: Collecting, plan: SourcePlan,
                   results: Iterator[SourceResult]) -> Iterator[SourceResult]:
    """Each employee's per-deal lines, the DuckDB amount of each deal checked against the
    Python walk's exact amount."""
    items = list(results)
    for pay in plan.pays.values():
        if not any(line.payment == pay.payment for item in items for line in item.deals):
            continue
        plans = {item.row.employee: item.plans.get(pay.payment) for item in items}
        mine = deal_amounts(con, stage, plan, pay, plans)
        for item in items:
            for line in item.deals:
                if line.payment != pay.payment:
                    continue
                got = mine.get((item.row.employee, line.file, line.row))
                if got is None or got != line.exact:
                    raise KpiError([error(
                        "KPI904", f"DuckDB and Python disagree on {line.file}:{line.row} of "
                        f"'{item.row.employee}': {got} and {line.exact}")])
    yield from items
