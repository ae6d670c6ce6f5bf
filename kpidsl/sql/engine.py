"""Evaluation on embedded DuckDB: the money in SQL, everything else exactly as the Python engine.

Rows are read and prepared by the same code as the Python engine (facts readers, defaults,
missing facts, unknown grades: the same diagnostics), loaded into DuckDB through Arrow as
DECIMAL(18, 6), and each grade's query computes every payment and the total. A Result holds
those amounts; its details (KPIs, attainments, lines) are the Python evaluator's, computed
again on demand from the same facts (as every Result of a batch already does), so every output
format is byte for byte the Python engine's. A row the query flags (a division by zero, a
value the Python evaluator would refuse) or whose facts do not fit DECIMAL(18, 6) is
evaluated by the Python engine instead, which gives its result or its diagnostic.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import reduce
from operator import add
from typing import TYPE_CHECKING, Any

from ..evaluate import uses_team
from ..results import Result
from ..runtime import CONTEXT, ZERO, is_fraction_step
from ..teams import MissingMember
from . import Query, queries, runnable_on_duckdb
from .scale import FACT_DIGITS, FACT_SCALE

if TYPE_CHECKING:
    from ..api import Ruleset

BATCH = 200_000  # rows per query when no team links them: memory stays flat in the file size
_LIMIT = Decimal(10) ** (FACT_DIGITS - FACT_SCALE)
# scaleb rounds to its context's precision (28 digits by default): amounts from SQL have up
# to 38 digits and sums of them more, so they are moved by this one, which never rounds them
EXACT = decimal.Context(prec=120, Emin=-999_999, Emax=999_999)


def fits(value: Decimal) -> bool:
    """Does a fact go into DECIMAL(18, 6) exactly?"""
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -FACT_SCALE and abs(value) < _LIMIT


class SqlEvaluation:
    """`Ruleset.evaluate_many` on DuckDB (or on a DuckDB connection the caller passes)."""

    def __init__(self, ruleset: Ruleset, connection: Any = None) -> None:
        import duckdb

        self.ruleset = ruleset
        self.checked = ruleset.checked
        self.python = ruleset._evaluation
        self.con = connection if connection is not None else duckdb.connect()
        self._queries: dict[int | None, dict[str, Query]] = {}
        self._teams: Any = None  # kpidsl/sql/teams.py, for schemes with team results
        step = self.checked.payout_step
        self._fraction = is_fraction_step(step)
        exponent = step.normalize().as_tuple().exponent
        self._exponent = exponent if isinstance(exponent, int) else 0
        self._step = step

    def queries(self, month: int | None) -> dict[str, Query]:
        if month not in self._queries:
            found = queries(self.checked, "duckdb", table="facts", month=month,
                            carry=("_i",), budgets=False)
            runnable_on_duckdb(found, self.checked)
            self._queries[month] = {q.grade: q for q in found}
        return self._queries[month]

    def money(self, units: int) -> Decimal:
        if self._fraction:
            return Decimal(units).scaleb(self._exponent, EXACT)
        with decimal.localcontext(CONTEXT):
            return Decimal(units) * self._step

    def many(self, rows: Iterable[Any], grade: str | None, month: int | None,
             on_error: Any) -> Iterator[Result]:
        checked = self.checked
        team = any(uses_team(i, checked) for i in self.python.infos.values()) or \
            bool(checked.base.budgets)
        if checked.header.per_team or team:  # results that depend on each other
            from .teams import TeamEvaluation

            if self._teams is None:
                self._teams = TeamEvaluation(self)
            yield from self._teams.many(rows, grade, month, on_error)
            return
        batch: list[Any] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                yield from self._batch(batch, grade, month, on_error)
                batch = []
        if batch:
            yield from self._batch(batch, grade, month, on_error)

    def _batch(self, rows: list[Any], grade: str | None, month: int | None,
               on_error: Any) -> Iterator[Result]:
        """Rows whose results do not depend on each other (teams.py takes the others)."""
        import pyarrow as pa

        with decimal.localcontext(CONTEXT):
            every = [self.python._prepare_row(r, grade, on_error, month) for r in rows]
        prepared = [p for p in every if p is not None and type(p) is not MissingMember]
        results: list[Result | None] = [None] * len(prepared)
        python_rows: list[int] = []
        by_grade: dict[str, list[int]] = {}
        for index, (info, values, *_rest) in enumerate(prepared):
            if all(fits(v) for v in values.values()):
                by_grade.setdefault(info.name, []).append(index)
            else:
                python_rows.append(index)
        queries = self.queries(month)
        for name, indexes in by_grade.items():
            info = self.python.infos[name]
            query = queries[name]
            facts = list(info.facts)
            columns: dict[str, Any] = {
                "_i": pa.array(indexes, type=pa.int64()),
                "team": pa.array([prepared[i][3] for i in indexes], type=pa.string()),
            }
            for fact in facts:
                columns[fact] = pa.array([prepared[i][1][fact] for i in indexes],
                                         type=pa.decimal128(FACT_DIGITS, FACT_SCALE))
            table = pa.table(columns)
            pays = [f'"{p}_units"' for p, _u in query.output.pays]
            sql = f'SELECT "_i", "fails", {", ".join(pays)} FROM ({query.sql(pretty=False)})' \
                if pays else f'SELECT "_i", "fails" FROM ({query.sql(pretty=False)})'
            self.con.register("facts", table)
            try:
                fetched = self.con.execute(sql).fetchall()
            finally:
                self.con.unregister("facts")
            for index, fails, *units in fetched:
                if fails:
                    python_rows.append(index)
                    continue
                _info, values, employee, team_name, row = prepared[index]
                amounts = tuple(self.money(u) for u in units)
                total = reduce(add, amounts) if amounts else ZERO
                result = Result(info, (None, None, None, None, amounts, total), employee,
                                values, team_name, row, recomputable=True, month=month)
                result.release_details()
                results[index] = result
        for index in python_rows:
            info, values, employee, team_name, row = prepared[index]
            with decimal.localcontext(CONTEXT):
                results[index] = self.python._guarded(info, values, employee, team_name, None,
                                                      month, row, on_error)
        yield from (r for r in results if r is not None)


def relation_rows(relation: Any) -> Iterator[dict[str, object]]:
    """A DuckDB relation's rows as mappings for `many` (DECIMAL columns arrive as Decimal;
    a DOUBLE column is refused by the facts conversion, as any float is)."""
    columns = list(relation.columns)
    for values in relation.fetchall():
        row = dict(zip(columns, values, strict=True))
        yield {k: ("" if v is None else v) for k, v in row.items()}


# Above this many rows DuckDB is faster end to end for a results table (`--engine auto`,
# the default of `kpidsl eval`), on a file DuckDB reads itself (kpidsl/sql/native.py).
# Measured with `bench/sql.py --crossover` (medians of 3, CPU time, table format,
# b2b_manager, after the survey became one scan): DuckDB's fixed cost (its import, the
# survey, planning the query, the first 1 000 table rows through the renderer) makes it
# 0.68x the Python engine at 100 rows, 0.61x at 1 000, 0.57x at 3 000, 1.35x at 10 000 and
# 2.88x at 30 000; DuckDB stays near 1.4-1.55 s from 3 000 rows on while the Python engine
# grows by 0.139 ms a row, so they meet near 7 100-7 800 rows (12 000 before, measured at
# 11 400).
CROSSOVER_ROWS = 8_000
#: the same for the formats the query writes line by line, on schemes whose lines it writes
#: itself (docs/sql.md, `--engine auto`). `bench/sql.py --crossover --format csv|json --rows
#: 10k,30k,100k,300k` (medians of 3, CPU, the plans cached): csv 0.53x at 10 000 rows, 0.72x
#: at 30 000, 1.73x at 100 000, 2.44x at 300 000 (they meet near 45 000; 115 000 before the
#: plan was cached, when each run imported sqlglot); json 0.49x, 1.05x, 1.19x, 1.76x (near
#: 30 000); jsonl 0.43x, 0.85x, 1.43x, 1.75x (near 42 000).
CROSSOVERS = {"csv": 50_000, "json": 40_000, "jsonl": 50_000}
#: `--engine auto` leaves a scheme of more steps to the Python engine: DuckDB's binding time
#: grows faster than the square of the steps (DUCKDB_STEPS), 7 s of CPU at 355 steps, where
#: the crossover above was measured on a scheme of 25. Steps are the query's depth in CTEs
#: (steps that do not read each other share one, kpidsl/sql/generate.py); the figures were
#: measured when each step was a CTE of its own, so only KPIs built one on another reach it.
AUTO_STEPS = 400
SAMPLE = 64 * 1024  # bytes read to estimate a file's rows from its size


def estimated_rows(path: Any) -> int:
    """A file's rows from its size and the length of its first lines (no full read); a
    Parquet file's from its metadata."""
    from pathlib import Path

    file = Path(path)
    if file.suffix.lower() == ".parquet":
        from .parquet import parquet_rows

        return parquet_rows(file) or 0
    size = file.stat().st_size
    with file.open("rb") as handle:
        head = handle.read(SAMPLE)
    lines = head.count(b"\n")
    return size * max(lines, 1) // max(len(head), 1)


def query_writes(ruleset: Ruleset, fmt: str) -> bool:
    """Does the query write `fmt` (csv, json, jsonl) for this scheme, or does the Python
    evaluator write its rows after the query (the scheme's KPIs cannot be shown exactly in
    SQL, kpidsl/sql/lines.py `plan`, formats.py `json_plan`)? Decided from the scheme alone
    on a file holding its facts and nothing else, before any file is read; kept in the SQL
    cache (building the plan imports sqlglot)."""
    from .cache import key, load, store

    name = key(ruleset.checked.source.text, {"writes": fmt})
    entry = load(name)
    if entry is not None and isinstance(entry.get("writes"), bool):
        return bool(entry["writes"])
    try:
        found = _plan_of(ruleset, fmt)
    except Exception:  # a scheme the query refuses (KpiError) or cannot plan: Python
        found = "no plan"
    store(name, {"writes": not isinstance(found, str)})
    return not isinstance(found, str)


def _plan_of(ruleset: Ruleset, fmt: str) -> object:
    """The plan (or why not) of `fmt` over a file with an id column and the scheme's facts."""
    from types import SimpleNamespace

    from ..cli.render.model import flat_columns
    from .native import Column, Hooks, NativeRun

    columns = [Column("c0", "id", "employee"),
               *(Column(f"c{i + 1}", "fact", fact)
                 for i, fact in enumerate(ruleset.fact_specs))]
    file = SimpleNamespace(columns=columns, warnings=[],
                           reader=SimpleNamespace(specs=ruleset.fact_specs, file=""))

    def nothing(*_args: object) -> None:
        return None

    run = NativeRun(ruleset, file, None,  # type: ignore[arg-type]
                    Hooks(nothing, nothing, nothing, nothing, nothing, nothing))
    if fmt == "csv":
        from .lines import plan

        return plan(run, [c.key for c in flat_columns(ruleset, [], detailed=True)])
    from .formats import json_plan

    return json_plan(run)


def choose_engine(ruleset: Ruleset, paths: Iterable[Any], fmt: str = "table") -> str:
    """`--engine auto`: DuckDB for a facts file above the crossover of `fmt` that DuckDB can
    read itself and the SQL backend can compute exactly (for csv, json and jsonl: whose
    lines the query writes itself); the run layer falls back to the Python engine when the
    file turns out to need the Python reader."""
    from pathlib import Path

    from .cache import query_steps
    from .native import applicable

    paths = [Path(p) for p in paths]
    if len(paths) != 1 or not paths[0].is_file() or paths[0].suffix.lower() not in (
            ".csv", ".txt", ".tsv", ".parquet") or fmt not in ("table", *CROSSOVERS):
        return "python"
    crossover = CROSSOVER_ROWS if fmt == "table" else CROSSOVERS[fmt]
    if estimated_rows(paths[0]) < crossover or not applicable(ruleset):
        return "python"
    if any(len(v.kpis) > AUTO_STEPS for v in ruleset.checked.variants.values()):
        return "python"  # too many steps for certain, without generating the query
    steps = query_steps(ruleset.checked)  # None: refused
    if steps is None or steps > AUTO_STEPS:
        return "python"
    return "duckdb" if fmt == "table" or query_writes(ruleset, fmt) else "python"
