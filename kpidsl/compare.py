"""Pilot comparison: two versions of a scheme on the same facts, person by person.

A new scheme first runs in a shadow month next to the current one. For every employee the
comparison gives the old and the new total, the difference, and which lines changed (pay
components, pool lines, KPI values and plans); for the whole payroll fund the old and new
totals; and who gains and who loses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .api import Ruleset
from .diagnostics import Diagnostic, error
from .facts import FactRow
from .results import Result


@dataclass(frozen=True)
class Change:
    """One line that differs: 'bonus for revenue', 'commission', 'plan of calls'."""

    what: str
    old: Decimal | None  # None: the line does not exist in that version
    new: Decimal | None
    # what the line is, for rendering it with the scheme's labels in the reader's language:
    # kind is kpi | plan | line | component; kpi and payment are the scheme's names
    kind: str = field(default="", compare=False)
    kpi: str = field(default="", compare=False)
    payment: str = field(default="", compare=False)

    @property
    def delta(self) -> Decimal | None:
        return None if self.old is None or self.new is None else self.new - self.old

    def to_dict(self) -> dict[str, str | None]:
        return {"line": self.what, "old": _text(self.old), "new": _text(self.new),
                "delta": _text(self.delta)}


@dataclass
class Row:
    employee: str
    grade: str
    old: Result
    new: Result
    changes: list[Change]

    @property
    def old_total(self) -> Decimal:
        return self.old.total

    @property
    def new_total(self) -> Decimal:
        return self.new.total

    @property
    def delta(self) -> Decimal:
        return self.new.total - self.old.total

    @property
    def verdict(self) -> str:
        return "gains" if self.delta > 0 else "loses" if self.delta < 0 else "same"

    def to_dict(self) -> dict[str, Any]:
        return {"employee": self.employee, "grade": self.grade,
                "old_total": str(self.old_total), "new_total": str(self.new_total),
                "delta": str(self.delta), "verdict": self.verdict,
                "changed": [c.to_dict() for c in self.changes]}


@dataclass
class Comparison:
    old_name: str
    new_name: str
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[str, int, list[Diagnostic]]] = field(default_factory=list)

    @property
    def old_fund(self) -> Decimal:
        return sum((r.old_total for r in self.rows), Decimal(0))

    @property
    def new_fund(self) -> Decimal:
        return sum((r.new_total for r in self.rows), Decimal(0))

    @property
    def gainers(self) -> list[Row]:
        return sorted((r for r in self.rows if r.delta > 0), key=lambda r: -r.delta)

    @property
    def losers(self) -> list[Row]:
        return sorted((r for r in self.rows if r.delta < 0), key=lambda r: r.delta)

    @property
    def unchanged(self) -> list[Row]:
        return [r for r in self.rows if r.delta == 0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: exact decimals as strings."""
        return {
            "old": self.old_name, "new": self.new_name,
            "rows": [r.to_dict() for r in self.rows],
            "fund": {"old_total": str(self.old_fund), "new_total": str(self.new_fund),
                     "delta": str(self.new_fund - self.old_fund)},
            "gainers": [r.employee for r in self.gainers],
            "losers": [r.employee for r in self.losers],
            "unchanged": [r.employee for r in self.unchanged],
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def changes(old: Result, new: Result) -> list[Change]:
    """Lines whose amounts differ, in the new scheme's order, then lines only the old one has."""
    found: list[Change] = []

    def add(what: str, a: Decimal | None, b: Decimal | None, kind: str, kpi: str = "",
            payment: str = "") -> None:
        if a != b:
            found.append(Change(what, a, b, kind, kpi, payment))

    old_kpis, new_kpis = old.kpis, new.kpis
    for name in [*new_kpis, *(k for k in old_kpis if k not in new_kpis)]:
        a, b = old_kpis.get(name), new_kpis.get(name)
        add(name, a.value if a else None, b.value if b else None, "kpi", name)
        if a is not None and b is not None and a.plan != b.plan:
            add(f"plan of {name}", a.plan, b.plan, "plan", name)
    old_lines = {(line.payment, line.kpi): line.amount for line in old.lines}
    new_lines = {(line.payment, line.kpi): line.amount for line in new.lines}
    for key in [*new_lines, *(k for k in old_lines if k not in new_lines)]:
        add(f"{key[0]} for {key[1]}", old_lines.get(key), new_lines.get(key), "line", key[1],
            key[0])
    old_parts, new_parts = old.components, new.components
    for name in [*new_parts, *(k for k in old_parts if k not in new_parts)]:
        add(name, old_parts.get(name), new_parts.get(name), "component", payment=name)
    return found


def compare(old: Ruleset, new: Ruleset, rows: Iterable[FactRow | dict[str, Any]], *,
            grade: str | None = None, month: int | None = None,
            new_rows: Iterable[FactRow | dict[str, Any]] | None = None) -> Comparison:
    """Both schemes over the same facts; a row either scheme cannot compute is a problem.
    `new_rows`: the new scheme's own facts, paired by employee (a scheme with sources
    computes its facts, a per-deal payment among them, from the exports by its own rules)."""
    rows = list(rows)
    comparison = Comparison(old.label, new.label)

    def problem(employee: str, row: int, diagnostics: list[Diagnostic]) -> None:
        comparison.problems.append((employee, row, diagnostics))

    olds = list(old.evaluate_many(rows, grade, month=month, on_error=problem))
    new_rows = None if new_rows is None else list(new_rows)
    news = list(new.evaluate_many(rows if new_rows is None else new_rows, grade,
                                  month=month, on_error=problem))
    by_key = {(r.row if new_rows is None else 0, r.employee): r for r in news}
    only_old = []
    for before in olds:
        after = by_key.pop((before.row if new_rows is None else 0, before.employee), None)
        if after is not None:
            comparison.rows.append(Row(before.employee, after.grade, before, after,
                                       changes(before, after)))
        else:
            only_old.append(before)
    if new_rows is not None:  # each scheme's own facts: an employee may be in one only
        old_files, new_files = _files(rows), _files(new_rows)
        _report_one_sided(comparison, [(r, "current", old_files) for r in only_old]
                          + [(r, "new", new_files) for r in by_key.values()])
    return comparison


def _files(rows: list[FactRow | dict[str, Any]]) -> dict[tuple[int, str], str]:
    """The file of each facts row, by row and employee (a FactRow knows it; a dict does not)."""
    return {(r.row, r.employee): r.file for r in rows if isinstance(r, FactRow)}


def _report_one_sided(comparison: Comparison,
                      sides: list[tuple[Result, str, dict[tuple[int, str], str]]]) -> None:
    """KPI545 for each employee only one scheme has facts for, unless a problem of that
    employee is reported already (the row failed in the other scheme)."""
    reported = {who for who, _row, _found in comparison.problems}
    for result, which, files in sides:
        if result.employee in reported:
            continue
        reported.add(result.employee)
        file = files.get((result.row, result.employee), "<facts>")
        comparison.problems.append((result.employee, result.row, [
            _one_sided(result.employee, which, (file, result.row))]))


def _one_sided(employee: str, which: str, where: tuple[str, int]) -> Diagnostic:
    """Schemes that compute their facts each their own way (from the exports, or one from a
    facts file) can find an employee only one of them pays: the employee would drop out of
    the table and of both payroll funds silently, so it is reported with both readings."""
    if which == "current":
        message = (f"employee '{employee}' has facts under the current scheme but none under "
                   "the new one: is nothing due under the new scheme, or do its sources miss "
                   "the employee's rows?")
    else:
        message = (f"employee '{employee}' has facts under the new scheme but none under the "
                   "current one: was nothing due under the current scheme, or do its sources "
                   "miss the employee's rows?")
    found = error("KPI545", message, hint="compare on files that both schemes read for every "
                  "employee; this employee is left out of both payroll funds")
    return dataclasses.replace(found, file=where[0], line=where[1])


__all__ = ["Change", "Comparison", "Row", "changes", "compare"]
