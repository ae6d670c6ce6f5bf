"""Splitting a capped amount pro rata so the parts add up exactly, to the kopeck."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

ZERO = Decimal(0)


def pro_rata(awards: list[Decimal], cap: Decimal, step: Decimal = Decimal("0.01")) -> list[Decimal]:
    """Awards scaled to sum exactly to `cap` when they exceed it (largest-remainder rounding).

    Each award becomes award × cap ÷ total, rounded down to a whole `step`; the steps left
    over go one each to the largest remainders, ties to the earlier award (file order). A cap
    that is not a whole number of steps is first rounded down to one. Awards within the cap
    are returned unchanged. (Pay lines are split to their component's amount with it; a
    budget's awards go through `fit_budget`, which leaves clawbacks alone.)
    """
    total = sum(awards, ZERO)
    if total <= cap or total == 0:  # awards are whole steps: the same as against the floored cap
        return list(awards)
    cap = _floor_to(cap, step)
    # each share in steps as an exact fraction: a share rounded to the context's digits
    # keeps fewer decimals the larger it is, so equal remainders compared unequal (awards
    # 10, 1, 1 under 4.00: 0.34 went to the second award instead of the first)
    steps = Fraction(cap) / Fraction(step) / Fraction(total)
    exact = [Fraction(a) * steps for a in awards]
    whole = [e.numerator // e.denominator for e in exact]
    floored = [unsigned_zero(Decimal(w) * step) for w in whole]
    left = int((cap - sum(floored, ZERO)) / step)
    by_remainder = sorted(range(len(awards)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in by_remainder[:left]:
        floored[i] += step
    return floored


def fit_budget(awards: list[Decimal], cap: Decimal,
               step: Decimal = Decimal("0.01")) -> list[Decimal]:
    """A budget's awards after its cap: what is paid out never exceeds `cap`.

    A negative award is a clawback: money taken back, in full, whatever the cap does to the
    others. It is not scaled with the positive awards, and it does not free room under the
    cap for them (one person's clawback never raises another's bonus). The positive awards
    are scaled pro rata (`pro_rata`) when they add up to more than the cap, so the paid
    total — positives plus clawbacks — never exceeds it. Awards 900, 450 and −300 under a
    cap of 900 become 600, 300 and −300.
    """
    positive = [i for i, a in enumerate(awards) if a > 0]
    scaled = pro_rata([awards[i] for i in positive], max(cap, ZERO), step)
    out = list(awards)
    for i, amount in zip(positive, scaled, strict=True):
        out[i] = amount
    return [unsigned_zero(a) for a in out]


def unsigned_zero(value: Decimal) -> Decimal:
    """-0.00 → 0.00: a negative amount that rounds to zero is no debt (and never printed
    as one)."""
    return value.copy_abs() if not value and value.is_signed() else value


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a whole number of steps, written with the step's decimals (60000.00)."""
    return unsigned_zero((value / step).quantize(Decimal(1), rounding=decimal.ROUND_FLOOR) * step)
