"""The reference scheme (rulesets/b2b_manager.kpi) written by hand, and in two rule libraries.

`hand_written` is what a careful programmer writes without kpidsl: plain functions over
Decimal, constants at module level, each pay line rounded half up to the kopeck, exactly as
the scheme says. The rule-library versions (simpleeval, rule-engine; the `bench` extra) keep
the scheme's formulas as text evaluated per record, with the same Python glue for rounding
and sums, which is how such libraries are used. Every version must give the same totals as
kpidsl to the kopeck; the benchmarks assert that before timing anything.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal

KOPECK = Decimal("0.01")
HALF_UP = decimal.ROUND_HALF_UP
ZERO = Decimal(0)

SALARY = Decimal("60000.00")
PLAN_REVENUE = Decimal(3_000_000)
PLAN_AVG_CHECK = Decimal(150_000)
PLAN_CONVERSION = Decimal("0.02")
PLAN_CALLS = Decimal(1000)
SHARE_REVENUE = Decimal("20000.00")  # 40 % of the 50 000 pool
SHARE_OTHER = Decimal("10000.00")  # 20 % each
CUT_OFF = Decimal("0.80")
PLAN_LEVEL = Decimal("1.00")
ACCELERATOR = Decimal("1.2")
CAP = Decimal("2.00")
MARGIN_RATE = Decimal("0.30")
COMMISSION_RATE = Decimal("0.02")


def standard_curve(attainment: Decimal) -> Decimal:
    """Below 80 % nothing; 80–100 % pays attainment; above 100 % × 1.2; at most 200 %."""
    if attainment < CUT_OFF:
        return ZERO
    factor = attainment if attainment <= PLAN_LEVEL else attainment * ACCELERATOR
    return CAP if factor > CAP else factor


def hand_written(facts: Mapping[str, Decimal]) -> Decimal:
    """One manager's month: salary + four rounded bonus lines + rounded commission."""
    revenue = facts["revenue"]
    curve = standard_curve
    other = SHARE_OTHER
    bonus = ((SHARE_REVENUE * curve(revenue / PLAN_REVENUE)).quantize(KOPECK, HALF_UP)
             + (other * curve(facts["avg_check"] / PLAN_AVG_CHECK)).quantize(KOPECK, HALF_UP)
             + (other * curve(facts["conversion"] / PLAN_CONVERSION)).quantize(KOPECK, HALF_UP)
             + (other * curve(facts["calls"] / PLAN_CALLS)).quantize(KOPECK, HALF_UP))
    extra = revenue - PLAN_REVENUE
    commission = ((extra if extra > ZERO else ZERO) * MARGIN_RATE * COMMISSION_RATE).quantize(
        KOPECK, HALF_UP)
    return SALARY + bonus + commission


def hand_written_parts(facts: Mapping[str, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """`hand_written`'s salary, bonus and commission, each as it adds them (written out
    again: `hand_written` calling this would cost the baseline a call a manager)."""
    revenue = facts["revenue"]
    curve = standard_curve
    other = SHARE_OTHER
    bonus = ((SHARE_REVENUE * curve(revenue / PLAN_REVENUE)).quantize(KOPECK, HALF_UP)
             + (other * curve(facts["avg_check"] / PLAN_AVG_CHECK)).quantize(KOPECK, HALF_UP)
             + (other * curve(facts["conversion"] / PLAN_CONVERSION)).quantize(KOPECK, HALF_UP)
             + (other * curve(facts["calls"] / PLAN_CALLS)).quantize(KOPECK, HALF_UP))
    extra = revenue - PLAN_REVENUE
    commission = ((extra if extra > ZERO else ZERO) * MARGIN_RATE * COMMISSION_RATE).quantize(
        KOPECK, HALF_UP)
    return SALARY, bonus, commission


# ---------------------------------------------------------------- rule libraries

CONSTANTS = {
    "plan_revenue": PLAN_REVENUE, "plan_avg_check": PLAN_AVG_CHECK,
    "plan_conversion": PLAN_CONVERSION, "plan_calls": PLAN_CALLS, "cut": CUT_OFF,
    "one": PLAN_LEVEL, "acc": ACCELERATOR, "cap": CAP, "zero": ZERO,
    "margin_rate": MARGIN_RATE, "commission_rate": COMMISSION_RATE,
}
LINES = (("revenue", SHARE_REVENUE), ("avg_check", SHARE_OTHER),
         ("conversion", SHARE_OTHER), ("calls", SHARE_OTHER))


def _glue(attainment: Callable[[str], Decimal], curve: Callable[[Decimal], Decimal],
          commission: Decimal) -> Decimal:
    bonus = ZERO
    for kpi, share in LINES:
        bonus += (share * curve(attainment(kpi))).quantize(KOPECK, HALF_UP)
    return SALARY + bonus + commission.quantize(KOPECK, HALF_UP)


def simpleeval_evaluator() -> Callable[[Mapping[str, Decimal]], Decimal]:
    """simpleeval: Python-syntax expressions, parsed once, walked per record.

    Numbers are passed as names (a literal 0.8 would be a float), so the arithmetic stays
    Decimal.
    """
    import simpleeval

    engine = simpleeval.SimpleEval(functions={"min": min, "max": max})
    parse = engine.parse
    attainments = {kpi: parse(f"{kpi} / plan_{kpi}") for kpi, _ in LINES}
    curve = parse("zero if a < cut else min(a if a <= one else a * acc, cap)")
    commission = parse("max(revenue - plan_revenue, zero) * margin_rate * commission_rate")

    def evaluate(facts: Mapping[str, Decimal]) -> Decimal:
        names = dict(CONSTANTS)
        names.update(facts)
        engine.names = names

        def attainment(kpi: str) -> Decimal:
            return engine.eval("", previously_parsed=attainments[kpi])

        def apply_curve(value: Decimal) -> Decimal:
            names["a"] = value
            return engine.eval("", previously_parsed=curve)

        return _glue(attainment, apply_curve, engine.eval("", previously_parsed=commission))

    return evaluate


def rule_engine_evaluator() -> Callable[[Mapping[str, Decimal]], Decimal]:
    """rule-engine: its own expression language (numbers are Decimal), rules built once."""
    import rule_engine

    attainments = {kpi: rule_engine.Rule(f"{kpi} / plan_{kpi}") for kpi, _ in LINES}
    curve = rule_engine.Rule("a < cut ? zero : $min([a <= one ? a : a * acc, cap])")
    commission = rule_engine.Rule(
        "$max([revenue - plan_revenue, zero]) * margin_rate * commission_rate")

    def evaluate(facts: Mapping[str, Decimal]) -> Decimal:
        names = dict(CONSTANTS)
        names.update(facts)

        def attainment(kpi: str) -> Decimal:
            return attainments[kpi].evaluate(names)

        def apply_curve(value: Decimal) -> Decimal:
            names["a"] = value
            return curve.evaluate(names)

        return _glue(attainment, apply_curve, commission.evaluate(names))

    return evaluate


def optional_baselines() -> dict[str, Callable[[Mapping[str, Decimal]], Decimal]]:
    """The rule libraries that are installed (`pip install '.[bench]'`)."""
    found = {}
    for name, make in (("simpleeval", simpleeval_evaluator),
                       ("rule-engine", rule_engine_evaluator)):
        try:
            found[name] = make()
        except ImportError:
            continue
    return found
