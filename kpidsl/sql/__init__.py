"""The SQL backend: a scheme as one query per grade, exact to the kopeck on every engine.

`queries(checked, dialect)` lowers the scheme (kpidsl/lower.py, the form the Python backend
prints too) and builds a sqlglot tree per variant from it; `to_sql` renders them. See
docs/sql.md.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..diagnostics import KpiError, error

if TYPE_CHECKING:
    from sqlglot import exp

    from ..checks import CheckedRuleset
    from .dialects import Dialect
    from .generate import Output

__all__ = ["DIALECTS", "Query", "queries", "to_sql"]


def __getattr__(name: str) -> Any:
    """DIALECTS on first use: sqlglot is imported only when SQL is built (0.2–0.4 s of
    start-up), not by a run whose query comes from the cache (kpidsl/sql/cache.py)."""
    if name == "DIALECTS":
        from .dialects import DIALECTS

        return DIALECTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Query:
    grade: str
    tree: exp.Select
    output: Output
    dialect: Dialect
    facts: tuple[str, ...] = ()  # the facts table's columns besides employee and team
    # it reads every grade's rows (their teams or budgets are shared) and returns its own
    every_grade: bool = False

    @property
    def steps(self) -> int:
        """The query's depth: its CTEs, each holding the steps (a KPI, a payment line, a
        rounding, a total) that read only the CTEs before it (generate.py, `levels`)."""
        chain = self.tree.args.get("with_")
        return len(chain.expressions) if chain is not None else 0

    def sql(self, pretty: bool = True) -> str:
        try:
            return self.tree.sql(dialect=self.dialect.sqlglot, pretty=pretty)
        except RecursionError:
            return _deep(lambda: self.tree.sql(dialect=self.dialect.sqlglot, pretty=pretty))


#: The deepest query DuckDB can run. It binds a chain of CTEs one nested binder a CTE and
#: refuses a query deeper than its max_expression_depth (1 000: a chain of 998 binds, one of
#: 1 000 does not). Raising that limit would not help: binding grows faster than the square
#: of the depth (a CTE a step, as the chain once was: 71 deep 0.17 s, 142 0.89 s, 213 2.1 s,
#: 355 7.1 s, 710 41 s of CPU). Steps that do not read each other share a CTE, so only a
#: scheme of KPIs built one on another reaches it: 150 independent KPIs are 8 deep (DuckDB
#: 31.8 s → 1.3 s), 1 000 KPIs each adding to the one before 1 004.
DUCKDB_STEPS = 990


def runnable_on_duckdb(found: list[Query], checked: CheckedRuleset) -> None:
    """KpiError (KPI953) for a scheme whose query DuckDB cannot bind, before any row is
    read: `--engine duckdb` then names the engine that can evaluate it, never a traceback."""
    deepest = max(found, key=lambda q: q.steps, default=None)
    if deepest is not None and deepest.steps > DUCKDB_STEPS:
        raise KpiError([error(
            "KPI953", f"the scheme's query is a chain of {deepest.steps} steps, each reading "
            f"the one before (a KPI built on another, a rounding, a total); DuckDB runs at "
            f"most {DUCKDB_STEPS}",
            checked.source, checked.header.span,
            hint="evaluate it with the Python engine (--engine python, or --engine auto)")])


def _deep(render: Callable[[], str]) -> str:
    """Render a tree deeper than the interpreter's default limit: a scheme's total adds one
    parenthesised term a payment, and sqlglot renders each level by recursion (1 000
    payments need ~5 000 frames). In a thread of its own with a 512 MB stack and a raised
    limit, so the C stack cannot overflow; a tree deeper still is refused, not crashed."""
    result: list[str] = []
    failure: list[BaseException] = []

    def run() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(1_000_000)
        try:
            result.append(render())
        except RecursionError as exc:
            failure.append(exc)
        finally:
            sys.setrecursionlimit(limit)

    size = threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=run, name="sql-render")
        worker.start()
    finally:
        threading.stack_size(size)
    worker.join()
    if failure or not result:
        raise KpiError([error("KPI950", "the scheme's query is nested too deeply to be "
                              "written as SQL", hint="evaluate it with the Python engine "
                              "(--engine python)")])
    return result[0]


def dialect_named(name: str) -> Dialect:
    from .dialects import DIALECTS

    found = DIALECTS.get(name.lower())
    if found is None:
        raise KpiError([error("KPI951", f"unknown SQL dialect '{name}'",
                              hint="choose one of " + ", ".join(DIALECTS))])
    return found


def queries(checked: CheckedRuleset, dialect: str | Dialect = "duckdb", *,
            table: str = "facts", month: int | None = None,
            carry: tuple[str, ...] = (), budgets: bool = True,
            order: str | None = None) -> list[Query]:
    """One query per variant over `table`; KpiError (KPI950) when a scheme cannot be exact,
    KPI952 for what is not compiled to SQL.

    `budgets=False` leaves budget caps to the caller (the DuckDB engine applies them in
    Python, as the Python engine does). A budget's ties go to the earlier row by the column
    `order` (`row` unless named: the facts' row in their file)."""
    from .. import lower as lo
    from .generate import ORDER, Refused, VariantQuery

    d = dialect_named(dialect) if isinstance(dialect, str) else dialect
    program = lo.lower(checked)
    out = []
    problems = []
    for name, variant in program.variants.items():
        try:
            builder = VariantQuery(program, variant, d, checked.source, table, month, carry,
                                   budgets, order or ORDER)
            tree, output = builder.build()
        except Refused as exc:
            problems.append(exc.diagnostic)
            continue
        # grades sharing a team or a budget: each query reads every grade's rows and facts
        read = program.variants.values() if builder.shared else [variant]
        out.append(Query(name, tree, output, d,
                         tuple(dict.fromkeys(f.name for v in read for f in v.facts)),
                         builder.shared))
    if problems:
        raise KpiError(problems)
    return out


def to_sql(checked: CheckedRuleset, dialect: str = "duckdb", *, table: str = "facts",
           month: int | None = None) -> str:
    """The readable SQL of a scheme: one statement per grade, each introduced by a comment."""
    parts = []
    for query in queries(checked, dialect, table=table, month=month):
        order = ", row" if checked.base.budgets else ""
        grade = ", grade" if len(checked.variants) > 1 else ""
        header = f"-- scheme {checked.header.name}, grade {query.grade}, dialect " \
                 f"{query.dialect.name}\n-- facts: {table}(employee, team{order}{grade}, " \
                 f"{', '.join(query.facts)})"
        if checked.header.per_team:
            header += "\n-- paid per team: one result a team, its name in `employee`"
        parts.append(f"{header}\n{query.sql()};\n")
    return "\n".join(parts)
