"""Unit algebra: money, count, percent, ratio, number, and durations.

Percent, ratio and number are all dimensionless (a percent is a fraction shown with a sign);
money, count and each duration are their own dimensions. A bare numeric literal adapts to
whatever it is combined with, so `max(revenue - plan of revenue, 0)` needs no currency.
"""

from __future__ import annotations

from enum import Enum


class Unit(str, Enum):
    MONEY = "money"
    COUNT = "count"
    PERCENT = "percent"
    RATIO = "ratio"
    NUMBER = "number"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    BOOLEAN = "yes/no"
    ANY = "any"  # a bare literal, adopts its partner's unit

    def __str__(self) -> str:
        return self.value

    @property
    def dimension(self) -> str:
        if self in DIMENSIONLESS:
            return "dimensionless"
        return self.value

    @property
    def is_additive(self) -> bool:
        """Facts of this unit accumulate over a period (projected by pace in forecasts)."""
        return self in (Unit.MONEY, Unit.COUNT)


DIMENSIONLESS = frozenset({Unit.PERCENT, Unit.RATIO, Unit.NUMBER})
FACT_UNITS = (
    Unit.MONEY, Unit.COUNT, Unit.PERCENT, Unit.RATIO, Unit.NUMBER,
    Unit.MINUTES, Unit.HOURS, Unit.DAYS,
)


def describe(unit: Unit, currency: str = "") -> str:
    """A unit in words for messages: 'money (RUB)', 'percent'."""
    if unit is Unit.MONEY and currency:
        return f"money ({currency})"
    if unit is Unit.ANY:
        return "a plain number"
    return unit.value


def same_dimension(a: Unit, b: Unit) -> bool:
    return a is Unit.ANY or b is Unit.ANY or a.dimension == b.dimension


def add(a: Unit, b: Unit) -> Unit | None:
    """The unit of a + b, or None when they cannot be added."""
    if a is Unit.BOOLEAN or b is Unit.BOOLEAN:
        return None
    if a is Unit.ANY:
        return b
    if b is Unit.ANY:
        return a
    if a.dimension != b.dimension:
        return None
    return a if a == b else Unit.NUMBER


def multiply(a: Unit, b: Unit) -> Unit | None:
    """The unit of a × b, or None when the product means nothing (money × money)."""
    if a is Unit.BOOLEAN or b is Unit.BOOLEAN:
        return None
    if a is Unit.ANY:
        return b
    if b is Unit.ANY:
        return a
    if a in DIMENSIONLESS and b in DIMENSIONLESS:
        return Unit.PERCENT if Unit.PERCENT in (a, b) and a == b else Unit.NUMBER
    if a in DIMENSIONLESS:
        return b
    if b in DIMENSIONLESS:
        return a
    if Unit.COUNT in (a, b):
        other = b if a is Unit.COUNT else a
        return other  # an amount per event × events, or count × count
    return None


def divide(a: Unit, b: Unit) -> Unit | None:
    """The unit of a ÷ b, or None when the quotient means nothing."""
    if a is Unit.BOOLEAN or b is Unit.BOOLEAN:
        return None
    if b is Unit.ANY or b in DIMENSIONLESS:
        return a
    if a is Unit.ANY:
        return Unit.ANY
    if a.dimension == b.dimension:
        return Unit.RATIO
    if b is Unit.COUNT:
        return a  # money per deal, minutes per call
    if a in DIMENSIONLESS:
        return Unit.NUMBER
    return None
