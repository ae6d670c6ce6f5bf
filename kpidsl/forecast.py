"""Mid-period forecast: fulfilment so far, a forecast to period end, and the payout it leads to.

After 10 of 20 working days a manager with 550 calls is on pace for 1 100: facts that
accumulate over the period (money, counts) are projected by pace, fact × total ÷ elapsed;
ratios and averages stay as they are (a 1.8 % conversion is 1.8 % whatever the day).
KPIs computed by formula are recomputed from the projected facts, so an average check of
revenue ÷ deals stays what it is. The projected payout is the scheme evaluated on the
projected facts. A working-day calendar (Monday to Friday, less holidays read from a file,
plus weekend days declared working) turns a date into elapsed and total days.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import decimal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import ast
from .api import Ruleset
from .checks import BASE, Variant
from .diagnostics import Diagnostic, KpiError, error
from .facts import FactRow
from .results import Result
from .runtime import CONTEXT
from .source import SourceFile
from .units import Unit

# The pace factor has 16 digits, so a projected fact of up to 18 digits is an exact product
# (34 digits: the evaluator's context) and ratios of projected facts stay exact.
PACE = decimal.Context(prec=16, rounding=decimal.ROUND_HALF_EVEN)
PROJECTION = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
CENT = Decimal("0.01")


# ---------------------------------------------------------------- pace and calendar


@dataclass(frozen=True)
class Pace:
    """How far into the period we are: elapsed of total working days (and the date, if any)."""

    elapsed: int
    total: int
    as_of: dt.date | None = None
    holidays: int = 0  # holidays that fell on working days of the month (for the caption)

    @property
    def month(self) -> int | None:
        return self.as_of.month if self.as_of else None

    @property
    def factor(self) -> Decimal:
        """total ÷ elapsed: exact when it terminates, else to 16 significant digits."""
        return PACE.divide(Decimal(self.total), Decimal(self.elapsed))

    def project(self, value: Decimal) -> Decimal:
        """fact × `factor`, exactly: every projected fact is scaled by the same number, so a
        ratio of two of them (revenue ÷ deals) is exactly the ratio of the facts so far, in
        the evaluator's exact arithmetic."""
        if self.elapsed == self.total:
            return value
        return PROJECTION.multiply(value, self.factor)

    def caption(self) -> str:
        day = f"day {self.elapsed} of {self.total} working days"
        return f"{day} (as of {self.as_of.isoformat()})" if self.as_of else day


def make_pace(elapsed: int, total: int) -> Pace:
    """A pace from days given by hand; KPI625 when they do not describe part of a period."""
    if total <= 0:
        raise KpiError([error("KPI625", f"must be positive, not {total}", _at("--total-days"))])
    if not 0 < elapsed <= total:
        raise KpiError([error("KPI625", f"must be between 1 and --total-days ({total}), "
                              f"not {elapsed}", _at("--elapsed"),
                              hint="elapsed days are the working days already behind, "
                                   "today included")])
    return Pace(elapsed, total)


@dataclass(frozen=True)
class Calendar:
    """Working days: Monday–Friday, less `holidays`, plus weekend days in `working`."""

    holidays: frozenset[dt.date] = frozenset()
    working: frozenset[dt.date] = frozenset()

    def is_working(self, day: dt.date) -> bool:
        if day in self.working:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def month_days(self, year: int, month: int) -> list[dt.date]:
        last = calendar.monthrange(year, month)[1]
        return [d for d in (dt.date(year, month, n) for n in range(1, last + 1))
                if self.is_working(d)]

    def pace(self, as_of: dt.date) -> Pace:
        """Elapsed = working days from the 1st through `as_of` inclusive; total = the month's."""
        days = self.month_days(as_of.year, as_of.month)
        elapsed = sum(1 for d in days if d <= as_of)
        if not days:
            raise KpiError([error("KPI625", f"{as_of:%Y-%m} has no working days in the calendar",
                                  _at("--as-of"))])
        if elapsed == 0:
            raise KpiError([error("KPI625", f"no working day of {as_of:%Y-%m} has passed by "
                                  f"{as_of.isoformat()}", _at("--as-of"),
                                  hint="a forecast needs at least one working day of facts")])
        off = sum(1 for d in self.holidays if (d.year, d.month) == (as_of.year, as_of.month)
                  and d.weekday() < 5 and d not in self.working)
        return Pace(elapsed, len(days), as_of, off)


def _at(where: str) -> SourceFile:
    """Where a diagnostic about an option or a whole file points: '--elapsed', the path."""
    return SourceFile(where, "")


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD; ValueError with a plain message otherwise."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a date like 2025-03-14") from None


def parse_holidays(text: str, name: str = "<holidays>") -> Calendar:
    """One date per line (YYYY-MM-DD); `YYYY-MM-DD working` marks a weekend day as working.

    Blank lines and `#` comments are skipped; every bad line is a KPI626 error at its line.
    """
    holidays: set[dt.date] = set()
    working: set[dt.date] = set()
    problems: list[Diagnostic] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        try:
            day = parse_date(words[0])
            if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("working", "off")):
                raise ValueError(f"'{line}' is not a date, optionally followed by 'working'")
        except ValueError as exc:
            column = len(raw) - len(raw.lstrip()) + 1
            problems.append(dataclasses.replace(
                error("KPI626", f"bad holiday line: {exc}",
                      hint="write one date per line, e.g. 2025-05-01 (or 2025-11-01 working)"),
                file=name, line=number, column=column, end_column=len(raw.rstrip()) + 1,
                source_line=raw))
            continue
        (working if len(words) == 2 and words[1].lower() == "working" else holidays).add(day)
    if problems:
        raise KpiError(problems)
    return Calendar(frozenset(holidays), frozenset(working))


def read_holidays(path: str | Path) -> Calendar:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KpiError([error("KPI626", f"cannot read the holidays file: "
                              f"{getattr(exc, 'strerror', None) or exc}", _at(str(path)))]) \
            from None
    return parse_holidays(text, str(path))


# ---------------------------------------------------------------- what is projected


def projected_facts(variant: Variant, hold: Iterable[str] = ()) -> frozenset[str]:
    """Facts projected by pace: money and counts, except averages and the held ones.

    A money or count fact that is itself the value of an efficiency KPI (the average check
    taken from a CRM report) is an average, not a running sum, so it stays as it is.
    """
    held = set(hold)
    for kpi in variant.kpis.values():
        if kpi.group == "efficiency":
            source = kpi.name if kpi.formula is None else \
                kpi.formula.name if isinstance(kpi.formula, ast.Ref) else None
            if source in variant.facts:
                held.add(source)
    return frozenset(name for name, fact in variant.facts.items()
                     if fact.unit.is_additive and name not in held)


def paced_kpis(variant: Variant, projected: frozenset[str]) -> frozenset[str]:
    """KPIs that grow with the period: a projected fact, sums of them, scaled by constants."""
    paced: set[str] = set()
    constants = set(variant.constants)

    def grows(expr: ast.Expr) -> bool:
        match expr:
            case ast.TeamAggregate(name=name):  # totals, averages, min and max all scale
                return name in projected
            case ast.Ref(name=name):
                return name in projected or name in paced
            case ast.Binary(op=ast.BinaryOp.ADD | ast.BinaryOp.SUB, left=left, right=right):
                return grows(left) and grows(right)
            case ast.Binary(op=ast.BinaryOp.MUL, left=left, right=right):  # × by a constant
                return (grows(left) and fixed(right)) or (fixed(left) and grows(right))
            case ast.Division(left=left, right=right):
                return grows(left) and fixed(right)
        return False  # a condition, a curve, a plan, a rounding: not a running sum

    def fixed(expr: ast.Expr) -> bool:
        match expr:
            case ast.Literal():
                return True
            case ast.Ref(name=name):
                return name in constants
        return False

    for name in variant.kpi_order:
        kpi = variant.kpis[name]
        if (kpi.formula is None and name in projected) or \
                (kpi.formula is not None and grows(kpi.formula)):
            paced.add(name)
    return frozenset(paced)


def project(values: Mapping[str, Decimal], names: Iterable[str], pace: Pace) -> dict[str, Decimal]:
    """The facts at period end: the projected names by pace, the rest as they are."""
    out = dict(values)
    for name in names:
        if name in out:
            out[name] = pace.project(out[name])
    return out


# ---------------------------------------------------------------- the forecast


@dataclass(frozen=True)
class KpiForecast:
    name: str
    label: str
    unit: Unit
    plan: Decimal | None
    fact: Decimal  # the KPI's value so far
    fulfilment: Decimal | None  # its attainment so far
    forecast: Decimal  # its value at period end
    forecast_attainment: Decimal | None
    daily_norm: Decimal | None  # plan ÷ working days, for KPIs that grow with the period
    paced: bool  # False: a ratio or average, not extrapolated
    status: str  # ahead | on plan | behind | "" (no plan)


@dataclass
class Forecast:
    """One employee: the result so far, the result at the forecast, and each KPI's line."""

    pace: Pace
    so_far: Result
    at_end: Result
    kpis: dict[str, KpiForecast]
    projected: frozenset[str]

    @property
    def employee(self) -> str:
        return self.so_far.employee

    @property
    def total(self) -> Decimal:
        """The projected payout: the scheme evaluated on the projected facts."""
        return self.at_end.total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, exact decimals as strings."""
        return {
            "employee": self.employee,
            "grade": self.so_far.grade,
            "elapsed_days": self.pace.elapsed,
            "total_days": self.pace.total,
            "as_of": self.pace.as_of.isoformat() if self.pace.as_of else None,
            "kpis": {k.name: kpi_dict(k) for k in self.kpis.values()},
            "projected_facts": sorted(self.projected),
            "forecast_components": {n: str(v) for n, v in self.at_end.components.items()},
            "forecast_total": str(self.at_end.total),
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def plain(value: Decimal) -> str:
    """A KPI value for JSON: to the evaluator's 34 digits, no trailing zeros, no exponent."""
    return f"{CONTEXT.plus(value).normalize(CONTEXT):f}"


def kpi_dict(k: KpiForecast) -> dict[str, Any]:
    return {
        "plan": _text(k.plan), "fact": _text(k.fact), "fulfilment": _text(k.fulfilment),
        "forecast": _text(k.forecast), "forecast_attainment": _text(k.forecast_attainment),
        "daily_norm": _text(k.daily_norm), "extrapolated": k.paced, "status": k.status,
    }


def daily_norm(plan: Decimal | None, pace: Pace, unit: Unit) -> Decimal | None:
    """plan ÷ working days, rounded half up to 0.01 (whole counts shown without decimals)."""
    if plan is None:
        return None
    norm = (plan / Decimal(pace.total)).quantize(CENT, rounding=decimal.ROUND_HALF_UP)
    if unit is not Unit.MONEY and norm == norm.to_integral_value():
        norm = norm.quantize(Decimal(1))
    return norm


def status(attainment: Decimal | None) -> str:
    if attainment is None:
        return ""
    return "ahead" if attainment > 1 else "on plan" if attainment == 1 else "behind"


def build(ruleset: Ruleset, so_far: Result, at_end: Result, pace: Pace,
          projected: frozenset[str]) -> Forecast:
    variant = ruleset.checked.variants[so_far.grade]
    paced = paced_kpis(variant, projected)
    kpis = {}
    for name, now in so_far.kpis.items():
        end = at_end.kpis[name]
        grows = name in paced
        kpis[name] = KpiForecast(
            name, now.label, now.unit, end.plan, now.value, now.attainment, end.value,
            end.attainment, daily_norm(end.plan, pace, now.unit) if grows else None, grows,
            status(end.attainment))
    return Forecast(pace, so_far, at_end, kpis, projected)


def forecast(ruleset: Ruleset, facts: Mapping[str, object], pace: Pace, grade: str | None = None,
             *, employee: str = "", month: int | None = None,
             hold: Iterable[str] = ()) -> Forecast:
    """One employee's forecast from the facts so far."""
    month = month if month is not None else pace.month
    so_far = ruleset.evaluate(facts, grade, employee=employee, month=month)
    names = projected_facts(ruleset.checked.variants[so_far.grade], hold)
    at_end = ruleset.evaluate(project(so_far.facts, names, pace), so_far.grade,
                              employee=so_far.employee, month=month)
    return build(ruleset, so_far, at_end, pace, names)


def forecast_many(ruleset: Ruleset, rows: Iterable[Any], pace: Pace, grade: str | None = None,
                  *, month: int | None = None, hold: Sequence[str] = (),
                  on_error: Any = None) -> Iterator[Forecast]:
    """A batch: facts so far → Forecasts (team aggregates are taken on the projected facts)."""
    month = month if month is not None else pace.month
    rows = list(rows)
    so_far = list(ruleset.evaluate_many(rows, grade, month=month, on_error=on_error))
    return forecasts_of(ruleset, so_far, pace, month=month, hold=hold, on_error=on_error,
                        members=rows, grade=grade)


def forecasts_of(ruleset: Ruleset, so_far: Sequence[Result], pace: Pace, *,
                 month: int | None = None, hold: Sequence[str] = (), on_error: Any = None,
                 members: Sequence[Any] | None = None,
                 grade: str | None = None) -> Iterator[Forecast]:
    """Forecasts for results already evaluated on the facts so far (in their order).

    A scheme `paid per team` has one result a team, whose facts are the team's totals; its
    aggregates (an average over members) need the members, so `members` must give the rows.
    """
    month = month if month is not None else pace.month
    names = {v: projected_facts(ruleset.checked.variants[v], hold)
             for v in {r.grade for r in so_far}}
    if ruleset.checked.header.per_team:
        if members is None:
            raise ValueError("a scheme paid per team is forecast from its members' rows")
        variant = ruleset.checked.variants[grade or BASE]
        projected = names.get(variant.name, projected_facts(variant, hold))
        ends_by_team = {r.employee: r for r in ruleset.evaluate_many(
            [_project_row(row, projected, pace, variant) for row in members], grade,
            month=month, on_error=on_error)}
        for now in so_far:
            if now.employee in ends_by_team:
                yield build(ruleset, now, ends_by_team[now.employee], pace, projected)
        return
    ends = [FactRow("", index, r.employee, None if r.grade == BASE else r.grade, r.team,
                    project(r.facts, names[r.grade], pace), {})
            for index, r in enumerate(so_far)]
    by_index = {r.row: r for r in ruleset.evaluate_many(ends, month=month, on_error=on_error)}
    for index, now in enumerate(so_far):
        if index in by_index:
            yield build(ruleset, now, by_index[index], pace, names[now.grade])


def _project_row(row: Any, names: frozenset[str], pace: Pace, variant: Variant) -> Any:
    """A member's row at period end: a FactRow's values, or a mapping's (parsed first)."""
    from .evaluate import convert_fact

    if isinstance(row, FactRow):
        return dataclasses.replace(row, values=project(row.values, names, pace))
    out = dict(row)
    for name in names:
        if out.get(name) not in (None, ""):
            out[name] = pace.project(convert_fact(name, out[name], variant.facts[name].unit))
    return out


__all__ = [
    "Calendar", "Forecast", "KpiForecast", "Pace", "forecast", "forecast_many", "forecasts_of",
    "make_pace",
    "paced_kpis", "parse_date", "parse_holidays", "project", "projected_facts", "read_holidays",
]
