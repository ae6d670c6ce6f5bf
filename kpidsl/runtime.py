"""The only helpers generated evaluators may use (see `exported`), and the decimal contexts.

Money is Decimal end to end. CONTEXT is kpidsl's decimal context: 34 significant digits,
exponent limits that no real amount reaches, and traps on invalid operations, division by
zero and overflow, so a runaway number is a clear error rather than a silent infinity.

Values are exact (docs/language.md, "Exact arithmetic"): a quotient is kept as a numerator
and a positive denominator (`quotient`), and is divided only where the scheme rounds or
compares it, once. Evaluators run in ODD, CONTEXT rounding to odd (ROUND_05UP: an inexact
result never ends in 0 or 5), so a 34-digit quotient lies strictly on the same side of every
shorter number (a half kopeck, a step, a band bound) as the exact value, and rounding it to
the kopeck gives the exactly rounded result. Rounding half even instead could turn
9 341.624999… into the tie 9 341.625, or a tie into 9 341.624999…, and pay a kopeck wrong.
Values shown to people (an attainment of 2/3) are divided in CONTEXT (SHOWN): the nearest
34 digits, as always.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any


def __getattr__(name: str) -> Any:
    """`output`: what evaluators return, built from one tuple of its fields
    (kpidsl/evaluator.py). Made when an evaluator first asks for it, so that `kpidsl check`,
    which reads CONTEXT, does not import the evaluator's contract (a NamedTuple and two
    dataclasses, each an `exec`)."""
    if name == "output":
        from .evaluator import EvaluatorOutput

        made = globals()["output"] = partial(tuple.__new__, EvaluatorOutput)
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
SHOWN = CONTEXT

# The context evaluators run in: CONTEXT rounding to odd (see above). Measured: switching
# the context inside each evaluation costs ~0.4 µs (two contextvar sets), a tenth of one;
# the callers (Evaluation, Result) set it once per batch instead.
ODD = CONTEXT.copy()
ODD.rounding = decimal.ROUND_05UP

ROUNDING_MODES = {
    "half up": decimal.ROUND_HALF_UP,
    "half even": decimal.ROUND_HALF_EVEN,
    "half down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)


def round_to(value: Decimal, step: Decimal, mode: str) -> Decimal:
    """Round to a multiple of `step` (0.01, 0.05, 1000 ...) with a named mode, exactly."""
    rounding = ROUNDING_MODES[mode]
    if is_fraction_step(step):  # 0.01, 0.1, 1: quantize directly
        return value.quantize(step.normalize(), rounding=rounding) + ZERO  # never -0.00
    units = ODD.divide(value, step).quantize(ONE, rounding=rounding)
    return units * step + ZERO


def round_ratio(n: Decimal, d: Decimal, step: Decimal, mode: str) -> Decimal:
    """n ÷ d (d > 0) rounded to a multiple of `step`, exactly: one odd division, one rounding."""
    rounding = ROUNDING_MODES[mode]
    if is_fraction_step(step):
        return ODD.divide(n, d).quantize(step.normalize(), rounding=rounding) + ZERO
    return ODD.divide(n, d * step).quantize(ONE, rounding=rounding) * step + ZERO


def quotient(n: Decimal, d: Decimal) -> tuple[Decimal, Decimal]:
    """n ÷ d kept exact: (numerator, positive denominator). A zero d fails as `/` does."""
    if d > ZERO:
        return n, d
    if d < ZERO:
        return -n, -d
    return n / d  # type: ignore[return-value]  # raises DivisionByZero (or 0/0: undefined)


def divide(an: Decimal, ad: Decimal, bn: Decimal, bd: Decimal) -> tuple[Decimal, Decimal]:
    """(an/ad) ÷ (bn/bd), both denominators positive: (numerator, positive denominator)."""
    return quotient(an * bd, ad * bn)


def plus(an: Decimal, ad: Decimal, bn: Decimal, bd: Decimal) -> tuple[Decimal, Decimal]:
    return an * bd + bn * ad, ad * bd


def minus(an: Decimal, ad: Decimal, bn: Decimal, bd: Decimal) -> tuple[Decimal, Decimal]:
    return an * bd - bn * ad, ad * bd


def compare(an: Decimal, ad: Decimal, bn: Decimal, bd: Decimal) -> Decimal:
    """A number with the sign of an/ad − bn/bd (positive denominators): compare it with 0."""
    return an * bd - bn * ad


def smallest(*pairs: Decimal) -> tuple[Decimal, Decimal]:
    """The least of the fractions n0/d0, n1/d1 ... (flat pairs, positive denominators); the
    first of equals, as `min` picks."""
    best_n, best_d = pairs[0], pairs[1]
    for index in range(2, len(pairs), 2):
        n, d = pairs[index], pairs[index + 1]
        if n * best_d < best_n * d:
            best_n, best_d = n, d
    return best_n, best_d


def largest(*pairs: Decimal) -> tuple[Decimal, Decimal]:
    """The greatest of the fractions, the first of equals, as `max` picks."""
    best_n, best_d = pairs[0], pairs[1]
    for index in range(2, len(pairs), 2):
        n, d = pairs[index], pairs[index + 1]
        if n * best_d > best_n * d:
            best_n, best_d = n, d
    return best_n, best_d


def lower_is_better_q(value_n: Decimal, value_d: Decimal, plan_n: Decimal, plan_d: Decimal
                      ) -> tuple[Decimal, Decimal]:
    """`lower_is_better` kept exact: 2 − value ÷ plan as a fraction, never below zero."""
    n, d = quotient(TWO * value_d * plan_n - value_n * plan_d, value_d * plan_n)
    return (n, d) if n > ZERO else (ZERO, ONE)


def shown(value: Decimal | tuple[Decimal, Decimal] | None) -> Decimal | None:
    """A value as the evaluator returned it, as one Decimal: a fraction (numerator,
    denominator) divided in the current context (SHOWN where people read it)."""
    if type(value) is tuple:
        return value[0] / value[1]
    return value  # type: ignore[return-value]


def team_average(team: Mapping[str, Decimal], fact: str) -> tuple[Decimal, Decimal]:
    """A team average kept exact: (sum, count) when the team gives them, else its value."""
    total = team.get("#sum:" + fact)
    if total is None:
        return team["average:" + fact], ONE
    return total, team["#count:" + fact]


def shown_curve(curve: Callable[[Decimal, Decimal], tuple[Decimal, Decimal, int]]
                ) -> Callable[[Decimal], tuple[Decimal, int]]:
    """A curve as charts and tables call it: attainment → (factor, band)."""
    def shown(x: Decimal) -> tuple[Decimal, int]:
        n, d, band = curve(x, ONE)
        return (n if d == ONE else n / d), band
    return shown


def is_fraction_step(step: Decimal) -> bool:
    """A step of 1, 0.1, 0.01 ...: one that `quantize` rounds to exactly (keeping the exponent)."""
    normal = step.normalize()
    exponent = normal.as_tuple().exponent
    return normal.as_tuple().digits == (1,) and isinstance(exponent, int) and exponent <= 0


def lower_is_better(value: Decimal, plan: Decimal) -> Decimal:
    """Attainment of a lower-is-better KPI: 2 − fact ÷ plan, never below zero.

    At plan it is 100 %; 10 % worse than plan is 90 %; half the plan is 150 %; zero is 200 %.
    It never divides by the fact, so a perfect zero (no refunds) is well defined.
    """
    result = TWO - value / plan
    return result if result > ZERO else ZERO


def linear_q(x: Decimal, x_d: Decimal, points: tuple[tuple[Decimal, Decimal], ...]
             ) -> tuple[Decimal, Decimal, int]:
    """`linear` kept exact over the attainment x ÷ x_d: (numerator, denominator, segment)."""
    first_at = points[0][0]
    if x < first_at * x_d:
        return ZERO, ONE, 0
    for index in range(1, len(points)):
        at, pays = points[index]
        if x <= at * x_d:
            prev_at, prev_pays = points[index - 1]
            # prev_pays + (pays − prev_pays)·(x/x_d − prev_at)/(at − prev_at)
            d = (at - prev_at) * x_d
            return prev_pays * d + (pays - prev_pays) * (x - prev_at * x_d), d, index
    return points[-1][1], ONE, len(points)


def tiers_marginal_q(x: Decimal, x_d: Decimal,
                     tiers: tuple[tuple[Decimal | None, Decimal | None, Decimal], ...]
                     ) -> tuple[Decimal, Decimal, int]:
    """`tiers_marginal` kept exact over x ÷ x_d: (numerator over x_d, x_d, top tier)."""
    total = ZERO
    reached = 0
    for index, (lower, upper, rate) in enumerate(tiers, start=1):
        low = ZERO if lower is None else lower * x_d
        if x <= low and not (lower is None and x < ZERO):
            break
        high = x if upper is None or x < upper * x_d else upper * x_d
        total += (high - low) * rate
        reached = index
    return total, x_d, reached


def tier_slices(x: Decimal, x_d: Decimal,
                tiers: tuple[tuple[Decimal | None, Decimal | None, Decimal], ...]
                ) -> tuple[tuple[Decimal, Decimal, Decimal, Decimal], ...]:
    """The slices `tiers_marginal_q` added up, for a trace: (from, to, rate, what the slice
    pays) per tier reached, from, to and pays as numerators over x_d (100 000 × 5 % = 5 000;
    25 000 × 6 % = 1 500)."""
    out = []
    for lower, upper, rate in tiers:
        low = ZERO if lower is None else lower * x_d
        if x <= low and not (lower is None and x < ZERO):
            break
        high = x if upper is None or x < upper * x_d else upper * x_d
        out.append((low, high, rate, (high - low) * rate))
    return tuple(out)


def tiers_whole_q(x: Decimal, x_d: Decimal,
                  tiers: tuple[tuple[Decimal | None, bool, Decimal | None, bool, Decimal], ...]
                  ) -> tuple[Decimal, Decimal, int]:
    """`tiers_whole` kept exact over x ÷ x_d."""
    for index, (lower, lower_in, upper, upper_in, rate) in enumerate(tiers, start=1):
        low = None if lower is None else lower * x_d
        high = None if upper is None else upper * x_d
        above = low is None or x > low or (lower_in and x == low)
        below = high is None or x < high or (upper_in and x == high)
        if above and below:
            return x * rate, x_d, index
    return ZERO, ONE, 0


def linear(x: Decimal, points: tuple[tuple[Decimal, Decimal], ...]) -> tuple[Decimal, int]:
    """Linear interpolation between points; below the first pays 0, above the last holds it."""
    first_at = points[0][0]
    if x < first_at:
        return ZERO, 0
    for index in range(1, len(points)):
        at, pays = points[index]
        if x <= at:
            prev_at, prev_pays = points[index - 1]
            return prev_pays + (pays - prev_pays) * (x - prev_at) / (at - prev_at), index
    return points[-1][1], len(points)


def tiers_marginal(x: Decimal,
                   tiers: tuple[tuple[Decimal | None, Decimal | None, Decimal], ...]
                   ) -> tuple[Decimal, int]:
    """Each slice of x pays its own tier's rate (like tax brackets). Returns (amount, top tier)."""
    total = ZERO
    reached = 0
    for index, (lower, upper, rate) in enumerate(tiers, start=1):
        low = ZERO if lower is None else lower
        if x <= low and not (lower is None and x < ZERO):
            break
        high = x if upper is None or x < upper else upper
        total += (high - low) * rate
        reached = index
    return total, reached


def tiers_whole(x: Decimal,
                tiers: tuple[tuple[Decimal | None, bool, Decimal | None, bool, Decimal], ...]
                ) -> tuple[Decimal, int]:
    """The rate of the tier x reaches applies to all of x. Returns (amount, tier)."""
    for index, (lower, lower_in, upper, upper_in, rate) in enumerate(tiers, start=1):
        above = lower is None or x > lower or (lower_in and x == lower)
        below = upper is None or x < upper or (upper_in and x == upper)
        if above and below:
            return x * rate, index
    return ZERO, 0


def between(x: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return low if x < low else high if x > high else x


exported: tuple[str, ...] = (
    "CONTEXT", "ODD", "ZERO", "ONE", "round_to", "round_ratio", "is_fraction_step",
    "lower_is_better", "lower_is_better_q", "linear", "linear_q", "tiers_marginal",
    "tiers_marginal_q", "tiers_whole", "tiers_whole_q", "between", "quotient", "divide", "plus",
    "minus", "compare", "smallest", "largest", "team_average", "shown_curve", "shown",
    "SHOWN", "output", "tier_slices",
)


def _kinds_helpers() -> None:
    """Each kind of curve's own helpers (kpidsl/curvekinds, `CurveKind.runtime`), here
    beside the others: a kind added later brings its helpers without editing this module."""
    global exported
    from .curvekinds import runtime_helpers

    helpers = runtime_helpers()
    clash = set(helpers) & (set(exported) | set(globals()))
    if clash:
        raise ImportError(f"a curve kind's runtime helpers clash with the runtime's: {clash}")
    globals().update(helpers)
    exported = (*exported, *sorted(helpers))


_kinds_helpers()
