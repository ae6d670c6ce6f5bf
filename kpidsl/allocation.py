"""Splitting a capped amount pro rata so the parts add up exactly, to the kopeck."""

from __future__ import annotations

import decimal
from decimal import Decimal


def pro_rata(awards: list[Decimal], cap: Decimal, step: Decimal = Decimal("0.01")) -> list[Decimal]:
    """Awards scaled to sum exactly to `cap` when they exceed it (largest-remainder rounding).

    Each award becomes award × cap ÷ total, rounded down to a whole `step`; the steps left
    over go one each to the largest remainders, ties to the earlier award (file order). A cap
    that is not a whole number of steps is first rounded down to one. Awards within the cap
    are returned unchanged.
    """
    total = sum(awards, Decimal(0))
    if total <= cap or total == 0:  # awards are whole steps: the same as against the floored cap
        return list(awards)
    cap = _floor_to(cap, step)
    exact = [a * cap / total for a in awards]
    floored = [_floor_to(e, step) for e in exact]
    left = int((cap - sum(floored, Decimal(0))) / step)
    by_remainder = sorted(range(len(awards)), key=lambda i: (-(exact[i] - floored[i]), i))
    for i in by_remainder[:left]:
        floored[i] += step
    return floored


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a whole number of steps, written with the step's decimals (60000.00)."""
    return (value / step).quantize(Decimal(1), rounding=decimal.ROUND_FLOOR) * step
