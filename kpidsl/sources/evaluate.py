"""Source rows → per-employee facts and per-deal lines, in Python: the oracle.

Rows stream past once. Each is filtered by the period (its date) and each fact's `where`,
and folded into that employee's accumulators: totals, counts, minima and maxima hold one
number per employee and fact; an average a sum and a count; a median and a count distinct
hold the values they need; a per-deal payment holds the employee's deals until they can be
put in order. A row that could not be read fails exactly the facts that rest on it: those
of its employee (of everyone, when its employee is what could not be read) whose `where`
does not exclude it on the cells that were read. Such facts are never computed without it.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..diagnostics import Diagnostic
from ..numbers import bound_error
from .plan import FactPlan, PayPlan, SourcePlan
from .read import SourceReader, SourceRow
from .transactions import Deal, order_key

EVERYONE = ""  # failures of rows whose employee could not be read

# A total of values bounded as facts are (< 10^20, ≤ 20 decimals) is exact at 60 digits
_SUM = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation,
                                       decimal.Overflow])
_SHOWN = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


@dataclass
class Accumulator:
    kind: str
    total: Decimal = Decimal(0)
    count: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    values: list[Decimal] | None = None
    distinct: set[object] | None = None

    def add(self, value: object) -> None:
        kind = self.kind
        if kind == "count":
            self.count += 1
            return
        if value is None:
            return  # an empty cell is no value: aggregates skip it
        if kind == "count distinct":
            if self.distinct is None:
                self.distinct = set()
            self.distinct.add(value)
            return
        assert isinstance(value, Decimal)
        self.count += 1
        if kind in ("total", "average"):
            self.total = _SUM.add(self.total, value)
        elif kind == "median":
            if self.values is None:
                self.values = []
            self.values.append(value)
        elif kind == "min":
            self.low = value if self.low is None or value < self.low else self.low
        elif kind == "max":
            self.high = value if self.high is None or value > self.high else self.high

    def result(self) -> Decimal | None:
        """The fact's value; None when no row gave it one (the missing-fact rule applies)."""
        kind = self.kind
        if kind == "count":
            return Decimal(self.count) if self.count else None
        if kind == "count distinct":
            return Decimal(len(self.distinct)) if self.distinct else None
        if not self.count:
            return None
        if kind == "total":
            return self.total + 0
        if kind == "average":
            return mean(self.total, self.count)
        if kind == "median":
            assert self.values is not None
            ordered = sorted(self.values)
            middle = len(ordered) // 2
            if len(ordered) % 2:
                return ordered[middle]
            return _SUM.divide(_SUM.add(ordered[middle - 1], ordered[middle]), 2)
        return self.low if kind == "min" else self.high


def mean(total: Decimal, count: int) -> Decimal:
    """An average: exact when it terminates within 28 significant digits, else rounded there
    half even (the one value of a source that may be rounded: write `total / count` as a
    KPI for the exact quotient). DuckDB's path gives the same digits (sources/duck.py)."""
    return _SHOWN.divide(total, Decimal(count)).normalize(_SHOWN) + 0 if total else Decimal(0)


@dataclass
class Employee:
    """What the sources say of one employee."""

    employee: str
    file: str
    row: int  # the first row that named the employee
    rows: int = 0  # rows credited to the employee that were read whole
    accumulators: dict[str, Accumulator] = field(default_factory=dict)
    deals: dict[str, list[Deal]] = field(default_factory=dict)

    def values(self) -> dict[str, Decimal]:
        out = {}
        for fact, acc in self.accumulators.items():
            value = acc.result()
            if value is not None:
                out[fact] = value
        return out


@dataclass
class Stage:
    """The sources of one run, folded row by row (see the module's docstring)."""

    plan: SourcePlan
    period: tuple[dt.datetime, dt.datetime] | None = None
    employees: dict[str, Employee] = field(default_factory=dict)
    # fact → employee (or EVERYONE) → the diagnostics of the rows it rests on
    failed: dict[str, dict[str, list[Diagnostic]]] = field(default_factory=dict)
    bad_rows: list[SourceRow] = field(default_factory=list)
    harmless: list[SourceRow] = field(default_factory=list)  # unreadable, but nothing rests on it
    periods_seen: set[str] = field(default_factory=set)
    rows_read: int = 0
    splits: dict[tuple[str, str], list[tuple[int, SourceRow]]] = field(default_factory=dict)

    def read(self, source: str, reader: SourceReader, file_index: int) -> None:
        facts = [f for f in self.plan.facts.values() if f.source == source]
        pays = [p for p in self.plan.pays.values() if p.source == source]
        split = bool(self.plan.sources[source].share_column)
        for row in reader:
            self.rows_read += 1
            if row.problems:
                self._fail(row, facts, pays)
            elif split:  # a deal's rows may be anywhere in the file: held until the end
                self.splits.setdefault((source, row.key), []).append((file_index, row))
            else:
                self._fold(row, facts, pays, file_index)

    def finish(self) -> None:
        """Split deals: each credited share, to the kopeck (kpidsl/sources/splits.py)."""
        from .splits import split_deal

        for (source, _key), rows in self.splits.items():
            facts = [f for f in self.plan.facts.values() if f.source == source]
            pays = [p for p in self.plan.pays.values() if p.source == source]
            fields = [f.name for f in self.plan.sources[source].fields if f.kind == "money"]
            for file_index, row in split_deal(rows, fields):
                if row.problems:
                    self._fail(row, facts, pays)
                else:
                    self._fold(row, facts, pays, file_index)
        self.splits.clear()

    def _fold(self, row: SourceRow, facts: list[FactPlan], pays: list[PayPlan],
              file_index: int) -> None:
        from .dates import period_of

        employee = self._employee(row)
        employee.rows += 1
        assert row.date is not None
        if self.period is not None:
            if not self.period[0] <= row.date < self.period[1]:
                return
        else:
            self.periods_seen.add(period_of(row.date, self.plan.period))
        for fact in facts:
            if fact.predicate(row):
                acc = employee.accumulators.get(fact.fact)
                if acc is None:
                    acc = employee.accumulators[fact.fact] = Accumulator(fact.kind)
                acc.add(row.values.get(fact.field) if fact.field else None)
        for pay in pays:
            if pay.predicate(row):
                credit = row.values.get(pay.field)
                if credit is None:
                    continue
                assert isinstance(credit, Decimal)
                employee.deals.setdefault(pay.payment, []).append(Deal(
                    order_key(row.date, row.key, file_index, row.row), row.key, row.date,
                    row.file, row.row, credit, row.share))

    def _employee(self, row: SourceRow) -> Employee:
        found = self.employees.get(row.employee)
        if found is None:
            found = self.employees[row.employee] = Employee(row.employee, row.file, row.row)
        return found

    def _fail(self, row: SourceRow, facts: list[FactPlan], pays: list[PayPlan]) -> None:
        """The facts this row could belong to fail for its employee (or everyone). A row
        that no fact rests on — outside the period, or left out by every `where` on the
        cells that were read (an open deal without a close date) — is evaluated: it counts
        for nothing whatever its unreadable cell holds, and is only warned about."""
        who = EVERYONE if "employee" in row.problems else row.employee
        if who:
            self._employee(row)
        if not self._rests_on(row, who, facts, pays):
            self.harmless.append(row)
            if who:
                self.employees[who].rows += 1
            return
        self.bad_rows.append(row)

    def _rests_on(self, row: SourceRow, who: str, facts: list[FactPlan],
                  pays: list[PayPlan]) -> bool:
        in_period = True
        if "date" not in row.problems and row.date is not None and self.period is not None:
            in_period = self.period[0] <= row.date < self.period[1]
        if not in_period:
            return False
        diagnostics = list(row.problems.values())
        found = False
        plans: list[FactPlan | PayPlan] = [*facts, *pays]
        for plan in plans:
            needs = set(plan.needs) | {"date", "employee", "share"}
            if isinstance(plan, PayPlan):
                needs |= {"key"}
            if not needs & set(row.problems):
                continue
            if plan.predicate(row) is False:
                continue  # excluded on the cells that were read: it rests on nothing here
            name = plan.fact
            self.failed.setdefault(name, {}).setdefault(who, []).extend(diagnostics)
            found = True
        return found

    def failures_of(self, employee: str, facts: Iterable[str]) -> dict[str, list[Diagnostic]]:
        out = {}
        for fact in facts:
            by = self.failed.get(fact)
            if by:
                found = by.get(employee, []) + by.get(EVERYONE, [])
                if found:
                    out[fact] = found
        return out


def check_bounds(values: dict[str, Decimal]) -> str | None:
    """A total beyond what a fact can hold is refused rather than rounded."""
    for fact, value in values.items():
        why = bound_error(value)
        if why is not None:
            return f"'{fact}' ({value:.6e}) {why}"
    return None
