"""KPIs whose value is a formula of facts (revenue ÷ deals otherwise 0) or whose attainment
is lower is better (2 − value ÷ plan, at least 0), shown by the query as the Python engine
shows them.

The evaluator keeps such a value as a fraction n ÷ d of Decimals and shows n / d divided in
SHOWN: 34 significant digits half even, or, when the quotient is exact, its digits at the
ideal exponent (n's exponent minus d's), as the decimal module does. The query has the
exact fraction already (the generated query's num ÷ (dyn × k), in integers); what it lacks
is the ideal exponent, which depends on how the evaluator built n and d: a product adds its
operands' exponents, a difference takes the smaller, a fact keeps its cell's. For each
shape below that exponent is written as SQL from the cells' decimals, and the same model in
Python is held to the evaluator itself on probe facts (random digits and exponents, zeros
for `otherwise`) before the query is trusted with the scheme:

- a fact: its own exponent (no division);
- L ÷ R otherwise C (L, R facts or KPIs that are facts, C a number): R = 0 gives C ÷ 1,
  else L ÷ R, exponents e(L) − e(R);
- attainment value ÷ a constant plan P: n ÷ (d × P), e(n) − e(d) − e(P);
- lower is better: (2·d·P − n) ÷ (d·P) where positive, else 0 ÷ 1 (the 0 of `ZERO`):
  min(e(d) + e(P), e(n)) − e(d) − e(P).

Anything else (a quotient of quotients, a sum, a rounded attainment, a plan the facts
decide) is refused with the reason, and the Python evaluator writes the scheme.
"""

from __future__ import annotations

import decimal
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from .. import lower as lo

if TYPE_CHECKING:
    from .generate import Num
    from .native import NativeRun

WIDE = decimal.Context(prec=200)  # operands of the model's division, made exactly
# a divisor past this is sent to the Python evaluator row by row: it leaves the long
# division chunks of 16 digits in 128 bits (generated bounds are 10**18 × the plan's digits;
# real divisors, counts of deals or calls in 10**-6, are far below)
DIVISOR_LIMIT = 10**20

# (value, exponent of its numerator, exponent of its denominator)
Model = Callable[[Mapping[str, Decimal]], tuple[Fraction, int, int]]


@dataclass
class Exact:
    """A figure the query shows as Decimal division does: the exact value num ÷ den (SQL
    integers, den > 0) at the ideal exponent `ideal` (SQL), |num| ≤ bound, den ≤ dbound."""

    num: str
    den: str | int
    ideal: str
    bound: int
    dbound: int
    flags: list[str]


def _exp(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return exponent


def decimal_text(value: Fraction, ideal: int) -> str:
    """The text of a Decimal quotient of exact value `value` whose ideal exponent is
    `ideal`, divided in SHOWN (the model the probe compares with the evaluator)."""
    from ..results import plain_text
    from ..runtime import SHOWN

    n, d = value.numerator, value.denominator
    if ideal >= 0:
        a, b = Decimal(n), Decimal(d * 10**ideal).scaleb(-ideal, WIDE)
    else:
        a, b = Decimal(n * 10**-ideal).scaleb(ideal, WIDE), Decimal(d)
    text = plain_text(SHOWN.divide(a, b))
    assert text is not None
    return text


def _fact_of(e: lo.Expr, kpis: Mapping[str, lo.Kpi]) -> str | None:
    """The fact an operand reads: a fact, or a KPI whose value is a fact."""
    if isinstance(e, lo.FactValue):
        return e.name
    if isinstance(e, lo.KpiValue) and e.name in kpis:
        return _fact_of(kpis[e.name].value, {})
    return None


def _den(num: Num, dialect: str) -> tuple[str | int, int]:
    """SQL of a generated value's denominator dyn × k, and its bound."""
    if num.dyn is None:
        return num.k, num.k
    dyn = num.dyn.e.sql(dialect=dialect)
    return (dyn if num.k == 1 else f"({dyn} * {num.k})"), num.dyn.bound * num.k


@dataclass
class KpiModel:
    """A KPI's value and attainment as the query shows them (`value` None: the value is a
    fact as read, shown by its cell's digits), with the Python model the probe checks."""

    value: Exact | None
    attainment: Exact | None
    model: Model
    attainment_model: Callable[[Mapping[str, Decimal]], tuple[Fraction, int, int]] | None
    rule: lo.AttainmentRule = lo.AttainmentRule.NONE
    plan: Decimal | None = None
    operands: tuple[str, ...] = ()  # the fact, or the facts L and R of L ÷ R
    den_exponent: str = "0"  # SQL: the exponent of the attainment's denominator


def build(native: NativeRun, kpi: lo.Kpi, kpis: Mapping[str, lo.Kpi], value: Num,
          plan: Num | None, attainment: Num | None, plan_decimal: Decimal | None,
          decimals: Callable[[str], str], append: Callable[[str], str],
          dialect: str) -> KpiModel | str:
    """The model of one KPI, or why the query does not show it. `decimals(fact)` is the SQL
    of a fact cell's decimals, `append(sql)` a column of the query's row."""
    name = kpi.name
    fact = _fact_of(kpi.value, kpis)
    exact_value: Exact | None = None
    if fact is not None and isinstance(kpi.value, lo.FactValue):
        def fact_model(facts: Mapping[str, Decimal], f: str = fact
                       ) -> tuple[Fraction, int, int]:
            return Fraction(facts[f]), _exp(facts[f]), 0
        model: Model = fact_model
        en, ed = f"(-{decimals(fact)})", "0"
        operands: tuple[str, ...] = (fact,)
    elif isinstance(kpi.value, lo.Division) and isinstance(kpi.value.otherwise, lo.Number):
        left, right = _fact_of(kpi.value.left, kpis), _fact_of(kpi.value.right, kpis)
        if left is None or right is None:
            return f"KPI {name}: its value is a quotient of other than facts"
        if left not in native.facts or right not in native.facts:
            return f"KPI {name}: a fact it divides is not in the file"
        c = kpi.value.otherwise.value
        operands = (left, right)

        def quotient_model(facts: Mapping[str, Decimal], l: str = left,  # noqa: E741
                           r: str = right, c: Decimal = c) -> tuple[Fraction, int, int]:
            if facts[r] == 0:
                return Fraction(c), _exp(c), 0
            return Fraction(facts[l]) / Fraction(facts[r]), _exp(facts[l]), _exp(facts[r])
        model = quotient_model
        zero = f"({append(_col(right))} = 0)"
        en = f"CASE WHEN {zero} THEN {_exp(c)} ELSE -{decimals(left)} END"
        ed = f"CASE WHEN {zero} THEN 0 ELSE -{decimals(right)} END"
        den, dbound = _den(value, dialect)
        exact_value = Exact(append(value.num.e.sql(dialect=dialect)),
                            append(den) if isinstance(den, str) else den,
                            f"({en}) - ({ed})", value.num.bound, dbound, [])
    else:
        return f"KPI {name}: its value is not a fact or a quotient of two facts"
    if kpi.rounding is not None:
        return f"KPI {name}: a rounded attainment"
    if attainment is None or kpi.attainment_rule is lo.AttainmentRule.NONE:
        return KpiModel(exact_value, None, model, None)
    if plan is None or plan.static is None or plan_decimal is None or \
            plan.static != Fraction(plan_decimal):
        return f"KPI {name}: its attainment is not over a constant plan"
    p, ep = Fraction(plan_decimal), _exp(plan_decimal)
    att_num = append(attainment.num.e.sql(dialect=dialect))
    if kpi.attainment_rule is lo.AttainmentRule.RATIO:
        def att_model(facts: Mapping[str, Decimal]) -> tuple[Fraction, int, int]:
            v, n_e, d_e = model(facts)
            return v / p, n_e - d_e - ep, d_e + ep
        ideal = f"({en}) - ({ed}) - ({ep})"
        den_exponent = f"(({ed}) + ({ep}))"
    elif kpi.attainment_rule is lo.AttainmentRule.LOWER_IS_BETTER:
        def att_model(facts: Mapping[str, Decimal]) -> tuple[Fraction, int, int]:
            v, n_e, d_e = model(facts)
            worse = 2 - v / p
            if worse <= 0:
                return Fraction(0), 0, 0
            return worse, min(d_e + ep, n_e) - d_e - ep, d_e + ep
        ideal = (f"CASE WHEN {att_num} = 0 THEN 0 ELSE least(({ed}) + ({ep}), {en}) - ({ed}) "
                 f"- ({ep}) END")
        den_exponent = f"CASE WHEN {att_num} = 0 THEN 0 ELSE ({ed}) + ({ep}) END"
    else:
        return f"KPI {name}: an attainment by the scheme's formula"
    den, dbound = _den(attainment, dialect)
    exact_att = Exact(att_num, append(den) if isinstance(den, str) else den, ideal,
                      attainment.num.bound, dbound, [])
    return KpiModel(exact_value, exact_att, model, att_model, kpi.attainment_rule,
                    plan_decimal, operands, den_exponent)


def _col(fact: str) -> str:
    """SQL: a fact's number as the facts table holds it (DECIMAL, NULL when missing)."""
    return '"' + fact.replace('"', '""') + '"'


MANTISSAS = (0, 1, 2, 3, 4, 5, 7, 8, 10, 12, 20, 25, 40, 50, 64, 100, 125, 150, 1000, 2048,
             3125, 15000, 150000, 3000000, 123456789)


def probe(native: NativeRun, models: Mapping[int, KpiModel]) -> str | None:
    """Hold each model to the evaluator: the shown text of the value and of the attainment
    on probe facts (random digits and exponents 0 to -6, zeros among them); the reason for
    the first disagreement, None when every one agrees."""
    from ..results import plain_text
    from ..runtime import ODD, SHOWN

    info = native.info
    n = len(info.layout.kpis)
    rng = random.Random(15)
    sets = []
    for t in range(160):
        facts = {f: Decimal(rng.choice(MANTISSAS)).scaleb(-rng.randrange(0, 7), WIDE)
                 for f in info.facts}
        if t < 2 * len(info.facts):  # each fact zero once, one at a time and alone
            for i, f in enumerate(info.facts):
                facts[f] = facts[f] if i != t % len(info.facts) else Decimal(0).scaleb(-(t % 3))
        sets.append(facts)
    for facts in sets:
        try:
            with decimal.localcontext(ODD):
                out = info.function(facts, None, native.month)
        except Exception:
            continue
        dens = out.denominators or (None,) * (3 * n)
        for i, kpi_model in models.items():
            name = info.layout.kpis[i]
            value, den = out.kpis[i], dens[i]
            shown = plain_text(value if den is None else SHOWN.divide(value, den))
            v, n_e, d_e = kpi_model.model(facts)
            if shown != decimal_text(v, n_e - d_e):
                return f"KPI {name}: its value is shown otherwise than the query's model"
            if kpi_model.attainment_model is None:
                if out.attainments[i] is not None:
                    return f"KPI {name}: an attainment the query does not model"
                continue
            att, den = out.attainments[i], dens[2 * n + i]
            if att is None:
                return f"KPI {name}: an attainment the query does not model"
            shown = plain_text(att if den is None else SHOWN.divide(att, den))
            if shown != decimal_text(*kpi_model.attainment_model(facts)[:2]):
                return f"KPI {name}: its attainment is shown otherwise than the query's model"
    return None


def facts_at(kpi_model: KpiModel, base: Mapping[str, Decimal], t: Decimal, exponent: int,
             divisor: Decimal) -> dict[str, Decimal] | None:
    """Facts whose attainment is t for this KPI (None where none is): the value
    t × plan (2 − t for lower is better) quantized to `exponent`, a quotient's divisor
    `divisor` (so its dividend is the value × the divisor)."""
    assert kpi_model.plan is not None
    ctx = decimal.Context(prec=60)
    if kpi_model.rule is lo.AttainmentRule.LOWER_IS_BETTER:
        t = ctx.subtract(Decimal(2), t)
        if t <= 0:
            return None
    value = ctx.multiply(t, kpi_model.plan)
    facts = dict(base)
    if len(kpi_model.operands) == 1:
        facts[kpi_model.operands[0]] = value.quantize(Decimal(1).scaleb(exponent), context=ctx)
    else:
        left, right = kpi_model.operands
        facts[right] = divisor
        facts[left] = ctx.multiply(value, divisor).quantize(Decimal(1).scaleb(exponent),
                                                            context=ctx)
    return facts
