"""Explanations show what was paid (issue: a seasonal constant `by month`, a fact defaulting to
a seasonal constant and unary `+x` were explained or paid wrongly)."""

from __future__ import annotations

from decimal import Decimal

import kpidsl
from kpidsl.explain import explain
from kpidsl.facts import read_facts

SEASONAL = """scheme s "Seasonal"
  currency RUB
  period month
fact revenue money "Revenue"
fact bonus_rate percent "Bonus rate" if missing push
constant push "Push" = 1% by month jan 3%, sep 2%
kpi revenue "Revenue"
  plan 1_000_000 RUB
pay commission "Commission" = revenue × push
pay extra "Extra" = +revenue × bonus_rate
"""


def test_a_seasonal_constant_is_paid_and_explained_for_the_month() -> None:
    scheme = kpidsl.loads(SEASONAL)
    january = scheme.evaluate({"revenue": "1000000", "bonus_rate": "0.5%"}, month=1)
    assert january.components["commission"] == Decimal("30000.00")
    lines = explain(scheme, january)
    assert "  = 1,000,000 × 3% = 30,000" in lines, lines
    march = scheme.evaluate({"revenue": "1000000", "bonus_rate": "0.5%"}, month=3)
    assert march.components["commission"] == Decimal("10000.00")


def test_a_fact_defaulting_to_a_seasonal_constant_takes_the_months_value() -> None:
    scheme = kpidsl.loads(SEASONAL)
    september = scheme.evaluate({"revenue": "1000000"}, month=9)
    assert september.facts["bonus_rate"] == Decimal("0.02")
    assert september.components["extra"] == Decimal("20000.00")
    assert scheme.evaluate({"revenue": "1000000"}, month=5).components["extra"] == \
        Decimal("10000.00")


def test_a_facts_file_leaves_a_seasonal_default_to_the_month(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scheme = kpidsl.loads(SEASONAL)
    path = tmp_path / "facts.csv"
    path.write_text("employee,revenue,bonus_rate\nivanov,1000000,\n", encoding="utf-8")
    rows = list(read_facts(path, scheme.fact_specs))
    [result] = list(scheme.evaluate_many(rows, month=1))
    assert result.components["extra"] == Decimal("30000.00")


def test_unary_plus_is_the_value_itself_when_paid_and_explained() -> None:
    scheme = kpidsl.loads(SEASONAL)
    result = scheme.evaluate({"revenue": "1000000", "bonus_rate": "1%"}, month=5)
    assert result.components["extra"] == Decimal("10000.00")
    lines = explain(scheme, result)
    assert "  = +1,000,000 × 0.01 = 10,000" in lines, lines  # was "−1,000,000"
