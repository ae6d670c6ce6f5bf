"""Goal seeking: the smallest value of one fact that brings an employee to a given income.

Income as a function of one fact is piecewise: a curve's bands switch where attainment
crosses their thresholds, caps make it flat, and rounding to kopecks makes it a staircase.
The search is exact, not a guess:

1. breakpoints: for every KPI that depends on the fact, the values of the fact at which its
   attainment crosses a threshold of its curves (or of a gate that compares it), plus 100 %
   of plan; for a KPI that *is* the fact these are threshold × plan; for a computed KPI
   (revenue ÷ deals) the crossing is found by exact bisection on the KPI itself;
2. the income is evaluated at every breakpoint (and its neighbours one step away), then at
   doublings beyond the last one, until the target is reached or the income stops growing;
3. between two neighbouring breakpoints every band is fixed, so the income moves one way;
   exact bisection on the grid of the fact's resolution finds the first value that reaches
   the target, and the value one step below is evaluated to prove it does not.

The resolution is the step a fact is searched in: 1 for counts, 0.01 for money (a kopeck),
0.000001 for percent (0.0001 percentage points), 0.0001 for ratios and plain numbers,
0.01 for durations. Facts are searched from 0 up.
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from . import ast
from .api import Ruleset
from .checks import Variant
from .checks.fold import fold
from .checks.walk import nodes, references
from .diagnostics import KpiError, did_you_mean, error
from .evaluate import team_values
from .i18n import LANGUAGES, section
from .results import Result
from .runtime import CONTEXT
from .source import SourceFile
from .units import Unit

RESOLUTIONS: dict[Unit, Decimal] = {
    Unit.MONEY: Decimal("0.01"), Unit.COUNT: Decimal(1), Unit.PERCENT: Decimal("0.000001"),
    Unit.RATIO: Decimal("0.0001"), Unit.NUMBER: Decimal("0.0001"),
    Unit.MINUTES: Decimal("0.01"), Unit.HOURS: Decimal("0.01"), Unit.DAYS: Decimal("0.01"),
}
MAX_DOUBLINGS = 64
FLAT_RUN = 3  # equal incomes at this many successive doublings: the income has stopped growing


@dataclass
class Seek:
    """The answer and the evidence for it."""

    employee: str
    fact: str
    unit: Unit
    target: Decimal
    resolution: Decimal
    current: Decimal
    now: Result  # the employee at the current facts
    outcome: str = "reached"  # reached | already | unreachable | any
    direction: str = "at least"  # at least | at most (the income falls as the fact grows)
    value: Decimal | None = None
    at: Result | None = None  # the result at the answer
    neighbour: Result | None = None  # one step beyond the answer, short of the target
    best: Decimal | None = None  # unreachable: the most the income can be ...
    best_from: Decimal | None = None  # ... reached from this value of the fact
    limits: list[Limit] = field(default_factory=list)  # why the income cannot grow further
    notes: list[str] = field(default_factory=list)  # keys of NOTES
    breakpoints: list[Decimal] = field(default_factory=list)
    evaluations: int = 0

    @property
    def reached(self) -> bool:
        return self.outcome != "unreachable"

    def to_dict(self) -> dict[str, object]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:f}"

        return {
            "employee": self.employee, "fact": self.fact, "earn": text(self.target),
            "outcome": self.outcome, "direction": self.direction, "value": text(self.value),
            "current": text(self.current), "current_total": text(self.now.total),
            "total_at_value": text(self.at.total if self.at else None),
            "neighbour": text(self.neighbour.facts[self.fact] if self.neighbour else None),
            "total_at_neighbour": text(self.neighbour.total if self.neighbour else None),
            "best": text(self.best), "best_from": text(self.best_from),
            "limits": [limit.describe() for limit in self.limits],
            "notes": [note_text(n, self.fact) for n in self.notes],
            "resolution": text(self.resolution), "evaluations": self.evaluations,
        }


class _Income:
    """The employee's result as a function of one fact, cached by value."""

    def __init__(self, ruleset: Ruleset, facts: Mapping[str, Decimal], fact: str,
                 grade: str | None, employee: str, month: int | None,
                 teammates: list[Mapping[str, Decimal]] | None) -> None:
        self.ruleset, self.facts, self.fact = ruleset, dict(facts), fact
        self.grade, self.employee, self.month = grade, employee, month
        self.teammates = teammates
        self.cache: dict[Decimal, Result] = {}

    def result(self, x: Decimal) -> Result:
        found = self.cache.get(x)
        if found is None:
            facts = dict(self.facts)
            facts[self.fact] = x
            team = None
            info = self.ruleset.infos[self.grade or "base"]
            if self.teammates is not None and info.team_needs:
                team = team_values(info.team_needs, [*self.teammates, facts])
            found = self.ruleset.evaluate(facts, self.grade, employee=self.employee, team=team,
                                          month=self.month)
            self.cache[x] = found
        return found

    def total(self, x: Decimal) -> Decimal:
        return self.result(x).total


def resolution(unit: Unit) -> Decimal:
    return RESOLUTIONS.get(unit, Decimal("0.0001"))


def snap(x: Decimal, step: Decimal, up: bool = True) -> Decimal:
    """The nearest multiple of `step` at or above (or below) x, written with step's exponent."""
    mode = decimal.ROUND_CEILING if up else decimal.ROUND_FLOOR
    return ((x / step).to_integral_value(rounding=mode) * step).quantize(step)


# ---------------------------------------------------------------- breakpoints


def dependents(variant: Variant, fact: str) -> dict[str, bool]:
    """KPIs whose value depends on the fact → whether the KPI simply *is* the fact."""
    out: dict[str, bool] = {}
    for name in variant.kpi_order:
        kpi = variant.kpis[name]
        refs = {n for kind, n, _ in references(kpi.formula) if kind == "value"} \
            if kpi.formula is not None else {name}
        if fact in refs or refs & out.keys():
            direct = kpi.attainment is None and (
                (kpi.formula is None and name == fact) or kpi.formula == ast.Ref(name=fact))
            out[name] = direct
    return out


def _curve_thresholds(curve: ast.Curve, constants: dict[str, Decimal]) -> set[Decimal]:
    return set(curve.kind.thresholds(curve, constants))  # its kind knows where they are


def thresholds(variant: Variant, kpis: Iterable[str]) -> tuple[dict[str, set[Decimal]],
                                                              dict[str, set[ast.Expr]]]:
    """Attainment thresholds per KPI (curves, gates, 100 %) and value thresholds (gates)."""
    wanted = set(kpis)
    constants = variant.constant_values
    on_attainment: dict[str, set[Decimal]] = {k: {Decimal(1)} for k in wanted}
    on_value: dict[str, set[ast.Expr]] = {k: set() for k in wanted}
    for _pay, item in variant.pooled_kpis():
        if item.kpi in wanted and item.curve in variant.curves:
            on_attainment[item.kpi] |= _curve_thresholds(variant.curves[item.curve], constants)
    exprs: list[ast.Expr | None] = []
    for pay in variant.pays.values():
        exprs += [pay.formula, pay.pool, *(g.value for g in pay.gates),
                  *(g.unless for g in pay.gates)]
        for item in pay.items:
            exprs += [*(g.value for g in item.gates), *(g.unless for g in item.gates)]
    for kpi in variant.kpis.values():
        exprs += [kpi.formula, kpi.plan, kpi.attainment]
    for node in (n for e in exprs for n in nodes(e)):
        match node:
            case ast.CurveCall(curve=curve, arg=ast.AttainmentOf(name=measured)) \
                    if measured in wanted and curve in variant.curves:
                on_attainment[measured] |= _curve_thresholds(variant.curves[curve], constants)
            case ast.Compare(left=left, right=right):
                for side, other in ((left, right), (right, left)):
                    match side:
                        case ast.AttainmentOf(name=measured) if measured in wanted:
                            value = fold(other, constants)
                            if value is not None:
                                on_attainment[measured].add(value)
                        case ast.Ref(name=measured) if measured in wanted:
                            on_value[measured].add(other)
    return on_attainment, on_value


class _Search:
    def __init__(self, income: _Income, variant: Variant, step: Decimal) -> None:
        self.income, self.variant, self.step = income, variant, step

    def crossing(self, measure: Callable[[Decimal], Decimal | None], threshold: Decimal,
                 start: Decimal) -> Decimal | None:
        """The first grid value above one step where `measure(x) >= threshold` flips.

        It starts one step above 0, not at 0, where `otherwise` often stands in for a
        quotient (revenue ÷ 0 deals), so the measure is monotone on the range searched.
        """
        def side(x: Decimal) -> bool | None:
            value = measure(x)
            return None if value is None else value >= threshold

        lo = self.step
        at_start = side(lo)
        if at_start is None:
            return None
        hi = snap(max(start, lo * 2), self.step)
        for _ in range(MAX_DOUBLINGS):
            flipped = side(hi)
            if flipped is not None and flipped != at_start:
                break
            lo, hi = hi, snap(hi * 2, self.step)
        else:
            return None
        while hi - lo > self.step:
            mid = snap((lo + hi) / 2, self.step, up=False)
            mid = mid if mid > lo else lo + self.step
            if side(mid) == at_start:
                lo = mid
            else:
                hi = mid
        return hi

    def breakpoints(self, plans: Mapping[str, Decimal | None], current: Decimal) -> set[Decimal]:
        deps = dependents(self.variant, self.income.fact)
        on_attainment, on_value = thresholds(self.variant, deps)
        raw: set[Decimal] = set()
        for kpi, direct in deps.items():
            plan = plans.get(kpi)
            lower = self.variant.kpi_direction(kpi) == "lower"

            def attainment(x: Decimal, k: str = kpi) -> Decimal | None:
                return self.income.result(x).kpis[k].attainment

            def value_at(x: Decimal, k: str = kpi) -> Decimal | None:
                return self.income.result(x).kpis[k].value

            for t in on_attainment[kpi]:
                if direct and plan:
                    raw.add((Decimal(2) - t) * plan if lower else t * plan)
                else:
                    found = self.crossing(attainment, t, current)
                    if found is not None:
                        raw.add(found)
            for expr in on_value[kpi]:
                value = self._value_of(expr, plans)
                if value is None:
                    continue
                if direct:
                    raw.add(value)
                else:
                    found = self.crossing(value_at, value, current)
                    if found is not None:
                        raw.add(found)
        points: set[Decimal] = set()
        for x in raw:
            if x.is_finite() and x >= 0:
                for y in (snap(x, self.step, up=False), snap(x, self.step)):
                    points.update(p for p in (y - self.step, y, y + self.step) if p >= 0)
        return points

    def _value_of(self, expr: ast.Expr, plans: Mapping[str, Decimal | None]) -> Decimal | None:
        match expr:
            case ast.PlanOf(name=kpi):
                return plans.get(kpi)
        return fold(expr, self.variant.constant_values)


# ---------------------------------------------------------------- the search


def seek(ruleset: Ruleset, facts: Mapping[str, object], fact: str, earn: Decimal, *,
         grade: str | None = None, employee: str = "", month: int | None = None,
         teammates: list[Mapping[str, Decimal]] | None = None) -> Seek:
    """The smallest value of `fact` (others as given) at which the income reaches `earn`.

    When the income falls as the fact grows (a lower-is-better fact), the answer is the
    largest value that still reaches it. Raises KpiError (KPI627) for a fact the employee's
    scheme does not read.
    """
    now = ruleset.evaluate(facts, grade, employee=employee, month=month)
    variant = ruleset.checked.variants[now.grade]
    if fact not in variant.facts:
        hint = did_you_mean(fact, variant.facts) or \
            f"the facts of this scheme: {', '.join(variant.facts)}"
        raise KpiError([error("KPI627", f"'{fact}' is not a fact of scheme '{ruleset.name}'"
                              f"{'' if now.grade == 'base' else f' (grade {now.grade})'}",
                              SourceFile("--vary", ""), hint=hint)])
    unit = variant.facts[fact].unit
    step = resolution(unit)
    with decimal.localcontext(CONTEXT):
        income = _Income(ruleset, now.facts, fact, now.grade, now.employee, month, teammates)
        current = now.facts[fact]
        answer = Seek(now.employee, fact, unit, earn, step, current, now)
        search = _Search(income, variant, step)
        plans = {k.name: k.plan for k in now.kpis.values()}
        origin = snap(max(current, Decimal(0)), step)
        points = sorted({Decimal(0).quantize(step), step, origin}
                        | search.breakpoints(plans, max(current, step)))
        answer.breakpoints = points
        _solve(answer, income, points, variant)
        answer.evaluations = len(income.cache)
    return answer


def _solve(answer: Seek, income: _Income, points: list[Decimal], variant: Variant) -> None:
    target, step = answer.target, answer.resolution
    values = [income.total(x) for x in points]
    falling = values[0] > values[-1] and _monotone(values, falling=True)
    x = points[-1] if points[-1] > 0 else step
    flat = 0
    for _ in range(MAX_DOUBLINGS):  # beyond the last breakpoint
        if (not falling and values[-1] >= target) or (falling and values[-1] < target):
            break
        if flat >= FLAT_RUN:
            break
        x = snap(x * 2, step)
        total = income.total(x)
        flat = flat + 1 if total == values[-1] else 0
        points.append(x)
        values.append(total)
    if len(set(values)) == 1:
        answer.notes.append("independent")
    elif not _monotone(values, falling=falling):
        answer.notes.append("not_monotone")
    if falling:
        _solve_falling(answer, income, points, values, variant)
        return
    first = next((i for i, v in enumerate(values) if v >= target), None)
    if first is None:
        _unreachable(answer, income, points, values, variant)
        return
    if first == 0:
        answer.outcome, answer.value = "already", points[0]
        answer.at = income.result(points[0])
        return
    lo, hi = points[first - 1], points[first]
    while hi - lo > step:
        mid = snap((lo + hi) / 2, step, up=False)
        mid = mid if mid > lo else lo + step
        if income.total(mid) >= target:
            hi = mid
        else:
            lo = mid
    answer.value, answer.at = hi, income.result(hi)
    answer.neighbour = income.result(hi - step)
    assert answer.neighbour.total < target <= answer.at.total


def _solve_falling(answer: Seek, income: _Income, points: list[Decimal], values: list[Decimal],
                   variant: Variant) -> None:
    target, step = answer.target, answer.resolution
    answer.direction = "at most"
    if values[0] < target:
        _unreachable(answer, income, points, values, variant)
        return
    first_short = next((i for i, v in enumerate(values) if v < target), None)
    if first_short is None:
        answer.outcome, answer.value = "any", points[-1]
        answer.at = income.result(points[-1])
        return
    lo, hi = points[first_short - 1], points[first_short]
    while hi - lo > step:
        mid = snap((lo + hi) / 2, step, up=False)
        mid = mid if mid > lo else lo + step
        if income.total(mid) >= target:
            lo = mid
        else:
            hi = mid
    answer.value, answer.at = lo, income.result(lo)
    answer.neighbour = income.result(lo + step)


def _monotone(values: list[Decimal], falling: bool) -> bool:
    pairs = itertools.pairwise(values)
    return all(b <= a for a, b in pairs) if falling else all(b >= a for a, b in pairs)


def _unreachable(answer: Seek, income: _Income, points: list[Decimal], values: list[Decimal],
                 variant: Variant) -> None:
    answer.outcome = "unreachable"
    best = max(values)
    index = values.index(best)
    lo, hi = (points[index - 1] if index else points[0]), points[index]
    if index and answer.direction != "at most":  # the first value that brings the most
        while hi - lo > answer.resolution:
            mid = snap((lo + hi) / 2, answer.resolution, up=False)
            mid = mid if mid > lo else lo + answer.resolution
            if income.total(mid) >= best:
                hi = mid
            else:
                lo = mid
    answer.best, answer.best_from = best, hi
    answer.at = income.result(hi)
    farthest = income.result(points[-1])  # well past every threshold: caps show there
    answer.limits = limits(farthest, variant, dependents(variant, answer.fact))


# the notes' words by language (kpidsl/i18n, section TARGET)
NOTES = {lang: {key: section("TARGET", lang)[f"note_{key}"]
                for key in ("independent", "not_monotone")} for lang in LANGUAGES}


def note_text(key: str, fact: str, lang: str = "en") -> str:
    return NOTES[lang][key].format(fact=fact)


@dataclass(frozen=True)
class Limit:
    """Why the income stops growing with the fact: a capped line or a curve at its top."""

    kind: str  # capped (a cap on the line) | cap (the curve's cap) | last_point (linear)
    payment: str
    kpi: str
    curve: str = ""
    cap: Decimal | None = None

    def describe(self, lang: str = "en", label: Callable[[str], str] | None = None) -> str:
        """Why in words; `label` gives the scheme's labels (names when not given)."""
        name = label or (lambda text: text)
        words = section("TARGET", lang)
        where = words["limit_where"].format(payment=name(self.payment), kpi=name(self.kpi))
        if self.kind == "capped":
            return words["limit_capped"].format(where=where)
        if self.kind == "cap":
            return words["limit_cap"].format(curve=self.curve, where=where,
                                             cap=_percent(self.cap or Decimal(0)))
        return words["limit_last_point"].format(curve=self.curve, where=where)


def limits(result: Result, variant: Variant, kpis: Iterable[str]) -> list[Limit]:
    """Why the income stops growing: curves at their cap, capped lines."""
    wanted = set(kpis)
    out: list[Limit] = []
    for line in result.lines:
        if line.kpi not in wanted:
            continue
        curve = variant.curves.get(line.curve)
        cap = fold(curve.cap, variant.constant_values) if curve and curve.cap else None
        if line.gate == "capped":
            out.append(Limit("capped", line.payment, line.kpi, line.curve))
        elif cap is not None and line.factor == cap:
            out.append(Limit("cap", line.payment, line.kpi, line.curve, cap))
        elif curve is not None and curve.kind.held_above(curve, line.band):
            out.append(Limit("last_point", line.payment, line.kpi, line.curve))
    return out


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


__all__ = ["NOTES", "RESOLUTIONS", "Limit", "Seek", "dependents", "limits", "note_text",
           "resolution", "seek", "snap", "thresholds"]
