"""The only helpers generated evaluators may use (see `exported`), and the decimal context.

Money is Decimal end to end. Every evaluation runs in CONTEXT: 34 significant digits,
exponent limits that no real amount reaches, and traps on invalid operations, division by
zero and overflow, so a runaway number is a clear error rather than a silent infinity.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

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
    """Round to a multiple of `step` (0.01, 0.05, 1000 ...) with a named mode."""
    rounding = ROUNDING_MODES[mode]
    if is_fraction_step(step):  # 0.01, 0.1, 1: quantize directly
        return value.quantize(step.normalize(), rounding=rounding) + ZERO  # never -0.00
    units = (value / step).quantize(ONE, rounding=rounding)
    return units * step + ZERO


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


exported = (
    "CONTEXT", "ZERO", "ONE", "round_to", "is_fraction_step", "lower_is_better", "linear",
    "tiers_marginal", "tiers_whole", "between",
)
