"""The earnings table: income at 70 … 120 % attainment, computed by the compiled evaluator.

"At X %" means every KPI that has a plan is at X % of it. The table finds facts that put it
there and runs the same evaluator as `kpidsl eval` on them, so each row is an ordinary
evaluation anyone can repeat (the facts are printed under the table):

- a KPI taken straight from a fact: that fact = plan × X (plan × (2 − X) when lower is
  better, since attainment is then 2 − fact ÷ plan);
- a KPI computed by a formula (average check = revenue ÷ deals), or with its own attainment
  formula: the formula is inverted for one fact it reads that nothing has fixed yet
  (deals = revenue ÷ (plan × X)). KPIs with the fewest such facts go first; among a KPI's
  facts the one no later KPI needs is preferred, then the one that reaches X exactly (a
  numerator multiplies exactly, a denominator can leave 0.7999… behind). Once solved, every
  fact the KPI reads stays as it is, so a later KPI cannot undo it. Team aggregates are
  read as a team of one (the employee alone), as a single evaluation computes them;
- facts no KPI fixes keep the value of the first example for the grade (else the scheme's),
  else their value when missing, else zero.

After evaluating, each KPI's attainment is compared with X. Where it differs (a formula
that cannot be inverted, a division that cannot come out exact) that KPI's pool lines are
recomputed through the compiled curve function at X (share × curve(X), rounded as the
scheme rounds) and the row is marked, so the table never claims more than it computed.
Plans are the default ones: month-specific plans are not applied.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .. import ast
from ..api import Ruleset
from ..checks import BASE, Variant
from ..checks.fold import fold
from ..checks.walk import nodes
from ..diagnostics import KpiError
from ..results import Result
from ..runtime import CONTEXT, round_to

LEVELS = tuple(Decimal(p) / 100 for p in (70, 80, 90, 100, 110, 120))


@dataclass
class Row:
    attainment: Decimal
    facts: dict[str, Decimal]
    result: Result
    components: dict[str, Decimal]
    total: Decimal
    fallback: bool = False  # some pool lines were computed through the curve at X


@dataclass
class Earnings:
    rows: list[Row]
    direct: list[str] = field(default_factory=list)  # KPIs whose own fact was set
    solved: list[tuple[str, str]] = field(default_factory=list)  # (KPI, fact chosen)
    fallback: list[str] = field(default_factory=list)  # KPIs computed through the curve
    base_facts: dict[str, str] = field(default_factory=dict)  # fact → "example:x" | default | zero
    uses_team: bool = False
    uses_months: bool = False


def examples_for(ruleset: Ruleset, grade: str) -> list[ast.Example]:
    return [e for e in ruleset.checked.examples if (e.grade or BASE) == grade]


def _baseline(ruleset: Ruleset, variant: Variant) -> tuple[dict[str, Decimal], dict[str, str]]:
    info = ruleset.infos[variant.name]
    examples = examples_for(ruleset, variant.name) or examples_for(ruleset, BASE)
    given: dict[str, Decimal] = {}
    source = ""
    if examples:
        source = f"example:{examples[0].name}"
        for a in examples[0].given:
            value = fold(a.value, variant.constant_values)
            if value is not None:
                given[a.name] = value
    facts: dict[str, Decimal] = {}
    sources: dict[str, str] = {}
    for name in variant.facts:
        if name in given:
            facts[name], sources[name] = given[name], source
        elif name in info.defaults:
            facts[name], sources[name] = info.defaults[name], "default"
        else:
            facts[name], sources[name] = Decimal(0), "zero"
    return facts, sources


def _expand(expr: ast.Expr, variant: Variant, plans: dict[str, Decimal],
            depth: int = 0) -> ast.Expr | None:
    """An expression over facts only: KPI references replaced by their formulas, `plan of`
    by the plan's value; None when something else (a condition, a curve) is in the way."""
    if depth > 20:
        return None
    match expr:
        case ast.Ref(name=name) if name in variant.kpis:
            kpi = variant.kpis[name]
            if kpi.formula is None:
                return ast.Ref(name=name) if name in variant.facts else None
            return _expand(kpi.formula, variant, plans, depth + 1)
        case ast.TeamAggregate(name=name):  # evaluated alone, the team is the employee
            return ast.Ref(name=name) if name in variant.facts else None
        case ast.TeamSize():
            return ast.Literal(value=Decimal(1))
        case ast.PlanOf(name=name):
            plan = plans.get(name)
            return None if plan is None else ast.Literal(value=plan)
        case ast.Binary(op=op, left=left, right=right):
            a, b = _expand(left, variant, plans, depth), _expand(right, variant, plans, depth)
            return None if a is None or b is None else ast.Binary(op=op, left=a, right=b)
        case ast.Division(left=left, right=right, otherwise=otherwise):
            a, b = _expand(left, variant, plans, depth), _expand(right, variant, plans, depth)
            return None if a is None or b is None else ast.Division(left=a, right=b,
                                                                    otherwise=otherwise)
        case ast.Unary(op=op, operand=operand):
            inner = _expand(operand, variant, plans, depth)
            return None if inner is None else ast.Unary(op=op, operand=inner)
        case ast.Literal() | ast.Ref():
            return expr
    return None  # a condition, a curve, a rounding, min/max: not inverted for a fact


def _solve(expr: ast.Expr, target: Decimal, free: str,
           known: dict[str, Decimal]) -> Decimal | None:
    """The value of fact `free` that makes `expr` equal `target` (None when not invertible)."""
    while True:
        match expr:
            case ast.Ref(name=name):
                return target if name == free else None
            case ast.Unary(op=op, operand=operand):
                target = -target if op == ast.UnaryOp.MINUS else target
                expr = operand
            case ast.Binary() | ast.Division():
                step = _invert(expr, target, free, known)
                if step is None:
                    return None
                expr, target = step
            case _:
                return None


def _invert(expr: ast.Binary | ast.Division, target: Decimal, free: str,
            known: dict[str, Decimal]) -> tuple[ast.Expr, Decimal] | None:
    """One step: the side that reads `free`, and what it must equal for `expr` to be `target`."""
    in_left = _reads(expr.left, free)
    if in_left == _reads(expr.right, free):
        return None
    other = fold(expr.right if in_left else expr.left, known)
    if other is None:
        return None
    match expr:
        case ast.Division():
            if in_left:
                if other == 0:
                    return None
                target = target * other
            else:
                if target == 0 or other == 0:
                    return None
                target = other / target
        case ast.Binary(op=ast.BinaryOp.ADD):
            target = target - other
        case ast.Binary(op=ast.BinaryOp.SUB):
            target = target + other if in_left else other - target
        case ast.Binary(op=ast.BinaryOp.MUL):
            if other == 0:
                return None
            target = target / other
        case _:
            return None
    return (expr.left if in_left else expr.right), target


def _reads(expr: ast.Expr, fact: str) -> bool:
    return any(isinstance(n, ast.Ref) and n.name == fact for n in nodes(expr))


def _facts_in(expr: ast.Expr | None, variant: Variant) -> list[str]:
    seen: list[str] = []
    for node in nodes(expr):
        if isinstance(node, ast.Ref) and node.name in variant.facts and node.name not in seen:
            seen.append(node.name)
    return seen


def _plans(ruleset: Ruleset, variant: Variant, facts: dict[str, Decimal]) -> dict[str, Decimal]:
    try:
        result = ruleset.evaluate(facts, variant.name if variant.name != BASE else None)
        found = {k: r.plan for k, r in result.kpis.items() if r.plan is not None}
    except KpiError:
        found = {}
    for name, kpi in variant.kpis.items():
        if name not in found and kpi.plan is not None:
            value = fold(kpi.plan, variant.constant_values)
            if value is not None:
                found[name] = value
    return found


def _target(variant: Variant, name: str, plan: Decimal, level: Decimal) -> Decimal:
    """What the solved expression must equal: the attainment itself for a KPI with its own
    attainment formula, else the KPI's value at that attainment."""
    if variant.kpis[name].attainment is not None:
        return level
    if variant.kpi_direction(name) == "lower":
        return plan * (2 - level)
    return plan * level


def _direct_fact(variant: Variant, name: str) -> str | None:
    """The fact a KPI is taken from as it is (no formula, no attainment formula)."""
    kpi = variant.kpis[name]
    if kpi.attainment is not None:
        return None
    if kpi.formula is None:
        return name if name in variant.facts else None
    if isinstance(kpi.formula, ast.Ref) and kpi.formula.name in variant.facts:
        return kpi.formula.name
    return None


def _solved_expr(variant: Variant, name: str, plans: dict[str, Decimal]) -> ast.Expr | None:
    kpi = variant.kpis[name]
    expr = kpi.attainment if kpi.attainment is not None else kpi.formula
    return _expand(expr, variant, plans) if expr is not None else None


def earnings(ruleset: Ruleset, grade: str | None = None,
             levels: Iterable[Decimal] = LEVELS) -> Earnings:
    """Income at each attainment level for one grade (None: the base scheme)."""
    name = grade or BASE
    variant = ruleset.checked.variants[name]
    levels = list(levels)
    base_facts, sources = _baseline(ruleset, variant)
    plans = _plans(ruleset, variant, base_facts)
    out = Earnings([], uses_months=any(k.plan_by_month for k in variant.kpis.values()),
                   uses_team=bool(ruleset.infos[name].team_needs) or _uses_team_size(variant))
    targets = [k for k in variant.kpi_order if k in plans]
    fixed_by: dict[str, str] = {}  # fact → the KPI that fixes it
    facts = {level: dict(base_facts) for level in levels}
    with decimal.localcontext(CONTEXT):
        for kpi in targets:
            fact = _direct_fact(variant, kpi)
            if fact is not None and fact not in fixed_by:
                fixed_by[fact] = kpi
                out.direct.append(kpi)
                for level in levels:
                    facts[level][fact] = _target(variant, kpi, plans[kpi], level)
        pending = [k for k in targets if k not in out.direct]
        exprs = {k: _solved_expr(variant, k, plans) for k in pending}
        while pending:
            free = {k: [f for f in _facts_in(exprs[k], variant) if f not in fixed_by]
                    for k in pending}
            # the KPI with the fewest choices first, so each one leaves the others theirs
            kpi = min(pending, key=lambda k: (len(free[k]) or len(variant.facts) + 1,
                                              targets.index(k)))
            pending.remove(kpi)
            expr = exprs[kpi]
            later = {f for k in pending for f in free[k]}
            chosen = _choose(variant, kpi, expr, free[kpi], plans, facts, later) \
                if expr is not None and free[kpi] else None
            if chosen is None:
                continue  # evaluated as the facts fall; _row says where that misses the level
            fact, values = chosen
            out.solved.append((kpi, fact))
            for level, value in values.items():
                facts[level][fact] = value
            for other in _facts_in(expr, variant):  # what this KPI reads stays as it is now
                fixed_by.setdefault(other, kpi)
    for fact, kpi in _per_deal(ruleset, variant, facts, plans):
        fixed_by[fact] = kpi
    out.base_facts = {f: sources[f] for f in variant.facts if f not in fixed_by}
    for level in levels:
        out.rows.append(_row(ruleset, variant, level, facts[level], plans, out))
    return out


def _per_deal(ruleset: Ruleset, variant: Variant, facts: dict[Decimal, dict[str, Decimal]],
              plans: dict[str, Decimal]) -> list[tuple[str, str]]:
    """A payment paid deal by deal (kpidsl/sources/) is shown as if the period's credit came
    in one deal: its tiers applied to the KPI's fact, rounded once; 0 would misstate it."""
    from ..sources.plan import plan_of
    from ..sources.transactions import as_one_deal

    fixed = []
    for pay in plan_of(ruleset.checked).pays.values():
        if pay.payment not in variant.pays or pay.fact not in variant.facts:
            continue
        plan_value = plans.get(pay.kpi) if pay.running == "attainment" else None
        if pay.running == "attainment" and not plan_value:
            continue
        for level_facts in facts.values():
            credit = level_facts.get(pay.kpi)
            if credit is not None:
                level_facts[pay.fact] = as_one_deal(
                    pay, credit, plan_value, ruleset.checked.payout_step,
                    ruleset.checked.payout_mode)
        fixed.append((pay.fact, pay.kpi))
    return fixed


def _choose(variant: Variant, kpi: str, expr: ast.Expr, free: list[str],
            plans: dict[str, Decimal], facts: dict[Decimal, dict[str, Decimal]],
            later: set[str]) -> tuple[str, dict[Decimal, Decimal]] | None:
    """The free fact to solve for: preferably one no later KPI needs (so that one can be
    solved too), then the one that reaches the level exactly at most levels (a numerator
    multiplies exactly; a denominator may leave 0.7999… behind)."""
    best: tuple[tuple[bool, int], str, dict[Decimal, Decimal]] | None = None
    for fact in free:
        values: dict[Decimal, Decimal] = {}
        exact = 0
        for level, known_facts in facts.items():
            known = {**variant.constant_values, **known_facts}
            del known[fact]
            target = _target(variant, kpi, plans[kpi], level)
            value = _solve(expr, target, fact, known)
            if value is None:
                break
            values[level] = value
            exact += fold(expr, {**known, fact: value}) == target
        else:
            score = (fact not in later, exact)
            if best is None or score > best[0]:
                best = (score, fact, values)
    return None if best is None else (best[1], best[2])


def _uses_team_size(variant: Variant) -> bool:
    exprs = [g.value for p in variant.pays.values() for g in p.gates] + \
        [k.formula for k in variant.kpis.values() if k.formula is not None]
    return any(isinstance(n, ast.TeamSize) for e in exprs for n in nodes(e))


def _row(ruleset: Ruleset, variant: Variant, level: Decimal, facts: dict[str, Decimal],
         plans: dict[str, Decimal], setup: Earnings) -> Row:
    result = ruleset.evaluate(facts, variant.name if variant.name != BASE else None)
    components = dict(result.components)
    off = [k for k, r in result.kpis.items()
           if k in plans and r.attainment is not None and r.attainment != _rounded(ruleset, level)]
    for kpi in off:
        if kpi not in setup.fallback:
            setup.fallback.append(kpi)
    if off:
        components = _through_curves(ruleset, variant, result, off, level)
    return Row(level, facts, result, components, sum(components.values(), Decimal(0)),
               any(line.kpi in off for line in result.lines))


def _rounded(ruleset: Ruleset, level: Decimal) -> Decimal:
    step = ruleset.checked.attainment_step
    return level if step is None else round_to(level, step, ruleset.checked.attainment_mode)


def _through_curves(ruleset: Ruleset, variant: Variant, result: Result, kpis: list[str],
                    level: Decimal) -> dict[str, Decimal]:
    """Pool lines of `kpis` as share × curve(level), from the compiled curve functions."""
    info = ruleset.infos[variant.name]
    namespace = ruleset.compiled.namespace
    checked = ruleset.checked
    components = dict(result.components)
    with decimal.localcontext(CONTEXT):
        for line in result.lines:
            if line.kpi not in kpis:
                continue
            function = namespace[info.layout.curves[line.curve]]
            factor, _band = function(_rounded(ruleset, level))
            amount = round_to(line.share * factor, checked.payout_step, checked.payout_mode)
            components[line.payment] += amount - line.amount
    return components

