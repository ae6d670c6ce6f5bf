"""`eval --engine duckdb` for schemes whose results depend on each other: team aggregates,
budget caps, schemes `paid per team`, grades sharing a team or a budget.

The rows are read and prepared by the Python engine's code (the same diagnostics), then
the generated queries compute every payment in SQL: team aggregates as window functions,
a budget cap's pro rata and largest remainders (ties to the earlier row: the order column
is the row's place in the facts), a team's one row by GROUP BY, and every grade's rows in
each grade's query where grades share a team or a budget. A Result holds the query's
amounts; where a cap scaled an award the Result is scaled as the Python engine scales it
(`Result.scale_component`: the pool's lines in proportion, the note), so every format is
written from the same Results as the Python engine's, byte for byte.

Failures are the Python engine's: a row the query flags (a division by zero, a value it
cannot hold, or a member of its team or budget group flagged) is evaluated by the Python
engine, which pays it or reports it; the query flags a whole group with any member, so a
group is paid either all by the query or all by the Python engine, and the Python engine
applies its budgets to its own groups. Teams with a failed member then fail as in the
Python engine (KPI905, kpidsl/teams.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import reduce
from operator import add
from typing import Any

from .. import lower as lo
from ..diagnostics import KpiError
from ..evaluate import (
    _stepwise_in_context,
    all_budgets,
    apply_budgets,
    budget_note,
    team_values,
    team_view,
    uses_team,
)
from ..results import Result
from ..runtime import ZERO
from ..teams import Missing, MissingMember
from . import Query, queries, runnable_on_duckdb
from .cache import key, load, store
from .engine import SqlEvaluation, fits
from .scale import FACT_DIGITS, FACT_SCALE

ORDER = "_i"  # the facts' order: the row's place among the prepared rows (a budget's ties)


@dataclass
class TeamQueries:
    """A grade's query with each budget's award before its cap appended (`_own0`, …): its
    text and what a row of its output holds. Kept in the SQL cache (kpidsl/sql/cache.py):
    hunter's five statements of 174 steps take 2.6 s of CPU to build and render."""

    grade: str
    sql: str
    facts: list[str]  # the facts table's columns besides _i, team and grade
    every_grade: bool  # reads every grade's rows (a `grade` column), returns its own
    pays: list[str]
    budgets: list[str]  # the budgets whose awards before the cap follow the payments

    @classmethod
    def of(cls, query: Query, budgets: bool) -> TeamQueries:
        tree = query.tree.copy()
        owns = query.output.budgets if budgets else []
        for index, (_name, own) in enumerate(owns):
            tree.select(own.e.copy().as_(f"_own{index}", quoted=True), append=True,
                        copy=False)
        pays = [p for p, _u in query.output.pays]
        columns = [f'"{ORDER}"', '"fails"', *(f'"{p}_units"' for p in pays),
                   *(f'"_own{i}"' for i in range(len(owns)))]
        inner = tree.sql(dialect=query.dialect.sqlglot)
        return cls(query.grade, f"SELECT {', '.join(columns)} FROM ({inner})",
                   list(query.facts), query.every_grade, pays, [n for n, _o in owns])


class TeamEvaluation:
    """`SqlEvaluation.many` for team schemes (docs/sql.md, "Budgets, teams and grades")."""

    def __init__(self, sql: SqlEvaluation) -> None:
        self.sql = sql
        self.python = sql.python
        self.checked = checked = sql.checked
        self.budgets = all_budgets(checked)
        # the caps as the lowered form folds them (in the order of `all_budgets`)
        caps = [b.cap for b in lo.lower(checked).budgets] if self.budgets else []
        # the query caps each budget's award before any other budget's: two budgets on one
        # payment (the Python engine caps the second from the first's result) and a cap
        # not known when compiling are applied by the Python engine after the query
        components = [b.component for b in self.budgets]
        self.in_sql = None not in caps and len(set(components)) == len(components)
        self.caps = {b.name: c for b, c in zip(self.budgets, caps, strict=True)}
        self._queries: dict[int | None, dict[str, TeamQueries]] = {}

    def queries(self, month: int | None) -> dict[str, TeamQueries]:
        if month not in self._queries:
            try:
                self._build(month)
            except KpiError as exc:
                if not self.in_sql or {d.code for d in exc.diagnostics} != {"KPI950"}:
                    raise
                # a budget's sum of awards could pass SQL's 38 digits: the query pays
                # before the caps and the Python engine applies them, exactly
                self.in_sql = False
                self._queries = {}
                self._build(month)
        return self._queries[month]

    def _build(self, month: int | None) -> None:
        """The queries of `month`, from the cache where they are in it."""
        name = key(self.checked.source.text, {"teams": 1, "month": month,
                                              "budgets": self.in_sql})
        entry = load(name)
        try:
            found = [TeamQueries(**q) for q in entry["queries"]] if entry else None
        except (TypeError, KeyError):  # an entry of another layout: built again
            found = None
        if found is None:
            built = queries(self.checked, "duckdb", table="facts", month=month,
                            carry=(ORDER,), budgets=self.in_sql, order=ORDER)
            runnable_on_duckdb(built, self.checked)
            found = [TeamQueries.of(q, self.in_sql) for q in built]
            store(name, {"queries": [asdict(q) for q in found]})
        self._queries[month] = {q.grade: q for q in found}

    def many(self, rows: Iterable[Any], grade: str | None, month: int | None,
             on_error: Any) -> Iterator[Result]:
        """Each in ODD, as the Python engine's (`_stepwise_in_context`)."""
        if self.checked.header.per_team:
            return _stepwise_in_context(self._per_team(rows, grade, month, on_error))
        return _stepwise_in_context(self._by_team(rows, grade, month, on_error))

    # ---------------------------------------------------------------- the query

    def _run(self, found: TeamQueries, items: list[tuple[int, Any]], grades: bool
             ) -> list[tuple[Any, ...]]:
        """The query over the prepared rows `items` ((index, (info, values, employee, team,
        row)), the `grade` column when it reads every grade's rows): its output rows."""
        import pyarrow as pa

        columns: dict[str, Any] = {
            ORDER: pa.array([i for i, _p in items], type=pa.int64()),
            "team": pa.array([p[3] for _i, p in items], type=pa.string()),
        }
        if grades:
            columns["grade"] = pa.array([p[0].name for _i, p in items], type=pa.string())
        for fact in found.facts:
            columns[fact] = pa.array([p[1].get(fact) for _i, p in items],
                                     type=pa.decimal128(FACT_DIGITS, FACT_SCALE))
        con = self.sql.con
        con.register("facts", pa.table(columns))
        try:
            return list(con.execute(found.sql).fetchall())
        finally:
            con.unregister("facts")

    def _result(self, found: TeamQueries, record: tuple[Any, ...], info: Any,
                facts: dict[str, Decimal], employee: str, team: str | None, row: int,
                team_data: dict[str, Decimal] | None, month: int | None) -> Result:
        """A Result of the query's amounts, scaled where a budget cap scaled its award."""
        units = record[2:2 + len(found.pays)]
        owns = record[2 + len(found.pays):]
        money = self.sql.money
        amounts = tuple(money(u) for u in units)
        total = reduce(add, amounts) if amounts else ZERO
        result = Result(info, (None, None, None, None, amounts, total), employee, facts,
                        team, row, recomputable=True, team_data=team_data, month=month)
        result.release_details()
        if team_data is not None and uses_team(info, self.checked):
            result.team_values = team_view(team_data)
        if found.budgets:
            paid = dict(zip(found.pays, units, strict=True))
            before = dict(zip(found.budgets, owns, strict=True))
            for budget in self.budgets:  # in the Python engine's order: its notes' order
                if budget.name in before and paid[budget.component] != before[budget.name]:
                    cap = self.caps[budget.name]
                    assert cap is not None
                    result.scale_component(budget.component, amounts[found.pays.index(
                        budget.component)], budget_note(budget, cap), self.checked.payout_step)
        return result

    # ---------------------------------------------------------------- team aggregates

    def _by_team(self, rows: Iterable[Any], grade: str | None, month: int | None,
                 on_error: Any) -> Iterator[Result]:
        """Rows sharing team aggregates or budgets: every row first (a team's figures need
        the whole team), each by its own grade."""
        python = self.python
        every = [python._prepare_row(r, grade, on_error, month) for r in rows]
        missing = Missing()
        prepared = []
        for item in every:
            if type(item) is MissingMember:
                missing.add(item)
            elif item is not None:
                prepared.append(item)
        if not all(_fits(p[1]) for p in prepared):  # beyond DECIMAL(18, 6): the Python engine
            yield from python._many_by_team(every, month, on_error)
            return
        needs = sorted({n for i in python.infos.values() for n in i.team_needs})
        members: dict[str, list[Any]] = {}
        for item in prepared:
            members.setdefault(item[3] or "", []).append(item[1])
        aggregates = {name: team_values(needs, m) for name, m in members.items()}
        found = self.queries(month)
        shared = any(q.every_grade for q in found.values())
        results: dict[int, Result] = {}
        flagged: list[int] = []
        for name, query in found.items():
            items = [(i, p) for i, p in enumerate(prepared) if shared or p[0].name == name]
            if not items:
                continue
            for record in self._run(query, items, shared):
                index = record[0]
                if record[1]:
                    flagged.append(index)
                    continue
                info, values, employee, team, row = prepared[index]
                results[index] = self._result(query, record, info, values, employee, team,
                                              row, aggregates[team or ""], month)
        by_python: set[int] = set()
        for index in sorted(flagged):  # the Python engine's result or diagnostic, in order
            info, values, employee, team, row = prepared[index]
            result = python._guarded(info, values, employee, team, aggregates[team or ""],
                                     month, row, on_error)
            if result is None:
                missing.add(MissingMember(employee, row, team or ""))
                continue
            if uses_team(info, self.checked):
                result.team_values = team_view(aggregates[team or ""])
            results[index] = result
            by_python.add(index)
        kept = {i: results[i] for i in sorted(results)}
        if missing:  # a member's evaluation failed: its team's results fail too (KPI905)
            kept = python._complete_teams_only(kept, missing, on_error)
        # the query flags a whole budget group with any member: the Python engine's results
        # are whole groups (all of them when the query left the caps out)
        apply_budgets(self.checked, [r for i, r in kept.items() if i in by_python]
                      if self.in_sql else list(kept.values()))
        yield from kept.values()

    # ---------------------------------------------------------------- paid per team

    def _per_team(self, rows: Iterable[Any], grade: str | None, month: int | None,
                  on_error: Any) -> Iterator[Result]:
        """A scheme `paid per team`, as the Python engine's `_many_per_team`: one Result a
        team, the team's row computed by the query's GROUP BY (the Python engine where the
        query flags it)."""
        python = self.python
        info = python.info(grade)
        teams, missing = python._grouped_by_team(rows, info, month, on_error)
        complete = [m for name, members in teams.items() if not missing.of_team(name)
                    for m in members]
        records: dict[str, tuple[Any, ...]] = {}
        found = self.queries(month)[info.name]
        if complete and all(_fits(m[1]) for m in complete):
            order = {id(m): i for i, m in enumerate(complete)}
            for record in self._run(found, [(order[id(m)], m) for m in complete], False):
                records[complete[record[0]][3] or ""] = record
        by_python: set[int] = set()

        def run(name: str, members: list[Any], totals: dict[str, Decimal],
                aggregates: dict[str, Decimal]) -> Result:
            paid = records.get(name)
            if paid is not None and not paid[1]:
                return self._result(found, paid, info, totals, name, name, members[0][4],
                                    aggregates, month)
            result = python.run(info, totals, name, name, aggregates, month, members[0][4])
            by_python.add(id(result))
            return result

        results = python._team_results(teams, missing, info, on_error, run)
        results = python._without_unpaid_budgets(results, teams, missing, on_error)
        apply_budgets(self.checked, [r for r in results if id(r) in by_python]
                      if self.in_sql and records else results)
        yield from results


def _fits(values: dict[str, Decimal]) -> bool:
    return all(fits(v) for v in values.values())
