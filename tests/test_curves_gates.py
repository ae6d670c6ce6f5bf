"""Curve kinds (bands, linear, marginal and whole-rate tiers) and gates, on hand-computed cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

import kpidsl

SCHEME = kpidsl.loads('''scheme t "T"
fact revenue money
fact margin money
curve standard
  below 80% pays 0
  from 80% through 100% pays attainment
  above 100% pays attainment × 1.2
  cap 200%
curve commission_tiers "Marginal"
  tiers marginal
    from 0 RUB to 1_000_000 RUB   rate 1%
    from 1_000_000 RUB            rate 2%
curve volume_rate "Whole-rate"
  tiers whole
    from 0 RUB to 1_000_000 RUB   rate 1%
    from 1_000_000 RUB            rate 2%
curve smooth linear at 80% pays 50% at 100% pays 100% at 120% pays 150%
kpi revenue plan 1_000_000 RUB group result
kpi margin plan 300_000 RUB group result
pay bonus "Bonus" pool 50_000 RUB
  only if attainment of revenue >= 70%
  for revenue weight 60% curve smooth
  for margin weight 40% curve standard cap 100% unless attainment of revenue >= 100%
pay by_slices = commission_tiers(revenue)
pay on_everything = volume_rate(revenue)
''', "t.kpi")


def run(revenue: str, margin: str) -> kpidsl.Result:
    return SCHEME.evaluate({"revenue": revenue, "margin": margin})


@pytest.mark.parametrize(("revenue", "marginal", "whole"), [
    ("1500000", "20000.00", "30000.00"),   # 1 000 000 × 1 % + 500 000 × 2 % vs 1 500 000 × 2 %
    ("1000000", "10000.00", "20000.00"),   # the boundary starts the 2 % tier (half-open)
    ("999999.99", "9999.9999", "9999.9999"),
    ("0", "0.00", "0.00"),
])
def test_tiers_marginal_and_whole(revenue: str, marginal: str, whole: str) -> None:
    components = run(revenue, "300000").components
    assert components["by_slices"] == Decimal(marginal).quantize(Decimal("0.01"))
    assert components["on_everything"] == Decimal(whole).quantize(Decimal("0.01"))


@pytest.mark.parametrize(("revenue", "factor"), [
    ("700000", "0"),        # below the first point: 0
    ("800000", "0.50"),     # on a point
    ("900000", "0.75"),     # halfway between 50 % and 100 %
    ("1100000", "1.25"),
    ("1500000", "1.50"),    # above the last point: holds it
])
def test_linear_interpolation(revenue: str, factor: str) -> None:
    line = run(revenue, "300000").lines[0]
    assert line.factor == Decimal(factor)
    assert line.amount == (Decimal(30_000) * Decimal(factor)).quantize(Decimal("0.01"))


def test_cap_unless_condition() -> None:
    below_plan = run("900000", "600000").lines[1]
    assert (below_plan.factor, below_plan.amount, below_plan.gate) == (
        Decimal("1.00"), Decimal("20000.00"), "capped")
    at_plan = run("1000000", "600000").lines[1]
    assert (at_plan.factor, at_plan.amount, at_plan.gate) == (
        Decimal("2.00"), Decimal("40000.00"), "")


def test_only_if_withholds_every_line_so_lines_add_up() -> None:
    result = run("600000", "300000")
    assert [(line.amount, line.gate) for line in result.lines] == [
        (Decimal("0.00"), "withheld"), (Decimal("0.00"), "withheld")]
    assert result.components["bonus"] == Decimal("0.00")
    assert str(result.components["bonus"]) == "0.00"
