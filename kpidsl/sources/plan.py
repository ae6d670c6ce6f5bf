"""What a scheme asks of its sources, decided once: facts as aggregates, per-deal payments.

A `where` becomes a predicate with three answers: True, False, or None when a cell it needs
could not be read — such a row is neither counted nor left out silently: the fact fails.
Text is compared ignoring case and runs of spaces ("Успешно  реализовано" is
"успешно реализовано"), as spreadsheets' users type it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from .. import ast
from ..checks import CheckedRuleset
from ..checks.curves import band_bounds
from ..checks.fold import fold as fold_expr
from ..checks.sources import per_deal_fact
from ..exprtext import band_range_text
from .read import SourceRow, Value

Predicate = Callable[[SourceRow], "bool | None"]
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)  # a stage column holds a handful of texts, repeated
def text_key(text: str) -> str:
    """Text as compared: lower case, runs of spaces as one, trimmed (DuckDB: the same)."""
    return _SPACES.sub(" ", text).strip().lower()


@dataclass(frozen=True)
class FactPlan:
    """`fact revenue money = total of deals.amount where ...`."""

    fact: str
    kind: str  # total | count | count distinct | average | median | min | max
    source: str
    field: str  # "" for count
    where: ast.Condition | None
    needs: tuple[str, ...]  # the fields a row must have read for this fact
    predicate: Predicate


@dataclass(frozen=True)
class Tier:
    lower: Decimal | None  # None: open below
    upper: Decimal | None  # None: open above
    rate: Decimal
    text: str  # "from 80% to 100%"


@dataclass(frozen=True)
class PayPlan:
    """`pay commission for each deal in deals where ... pays TIERS on the running attainment
    of revenue`: the deals, their order, the tiers and what the running total is."""

    payment: str
    label: str
    fact: str  # the engine's fact carrying the payment (checks/sources.py)
    source: str
    field: str  # the credited field (what the KPI's fact totals)
    noun: str
    where: ast.Condition | None
    needs: tuple[str, ...]
    predicate: Predicate
    order: tuple[str, ...]
    tiers: tuple[Tier, ...]
    running: str  # attainment | total
    kpi: str
    curve: str
    minimum: Decimal | None = None  # `with a minimum of 10 RUB`: the least a deal pays


@dataclass(frozen=True)
class SourcePlan:
    sources: dict[str, ast.Source]
    facts: dict[str, FactPlan]
    pays: dict[str, PayPlan]
    fields: dict[str, tuple[str, ...]]  # source → the fields the scheme reads
    payout_step: Decimal
    payout_mode: str
    period: str  # month | quarter | year | week


def plan_of(checked: CheckedRuleset) -> SourcePlan:
    """Every grade's aggregates and per-deal payments (a grade may add or replace them)."""
    sources: dict[str, ast.Source] = {}
    facts: dict[str, FactPlan] = {}
    pays: dict[str, PayPlan] = {}
    for variant in checked.variants.values():
        for name, src in variant.sources.items():
            sources.setdefault(name, src)
        for fact in variant.facts.values():
            agg = fact.aggregate
            if agg is None or agg.kind == "pay" or fact.name in facts:
                continue
            needs = tuple(dict.fromkeys([*([agg.of] if agg.of else []), *fields_of(agg.where)]))
            facts[fact.name] = FactPlan(fact.name, agg.kind, agg.source, agg.of, agg.where,
                                        needs, predicate(agg.where))
        for pay in variant.pays.values():
            each = pay.each
            if each is None or pay.name in pays:
                continue
            kpi_fact = variant.facts[each.kpi].aggregate
            assert kpi_fact is not None
            where = each.where if each.where is not None else kpi_fact.where
            curve = variant.curves[each.curve]
            tiers = []
            for band in curve.bands:
                lower, upper = band_bounds(band, variant.constant_values)
                rate = fold_expr(band.pays, variant.constant_values)
                assert rate is not None and lower is not None and upper is not None
                tiers.append(Tier(lower if lower.is_finite() else None,
                                  upper if upper.is_finite() else None, rate,
                                  band_range_text(band)))
            order = each.order or ("date", "key")
            needs = tuple(dict.fromkeys([kpi_fact.of, *fields_of(where),
                                         *(o for o in order if o not in ("date", "key"))]))
            pays[pay.name] = PayPlan(pay.name, pay.label or pay.name, per_deal_fact(pay),
                                     each.source, kpi_fact.of, each.noun, where, needs,
                                     predicate(where), order, tuple(tiers), each.running,
                                     each.kpi, each.curve,
                                     fold_expr(each.minimum, variant.constant_values)
                                     if each.minimum is not None else None)
    fields: dict[str, list[str]] = {name: [] for name in sources}
    plans: list[FactPlan | PayPlan] = [*facts.values(), *pays.values()]
    for plan in plans:
        for name in plan.needs:
            if name not in fields[plan.source]:
                fields[plan.source].append(name)
    return SourcePlan(sources, facts, pays, {k: tuple(v) for k, v in fields.items()},
                      checked.payout_step, checked.payout_mode, checked.header.period or "month")


def fields_of(condition: ast.Condition | None) -> list[str]:
    out: list[str] = []
    stack = [condition] if condition is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BothOrEither):
            stack += [node.right, node.left]
        elif isinstance(node, ast.NotCondition):
            stack.append(node.operand)
        elif isinstance(node, ast.FieldTest) and node.name not in out:
            out.append(node.name)
    return out


def literal(value: ast.Expr | str) -> Value:
    """A condition's value: text (compared by text_key), a date, or an exact number."""
    if isinstance(value, str):
        if len(value) in (7, 10) and value[:4].isdigit() and value[4:5] == "-":
            parts = [int(p) for p in value.split("-")]
            return dt.datetime(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)
        return text_key(value)
    if isinstance(value, ast.Literal):
        return value.value
    raise TypeError(value)  # pragma: no cover - the grammar admits only literals


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b, "is": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "is not": lambda a, b: a != b, "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def predicate(condition: ast.Condition | None) -> Predicate:
    """The condition as a function of a row: True, False, or None (a cell it needs failed)."""
    if condition is None:
        return lambda row: True
    if isinstance(condition, ast.BothOrEither):
        left, right = predicate(condition.left), predicate(condition.right)
        if condition.op == "and":
            def both(row: SourceRow) -> bool | None:
                a = left(row)
                if a is False:
                    return False
                b = right(row)
                return False if b is False else (None if a is None or b is None else True)
            return both

        def either(row: SourceRow) -> bool | None:
            a = left(row)
            if a is True:
                return True
            b = right(row)
            return True if b is True else (None if a is None or b is None else False)
        return either
    if isinstance(condition, ast.NotCondition):
        inner = predicate(condition.operand)

        def negated(row: SourceRow) -> bool | None:
            value = inner(row)
            return None if value is None else not value
        return negated
    assert isinstance(condition, ast.FieldTest)
    name, op = condition.name, condition.op
    values = [literal(v) for v in condition.values]

    def test(row: SourceRow) -> bool | None:
        if name in row.problems:
            return None
        cell = row.values.get(name)
        if cell is None:  # an empty cell: equal to nothing, not in any range
            return op in ("is not", "!=")
        if isinstance(cell, str):
            cell = text_key(cell)
        if op == "one of":
            return cell in values
        return _COMPARE[op](cell, values[0])
    return test
